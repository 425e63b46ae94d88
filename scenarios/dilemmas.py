"""Dilemmas: everyday situations with two actions, each action carrying a set of values.

A dilemma (`Dilemma`) is read from a YAML file with `format: dilemmas` at the top and the rows
under `scenarios:`, or from a CSV file in the layout of the DailyDilemmas data set (two rows per
dilemma: `dilemma_situation`, `action_type` `to_do` or `not_to_do`, `action`, `values_aggregated`
as a list, and optionally `dilemma_idx` and `topic`), so that the published file can be used as
it is. Each dilemma becomes one `Scenario` whose metadata holds the two actions and their values
(`dilemma_scenarios`): action 1 is the action to do, action 2 the one not to do.

The value vocabulary of the bundled sample and a coarse grouping of its values for plots are
bundled too (`load_value_vocabulary`, `load_value_groups`).
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from moot.errors import UserError
from moot.safe_load import load_json, read_text
from moot.scenarios.schema import Scenario, id_as_text

DILEMMAS_FORMAT = "dilemmas"
"""Value of the top-level `format` key that marks a dilemma scenario file."""

DATA_DIR = Path(__file__).parent / "data"
VALUE_VOCABULARY_FILE = DATA_DIR / "dilemma_values.txt"
"""The values the bundled dilemmas draw on, one per line."""
VALUE_GROUPS_FILE = DATA_DIR / "dilemma_value_groups.csv"
"""The coarse group of each bundled value (columns `value`, `group`), for plots."""

CSV_COLUMNS = ("dilemma_situation", "action_type", "action", "values_aggregated")
"""Columns a DailyDilemmas CSV file must have (`dilemma_idx` and `topic` are read when present)."""
ACTION_TYPES = ("to_do", "not_to_do")
"""`action_type` of action 1 and of action 2 in a DailyDilemmas file."""
METADATA_KEYS = ("action_1", "action_2", "values_1", "values_2")
"""Metadata keys every dilemma scenario carries."""


class Dilemma(BaseModel):
    """One dilemma: a situation and two actions, each favouring a set of values."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    """Identifier, unique within its file; integer ids are stored as strings."""
    text: str = Field(min_length=1)
    """The situation, ending in the decision to make."""
    action_1: str = Field(min_length=1)
    """The first action (in DailyDilemmas: the action to do)."""
    action_2: str = Field(min_length=1)
    """The second action (in DailyDilemmas: the action not to do)."""
    values_1: list[str] = Field(min_length=1)
    """Values the first action serves."""
    values_2: list[str] = Field(min_length=1)
    """Values the second action serves."""
    topic: str | None = None
    """Optional topic of the situation (work, family, ...)."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return id_as_text(value)

    @field_validator("id", "text", "action_1", "action_2")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """Reject a value made only of whitespace."""
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("values_1", "values_2")
    @classmethod
    def _clean_values(cls, value: list[str]) -> list[str]:
        """Values with collapsed whitespace, each once, none empty."""
        names: list[str] = []
        for raw in value:
            name = " ".join(raw.split())
            if not name:
                raise ValueError("a value name must not be empty")
            if name not in names:
                names.append(name)
        return names


def dilemma_scenarios(dilemmas: Iterable[Dilemma]) -> list[Scenario]:
    """One scenario per dilemma; the actions, their values and the topic go into its metadata."""
    rows = []
    for dilemma in dilemmas:
        metadata: dict[str, Any] = {
            "action_1": dilemma.action_1,
            "action_2": dilemma.action_2,
            "values_1": list(dilemma.values_1),
            "values_2": list(dilemma.values_2),
        }
        if dilemma.topic:
            metadata["topic"] = dilemma.topic
        rows.append(Scenario(id=dilemma.id, title="", text=dilemma.text, metadata=metadata))
    return rows


def is_dilemma(scenario: Scenario | dict[str, Any]) -> bool:
    """True when a scenario (or its dump) carries the two actions and their values."""
    metadata = scenario.metadata if isinstance(scenario, Scenario) else (scenario or {}).get("metadata", {})
    return all(key in metadata for key in METADATA_KEYS)


def parse_value_list(text: str) -> list[str]:
    """A `values_aggregated` cell as a list: a JSON or Python list literal, else comma-separated names."""
    text = text.strip()
    if text.startswith("["):
        for parse in (lambda cell: load_json(cell, "cell"), ast.literal_eval):
            try:
                value = parse(text)
            except (UserError, ValueError, SyntaxError, RecursionError, MemoryError):
                continue
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        raise ValueError(f"not a list of value names: {text[:60]}")
    return [part for part in (p.strip() for p in text.split(",")) if part]


