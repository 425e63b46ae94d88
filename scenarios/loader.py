"""Read scenario files (JSONL or YAML) into validated `Scenario`s, and find bundled samples.

A YAML file with `format: cooperation` beside its `scenarios:` holds cooperation scenarios
(`moot.scenarios.cooperation`); each of its rows is read as two `Scenario`s, one per role swap.
A YAML file with `format: dilemmas`, or a `.csv` file in the DailyDilemmas layout, holds dilemmas
(`moot.scenarios.dilemmas`); each dilemma is read as one `Scenario`.

Every mistake in a file is reported as a `UserError` whose message is one line of the form
`<file>:<line>: <what is wrong and what is expected>`, so the CLI can print it as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from moot.errors import UserError, did_you_mean
from moot.safe_load import BoundedYamlLoader, decode_utf8, load_json, read_bytes
from moot.scenarios.cooperation import COOPERATION_FORMAT, CooperationScenario, expand_role_swaps
from moot.scenarios.dilemmas import DILEMMAS_FORMAT, Dilemma, dilemma_scenarios, load_dilemma_csv
from moot.scenarios.schema import Scenario

DATA_DIR = Path(__file__).parent / "data"
"""Folder holding the bundled sample scenario files."""

_FORMATS = {".jsonl": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
_ROW_MODELS: dict[str | None, type[BaseModel]] = {
    None: Scenario,
    COOPERATION_FORMAT: CooperationScenario,
    DILEMMAS_FORMAT: Dilemma,
}
"""The model of a row, by the file's `format` (None for plain scenarios)."""
_RowModel = TypeVar("_RowModel", Scenario, CooperationScenario, Dilemma)
"""One of the row models; each has an `id`."""
_SCALAR_KINDS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "null": "empty value",
    "timestamp": "date",
}


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios read from one file, with where they came from and a digest of the bytes."""

    source: str
    """The path as it was given to `load_scenarios`."""
    sha256: str
    """Hex SHA-256 of the file's bytes, to tell later whether the file changed."""
    scenarios: list[Scenario]
    """The scenarios in file order; ids are unique."""


@dataclass(frozen=True)
class _Row:
    """One raw scenario row before validation: its line, data and the line of each key."""

    line: int
    data: dict[Any, Any]
    key_lines: dict[str, int] = field(default_factory=dict)


def load_scenarios(path: Path | str) -> ScenarioSet:
    """Read and validate a `.jsonl` or `.yaml`/`.yml` scenario file; raise `UserError` if bad."""
    name = str(path)
    file = Path(path)
    if not file.exists():
        raise UserError(f"{name}: no such file")
    if file.is_dir():
        raise UserError(f"{name}: is a directory, expected a scenario file")
    kind = _FORMATS.get(file.suffix.lower())
    if kind is None and file.suffix.lower() != ".csv":
        raise UserError(
            f"{name}: unknown scenario file type '{file.suffix}', expected .jsonl, .yaml, .yml or .csv (DailyDilemmas)"
        )
    data = read_bytes(file, name)
    text = decode_utf8(data, name)
    if kind is None:
        return ScenarioSet(name, hashlib.sha256(data).hexdigest(), load_dilemma_csv(text, name))
    rows, form = (_jsonl_rows(text, name), None) if kind == "jsonl" else _yaml_rows(text, name)
    if form == COOPERATION_FORMAT:
        scenarios = expand_role_swaps(_validate(rows, name, kind, CooperationScenario))
    elif form == DILEMMAS_FORMAT:
        scenarios = dilemma_scenarios(_validate(rows, name, kind, Dilemma))
    else:
        scenarios = _validate(rows, name, kind, Scenario)
    return ScenarioSet(name, hashlib.sha256(data).hexdigest(), scenarios)


def bundled_scenarios() -> dict[str, Path]:
    """Return the bundled sample scenario files, keyed by file stem (e.g. `aita_value_portrait`)."""
    if not DATA_DIR.is_dir():
        return {}
    files = sorted(p for p in DATA_DIR.iterdir() if p.is_file() and p.suffix in _FORMATS)
    return {p.stem: p for p in files}


