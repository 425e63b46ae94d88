"""Stop conditions that compose: `MaxRounds(4) | Consensus("verdict")`, `AllOf((MinRounds(2), Majority("x", 0.6)))`.

Each condition looks at the round that just ended and returns the reason to stop (which goes
into the trace) or None to go on. A reason is its kind (`consensus on verdict`) and, in
parentheses, the values that made it fire (`(NTA)`); `kinds()` lists the kinds a condition can
give, so a protocol's possible stop reasons are known before it runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import product
from typing import Any

from moot.graphs.state import TranscriptMessage
from moot.protocols.spec import (
    AllStop,
    AnyStop,
    ConsensusStop,
    DecisionStop,
    MajorityStop,
    MinRoundsStop,
    ProtocolSpec,
    StopRule,
)


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


@dataclass(frozen=True)
class Firing:
    """Why a condition fired: the kind of reason and the values behind it."""

    kind: str
    detail: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail is not None else self.kind


class StopCondition:
    """Base class: `fire` says why to stop after a round, or None; `check` gives that as the trace's reason."""

    def fire(self, view: RoundView) -> Firing | None:
        """Why to stop after this round, or None."""
        raise NotImplementedError

    def check(self, view: RoundView) -> str | None:
        """The reason to stop after this round, or None."""
        firing = self.fire(view)
        return str(firing) if firing else None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        """What this condition looked at, for the trace."""
        return {}

    def kinds(self) -> list[str]:
        """The kinds of reason this condition can give (a reason is its kind, then its values in parentheses)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The condition in words, for drawings of the protocol."""
        raise NotImplementedError

    def __or__(self, other: StopCondition) -> AnyOf:
        return AnyOf((*_parts(self), *_parts(other)))


def _parts(condition: StopCondition) -> tuple[StopCondition, ...]:
    return condition.conditions if isinstance(condition, AnyOf) else (condition,)


def _merged_outcomes(conditions: tuple[StopCondition, ...], view: RoundView) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for condition in conditions:
        merged.update(condition.outcome(view))
    return merged


@dataclass(frozen=True)
class AnyOf(StopCondition):
    """Stop when any of the conditions says so (the first one's reason is given)."""

    conditions: tuple[StopCondition, ...]

    def fire(self, view: RoundView) -> Firing | None:
        for condition in self.conditions:
            firing = condition.fire(view)
            if firing:
                return firing
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return _merged_outcomes(self.conditions, view)

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(kind for condition in self.conditions for kind in condition.kinds()))

    def describe(self) -> str:
        return " or ".join(_grouped(condition) for condition in self.conditions)


@dataclass(frozen=True)
class AllOf(StopCondition):
    """Stop when all of the conditions say so in the same round; `MinRounds` among them only holds the others back."""

    conditions: tuple[StopCondition, ...]

    def _split(self) -> tuple[list[MinRounds], list[StopCondition]]:
        gates = [c for c in self.conditions if isinstance(c, MinRounds)]
        return gates, [c for c in self.conditions if not isinstance(c, MinRounds)]

    def fire(self, view: RoundView) -> Firing | None:
        firings = [condition.fire(view) for condition in self.conditions]
        if not all(firings):
            return None
        gates, rules = self._split()
        fired = [f for c, f in zip(self.conditions, firings, strict=True) if f and not isinstance(c, MinRounds)]
        details = [f.detail for f in fired if f.detail is not None]
        return Firing(self._kind([f.kind for f in fired], gates), "; ".join(details) if details else None)

    @staticmethod
    def _kind(kinds: list[str], gates: list[MinRounds]) -> str:
        least = max((gate.rounds for gate in gates), default=0)
        joined = " and ".join(kinds) if kinds else f"{least} rounds passed"
        return f"{joined} after at least {least} rounds" if kinds and least else joined

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return _merged_outcomes(self.conditions, view)

    def kinds(self) -> list[str]:
        gates, rules = self._split()
        return [self._kind(list(combination), gates) for combination in product(*(rule.kinds() for rule in rules))]

    def describe(self) -> str:
        return " and ".join(_grouped(condition) for condition in self.conditions)


def _grouped(condition: StopCondition) -> str:
    text = condition.describe()
    return f"({text})" if isinstance(condition, (AnyOf, AllOf)) and len(condition.conditions) > 1 else text


@dataclass(frozen=True)
class MaxRounds(StopCondition):
    """Stop after `limit` rounds."""

    limit: int

    def fire(self, view: RoundView) -> Firing | None:
        return Firing("max rounds", str(self.limit)) if view.round >= self.limit else None

    def kinds(self) -> list[str]:
        return ["max rounds"]

    def describe(self) -> str:
        return f"{self.limit} rounds reached"


@dataclass(frozen=True)
class MinRounds(StopCondition):
    """Fires once `rounds` rounds have passed; beside other conditions in `AllOf`, it holds them back until then."""

    rounds: int

    def fire(self, view: RoundView) -> Firing | None:
        return Firing(f"{self.rounds} rounds passed") if view.round >= self.rounds else None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {"min_rounds": {"required": self.rounds, "round": view.round}}

    def kinds(self) -> list[str]:
        return [f"{self.rounds} rounds passed"]

    def describe(self) -> str:
        return f"at least {self.rounds} rounds"


