"""Taking up an interrupted run: the read-only checks, where each conversation stands, and the state it goes on from.

A conversation with a `stopped` event is done and kept as it is. One with events but no stop
was interrupted: its complete rounds (those closed by a `round_ended`) stand, the graph state
is rebuilt from their messages, and the conversation goes on from the next round. The events
of its incomplete round are superseded: the conversation lists them in a `resumed` marker, and
`moot.trace.reading.effective_events` leaves them out for every reader.

With the response cache on, the turns of the incomplete round that had been answered are
served from it, so only the calls in flight at the interruption are made again.

Other programs resume their units in their own way (an explorer's unfinished budget step, a
judging pass's half-recorded decision); what every resumption shares is checked here first:
`open_interrupted_run`, which reads the run without writing anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import networkx as nx

from moot.errors import UserError
from moot.graphs.state import TranscriptMessage
from moot.graphs.stop import RoundView, StopCondition
from moot.graphs.turns import RoundPlan
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.outputs.text_replies import parse_text_reply
from moot.protocols.spec import ROUND_START, ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    Resumed,
    RoundEnded,
    Stopped,
)
from moot.trace.manifest import RunManifest
from moot.trace.opening import open_run
from moot.trace.reading import effective_events


class CompiledRoles(Protocol):
    """What rebuilding a conversation's state needs of its compiled protocol."""

    spec: ProtocolSpec
    schemas: dict[str, OutputSchema | None]
    rule: StopCondition


@dataclass(frozen=True)
class ResumePoint:
    """Where an interrupted conversation goes on from."""

    kept_rounds: int
    """Complete rounds whose events stand."""
    messages: list[TranscriptMessage]
    """The graph state's messages after those rounds, in the order the graph had them."""
    superseded: list[int]
    """Sequence numbers of the events of the incomplete round."""
    stop_reason: str | None = None
    """The stop rule fired on the last kept round: only the `stopped` event is missing."""
    error: ErrorEvent | None = None
    """The conversation had failed: only its `stopped` event is missing."""


@dataclass(frozen=True)
class InterruptedRun:
    """A run directory to resume, checked: its manifest and recorded events."""

    run_dir: Path
    manifest: RunManifest
    events: list[Event]
    """Every recorded event, superseded ones included, in sequence order."""
    where: str
    """The trace as messages name it."""


def events_by_conversation(events: Sequence[Event]) -> dict[str, list[Event]]:
    """The events that stand, grouped by conversation, each group in sequence order."""
    groups: dict[str, list[Event]] = defaultdict(list)
    for event in effective_events(events):
        groups[event.conversation_id].append(event)
    return dict(groups)


def round_depths(plan: RoundPlan) -> dict[str, int]:
    """Superstep of each agent within a round: the longest path to it from the round's start.

    LangGraph runs a node one step after the last of the nodes it waits for, and applies the
    writes of one step in node-name order; that is the order of the messages in the state.
    """
    depth: dict[str, int] = {}
    for node in nx.topological_sort(plan.graph):
        depth[node] = (
            max((depth[p] + 1 for p in plan.graph.predecessors(node)), default=0) if node != ROUND_START else 0
        )
    return depth


