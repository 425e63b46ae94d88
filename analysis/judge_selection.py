"""Which judges a run has, and whose decisions an analysis reads.

A judge is named by the agent name its decisions carry: the spec's in-protocol judges by their
agent names, a judging pass over the finished run (`moot judge`) by the name it was run under.
Judges that decide the same kind of thing are of one *kind*: the role they play (a judge role of
the spec played again keeps its role; every values judge of a pass is of the kind of the spec's
values judge of each message, when the spec has one). Of each kind an analysis reads one judge's
decisions, never several mixed: by default the spec's in-protocol judge of that kind, else the
first pass of it; `--judge NAME` reads that judge instead, its decisions presented as the
default judge's (same agent name and role), so every study reads them unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from moot.analysis.protocol_fields import role_schema
from moot.errors import UserError
from moot.judges.posthoc import POSTHOC_JUDGES, posthoc_role
from moot.trace.events import Event, JudgeDecision, ModelCall
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events

PROTOCOL_SOURCE = "protocol"
"""The source of a judge of the run itself (not of a pass over it)."""
VALUES_ROLES = frozenset(posthoc_role(name) for name in POSTHOC_JUDGES)
"""Roles of the built-in values judges' passes."""


@dataclass(frozen=True)
class Judge:
    """One judge of a run: an agent name whose decisions the trace holds."""

    name: str
    """The agent name its decisions carry."""
    role: str
    """The role it played."""
    kind: str
    """What it decides, named by the role whose decisions the analyses read it as."""
    source: str
    """`protocol` for a judge of the run itself, else the kind of the pass that ran it (`judge_role`, ...)."""
    model: str
    """The model it called ("" when it made no call)."""
    decisions: int
    """Its decisions that stand."""


@dataclass(frozen=True)
class JudgeRoster:
    """Every judge of a run, in the order of their first decisions, and the role specs they played."""

    judges: tuple[Judge, ...]
    roles: dict[str, dict[str, Any]]
    """Each judge role as the spec that ran it recorded it (the run's, or a pass's)."""

    def names(self) -> list[str]:
        """The judges' names."""
        return [judge.name for judge in self.judges]

    def named(self, name: str) -> Judge:
        """The judge of that name; a UserError listing the run's judges when there is none."""
        for judge in self.judges:
            if judge.name == name:
                return judge
        having = f"its judges are {', '.join(self.names())}" if self.judges else "it has no judge's decisions"
        raise UserError(f"judge '{name}' is not a judge of this run ({having})")

    def kinds(self) -> dict[str, list[Judge]]:
        """The judges of each kind, in order."""
        kinds: dict[str, list[Judge]] = {}
        for judge in self.judges:
            kinds.setdefault(judge.kind, []).append(judge)
        return kinds

    def defaults(self, kind: str) -> list[Judge]:
        """The judges of a kind an analysis reads by default: the run's own (in-protocol) judges of it, else the
        first judge of it."""
        members = self.kinds().get(kind, [])
        own = [judge for judge in members if judge.source == PROTOCOL_SOURCE]
        return own or members[:1]

    def compared(self) -> dict[str, list[Judge]]:
        """The kinds that two or more judges decide."""
        return {kind: judges for kind, judges in self.kinds().items() if len(judges) >= 2}


def _values_kind(roles: dict[str, dict[str, Any]]) -> str | None:
    """The run's judge role of each message that names values, if any: the kind a values pass's judge is of."""
    for name, role in roles.items():
        if role.get("kind") == "judge" and role.get("per") == "message":
            schema = role_schema(role) or {}
            if "values" in (schema.get("properties") or {}):
                return name
    return None


def judge_roster(manifest: RunManifest, events: Sequence[Event]) -> JudgeRoster:
    """The judges of a run: every agent whose decisions stand in its trace."""
    run_roles: dict[str, dict[str, Any]] = manifest.spec.get("roles", {})
    run_agents = {str(agent["name"]) for agent in manifest.spec.get("agents", [])}
    roles = dict(run_roles)
    sources: dict[str, str] = {}
    for record in manifest.passes:
        for name, role in record.spec.get("roles", {}).items():
            roles.setdefault(name, role)
        for agent in record.spec.get("agents", []):
            if agent["name"] not in run_agents:
                sources.setdefault(str(agent["name"]), record.kind)
    values_kind = _values_kind(run_roles)
    played: dict[str, str] = {}
    counts: dict[str, int] = {}
    models: dict[str, str] = {}
    for event in effective_events(events):
        if isinstance(event, JudgeDecision) and event.agent:
            played.setdefault(event.agent, event.role)
            counts[event.agent] = counts.get(event.agent, 0) + 1
        elif isinstance(event, ModelCall) and event.agent:
            models.setdefault(event.agent, event.model)
    judges = []
    for name, role in played.items():
        kind = values_kind if role in VALUES_ROLES and values_kind else role
        source = PROTOCOL_SOURCE if name in run_agents else sources.get(name, "pass")
        judges.append(Judge(name, role, kind, source, models.get(name, ""), counts[name]))
    return JudgeRoster(tuple(judges), roles)


def select_judge(events: Sequence[Event], roster: JudgeRoster, name: str | None = None) -> list[Event]:
    """The events with, of each kind of judge, only the decisions of the judge an analysis reads: the default
    judges', or judge `name`'s presented as its kind's default judge (its agent name and role).

    Other events are left as they are. A name that is not a judge of the run is a UserError listing its judges.
    """
    chosen = roster.named(name) if name is not None else None
    read_as: dict[str, tuple[str, str] | None] = {}
    for kind, members in roster.kinds().items():
        defaults = roster.defaults(kind)
        for judge in members:
            read_as[judge.name] = (judge.name, judge.role) if judge in defaults else None
        if chosen is not None and chosen.kind == kind:
            stand_in = defaults[0]
            read_as.update(dict.fromkeys((judge.name for judge in members), None))
            read_as[chosen.name] = (stand_in.name, stand_in.role)
    selected = []
    for event in events:
        if isinstance(event, JudgeDecision) and event.agent in read_as:
            target = read_as[event.agent]
            if target is None:
                continue
            if target != (event.agent, event.role):
                event = event.model_copy(update={"agent": target[0], "role": target[1]})
        selected.append(event)
    return selected


@dataclass(frozen=True)
class JudgesRead:
    """The judges of what an analysis reads, and which one it reads of each kind: what the `judges` section
    (their agreement) is computed from."""

    roster: JudgeRoster
    events: Sequence[Event]
    """Every event, every judge's decisions included (before `select_judge`)."""
    chosen: str | None = None
    """The judge asked for (`--judge`), None for the defaults."""


def merge_rosters(rosters: Sequence[JudgeRoster]) -> JudgeRoster:
    """The judges of several runs of one study as one roster (`moot compare`): a judge of the same name is one
    judge, its decisions counted over the runs; the first run's role spec of each role is kept."""
    judges: dict[str, Judge] = {}
    roles: dict[str, dict[str, Any]] = {}
    for roster in rosters:
        for name, role in roster.roles.items():
            roles.setdefault(name, role)
        for judge in roster.judges:
            found = judges.get(judge.name)
            judges[judge.name] = judge if found is None else replace(found, decisions=found.decisions + judge.decisions)
    return JudgeRoster(tuple(judges.values()), roles)
