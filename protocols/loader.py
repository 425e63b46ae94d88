"""Loading specs from YAML, with errors that name the file, the line and the field.

`load_spec("aita_round_robin_3")` loads a bundled spec; any other argument is a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from moot.errors import SpecError, UserError, did_you_mean, format_path, unknown_name
from moot.safe_load import BoundedYamlLoader, load_yaml, read_text
from moot.protocols import spec as spec_models
from moot.protocols.explorer import EXPLORER_FIELD_NAMES, EXPLORER_KIND, ExplorerSpec
from moot.protocols.spec import ProtocolSpec

PROTOCOLS_DIR = Path(__file__).parent
_LIBYAML = getattr(yaml, "CSafeLoader", None)
"""PyYAML's safe loader on libyaml (C), when PyYAML was built with it."""

_SPEC_MODELS = [
    obj for obj in vars(spec_models).values() if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == spec_models.__name__
]
_FIELD_NAMES = sorted({name for model in _SPEC_MODELS for name in model.model_fields})
_TAG_NAMES = {model.__name__ for model in _SPEC_MODELS} | {"str", "int", "float", "bool", "list", "dict", "tuple"}
SPEC_KINDS: dict[str, type[BaseModel]] = {EXPLORER_KIND: ExplorerSpec}
"""Spec models other than ProtocolSpec, by the spec's `kind` key (a spec without `kind` is a ProtocolSpec)."""
_KIND_FIELD_NAMES = {EXPLORER_KIND: EXPLORER_FIELD_NAMES}


def bundled_specs() -> dict[str, Path]:
    """Bundled protocol specs by name."""
    return {path.stem: path for path in sorted(PROTOCOLS_DIR.glob("*.yaml"))}


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and where it came from."""

    spec: ProtocolSpec | ExplorerSpec
    """A protocol, or another kind of spec (`kind: question_generation`: an explorer)."""
    path: Path | None
    """The YAML file, None for a spec built in Python."""
    text: str = ""

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the spec are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def error(self, exc: SpecError) -> UserError:
        """A SpecError turned into one line naming the file and line."""
        return UserError(locate(self.path, self.text, exc.path, str(exc)))


def _node_line(root: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    node, line = root, None
    for part in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line if line is not None or root is None else root.start_mark.line + 1


def locate(path: Path | None, text: str, where: tuple[str | int, ...], message: str) -> str:
    """Prefix a message with `file:line` of the spec element at `where`."""
    if path is None:
        return message
    root = _compose(text, str(path)) if text else None
    line = _node_line(root, where) if root is not None and where else None
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def _compose(text: str, name: str) -> yaml.Node | None:
    """The spec's YAML nodes, for the line of an element; None when the text is not YAML within the limits."""
    loader = None
    try:
        loader = BoundedYamlLoader(text, name)
        return loader.get_single_node()
    except (yaml.YAMLError, UserError):
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in str(p) and str(p) not in _TAG_NAMES))


def describe_validation_error(exc: ValidationError, field_names: list[str] | None = None) -> tuple[tuple[str | int, ...], str]:
    """The most useful error of a pydantic ValidationError, as (path, message); `field_names` for did-you-mean (default: the protocol spec's)."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = _clean_loc(error["loc"])
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        message = f"unknown key '{key}'{did_you_mean(key, field_names or _FIELD_NAMES)}"
    elif error["type"] == "missing":
        message = f"missing required key '{loc[-1]}'"
    else:
        message = error["msg"]
        if error.get("input") is not None and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    return loc, f"{format_path(loc)}: {message}" if loc else message


def validate_spec_data(data: Any, path: Path | None = None, text: str = "") -> ProtocolSpec | ExplorerSpec:
    """Validate a spec structure; a UserError names the file, line and field of the first mistake."""
    if not isinstance(data, dict):
        raise UserError(locate(path, text, (), "a spec must be a mapping of keys (name, agents, roles, ...)"))
    if "kind" in data:
        return _validate_kind(data, path, text)
    try:
        return ProtocolSpec.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        raise UserError(locate(path, text, where, message)) from None


def _validate_kind(data: dict[str, Any], path: Path | None, text: str) -> ExplorerSpec:
    """Validate a spec with a `kind` key as the model of that kind."""
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in SPEC_KINDS:
        raise UserError(locate(path, text, ("kind",), f"kind: {unknown_name('spec kind', str(kind), SPEC_KINDS)} (leave `kind` out for a protocol)"))
    try:
        return SPEC_KINDS[kind].model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc, _KIND_FIELD_NAMES[kind])
        raise UserError(locate(path, text, where, message)) from None


def resolve_spec_path(source: str | Path) -> Path:
    """A bundled spec name or a path to a YAML file."""
    path = Path(source)
    if path.is_file():
        return path
    bundled = bundled_specs()
    if str(source) in bundled:
        return bundled[str(source)]
    if path.exists():
        raise UserError(f"spec '{source}' is not a file")
    raise UserError(f"spec file '{source}' not found{did_you_mean(path.stem, bundled, otherwise=';')} bundled specs: {', '.join(bundled)}")


def _spec_values(path: Path, text: str) -> Any:
    """The values of a spec file's YAML.

    The bundled specs are moot's own files, which libyaml reads as `load_yaml` does (a test of
    every bundled spec checks it) in a fifth of the time, so they are read with it: `moot specs`
    reads them all. Any other file is untrusted and read within the limits of `load_yaml`.
    """
    if _LIBYAML is not None and path.resolve().parent == PROTOCOLS_DIR.resolve():
        try:
            return yaml.load(text, Loader=_LIBYAML)
        except yaml.YAMLError:
            pass  # a bundled file edited in place: `load_yaml` words the mistake
    return load_yaml(text, str(path))


def load_spec(source: str | Path) -> LoadedSpec:
    """Read and validate a spec file (or bundled spec)."""
    path = resolve_spec_path(source)
    text = read_text(path)
    if not text.strip():
        raise UserError(f"{path}: empty spec file")
    return LoadedSpec(validate_spec_data(_spec_values(path, text), path, text), path, text)
