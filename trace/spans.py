"""A run's trace events as spans: a span per run, conversation, round, turn and model call.

`SpanBuilder` takes the events of one process in the order they were stored and hands back each
span as it closes (a model call at once; a turn at its message or decision; a round at its end;
a conversation at its stop). Its spans are plain data (`SpanRecord`); `moot.trace.otel` turns
them into OpenTelemetry spans, for the live path (`moot run --otel`) and the export
(`moot export --format otlp`) alike, so both show the same spans.

Span ids are derived from the run id and moot's own ids (a conversation's id, a round's number,
the seq of the event that opened a turn or recorded a call), so a span's parent is known without
asking the process that sent it: the spans of a run sent from several worker processes, or from a
resumed run, join one tree. Model calls follow the OpenTelemetry GenAI semantic conventions
(`gen_ai.*` attributes, prompt and reply as a `gen_ai.client.inference.operation.details` event);
every span carries moot's ids as `moot.*` attributes. The events come from the trace, so their text
is redacted as the trace's is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from moot.trace.events import (
    ConversationStarted,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Resumed,
    RoundEnded,
    Stopped,
    TurnStarted,
)

AttributeValue = str | bool | int | float | list[str]
"""A span attribute's value, as OpenTelemetry takes it."""

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
"""The GenAI event that holds a model call's input and output messages."""

Kind = Literal["internal", "client"]


def span_id(run_id: str, key: str) -> int:
    """The 64-bit span id of the span `key` of run `run_id` (never 0, which OpenTelemetry reads as no span)."""
    digest = hashlib.sha256(f"{run_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") or 1


