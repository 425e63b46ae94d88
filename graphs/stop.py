"""Stop conditions that compose: `MaxRounds(4) | Consensus("verdict")`.

Each condition looks at the round that just ended and returns the reason to stop (which goes
into the trace) or None to go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moot.graphs.state import TranscriptMessage
from moot.protocols.spec import ConsensusStop, DecisionStop, ProtocolSpec


@dataclass(frozen=True)
class RoundView:
    """The round a stop condition decides on."""

    round: int
    speakers: tuple[str, ...]
    messages: tuple[TranscriptMessage, ...]
    """Messages of this round, speakers' and judges'."""

    def value(self, agent: str, field: str) -> Any:
        """The parsed value of `field` in `agent`'s message of this round (None when absent or unparsed)."""
        for message in self.messages:
            if message.agent == agent and message.parsed:
                return message.parsed.get(field)
        return None


class StopCondition:
    """Base class: `check` returns a reason to stop, or None."""

    def check(self, view: RoundView) -> str | None:
        """The reason to stop after this round, or None."""
        raise NotImplementedError

    def outcome(self, view: RoundView) -> dict[str, Any]:
        """What this condition looked at, for the trace."""
        return {}

    def __or__(self, other: StopCondition) -> AnyOf:
        return AnyOf((*_parts(self), *_parts(other)))


def _parts(condition: StopCondition) -> tuple[StopCondition, ...]:
    return condition.conditions if isinstance(condition, AnyOf) else (condition,)


@dataclass(frozen=True)
class AnyOf(StopCondition):
    """Stop when any of the conditions says so (the first one's reason is given)."""

    conditions: tuple[StopCondition, ...]

    def check(self, view: RoundView) -> str | None:
        for condition in self.conditions:
            reason = condition.check(view)
            if reason:
                return reason
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for condition in self.conditions:
            merged.update(condition.outcome(view))
        return merged


@dataclass(frozen=True)
class MaxRounds(StopCondition):
    """Stop after `limit` rounds."""

    limit: int

    def check(self, view: RoundView) -> str | None:
        return f"max rounds ({self.limit})" if view.round >= self.limit else None


@dataclass(frozen=True)
class Consensus(StopCondition):
    """Stop when at least two speakers gave a parsed `field` and all of them gave the same value.

    An unparsed answer never counts as agreement: one speaker without a value means no consensus.
    """

    field: str

    def check(self, view: RoundView) -> str | None:
        values = [view.value(agent, self.field) for agent in view.speakers]
        if len(values) >= 2 and None not in values and len(set(map(str, values))) == 1:
            return f"consensus on {self.field} ({values[0]})"
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {self.field: {agent: view.value(agent, self.field) for agent in view.speakers}}


@dataclass(frozen=True)
class Decision(StopCondition):
    """Stop when judge `agent` decides `field == equals`."""

    agent: str
    field: str
    equals: Any = True

    def check(self, view: RoundView) -> str | None:
        if view.value(self.agent, self.field) == self.equals:
            return f"{self.agent} decided {self.field} = {self.equals}"
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {f"{self.agent}.{self.field}": view.value(self.agent, self.field)}


def stop_rule(spec: ProtocolSpec) -> StopCondition:
    """The spec's stop rule: any of its conditions, else its round limit."""
    conditions: list[StopCondition] = []
    for condition in spec.stop:
        if isinstance(condition, ConsensusStop):
            conditions.append(Consensus(condition.consensus))
        elif isinstance(condition, DecisionStop):
            conditions.append(Decision(condition.decision.agent, condition.decision.field, condition.decision.equals))
    return AnyOf((*conditions, MaxRounds(spec.rounds)))