@dataclass(frozen=True)
class Consensus(StopCondition):
    """Stop when at least two speakers gave a parsed `field` and all of them gave the same value.

    An unparsed answer never counts as agreement: one speaker without a value means no consensus.
    """

    field: str

    def fire(self, view: RoundView) -> Firing | None:
        values = [view.value(agent, self.field) for agent in view.speakers]
        if len(values) >= 2 and None not in values and len(set(map(str, values))) == 1:
            return Firing(f"consensus on {self.field}", str(values[0]))
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {self.field: {agent: view.value(agent, self.field) for agent in view.speakers}}

    def kinds(self) -> list[str]:
        return [f"consensus on {self.field}"]

    def describe(self) -> str:
        return f"every speaker gives the same {self.field}"


@dataclass(frozen=True)
class Majority(StopCondition):
    """Stop when at least `share` of the round's speakers gave the same parsed value of `field`.

    The share is of every speaker of the round: an unparsed answer counts against the majority.
    """

    field: str
    share: float

    def fire(self, view: RoundView) -> Firing | None:
        values = [view.value(agent, self.field) for agent in view.speakers]
        counts = Counter(str(value) for value in values if value is not None)
        if not values or not counts:
            return None
        value, count = counts.most_common(1)[0]
        if count / len(values) >= self.share:
            return Firing(f"majority on {self.field}", f"{value}: {count} of {len(values)}")
        return None

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {self.field: {agent: view.value(agent, self.field) for agent in view.speakers}}

    def kinds(self) -> list[str]:
        return [f"majority on {self.field}"]

    def describe(self) -> str:
        return f"at least {self.share:.0%} of speakers give the same {self.field}"


@dataclass(frozen=True)
class Decision(StopCondition):
    """Stop when judge `agent` decides `field == equals`; with several judges, when any or all of them do."""

    agent: str | tuple[str, ...]
    field: str
    equals: Any = True
    require: str = "all"
    """With several judges: `any` or `all` of them."""

    @property
    def judges(self) -> tuple[str, ...]:
        """The judges this condition waits for."""
        return (self.agent,) if isinstance(self.agent, str) else self.agent

    def _who(self) -> str:
        if isinstance(self.agent, str):
            return self.agent
        return f"{self.require} of {', '.join(self.agent)}"

    def fire(self, view: RoundView) -> Firing | None:
        decided = [judge for judge in self.judges if _same(view.value(judge, self.field), self.equals)]
        wanted = len(self.judges) if self.require == "all" else 1
        if len(decided) < wanted:
            return None
        kind = f"{self._who()} decided {self.field} = {self.equals}"
        return Firing(kind, ", ".join(decided) if self.require == "any" and len(self.judges) > 1 else None)

    def outcome(self, view: RoundView) -> dict[str, Any]:
        return {f"{judge}.{self.field}": view.value(judge, self.field) for judge in self.judges}

    def kinds(self) -> list[str]:
        return [f"{self._who()} decided {self.field} = {self.equals}"]

    def describe(self) -> str:
        return f"{self._who()} decide {self.field} = {self.equals}"


def _same(value: Any, expected: Any) -> bool:
    """Equal, without `True == 1`: a boolean equals only a boolean."""
    return value == expected and isinstance(value, bool) == isinstance(expected, bool)


def condition_of(rule: StopRule) -> StopCondition:
    """The condition a spec's stop rule describes."""
    if isinstance(rule, ConsensusStop):
        return Consensus(rule.consensus)
    if isinstance(rule, MajorityStop):
        return Majority(rule.majority.field, rule.majority.share)
    if isinstance(rule, MinRoundsStop):
        return MinRounds(rule.min_rounds)
    if isinstance(rule, DecisionStop):
        decision = rule.decision
        agent = decision.agent if decision.agent is not None else tuple(decision.judges)
        return Decision(agent, decision.field, decision.equals, decision.require)
    if isinstance(rule, AnyStop):
        return AnyOf(tuple(condition_of(inner) for inner in rule.any))
    if isinstance(rule, AllStop):
        return AllOf(tuple(condition_of(inner) for inner in rule.all))
    raise TypeError(f"not a stop rule: {rule!r}")


def stop_rule(spec: ProtocolSpec) -> StopCondition:
    """The spec's stop rule: any of its conditions, held back by its `min_rounds` entries, else its round limit."""
    conditions = [condition_of(rule) for rule in spec.stop]
    gates = [condition for condition in conditions if isinstance(condition, MinRounds)]
    rules = [condition for condition in conditions if not isinstance(condition, MinRounds)]
    if gates and rules:
        least = MinRounds(max(gate.rounds for gate in gates))
        rules = [AllOf((least, rule)) for rule in rules]
    return AnyOf((*rules, MaxRounds(spec.rounds)))