def resolve_scenario_source(ref: str, base_dir: Path | None = None) -> Path:
    """Turn a bundled sample name or a file path (relative to `base_dir`, else cwd) into a Path."""
    bundled = bundled_scenarios()
    if ref in bundled:
        return bundled[ref]
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = (base_dir if base_dir is not None else Path.cwd()) / path
    if path.is_file():
        return path
    if path.is_dir():
        raise UserError(f"scenario file '{ref}' is a directory, expected a .jsonl or .yaml file")
    hint = did_you_mean(ref, bundled) or did_you_mean(Path(ref).stem, bundled)
    samples = ", ".join(bundled) or "none"
    raise UserError(f"scenario file '{ref}' not found{hint + ' ' if hint else '; '}bundled samples: {samples}")


def _jsonl_rows(text: str, name: str) -> list[_Row]:
    """Parse one JSON object per non-blank line, each within the limits of `moot.safe_load`."""
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        obj = load_json(line, name, first_line=number)
        if not isinstance(obj, dict):
            raise UserError(
                f"{name}:{number}: expected a JSON object with keys {_field_list()}, got {_type_name(obj, 'jsonl')}"
            )
        rows.append(_Row(number, obj))
    if not rows:
        raise UserError(f"{name}: empty file, expected one scenario per line")
    return rows


def _yaml_rows(text: str, name: str) -> tuple[list[_Row], str | None]:
    """Parse a YAML list of mappings (or `scenarios:` holding one), keeping each row's line; also the file's `format`.

    The document is checked against the limits of `moot.safe_load` (aliases, depth, repeated keys, ...)
    before any value is built.
    """
    loader: BoundedYamlLoader | None = None
    try:
        loader = BoundedYamlLoader(text, name)
        root = loader.get_single_node()
        if root is None:
            raise UserError(f"{name}: empty file, expected a list of scenarios")
        items, form = _yaml_row_nodes(root, name)
        lines = [_yaml_key_lines(item) for item in items]
        doc = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(filter(None, [exc.context, exc.problem])) or "syntax error"
        where = f":{mark.line + 1}" if mark else ""
        column = f" at column {mark.column + 1}" if mark else ""
        raise UserError(f"{name}{where}: not valid YAML ({_one_line(problem)}{column})") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        raise UserError(f"{name}:{line}: not valid YAML (control character #x{code:04x} is not allowed)") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{name}: not valid YAML ({_one_line(str(exc))})") from None
    finally:
        if loader is not None:
            loader.dispose()
    data = doc["scenarios"] if isinstance(doc, dict) else doc
    rows = zip(items, data, lines, strict=True)
    return [_Row(node.start_mark.line + 1, row, keys) for node, row, keys in rows], form


def _yaml_row_nodes(root: Node, name: str) -> tuple[list[MappingNode], str | None]:
    """Return the mapping node of each scenario row and the file's `format`, checking the document's outer shape."""
    top = root.start_mark.line + 1
    expected = "expected a list of scenarios or a mapping with key 'scenarios'"
    seq = root
    form: str | None = None
    if isinstance(root, MappingNode):
        keys = {_key(k): k for k, _ in root.value}
        if "scenarios" not in keys:
            hint = next((h for k in keys if (h := did_you_mean(k, ["scenarios"]))), "")
            raise UserError(f"{name}:{top}: {expected}{hint}")
        for key, value in root.value:
            if _key(key) == "format":
                form = _format_of(value, name)
            elif _key(key) != "scenarios":
                line = key.start_mark.line + 1
                raise UserError(
                    f"{name}:{line}: top-level key {_key(key)!r} is not allowed; only 'scenarios' is expected"
                )
            else:
                seq = value
    if not isinstance(seq, SequenceNode):
        raise UserError(f"{name}:{seq.start_mark.line + 1}: {expected}, got {_node_kind(seq)}")
    if not seq.value:
        raise UserError(f"{name}:{seq.start_mark.line + 1}: no scenarios, expected at least one")
    for item in seq.value:
        if not isinstance(item, MappingNode):
            raise UserError(
                f"{name}:{item.start_mark.line + 1}: expected a mapping with keys "
                f"{_field_list(_ROW_MODELS[form])}, got {_node_kind(item)}"
            )
    return list(seq.value), form


