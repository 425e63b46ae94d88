"""A spec's matrix expanded into its arms: one spec per cell of what the experiment compares.

The arms are the product of the model line-ups (`matrix.models`) and of the values of every
`matrix.vary` path, in that order. Each arm's spec is the spec without its matrix, with the
arm's models given to their agents and the arm's values written at their paths, validated as any
spec is. An arm's levels are its dimensions in order: `model.<agent>` for each agent the models
part sets (the entry's name, else its model string), then each `vary` path (the value as text,
JSON for anything but a string).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from moot.errors import SpecError, unknown_name
from moot.protocols.loader import describe_validation_error
from moot.protocols.spec import AgentSpec, MatrixEntry, MatrixSpec, ProtocolSpec, ProviderSettings, RoleSpec

MAX_ARMS = 1000
"""Most arms a matrix may have."""
MAX_CONVERSATIONS_PER_SCENARIO = 100_000
"""Most conversations a matrix spec may run per scenario (arms x speaking orders x repeats)."""
MODEL_DIM = "model."
"""Prefix of the dimension of an agent's model (`model.target`): its level is the model's label in the matrix
(the name given to a model entry, else its `provider:model`)."""

_SAME_FOR_EVERY_ARM = {
    "matrix": "is the matrix itself",
    "name": "names the whole experiment",
    "version": "is the spec's format",
    "study": "is what the whole experiment measures",
    "agents": "is every agent at once; vary one field of one agent (`agents.NAME.FIELD`)",
    "scenarios": "is shared by every arm, so that arms are compared on the same scenarios",
    "repeats": "applies to every arm (repeats are a dimension of their own)",
    "orders": "applies to every arm (speaking orders are a dimension of their own)",
    "seed": "is shared by every arm, so that arms are paired",
}
"""Top-level fields a matrix may not vary, and why."""
_SHARED_PROVIDER_FIELDS = {"max_concurrency", "requests_per_minute", "price_per_1k_in", "price_per_1k_out"}
"""Provider settings that hold for the whole run (one limiter and one price per provider), so no arm may vary them."""


class ArmError(SpecError):
    """A mistake found in one arm's spec: the arm, then the mistake as a spec's (`path: message`); its path is where
    the spec file says it, for the line."""

    def __init__(self, label: str, described: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(described, path)
        self.label = label

    def __str__(self) -> str:
        return f"matrix arm '{self.label}': {self.message}"


def arm_error(spec: ProtocolSpec, arm: MatrixArm, exc: SpecError) -> ArmError:
    """A SpecError found in one arm's spec, naming the arm, and placed where the spec sets what is wrong: the matrix's
    entry for the model of an agent it gives models to, the `vary` path of a varied field, else where the arm's
    spec has it."""
    return ArmError(arm.label, str(exc), _matrix_place(spec, arm.levels, exc.path))


def _matrix_place(
    spec: ProtocolSpec, levels: tuple[tuple[str, str], ...], path: tuple[str | int, ...]
) -> tuple[str | int, ...]:
    """Where in the spec with the matrix an arm's mistake at `path` comes from (agents are the same in every arm)."""
    assert spec.matrix is not None
    named = list(path)
    if len(named) > 1 and named[0] == "agents" and isinstance(named[1], int) and named[1] < len(spec.agents):
        named[1] = spec.agents[named[1]].name
    dotted = ".".join(map(str, named))
    for varied in spec.matrix.vary:
        if dotted == varied or dotted.startswith(varied + "."):
            return ("matrix", "vary", varied)
    label = dict(levels).get(MODEL_DIM + str(named[1])) if len(named) > 1 and named[0] == "agents" else None
    if label is not None and spec.matrix.models is not None:
        index = next(i for i, entry in enumerate(spec.matrix.models.entries) if entry.label == label)
        return ("matrix", "models", "from", index)
    return path


@dataclass(frozen=True)
class MatrixArm:
    """One cell of a matrix: its levels (dimension, level) in order, and its spec."""

    levels: tuple[tuple[str, str], ...]
    spec: ProtocolSpec
    """The arm's spec: the spec without its matrix, the arm's models and values applied."""

    @property
    def label(self) -> str:
        """`dim=level, dim=level`."""
        return ", ".join(f"{dim}={level}" for dim, level in self.levels)

    def models(self) -> dict[str, str]:
        """The model of every agent of the arm (`provider:model`)."""
        return {agent.name: self.spec.model_of(agent) for agent in self.spec.agents}


