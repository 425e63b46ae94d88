"""Loading specs from YAML, with errors that name the file, the line and the field; the kinds of spec.

`load_spec("aita_round_robin_3")` loads a bundled spec; it also takes a path, YAML text or a dict. A spec
without `kind` is a protocol; `SPEC_KINDS` maps every other kind to its spec model. `with_models`
replaces the models of any kind of spec (`--model`, and a replay's recorded replies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from moot.errors import SpecError, UserError, did_you_mean, format_path, unknown_name
from moot.protocols import spec as spec_models
from moot.protocols.bundled import PROTOCOLS_DIR, bundled_specs
from moot.protocols.explorer import EXPLORER_FIELD_NAMES, EXPLORER_KIND, ExplorerSpec
from moot.protocols.spec import ProtocolSpec, ProviderSettings
from moot.safe_load import BoundedYamlLoader, load_yaml, read_text

PROTOCOL_KIND = "protocol"
"""The kind of a spec without a `kind` key: a protocol."""
_LIBYAML = getattr(yaml, "CSafeLoader", None)
"""PyYAML's safe loader on libyaml (C), when PyYAML was built with it."""

_SPEC_MODELS = [
    obj
    for obj in vars(spec_models).values()
    if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == spec_models.__name__
]
_FIELD_NAMES = sorted({name for model in _SPEC_MODELS for name in model.model_fields})
_TAG_NAMES = {model.__name__ for model in _SPEC_MODELS} | {"str", "int", "float", "bool", "list", "dict", "tuple"}
AgentPath = tuple[str | int, ...]
"""Where an agent is in a spec's data, e.g. `("agents", 2)` or `("judge",)`."""


def _protocol_agents(spec: Any) -> list[tuple[AgentPath, Any]]:
    return [(("agents", index), agent) for index, agent in enumerate(spec.agents)]


@dataclass(frozen=True)
class SpecKind:
    """One kind of spec: its model, the keys it may hold (for did-you-mean), and where its agents are."""

    model: type[BaseModel]
    field_names: Sequence[str]
    agents: Callable[[Any], list[tuple[AgentPath, Any]]] = field(default=_protocol_agents)
    """Every agent of a spec of this kind (each with a `name` and a `model`), with its path in the spec's data."""


PROTOCOL_SPEC = SpecKind(ProtocolSpec, _FIELD_NAMES)
"""The kind of a spec without `kind`."""
SPEC_KINDS: dict[str, SpecKind] = {EXPLORER_KIND: SpecKind(ExplorerSpec, EXPLORER_FIELD_NAMES, ExplorerSpec.members)}
"""Kinds of spec other than a protocol, by the spec's `kind` key."""


def kind_of(spec: Any) -> str:
    """The kind of a validated spec: its `kind`, or `protocol`."""
    return getattr(spec, "kind", None) or PROTOCOL_KIND


def spec_kind(spec: Any) -> SpecKind:
    """The kind entry of a validated spec."""
    return SPEC_KINDS.get(kind_of(spec), PROTOCOL_SPEC)


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and where it came from."""

    spec: Any
    """A protocol (`ProtocolSpec`), or another kind of spec (`kind: question_generation`: an `ExplorerSpec`)."""
    path: Path | None
    """The YAML file, None for a spec built in Python."""
    text: str = ""

    @property
    def kind(self) -> str:
        """The spec's kind: `protocol`, or its `kind` key."""
        return kind_of(self.spec)

    def replaced(self, spec: Any) -> LoadedSpec:
        """The same file with another spec (the first one changed by options)."""
        return LoadedSpec(spec, self.path, self.text)

    def edited(self, **changes: Any) -> LoadedSpec:
        """The spec with some of its top-level keys changed, validated again, still from its file (so its relative
        paths resolve where they did). `spec.model_copy(...)` makes a spec without a file, whose relative paths
        resolve against the working directory."""
        data = {**self.spec.model_dump(), **_plain(changes)}
        return LoadedSpec(validate_spec_data(data, self.path, self.text), self.path, self.text)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the spec are resolved against: its file's, else the working directory."""
        return self.path.parent if self.path else Path.cwd()

    def error(self, exc: SpecError) -> UserError:
        """A SpecError turned into one line naming the file and line."""
        return UserError(locate(self.path, self.text, exc.path, str(exc)))