def _format_of(node: Node, name: str) -> str:
    """The value of the top-level `format` key, which must name a known scenario format."""
    known = [form for form in _ROW_MODELS if form]
    value = node.value if isinstance(node, ScalarNode) else f"<{_node_kind(node)}>"
    if value not in known:
        hint = did_you_mean(str(value), known, otherwise=";")
        raise UserError(
            f"{name}:{node.start_mark.line + 1}: top-level key 'format': unknown scenario "
            f"format {value!r}{hint} known: {', '.join(known)}"
        )
    return value


def _yaml_key_lines(item: MappingNode) -> dict[str, int]:
    """Map each key of a row to its line (the loader has refused a key given twice)."""
    return {_key(key): key.start_mark.line + 1 for key, _ in item.value}


def _validate(rows: list[_Row], name: str, kind: str, model: type[_RowModel]) -> list[_RowModel]:
    """Validate each row as a `model` and check that ids are unique."""
    scenarios: list[_RowModel] = []
    first_line: dict[str, int] = {}
    for row in rows:
        try:
            scenario = model.model_validate(row.data)
        except ValidationError as exc:
            raise UserError(_validation_message(exc, row, name, kind, model)) from None
        line = row.key_lines.get("id", row.line)
        if scenario.id in first_line:
            raise UserError(
                f"{name}:{line}: duplicate scenario id {scenario.id!r} (first on line {first_line[scenario.id]})"
            )
        first_line[scenario.id] = line
        scenarios.append(scenario)
    return scenarios


def _validation_message(
    exc: ValidationError, row: _Row, name: str, kind: str, model: type[BaseModel] = Scenario
) -> str:
    """Describe the most useful pydantic error for a row of `model` as one `file:line: ...` line."""
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(part) for part in err["loc"]]
    line = row.key_lines.get(loc[0], row.line) if loc else row.line
    where = f"{name}:{line}"
    kind_of = err["type"]
    if kind_of == "extra_forbidden":
        hint = did_you_mean(loc[0], model.model_fields) or f"; allowed fields: {_field_list(model)}"
        if model is Scenario and loc[0] in CooperationScenario.model_fields:
            hint += f" (a file of cooperation scenarios needs 'format: {COOPERATION_FORMAT}' at the top)"
        return f"{where}: field {loc[0]!r} is not allowed{hint}"
    if kind_of == "invalid_key" or (len(loc) > 1 and loc[-1] == "[key]"):
        owner = f"field {'.'.join(loc[:-2])!r}: " if len(loc) > 2 else ""
        bad = loc[-2] if len(loc) > 1 else loc[0]
        return f"{where}: {owner}key {bad} must be a string"
    label = f"field {'.'.join(loc)!r}" if loc else "row"
    got = _type_name(err.get("input"), kind)
    detail = {
        "missing": "field required",
        "string_type": f"expected a string{' or integer' if loc == ['id'] else ''}, got {got}",
        "string_too_short": "must not be empty",
        "dict_type": f"expected {'an object' if kind == 'jsonl' else 'a mapping'}, got {got}",
        "value_error": str(err.get("ctx", {}).get("error", err["msg"])),
    }.get(kind_of, err["msg"][:1].lower() + err["msg"][1:])
    return f"{where}: {label}: {_one_line(detail)}"


def _key(node: Node) -> str:
    """The text of a YAML mapping key node (scalars as written, others by kind)."""
    return str(node.value) if isinstance(node, ScalarNode) else f"<{_node_kind(node)}>"


def _node_kind(node: Node) -> str:
    """Name a YAML node's kind for messages."""
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "list"
    scalar = node.tag.rsplit(":", 1)[-1]
    return _SCALAR_KINDS.get(scalar, scalar)


def _type_name(value: Any, kind: str) -> str:
    """Name a parsed value's type in the vocabulary of the file format."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object" if kind == "jsonl" else "mapping"
    if isinstance(value, list):
        return "array" if kind == "jsonl" else "list"
    return type(value).__name__


def _field_list(model: type[BaseModel] = Scenario) -> str:
    """The field names of a row model (a `Scenario` unless told), comma separated."""
    return ", ".join(model.model_fields)


def _one_line(text: str) -> str:
    """Collapse all whitespace (including newlines) to single spaces."""
    return " ".join(text.split())