def level_text(value: Any) -> str:
    """A varied value as an arm's level: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def lineups(entries: Sequence[MatrixEntry], agents: int, lineup: str) -> list[tuple[MatrixEntry, ...]]:
    """The models of each line-up, one per agent in order: the same for all (`each`), distinct sets in list order
    (`combinations`), or every assignment (`product`)."""
    if lineup == "combinations":
        return list(itertools.combinations(entries, agents))
    if lineup == "product":
        return list(itertools.product(entries, repeat=agents))
    return [(entry,) * agents for entry in entries]


def lineup_count(entries: int, agents: int, lineup: str) -> int:
    """How many line-ups `lineups` gives, counted without making them."""
    if lineup == "combinations":
        return math.comb(entries, agents)
    if lineup == "product":
        return entries**agents
    return entries


def arm_count(spec: ProtocolSpec) -> int:
    """How many arms the spec's matrix has (1 for a spec without a matrix)."""
    matrix = spec.matrix
    if matrix is None:
        return 1
    count = math.prod(len(values) for values in matrix.vary.values())
    if matrix.models is not None:
        count *= lineup_count(len(matrix.models.entries), len(spec.matrix_agents()), matrix.models.lineup)
    return count


def matrix_dimensions(spec: ProtocolSpec) -> list[str]:
    """The dimensions of the spec's arms, in the matrix's order: `model.<agent>` for each agent its models part sets,
    then each `vary` path (the order of a recorded arm, whose JSON in the trace has its keys sorted)."""
    if spec.matrix is None:
        return []
    return [MODEL_DIM + agent for agent in spec.matrix_agents()] + list(spec.matrix.vary)


def expand_matrix(spec: ProtocolSpec) -> list[MatrixArm]:
    """Every arm of a spec's matrix, each spec validated; a SpecError names the matrix's mistake or the arm's.

    A spec without a matrix has none."""
    matrix = spec.matrix
    if matrix is None:
        return []
    agents = _check_models_part(spec, matrix)
    for path in matrix.vary:
        _check_vary_path(spec, matrix, path, agents)
    arms = arm_count(spec)
    if arms > MAX_ARMS:
        raise SpecError(f"the matrix has {arms:,} arms; at most {MAX_ARMS:,}", ("matrix",))
    base = spec.model_dump(mode="json", exclude={"matrix"})
    return [_arm(spec, base, agents, lineup, values) for lineup, values in _cells(matrix, len(agents))]


def arm_specs(spec: ProtocolSpec) -> list[ProtocolSpec]:
    """The spec of every arm of a spec's matrix; the spec alone when it has none."""
    return [arm.spec for arm in expand_matrix(spec)] or [spec]


def with_matrix_model(spec: ProtocolSpec, model: str) -> ProtocolSpec:
    """The spec with every model of its matrix replaced by `model`, each keeping its label (so its arms, and their
    conversations, are the same): how a replay answers every arm from the recorded replies."""
    if spec.matrix is None or spec.matrix.models is None:
        return spec
    entries = [entry.model_copy(update={"model": model, "name": entry.label}) for entry in spec.matrix.models.entries]
    models = spec.matrix.models.model_copy(update={"entries": entries})
    return spec.model_copy(update={"matrix": spec.matrix.model_copy(update={"models": models})})


def _cells(matrix: MatrixSpec, agents: int) -> Iterator[tuple[tuple[MatrixEntry, ...], tuple[Any, ...]]]:
    models = lineups(matrix.models.entries, agents, matrix.models.lineup) if matrix.models else [()]
    for lineup in models:
        for values in itertools.product(*matrix.vary.values()):
            yield lineup, values


def _arm(
    spec: ProtocolSpec,
    base: dict[str, Any],
    agents: list[str],
    lineup: tuple[MatrixEntry, ...],
    values: tuple[Any, ...],
) -> MatrixArm:
    """One arm: the base spec's data with the line-up's models and the values applied, validated and labelled."""
    assert spec.matrix is not None
    levels = [(MODEL_DIM + agent, entry.label) for agent, entry in zip(agents, lineup, strict=True)]
    levels += [(path, level_text(value)) for path, value in zip(spec.matrix.vary, values, strict=True)]
    label = ", ".join(f"{dim}={level}" for dim, level in levels)
    data = json.loads(json.dumps(base))  # a deep copy of plain data
    index = {agent["name"]: agent for agent in data["agents"]}
    for agent, entry in zip(agents, lineup, strict=True):
        fields = entry.agent_fields()
        variables = fields.pop("variables", None)
        index[agent].update(fields)
        if variables:
            index[agent]["variables"] = {**index[agent].get("variables", {}), **variables}
    for path, value in zip(spec.matrix.vary, values, strict=True):
        _set_path(data, path.split("."), value)
    try:
        arm_spec = ProtocolSpec.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        raise ArmError(label, message, _matrix_place(spec, tuple(levels), where)) from None
    return MatrixArm(tuple(levels), arm_spec)


