"""Typed trace events: a discriminated union on the `event` field.

Every event carries the run, conversation, scenario, round and agent it belongs to and a
monotonic sequence number assigned by the trace store, so that a trace can be read back,
filtered and audited without knowing how the run was executed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

EVENT_SCHEMA_VERSION = 1


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class EventBase(BaseModel):
    """Fields shared by every event."""

    model_config = ConfigDict(extra="forbid")

    version: int = EVENT_SCHEMA_VERSION
    """Schema version of the event."""
    seq: int = 0
    """Monotonic sequence number within the run, assigned by the trace store (1, 2, ...)."""
    prev_hash: str | None = None
    """SHA-256 of the previous event of the run (canonical JSON), assigned by the store."""
    time: datetime = Field(default_factory=utc_now)
    """When the event happened (UTC)."""
    run_id: str
    """The run this event belongs to."""
    conversation_id: str
    """The conversation this event belongs to."""
    scenario_id: str
    """The scenario the conversation is about."""
    round: int = 0
    """Round number, from 1; 0 for events before the first round."""
    agent: str | None = None
    """The agent the event is about; None for conversation-level events."""


class ChatRecord(BaseModel):
    """One message exactly as it was sent to a model."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    """Chat role of the message."""
    content: str
    """Text of the message."""


class ConversationStarted(EventBase):
    """A conversation began."""

    event: Literal["conversation_started"] = "conversation_started"
    protocol: str
    """Name of the protocol spec."""
    order: list[str]
    """Agent names in speaking order for this conversation."""
    repeat: int
    """Repeat index, from 0."""
    seed: int
    """Seed of this conversation (agents derive theirs from it unless the spec fixes one)."""
    scenario: dict[str, Any] | None = None
    """The scenario as the agents were given it (id, title, text, metadata), so the run directory is self-contained."""


class TurnStarted(EventBase):
    """An agent was given its view of the conversation and asked to speak or judge."""

    event: Literal["turn_started"] = "turn_started"
    role: str
    """The agent's role."""
    position: int
    """Index of the agent in this conversation's speaking order, from 0."""
    visible: list[str]
    """Ids of the transcript messages the agent was shown (`r<round>:<agent>`), in order."""


class ModelCall(EventBase):
    """One request to a model, with what it saw and what it answered."""

    event: Literal["model_call"] = "model_call"
    role: str
    """The agent's role."""
    model: str
    """Model name as `provider:model`."""
    messages: list[ChatRecord]
    """The exact messages the model received."""
    params: dict[str, Any]
    """Sampling parameters (temperature, max_tokens, seed, ...)."""
    output_schema: dict[str, Any] | None = None
    """JSON Schema the reply was constrained or validated against, if any."""
    attempt: int = 0
    """0 for the first ask, 1.. for re-asks after an invalid reply."""
    raw_reply: str | None = None
    """The model's reply text, None when the call failed."""
    finish_reason: str | None = None
    """Why generation stopped, as the provider reported it."""
    parsed: dict[str, Any] | None = None
    """The reply parsed and validated against the output schema."""
    parse_error: str | None = None
    """Why the reply could not be parsed, when it could not."""
    tokens_in: int = 0
    """Prompt tokens."""
    tokens_out: int = 0
    """Completion tokens."""
    latency_s: float = 0.0
    """Wall time of the call in seconds, retries and waits included."""
    cache_hit: bool = False
    """True when the reply came from the response cache."""
    retries: int = 0
    """How many times the request was retried after a transient failure."""
    error: str | None = None
    """The final error when the call failed after its retries."""


class MessageAdded(EventBase):
    """A speaker's message entered the transcript."""

    event: Literal["message_added"] = "message_added"
    role: str
    """The agent's role."""
    position: int
    """Index of the agent in the speaking order, from 0."""
    content: str
    """The message text as the agent produced it."""
    parsed: dict[str, Any] | None = None
    """Structured fields of the message, None when unparsed."""
    parse_error: str | None = None
    """Why the message could not be parsed, when it could not."""


class JudgeDecision(EventBase):
    """A judge's decision about the round just played."""

    event: Literal["judge_decision"] = "judge_decision"
    role: str
    """The judge's role."""
    about: str | None = None
    """Id of the message judged (`r<round>:<agent>`) for a judge of each message; None for a judge of the round."""
    decision: dict[str, Any] | None = None
    """The parsed decision, None when unparsed."""
    content: str = ""
    """The judge's reply text."""
    parse_error: str | None = None
    """Why the decision could not be parsed, when it could not."""


class RoundEnded(EventBase):
    """A round finished; the stop rule was evaluated on it."""

    event: Literal["round_ended"] = "round_ended"
    speakers: list[str]
    """Agents that spoke this round, in order."""
    outcome: dict[str, Any] = Field(default_factory=dict)
    """What the stop rule looked at (e.g. each agent's parsed verdict)."""


class Stopped(EventBase):
    """A conversation ended."""

    event: Literal["stopped"] = "stopped"
    status: Literal["completed", "failed"]
    """`completed` when the protocol ran to a stop, `failed` when an error ended it."""
    reason: str
    """Why it stopped, e.g. `consensus on verdict`, `max rounds (4)`, or the error."""
    rounds: int
    """Number of rounds played."""


class ErrorEvent(EventBase):
    """Something failed during the run; the run went on."""

    event: Literal["error"] = "error"
    kind: str
    """Category: `model_error`, `render_error`, `internal`."""
    message: str
    """What failed."""


Event = Annotated[
    ConversationStarted
    | TurnStarted
    | ModelCall
    | MessageAdded
    | JudgeDecision
    | RoundEnded
    | Stopped
    | ErrorEvent,
    Field(discriminator="event"),
]
"""Any trace event."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse one event from JSON text or a dict."""
    if isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    return EVENT_ADAPTER.validate_json(data)