def load_dilemma_csv(text: str, name: str) -> list[Scenario]:
    """Read a DailyDilemmas CSV file (two rows per dilemma) into scenarios; raise `UserError` as `file:line: ...`."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [c.strip() for c in reader.fieldnames or []]
    except csv.Error as exc:
        raise UserError(f"{name}:1: malformed CSV ({exc})") from None
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UserError(
            f"{name}:1: missing column {missing[0]!r}; a DailyDilemmas file needs columns {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    pending: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            situation = (row.get("dilemma_situation") or "").strip()
            key = (row.get("dilemma_idx") or "").strip() or situation
            if not situation:
                raise UserError(f"{name}:{line}: field 'dilemma_situation': must not be empty")
            kind = (row.get("action_type") or "").strip()
            if kind not in ACTION_TYPES:
                raise UserError(f"{name}:{line}: field 'action_type': expected to_do or not_to_do, got {kind!r}")
            try:
                values = parse_value_list(row.get("values_aggregated") or "")
            except ValueError as exc:
                raise UserError(f"{name}:{line}: field 'values_aggregated': {exc}") from None
            entry = pending.setdefault(
                key, {"id": key, "text": situation, "line": line, "topic": (row.get("topic") or "").strip() or None}
            )
            if key not in order:
                order.append(key)
            suffix = "1" if kind == "to_do" else "2"
            if f"action_{suffix}" in entry:
                raise UserError(
                    f"{name}:{line}: dilemma {key!r} has a second {kind} row (first on line {entry['lines'][kind]})"
                )
            entry.setdefault("lines", {})[kind] = line
            entry[f"action_{suffix}"] = (row.get("action") or "").strip()
            entry[f"values_{suffix}"] = values
    except csv.Error as exc:
        raise UserError(f"{name}:{reader.line_num}: malformed CSV ({exc})") from None
    if not order:
        raise UserError(f"{name}: no dilemmas, expected two rows (to_do and not_to_do) per dilemma")
    dilemmas = []
    for key in order:
        entry = pending[key]
        for kind, suffix in zip(ACTION_TYPES, "12", strict=True):
            if f"action_{suffix}" not in entry:
                raise UserError(f"{name}:{entry['line']}: dilemma {key!r} has no {kind} row")
        data = {k: entry[k] for k in ("id", "text", "action_1", "action_2", "values_1", "values_2", "topic")}
        try:
            dilemmas.append(Dilemma.model_validate(data))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "row"
            kind = ACTION_TYPES[int(field[-1]) - 1] if field[-1:] in ("1", "2") else None
            line = entry["lines"][kind] if kind else entry["line"]
            column = {"action": "action", "values": "values_aggregated", "text": "dilemma_situation"}.get(
                field.rsplit("_", 1)[0], field
            )
            raise UserError(f"{name}:{line}: field {column!r}: {error['msg'][:1].lower() + error['msg'][1:]}") from None
    return dilemma_scenarios(dilemmas)


def load_value_vocabulary(path: Path | str | None = None) -> list[str]:
    """The value names of a vocabulary file (one per line, `#` comments), the bundled one by default."""
    from moot.protocols.values.taxonomy import load_value_taxonomy

    return list(load_value_taxonomy(path or VALUE_VOCABULARY_FILE).names)


def load_value_groups(path: Path | str | None = None) -> dict[str, str]:
    """The coarse group of each value, from a CSV with columns `value` and `group` (the bundled one by default)."""
    where = Path(path or VALUE_GROUPS_FILE)
    text = read_text(where)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    groups: dict[str, str] = {}
    try:
        if not reader.fieldnames or not {"value", "group"} <= set(reader.fieldnames):
            raise UserError(f"{where}:1: expected columns 'value' and 'group'")
        for row in reader:
            value, group = " ".join((row["value"] or "").split()), " ".join((row["group"] or "").split())
            if not value or not group:
                raise UserError(f"{where}:{reader.line_num}: 'value' and 'group' must not be empty")
            if value in groups:
                raise UserError(f"{where}:{reader.line_num}: value {value!r} is given twice")
            groups[value] = group
    except csv.Error as exc:
        raise UserError(f"{where}:{reader.line_num}: malformed CSV ({exc})") from None
    return groups