def trace_id(run_id: str) -> int:
    """The 128-bit trace id of a run: every span of the run is in this one trace."""
    digest = hashlib.sha256(f"moot-trace\x00{run_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def nanoseconds(time: datetime) -> int:
    """A timestamp (timezone-aware) as OpenTelemetry's nanoseconds since the epoch, exactly."""
    return (time - EPOCH) // timedelta(microseconds=1) * 1000


@dataclass(frozen=True)
class SpanEvent:
    """A timed event inside a span (the messages of a model call)."""

    name: str
    time_ns: int
    attributes: dict[str, AttributeValue]


@dataclass(frozen=True)
class SpanRecord:
    """One finished span, as plain data: its key and its parent's (span ids are derived from them), what it is and
    when it ran."""

    run_id: str
    key: str
    """What the span stands for: `run`, `conversation/ID`, `round/ID/N`, `turn/SEQ` or `call/SEQ`."""
    parent_key: str | None
    """The parent span's key; None for the run's span, the root."""
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    events: tuple[SpanEvent, ...] = ()
    kind: Kind = "internal"
    error: str | None = None
    """Why the operation failed (the span's status is then an error); None when it did not."""

    @property
    def span_id(self) -> int:
        """This span's id."""
        return span_id(self.run_id, self.key)

    @property
    def parent_span_id(self) -> int | None:
        """The parent span's id; None for the root."""
        return None if self.parent_key is None else span_id(self.run_id, self.parent_key)

    @property
    def trace_id(self) -> int:
        """The run's trace id."""
        return trace_id(self.run_id)


def run_span(
    run_id: str, protocol: str, started: datetime, ended: datetime, status: str, conversations: int | None = None
) -> SpanRecord:
    """The root span of a run: from its start to its end (or to now, for a run sent live)."""
    attributes: dict[str, AttributeValue] = {"moot.run_id": run_id, "moot.protocol": protocol, "moot.status": status}
    if conversations is not None:
        attributes["moot.conversations"] = conversations
    return SpanRecord(
        run_id=run_id,
        key="run",
        parent_key=None,
        name=f"moot run {protocol}",
        start_ns=nanoseconds(started),
        end_ns=nanoseconds(ended),
        attributes=attributes,
        error=None if status in ("completed", "running") else status,
    )


def provider_and_model(model: str) -> tuple[str, str]:
    """`provider:model` split in two (a model with no provider is its own provider)."""
    provider, _, name = model.partition(":")
    return (provider, name) if name else (model, model)


@dataclass
class _Open:
    """A span begun and not yet ended."""

    key: str
    parent_key: str | None
    name: str
    start: datetime
    attributes: dict[str, AttributeValue]
    last: datetime
    """When the last event inside it happened: where it ends if it never closes."""


def _ids(event: Event) -> dict[str, AttributeValue]:
    """moot's ids of the conversation an event belongs to, as attributes."""
    return {
        "moot.run_id": event.run_id,
        "moot.conversation_id": event.conversation_id,
        "moot.scenario_id": event.scenario_id,
        "gen_ai.conversation.id": event.conversation_id,
    }


def _text_message(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def call_span(call: ModelCall, parent_key: str | None) -> SpanRecord:
    """The span of one model call, with the GenAI attributes and its messages as a details event."""
    provider, model = provider_and_model(call.model)
    attributes: dict[str, AttributeValue] = {
        **_ids(call),
        "moot.round": call.round,
        "moot.agent": call.agent or "",
        "moot.role": call.role,
        "moot.seq": call.seq,
        "moot.attempt": call.attempt,
        "moot.cache_hit": call.cache_hit,
        "moot.retries": call.retries,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": call.tokens_in,
        "gen_ai.usage.output_tokens": call.tokens_out,
    }
    if call.agent:
        attributes["gen_ai.agent.name"] = call.agent
    for param, name in (
        ("temperature", "gen_ai.request.temperature"),
        ("max_tokens", "gen_ai.request.max_tokens"),
        ("seed", "gen_ai.request.seed"),
        ("top_p", "gen_ai.request.top_p"),
    ):
        value = call.params.get(param)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[name] = value
    if call.tokens_cached_in is not None:
        attributes["gen_ai.usage.cache_read.input_tokens"] = call.tokens_cached_in
    if call.finish_reason is not None:
        attributes["gen_ai.response.finish_reasons"] = [call.finish_reason]
    if call.parse_error is not None:
        attributes["moot.parse_error"] = call.parse_error
    if call.error is not None:
        attributes["error.type"] = "model_error"
    details: dict[str, AttributeValue] = {
        "gen_ai.input.messages": json.dumps([_text_message(m.role, m.content) for m in call.messages]),
    }
    if call.raw_reply is not None:
        output = {**_text_message("assistant", call.raw_reply), "finish_reason": call.finish_reason or ""}
        details["gen_ai.output.messages"] = json.dumps([output])
    end = nanoseconds(call.time)
    return SpanRecord(
        run_id=call.run_id,
        key=f"call/{call.seq}",
        parent_key=parent_key,
        name=f"chat {model}",
        start_ns=end - int(call.latency_s * 1e9),
        end_ns=end,
        attributes=attributes,
        events=(SpanEvent(DETAILS_EVENT, end, details),),
        kind="client",
        error=call.error,
    )


@dataclass
class _Conversation:
    """What is open in one conversation."""

    span: _Open | None = None
    rounds: dict[int, _Open] = field(default_factory=dict)
    ended_rounds: set[int] = field(default_factory=set)
    turns: dict[str, _Open] = field(default_factory=dict)
    """The turn each agent is taking (an agent takes one turn at a time), by agent."""


class SpanBuilder:
    """Turns a run's events, in stored order, into spans as they close (see the module's docstring)."""

    def __init__(self) -> None:
        self._conversations: dict[str, _Conversation] = {}

    def feed(self, event: Event) -> list[SpanRecord]:
        """Take the next event; return the spans it ends (none, for most events)."""
        state = self._conversations.setdefault(event.conversation_id, _Conversation())
        for open_span in self._open_spans(state):
            open_span.last = max(open_span.last, event.time)
        if isinstance(event, ConversationStarted):
            state.span = self._begin_conversation(event, event.protocol)
            return []
        if isinstance(event, Resumed):
            if state.span is None:
                state.span = self._begin_conversation(event, None)
            return []
        if isinstance(event, Stopped):
            return self._stop(event, state)
        if event.round >= 1 and event.round not in state.rounds and event.round not in state.ended_rounds:
            state.rounds[event.round] = _Open(
                key=f"round/{event.conversation_id}/{event.round}",
                parent_key=self._conversation_key(state),
                name=f"round {event.round}",
                start=event.time,
                attributes={**_ids(event), "moot.round": event.round, "moot.seq": event.seq},
                last=event.time,
            )
        if isinstance(event, TurnStarted):
            agent = event.agent or ""
            state.turns[agent] = _Open(
                key=f"turn/{event.seq}",
                parent_key=self._round_key(event, state),
                name=f"invoke_agent {agent}",
                start=event.time,
                attributes={
                    **_ids(event),
                    "moot.round": event.round,
                    "moot.agent": agent,
                    "moot.role": event.role,
                    "moot.position": event.position,
                    "moot.seq": event.seq,
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": agent,
                },
                last=event.time,
            )
            return []
        if isinstance(event, ModelCall):
            turn = state.turns.get(event.agent or "")
            return [call_span(event, turn.key if turn else self._round_key(event, state))]
        if isinstance(event, (MessageAdded, JudgeDecision)):
            turn = state.turns.pop(event.agent or "", None)
            if turn is None:
                return []
            turn.attributes["moot.end_seq"] = event.seq
            if event.parse_error is not None:
                turn.attributes["moot.parse_error"] = event.parse_error
            return [self._ended(event.run_id, turn, event.time)]
        if isinstance(event, RoundEnded):
            state.ended_rounds.add(event.round)
            ended_round = state.rounds.pop(event.round, None)
            if ended_round is None:
                return []
            ended_round.attributes["moot.end_seq"] = event.seq
            ended_round.attributes["moot.speakers"] = list(event.speakers)
            return [self._ended(event.run_id, ended_round, event.time)]
        return []

    def finish(self, run_id: str) -> list[SpanRecord]:
        """End every span still open (a run interrupted, or sent live until now) at its last event, marked
        `moot.unfinished`; the builder is then empty."""
        ended = []
        for state in self._conversations.values():
            for span in self._open_spans(state):
                span.attributes["moot.unfinished"] = True
                ended.append(self._ended(run_id, span, span.last))
        self._conversations.clear()
        return ended

    # --- the parts of `feed` -----------------------------------------------------------------------

    @staticmethod
    def _open_spans(state: _Conversation) -> list[_Open]:
        """A conversation's open spans, innermost first."""
        return [*state.turns.values(), *state.rounds.values(), *([state.span] if state.span else [])]

    @staticmethod
    def _begin_conversation(event: Event, protocol: str | None) -> _Open:
        attributes = {**_ids(event), "moot.seq": event.seq}
        if protocol is not None:
            attributes["moot.protocol"] = protocol
        return _Open(
            key=f"conversation/{event.conversation_id}",
            parent_key="run",
            name=f"conversation {event.conversation_id}",
            start=event.time,
            attributes=attributes,
            last=event.time,
        )

    @staticmethod
    def _conversation_key(state: _Conversation) -> str:
        return state.span.key if state.span is not None else "run"

    def _round_key(self, event: Event, state: _Conversation) -> str:
        current = state.rounds.get(event.round)
        return current.key if current is not None else self._conversation_key(state)

    def _stop(self, event: Stopped, state: _Conversation) -> list[SpanRecord]:
        """A conversation's stop ends it, and whatever of it is still open (a failed turn or round)."""
        ended = []
        for span in [*state.turns.values(), *state.rounds.values()]:
            span.attributes["moot.unfinished"] = True
            ended.append(self._ended(event.run_id, span, event.time))
        state.turns.clear()
        state.rounds.clear()
        if state.span is not None:
            span = state.span
            span.attributes.update(
                {
                    "moot.end_seq": event.seq,
                    "moot.status": event.status,
                    "moot.stop_reason": event.reason,
                    "moot.rounds": event.rounds,
                }
            )
            ended.append(
                self._ended(event.run_id, span, event.time, error=event.reason if event.status == "failed" else None)
            )
            state.span = None
        return ended

    @staticmethod
    def _ended(run_id: str, span: _Open, end: datetime, error: str | None = None) -> SpanRecord:
        return SpanRecord(
            run_id=run_id,
            key=span.key,
            parent_key=span.parent_key,
            name=span.name,
            start_ns=nanoseconds(span.start),
            end_ns=nanoseconds(end),
            attributes=dict(span.attributes),
            error=error,
        )


def spans_of(events: list[Event]) -> list[SpanRecord]:
    """Every span of a run's events but the run's own (see `run_span`), in the order they close."""
    builder = SpanBuilder()
    spans = [span for event in events for span in builder.feed(event)]
    if events:
        spans += builder.finish(events[0].run_id)
    return spans
