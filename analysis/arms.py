"""Arms: the cells of a comparison, and which arm each conversation belongs to.

An arm is one cell of what an experiment compares: the level of each dimension that varies
(a model of an agent, a line-up, a goal, a prompt variant, a turn policy, or the run it came
from when `moot compare` puts several runs together). Orderings and repeats are not part of an
arm: every arm runs every ordering and repeat, and a table gives them as dimensions of their own.

`conversation_arms` reads the arm of every conversation from the trace: the matrix cell its
`conversation_started` event records (none for a run without a matrix), the models its agents
used, its speaking order and its repeat. A player, in the measurements that rate agents against
each other, is the pair (agent, model) named as `player_name` says.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moot.protocols.matrix import MODEL_DIM
from moot.trace.events import ConversationStarted, Event, ModelCall
from moot.trace.reading import effective_events

ALL_ARMS = "all"
"""The label of the one arm of a run that compares nothing."""
ORDER = "order"
"""The dimension of speaking orders (`alice>bob`)."""
FIRST_SPEAKER = "first_speaker"
"""The dimension of who speaks first."""
REPEAT = "repeat"
"""The dimension of repeats."""

T = TypeVar("T")


@dataclass(frozen=True)
class Arm:
    """One cell of a comparison: each varied dimension and its level, in the comparison's order."""

    dims: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, levels: Mapping[str, Any] | None) -> Arm:
        """The arm with these levels (values written as text), in the mapping's order."""
        return cls(tuple((str(dim), str(level)) for dim, level in (levels or {}).items()))

    @property
    def label(self) -> str:
        """`dim=level, dim=level`, or `all` for the arm of a run that compares nothing."""
        return ", ".join(f"{dim}={level}" for dim, level in self.dims) or ALL_ARMS

    def level(self, dim: str) -> str | None:
        """The level of a dimension in this arm (None when the arm does not vary it)."""
        return dict(self.dims).get(dim)

    def with_dims(self, levels: Mapping[str, Any]) -> Arm:
        """This arm with more dimensions after its own (a run's dimensions in a comparison)."""
        return Arm(self.dims + Arm.of(levels).dims)

    def as_dict(self) -> dict[str, str]:
        """Each dimension and its level."""
        return dict(self.dims)


@dataclass(frozen=True)
class ConversationArm:
    """Where one conversation sits in a comparison: its arm, run, models, speaking order and repeat."""

    conversation_id: str
    arm: Arm
    models: dict[str, str]
    """The model of each agent (`provider:model`)."""
    order: tuple[str, ...]
    """Speakers in speaking order."""
    repeat: int
    run: str = ""
    """The run it came from (its label in a comparison; empty within one run)."""

    def model_label(self, agent: str) -> str:
        """The agent's model as the comparison names it: its level in the arm's `model.<agent>` dimension when the
        arm varies it (a named matrix entry keeps two `simulated` models apart), else its `provider:model`."""
        return self.arm.level(MODEL_DIM + agent) or self.models.get(agent, "")

    def players(self) -> dict[str, str]:
        """The player of each speaker of the conversation (`player_name`)."""
        labels = {agent: self.model_label(agent) for agent in self.order}
        return {agent: player_name(agent, labels, self.order) for agent in self.order}

    @property
    def first_speaker(self) -> str:
        """Who spoke first (empty when nobody spoke)."""
        return self.order[0] if self.order else ""

    def key(self, dims: Sequence[str]) -> tuple[str, ...]:
        """The levels of `dims`: arm dimensions, `order`, `first_speaker` or `repeat`."""
        return tuple(self.level(dim) for dim in dims)

    def level(self, dim: str) -> str:
        """The level of one dimension (an arm dimension, `order`, `first_speaker`, `repeat`); empty when not set."""
        if dim == ORDER:
            return ">".join(self.order)
        if dim == FIRST_SPEAKER:
            return self.first_speaker
        if dim == REPEAT:
            return str(self.repeat)
        return self.arm.level(dim) or ""