def _parsed_in_reply_order(
    protocol: CompiledRoles, role: str, content: str, recorded: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The recorded fields in the order the reply's parse gave them (the trace stores keys sorted).

    The order shows in the prompts of later turns, so it must be the original one for the
    resumed conversation to ask the same questions (and hit the cache).
    """
    schema = protocol.schemas.get(role)
    if recorded is None or schema is None:
        return recorded
    again, _ = (
        parse_text_reply(schema, content)
        if protocol.spec.roles[role].output_mode == "text"
        else schema.parse_json(content)
    )
    return again if again == recorded else recorded


def rebuild_messages(protocol: CompiledRoles, plan: RoundPlan, events: Sequence[Event]) -> list[TranscriptMessage]:
    """The graph state's messages from recorded `message_added` and `judge_decision` events."""
    depth = round_depths(plan)
    keyed = []
    for event in events:
        if isinstance(event, MessageAdded):
            parsed = _parsed_in_reply_order(protocol, event.role, event.content, event.parsed)
            message = TranscriptMessage(
                round=event.round,
                agent=event.agent or "",
                role=event.role,
                kind="speaker",
                position=event.position,
                content=event.content,
                parsed=parsed,
            )
        elif isinstance(event, JudgeDecision):
            agent = event.agent or ""
            position = plan.order.index(agent) if agent in plan.order else len(plan.order)
            parsed = _parsed_in_reply_order(protocol, event.role, event.content, event.decision)
            message = TranscriptMessage(
                round=event.round,
                agent=agent,
                role=event.role,
                kind="judge",
                position=position,
                content=event.content,
                parsed=parsed,
                about=event.about,
            )
        else:
            continue
        keyed.append(((message.round, depth.get(message.agent, 0), message.agent, event.seq), message))
    return [message for _, message in sorted(keyed, key=lambda pair: pair[0])]


def resume_point(protocol: CompiledRoles, plan: RoundPlan, events: Sequence[Event]) -> ResumePoint:
    """Where an interrupted conversation (its standing events, without a stop) goes on from."""
    start = next(e for e in events if isinstance(e, ConversationStarted))
    ends = [e for e in events if isinstance(e, RoundEnded)]
    kept = ends[-1].round if ends else 0
    cut = ends[-1].seq if ends else start.seq
    error = next((e for e in reversed(events) if isinstance(e, ErrorEvent)), None)
    if error is not None:
        return ResumePoint(kept_rounds=kept, messages=[], superseded=[], error=error)
    superseded = [e.seq for e in events if e.seq > cut and not isinstance(e, Resumed)]
    messages = rebuild_messages(protocol, plan, [e for e in events if e.seq <= cut])
    reason = None
    if kept:
        reason = protocol.rule.check(RoundView(kept, plan.order, tuple(m for m in messages if m.round == kept)))
    return ResumePoint(kept_rounds=kept, messages=messages, superseded=superseded, stop_reason=reason)


def stopped_events(events: Sequence[Event]) -> dict[str, Stopped]:
    """The stop event of each finished conversation."""
    return {e.conversation_id: e for e in events if isinstance(e, Stopped)}


def recorded_scenarios(run_dir: Path, manifest: RunManifest, given: ScenarioSet | None) -> ScenarioSet:
    """The run's scenarios, from the file it started with (unchanged) or from `given`."""
    source = manifest.scenario_source
    if given is None:
        if source == "(python)" or not manifest.scenario_hash:
            raise UserError(
                f"run '{run_dir}' took its scenarios from Python; resume it from Python with "
                "moot.api.resume(run_dir, scenarios=...)"
            )
        if not Path(source).is_file():
            raise UserError(
                f"scenario file '{source}' of run '{run_dir}' not found; a resume needs the file the run started with"
            )
        given = load_scenarios(source)
        if given.sha256 != manifest.scenario_hash:
            raise UserError(
                f"scenario file '{source}' changed since run '{run_dir}' started "
                f"(sha256 {manifest.scenario_hash[:12]}..., now {given.sha256[:12]}...);"
                " a resume needs the file the run started with"
            )
    by_id: dict[str, Scenario] = {s.id: s for s in given.scenarios}
    ids = manifest.scenario_ids or [s.id for s in given.scenarios[: manifest.scenario_count]]
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise UserError(f"run '{run_dir}' used scenario '{missing[0]}', which the scenarios given do not hold")
    return ScenarioSet(given.source, given.sha256, [by_id[i] for i in ids])


def open_interrupted_run(run_dir: Path) -> InterruptedRun:
    """Check a run directory can be resumed and read it, without writing anything; UserError when it cannot.

    Its trace must be run.json's (`moot.trace.opening.open_run`): a missing, empty, damaged or
    foreign trace is refused, never rebuilt by running the conversations again (only a run killed
    before its first event, whose run.json counts none, may have no trace). So is a trace whose
    append-only triggers are gone: the store would create them again when it appends. A run is
    resumable unless it completed and no pass over it is unfinished.
    """
    with open_run(run_dir) as opened:
        opened.require_append_only()
        manifest, trace = opened.manifest, opened.where
        events = list(opened.events())
    if manifest.status == "completed" and manifest.unfinished_pass() is None:
        counts = manifest.conversations
        raise UserError(
            f"run '{run_dir}' is finished ({counts.completed} completed, "
            f"{counts.failed} failed of {counts.planned}); nothing to resume"
        )
    foreign = next((e for e in events if e.run_id != manifest.run_id), None)
    if foreign is not None:
        raise UserError(
            f"{trace}: event {foreign.seq} belongs to run '{foreign.run_id}', not to '{manifest.run_id}' of run.json"
        )
    return InterruptedRun(run_dir, manifest, events, trace)


def check_planned(interrupted: InterruptedRun, planned: set[str] | None) -> None:
    """Refuse a trace holding a conversation the rebuilt program does not plan (None: it opens them as it goes)."""
    if planned is None:
        return
    strangers = sorted({e.conversation_id for e in interrupted.events} - planned)
    if strangers:
        raise UserError(
            f"{interrupted.where} holds conversation '{strangers[0]}', which run.json's spec, scenarios and seed"
            " do not plan; was run.json edited?"
        )