def _plain(value: Any) -> Any:
    """Spec models inside a value (an `AgentSpec` in a list of agents) as the plain data a spec is validated from."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


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


def describe_validation_error(
    exc: ValidationError, field_names: list[str] | None = None
) -> tuple[tuple[str | int, ...], str]:
    """The most useful error of a pydantic ValidationError, as (path, message);
    `field_names` for did-you-mean (default: the protocol spec's)."""
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


def validate_spec_data(data: Any, path: Path | None = None, text: str = "") -> Any:
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


def _validate_kind(data: dict[str, Any], path: Path | None, text: str) -> Any:
    """Validate a spec with a `kind` key as the model of that kind."""
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in SPEC_KINDS:
        raise UserError(
            locate(
                path,
                text,
                ("kind",),
                f"kind: {unknown_name('spec kind', str(kind), SPEC_KINDS)} (leave `kind` out for a protocol)",
            )
        )
    try:
        return SPEC_KINDS[kind].model.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc, list(SPEC_KINDS[kind].field_names))
        raise UserError(locate(path, text, where, message)) from None


def resolve_spec_path(source: str | os.PathLike[str]) -> Path:
    """A bundled spec name or a path to a YAML file."""
    path = Path(source)
    if path.is_file():
        return path
    bundled = bundled_specs()
    if str(source) in bundled:
        return bundled[str(source)]
    if path.exists():
        raise UserError(f"spec '{source}' is not a file")
    raise UserError(
        f"spec file '{source}' not found{did_you_mean(path.stem, bundled, otherwise=';')} bundled specs: "
        f"{', '.join(bundled)}"
    )


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


SPEC_TEXT_NAME = "<spec text>"
"""How errors name a spec given as YAML text rather than as a file."""


def is_spec_text(source: str) -> bool:
    """Whether a string is a spec's YAML rather than a name or a path: it spans lines, or is a `{...}` mapping."""
    return "\n" in source or source.lstrip().startswith("{")


def load_spec(source: str | os.PathLike[str] | dict[str, Any]) -> LoadedSpec:
    """Read and validate a spec: a bundled spec's name, a YAML file's path, YAML text, or a dict of the same structure.

    A spec given as text or a dict has no file: its relative paths (scenarios, topics) resolve
    against the working directory.
    """
    if isinstance(source, dict):
        return LoadedSpec(validate_spec_data(source), None)
    if isinstance(source, str) and is_spec_text(source):
        return LoadedSpec(validate_spec_data(load_yaml(source, SPEC_TEXT_NAME), Path(SPEC_TEXT_NAME), source), None)
    if not isinstance(source, (str, os.PathLike)):
        raise UserError(f"a spec is a name, a path, YAML text or a dict, not {type(source).__name__}")
    path = resolve_spec_path(os.fspath(source))
    text = read_text(path)
    if not text.strip():
        raise UserError(f"{path}: empty spec file")
    return LoadedSpec(validate_spec_data(_spec_values(path, text), path, text), path, text)


def as_loaded(spec: Any) -> LoadedSpec:
    """A spec as loaded: a LoadedSpec as it is, a validated spec of any kind, or what `load_spec` takes (a dict of
    the same structure, YAML text, a YAML path or a bundled name)."""
    if isinstance(spec, LoadedSpec):
        return spec
    if isinstance(spec, (dict, str, os.PathLike)):
        return load_spec(spec)
    return LoadedSpec(spec, None)


ModelChoice = tuple[str | None, str]
"""A model for one agent (by name), or for every agent (None)."""


def with_models(spec: Any, choices: Sequence[ModelChoice], what: str = "--model") -> Any:
    """A copy of a spec of any kind with its models replaced, in order: `(None, MODEL)` makes MODEL the default of
    every agent (an agent a matrix gives models to keeps the matrix's), `(AGENT, MODEL)` gives AGENT its own (refused
    for an agent a matrix gives models to). `what` names the option in the error about an unknown agent."""
    kind = spec_kind(spec)
    for agent_name, model in choices:
        data = spec.model_dump()
        agents = kind.agents(spec)
        if agent_name is None:
            data["model"] = model
            chosen = [path for path, _ in agents]
        else:
            chosen = [path for path, agent in agents if agent.name == agent_name]
            if isinstance(spec, ProtocolSpec) and agent_name in spec.matrix_agents():
                message = f"agent '{agent_name}' takes its models from the spec's matrix"
                raise UserError(f"{what} '{agent_name}={model}': {message}")
            if not chosen:
                names = [agent.name for _, agent in agents]
                raise UserError(f"{what} {agent_name}={model}: {unknown_name('agent', agent_name, names)}")
        for path in chosen:
            _member(data, path)["model"] = model if agent_name is not None else None
        spec = kind.model.model_validate(data)
    return spec


def with_provider(spec: Any, provider: str, settings: ProviderSettings) -> Any:
    """A copy of a spec of any kind with a provider's settings replaced."""
    data = spec.model_dump()
    data["providers"] = {**data.get("providers", {}), provider: settings.model_dump()}
    return spec_kind(spec).model.model_validate(data)


def _member(data: dict[str, Any], path: AgentPath) -> dict[str, Any]:
    node: Any = data
    for part in path:
        node = node[part]
    return node