@dataclass(frozen=True)
class ArmTable:
    """The arm of every conversation of a run (or of several runs put together)."""

    conversations: dict[str, ConversationArm] = field(default_factory=dict)

    def __getitem__(self, conversation_id: str) -> ConversationArm:
        return self.conversations[conversation_id]

    def get(self, conversation_id: str) -> ConversationArm | None:
        """The arm of a conversation, None when it is not in the table."""
        return self.conversations.get(conversation_id)

    def arms(self) -> list[Arm]:
        """The distinct arms, in order of first conversation."""
        return list(dict.fromkeys(entry.arm for entry in self.conversations.values()))

    def dimensions(self) -> list[str]:
        """The arm dimensions whose level differs between conversations, in order of first appearance."""
        levels: dict[str, set[str]] = defaultdict(set)
        for arm in self.arms():
            for dim, level in arm.dims:
                levels[dim].add(level)
        return [dim for dim, found in levels.items() if len(found) > 1]

    def varies(self, dim: str) -> bool:
        """True when conversations differ in this dimension (arm dimensions, `order`, `first_speaker`, `repeat`)."""
        return len({entry.level(dim) for entry in self.conversations.values()}) > 1

    def compares(self) -> bool:
        """True when the conversations belong to more than one arm."""
        return len(self.arms()) > 1

    def group(self, items: Iterable[T], conversation_of: Callable[[T], str], dims: Sequence[str]) -> dict[str, list[T]]:
        """Items grouped by the levels of `dims` of their conversation (`level, level` keys; `all` for no dims).

        Items whose conversation is not in the table are left out."""
        groups: dict[str, list[T]] = {}
        for item in items:
            entry = self.get(conversation_of(item))
            if entry is None:
                continue
            key = ", ".join(f"{dim}={entry.level(dim)}" for dim in dims) or ALL_ARMS
            groups.setdefault(key, []).append(item)
        return groups


def player_name(agent: str, models: Mapping[str, str], agents: Sequence[str]) -> str:
    """Who a player is in a conversation whose agents are `agents`: the agent's model when the agents' models all
    differ, else the agent (the name every rating and influence measurement uses)."""
    used = [models.get(a, "") for a in agents]
    if all(used) and len(set(used)) == len(used):
        return models[agent]
    return agent


def conversation_arms(events: Iterable[Event], spec: Mapping[str, Any] | None = None, run: str = "") -> ArmTable:
    """The arm of every conversation of a run's events.

    The arm is the matrix cell its `conversation_started` records; its models those recorded
    there, else the models its agents' calls used, else the spec's (`spec`: the run's resolved
    spec, as run.json holds it). Events superseded by a resume are left out.
    """
    starts: dict[str, ConversationStarted] = {}
    called: dict[str, dict[str, str]] = defaultdict(dict)
    for event in effective_events(events):
        if isinstance(event, ConversationStarted):
            starts.setdefault(event.conversation_id, event)
        elif isinstance(event, ModelCall) and event.agent:
            called[event.conversation_id].setdefault(event.agent, event.model)
    spec_models = _spec_models(spec or {})
    order = {dim: index for index, dim in enumerate(matrix_order(spec or {}))}
    table = {}
    for cid, start in starts.items():
        models = dict(spec_models) | called.get(cid, {}) | dict(start.models or {})
        # The trace writes an arm's keys sorted: put them back in the matrix's order.
        levels = sorted((start.arm or {}).items(), key=lambda item: order.get(item[0], len(order)))
        table[cid] = ConversationArm(cid, Arm.of(dict(levels)), models, tuple(start.order), start.repeat, run)
    return ArmTable(table)


def matrix_order(spec: Mapping[str, Any]) -> list[str]:
    """The dimensions of a resolved spec's matrix in its order: `model.<agent>` for each agent its models part sets
    (those it lists, else every speaker), then each `vary` path; none without a matrix."""
    matrix = spec.get("matrix")
    if not isinstance(matrix, Mapping):
        return []
    models = matrix.get("models")
    agents: list[str] = []
    if isinstance(models, Mapping):
        roles = spec.get("roles") or {}
        speakers = [
            str(agent.get("name"))
            for agent in spec.get("agents") or []
            if isinstance(agent, Mapping) and (roles.get(agent.get("role")) or {}).get("kind", "speaker") == "speaker"
        ]
        agents = [str(agent) for agent in models.get("agents") or speakers]
    return [MODEL_DIM + agent for agent in agents] + [str(path) for path in matrix.get("vary") or {}]


def _spec_models(spec: Mapping[str, Any]) -> dict[str, str]:
    """Each agent's model in a resolved spec (the spec's default applied)."""
    default = str(spec.get("model") or "")
    return {
        str(agent.get("name")): str(agent.get("model") or default)
        for agent in spec.get("agents") or []
        if isinstance(agent, Mapping) and agent.get("name")
    }


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation of one figure over the levels of a dimension (repeats, runs, models)."""

    mean: float | None
    sd: float | None
    n: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread:
        """The spread of the values that are not None (sd None below two values, mean None with none)."""
        found = [float(v) for v in values if v is not None]
        return cls(
            statistics.fmean(found) if found else None,
            statistics.stdev(found) if len(found) > 1 else None,
            len(found),
        )

    def as_dict(self) -> dict[str, Any]:
        """`mean`, `sd` and `n` (how many values)."""
        return {"mean": self.mean, "sd": self.sd, "n": self.n}


def pooled_note(table: ArmTable, dims: Sequence[str]) -> str | None:
    """What a pooled figure pools: the dimensions among `dims` that vary, as a sentence; None when none varies."""
    pooled = [dim for dim in dims if table.varies(dim)]
    if not pooled:
        return None
    return "pooled over " + ", ".join(pooled)