def _set_path(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """Write `value` at a checked dotted path of a spec's data (`agents.NAME` finds the agent by name)."""
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if depth == 1 and parts[0] == "agents":
            node = next(agent for agent in node if agent["name"] == part)
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def _check_models_part(spec: ProtocolSpec, matrix: MatrixSpec) -> list[str]:
    """The agents the models part gives models to, checked (known, listed once, enough models for a line-up)."""
    if matrix.models is None:
        return []
    models = matrix.models
    known = [agent.name for agent in spec.agents]
    for index, name in enumerate(models.agents or []):
        if name not in known:
            raise SpecError(unknown_name("agent", name, known), ("matrix", "models", "agents", index))
        if models.agents and models.agents.index(name) != index:
            raise SpecError(f"agent '{name}' is listed twice", ("matrix", "models", "agents", index))
    agents = spec.matrix_agents()
    if not agents:
        raise SpecError("the spec has no speaker to give the models to; list the agents", ("matrix", "models"))
    labels: dict[str, int] = {}
    for index, entry in enumerate(models.entries):
        if entry.label in labels:
            message = f"model '{entry.label}' is listed twice (entry {labels[entry.label] + 1}); give each a `name`"
            raise SpecError(message, ("matrix", "models", "from", index))
        labels[entry.label] = index
    if models.lineup == "combinations" and len(models.entries) < len(agents):
        message = f"`combinations` gives {len(agents)} agents distinct models: list at least {len(agents)} models"
        raise SpecError(message, ("matrix", "models", "from"))
    return agents


def _check_vary_path(spec: ProtocolSpec, matrix: MatrixSpec, path: str, agents: list[str]) -> None:
    """Refuse a `vary` path that names nothing a spec holds, a field every arm shares, or one the models part sets."""
    where: tuple[str | int, ...] = ("matrix", "vary", path)
    parts = path.split(".")
    head = parts[0]

    def refuse(message: str) -> SpecError:
        return SpecError(message, where)

    if not all(parts):
        raise refuse(f"'{path}' is not a dotted path of spec fields (e.g. `goal`, `agents.NAME.temperature`)")
    if head in _SAME_FOR_EVERY_ARM and len(parts) == 1:
        raise refuse(f"cannot be varied: it {_SAME_FOR_EVERY_ARM[head]}")
    if head not in ProtocolSpec.model_fields:
        raise refuse(f"names nothing: {unknown_name('spec field', head, ProtocolSpec.model_fields)}")
    if head == "variables":
        if len(parts) > 2:
            raise refuse("names nothing: vary a whole variable (`variables.KEY`)")
        return
    if head == "agents":
        _check_agent_path(spec, matrix, parts, agents, refuse)
    elif head == "roles":
        _check_member_path(parts, spec.roles, "role", RoleSpec, refuse)
    elif head == "providers":
        _check_member_path(parts, None, "provider", ProviderSettings, refuse)
        if parts[2] in _SHARED_PROVIDER_FIELDS:
            raise refuse("cannot be varied: one limiter and one price per provider hold for the whole run")
    elif len(parts) > 1:
        raise refuse(f"names nothing: `{head}` is varied whole")


def _check_member_path(
    parts: list[str], members: dict[str, Any] | None, kind: str, model: type[BaseModel], refuse: Any
) -> None:
    """`roles.NAME.FIELD` or `providers.NAME.FIELD`: a known member (any provider) and one of its fields."""
    if len(parts) != 3:
        raise refuse(f"names nothing: write `{parts[0]}.NAME.FIELD`")
    if members is not None and parts[1] not in members:
        raise refuse(f"names nothing: {unknown_name(kind, parts[1], members)}")
    if parts[2] not in model.model_fields:
        raise refuse(f"names nothing: {unknown_name(f'{kind} field', parts[2], model.model_fields)}")


def _check_agent_path(spec: ProtocolSpec, matrix: MatrixSpec, parts: list[str], agents: list[str], refuse: Any) -> None:
    """`agents.NAME.FIELD` or `agents.NAME.variables.KEY`: a known agent, a field it may change, none the models
    part sets for it."""
    names = [agent.name for agent in spec.agents]
    if len(parts) < 3:
        raise refuse("names nothing: write `agents.NAME.FIELD`")
    name, field = parts[1], parts[2]
    if name not in names:
        raise refuse(f"names nothing: {unknown_name('agent', name, names)}")
    if field not in AgentSpec.model_fields:
        raise refuse(f"names nothing: {unknown_name('agent field', field, AgentSpec.model_fields)}")
    if field == "name":
        raise refuse("cannot be varied: agents are named once for every arm")
    if len(parts) > 3 and (field != "variables" or len(parts) > 4):
        raise refuse(f"names nothing: `agents.{name}.{field}` is varied whole")
    if name in agents and matrix.models is not None:
        set_here = {"model"} | {key for entry in matrix.models.entries for key in entry.agent_fields()}
        keys = {key for entry in matrix.models.entries for key in (entry.variables or {})}
        if field in set_here and (field != "variables" or len(parts) == 3 or parts[3] in keys):
            raise refuse(f"is set by the matrix's models for agent '{name}'")
