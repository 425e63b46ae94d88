"""Any run read back as conversations of replies: who answered what, in which round and position, with which model.

`protocol_records` turns the events of a run of any protocol into one `ConversationRecord` per
conversation; the generic analysis (`study_protocol`) computes everything from these records and
the model calls (`usage_rows`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from moot.trace.events import ConversationStarted, Event, JudgeDecision, MessageAdded, ModelCall, Stopped
from moot.trace.reading import effective_events

NO_STOP = "no stop event"
"""Stop reason of a conversation the trace never saw end (an interrupted run)."""


def stop_kind(reason: str) -> str:
    """A stop reason without its details: `max rounds (4)` -> `max rounds`."""
    return reason.split(" (")[0]


@dataclass(frozen=True)
class Reply:
    """One agent's answer in a round: a speaker's message or a judge's decision."""

    agent: str
    role: str
    round: int
    position: int
    """Index of a speaker in the conversation's speaking order (-1 for a judge)."""
    parsed: dict[str, Any] | None
    """Its fields; None when the reply could not be parsed."""
    judge: bool = False
    about: str | None = None
    """For a judge of each message, the message judged (`r<round>:<agent>`)."""


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation of any protocol."""

    id: str
    scenario: str
    repeat: int
    order: tuple[str, ...]
    """Speakers in speaking order."""
    models: dict[str, str]
    """Model of each agent that called one (`provider:model`)."""
    replies: list[Reply] = field(default_factory=list)
    rounds: int = 0
    status: str = "failed"
    """`completed` or `failed` (also when it never stopped)."""
    stop_reason: str = NO_STOP

    @property
    def stop_kind(self) -> str:
        """The kind of its stop (`failed` for a failed conversation)."""
        return stop_kind(self.stop_reason) if self.status == "completed" else "failed"

    @property
    def first_speaker(self) -> str:
        """Who spoke first ('' when nobody was in the order)."""
        return self.order[0] if self.order else ""

    def replies_of(self, role: str) -> list[Reply]:
        """The replies of a role's agents, in order."""
        return [reply for reply in self.replies if reply.role == role]


def protocol_records(events: Iterable[Event]) -> list[ConversationRecord]:
    """One record per conversation, in order of start (events superseded by a resume left out)."""
    events = effective_events(events)
    started: dict[str, ConversationStarted] = {}
    replies: dict[str, list[Reply]] = defaultdict(list)
    models: dict[str, dict[str, str]] = defaultdict(dict)
    stops: dict[str, Stopped] = {}
    for event in events:
        cid = event.conversation_id
        if isinstance(event, ConversationStarted):
            started[cid] = event
        elif isinstance(event, MessageAdded) and event.agent:
            replies[cid].append(Reply(event.agent, event.role, event.round, event.position, event.parsed))
        elif isinstance(event, JudgeDecision) and event.agent:
            replies[cid].append(
                Reply(event.agent, event.role, event.round, -1, event.decision, judge=True, about=event.about)
            )
        elif isinstance(event, ModelCall) and event.agent:
            models[cid].setdefault(event.agent, event.model)
        elif isinstance(event, Stopped):
            stops[cid] = event
    records = []
    for cid, start in started.items():
        stop = stops.get(cid)
        records.append(
            ConversationRecord(
                id=cid,
                scenario=start.scenario_id,
                repeat=start.repeat,
                order=tuple(start.order),
                models=dict(models[cid]),
                replies=replies[cid],
                rounds=stop.rounds if stop else max((r.round for r in replies[cid]), default=0),
                status=stop.status if stop else "failed",
                stop_reason=stop.reason if stop else NO_STOP,
            )
        )
    return records


@dataclass
class UsageRow:
    """Model calls of one agent (of one role): tokens, latency, failures, replies asked again or left unparsed."""

    role: str
    agent: str
    model: str = ""
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    failures: int = 0
    """Calls that failed after their retries."""
    invalid_replies: int = 0
    """Replies that did not fit the output schema (each asked again or left unparsed)."""
    unparsed: int = 0
    """Messages and decisions recorded without their fields because the reply could not be parsed (free text is not
    counted)."""
    replies: int = 0
    """Messages and decisions recorded."""

    def as_row(self) -> dict[str, Any]:
        """The row of the usage table (mean latency added)."""
        return {
            "role": self.role,
            "agent": self.agent,
            "model": self.model,
            "calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_s": round(self.latency_s, 6),
            "mean_latency_s": round(self.latency_s / self.calls, 6) if self.calls else None,
            "failures": self.failures,
            "invalid_replies": self.invalid_replies,
            "replies": self.replies,
            "unparsed": self.unparsed,
        }


def usage_rows(events: Iterable[Event]) -> list[UsageRow]:
    """Per role and agent, in order of first appearance: its model calls and how many of its replies stayed unparsed."""
    rows: dict[tuple[str, str], UsageRow] = {}
    for event in effective_events(events):
        if not event.agent or not isinstance(event, ModelCall | MessageAdded | JudgeDecision):
            continue
        row = rows.setdefault((event.role, event.agent), UsageRow(event.role, event.agent))
        if isinstance(event, ModelCall):
            row.model = row.model or event.model
            row.calls += 1
            if not event.cache_hit:
                row.tokens_in += event.tokens_in
                row.tokens_out += event.tokens_out
            row.latency_s += event.latency_s
            row.failures += int(event.error is not None)
            row.invalid_replies += int(event.parse_error is not None)
        else:
            row.replies += 1
            row.unparsed += int(event.parse_error is not None)
    return list(rows.values())
