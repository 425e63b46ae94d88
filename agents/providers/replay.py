"""The `replay` provider: every reply served from the trace of an earlier run.

`replay:RUN_DIR` answers each call with the raw reply (and token counts) recorded for the same
conversation, round, agent and attempt in RUN_DIR's trace: the call made with the very same
messages when there is one (so that turns of one agent made at once, whose calls the trace holds
in the order they ended, each get their own), else the call of the same turn. A call that failed
there fails here with the same error. No model, network or key is involved. Calls superseded by a
resume are left out. Conversation ids are deterministic, so a re-run of the same spec, scenarios
and seed asks for exactly the recorded calls; a call the trace does not hold fails with
`NoRecordedReply`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.requests import ModelRequest, ModelResult
from moot.protocols.spec import AgentSpec, ProviderSettings
from moot.trace.events import Event, ModelCall, TurnStarted

CallKey = tuple[str, int, str, int, int]
"""(conversation id, round, agent, turn of the agent in that round, attempt)."""
RequestKey = tuple[str, int, str, int, str]
"""(conversation id, round, agent, attempt, digest of the messages sent)."""


def messages_digest(messages: Sequence[Mapping[str, str]]) -> str:
    """A digest of the messages of a request (their roles and texts, in order)."""
    text = json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordedReply:
    """What one recorded model call answered."""

    raw_reply: str | None
    finish_reason: str | None
    tokens_in: int
    tokens_out: int
    error: str | None
    tokens_cached_in: int | None = None
    usage: dict[str, Any] | None = None


def recorded_reply(call: ModelCall) -> RecordedReply:
    """What a recorded model call answered."""
    return RecordedReply(
        call.raw_reply,
        call.finish_reason,
        call.tokens_in,
        call.tokens_out,
        call.error,
        call.tokens_cached_in,
        call.usage,
    )


class NoRecordedReply(Exception):
    """The replayed run asked for a call the original trace does not hold."""


def replies_by_request(events: list[Event]) -> dict[RequestKey, list[RecordedReply]]:
    """Every model call of a trace by (conversation, round, agent, attempt, messages), in trace order."""
    replies: dict[RequestKey, list[RecordedReply]] = defaultdict(list)
    for event in events:
        if isinstance(event, ModelCall):
            key = (
                event.conversation_id,
                event.round,
                event.agent or "",
                event.attempt,
                messages_digest([m.model_dump() for m in event.messages]),
            )
            replies[key].append(recorded_reply(event))
    return replies


def recorded_replies(events: list[Event]) -> dict[CallKey, RecordedReply]:
    """Every model call of a trace by (conversation, round, agent, turn, attempt).

    The turn counts the agent's `turn_started` events of that round (a judge of each message
    has several), so that each call is tied to the turn that made it.
    """
    turns: dict[tuple[str, int, str], int] = {}
    replies: dict[CallKey, RecordedReply] = {}
    for event in events:
        if isinstance(event, TurnStarted):
            key = (event.conversation_id, event.round, event.agent or "")
            turns[key] = turns.get(key, -1) + 1
        elif isinstance(event, ModelCall):
            key = (event.conversation_id, event.round, event.agent or "")
            replies[(*key, turns.get(key, 0), event.attempt)] = recorded_reply(event)
    return replies


def recorded_failure(message: str) -> Exception:
    """An exception the gateway's classifier reports with exactly `message` (as it was recorded)."""
    status = None
    match = re.fullmatch(r"HTTP (\d+): (.*)", message)
    if match:
        status, message = int(match.group(1)), match.group(2)
    name, _, detail = message.partition(": ")
    failure = type(name, (Exception,), {})(detail) if detail else type(name, (Exception,), {})()
    if status is not None:
        failure.status_code = status
    return failure


class ReplayClient:
    """A `ModelClient` answering from recorded replies."""

    def __init__(
        self, replies: dict[CallKey, RecordedReply], by_request: dict[RequestKey, list[RecordedReply]] | None = None
    ) -> None:
        self._replies = replies
        self._by_request = {key: list(found) for key, found in (by_request or {}).items()}
        self._turns: dict[tuple[str, int, str], int] = {}

    async def complete(self, request: ModelRequest) -> ModelResult:
        """The reply recorded for the caller's conversation, round, agent, turn and attempt, or its recorded failure."""
        caller = request.caller
        where = (caller.conversation_id, caller.round, caller.agent)
        if caller.attempt == 0:
            self._turns[where] = self._turns.get(where, -1) + 1
        turn = self._turns.get(where, 0)
        same_request = self._by_request.get((*where, caller.attempt, messages_digest(request.messages)))
        recorded = same_request.pop(0) if same_request else self._replies.get((*where, turn, caller.attempt))
        if recorded is None:
            raise NoRecordedReply(
                f"no recorded reply for conversation {caller.conversation_id} round {caller.round} agent {caller.agent}"
                f" turn {turn} attempt {caller.attempt}"
            )
        if recorded.error is not None or recorded.raw_reply is None:
            raise recorded_failure(recorded.error or "no reply")
        return ModelResult(
            text=recorded.raw_reply,
            finish_reason=recorded.finish_reason,
            tokens_in=recorded.tokens_in,
            tokens_out=recorded.tokens_out,
            tokens_cached_in=recorded.tokens_cached_in,
            usage=recorded.usage,
        )

    async def close(self) -> None:
        """Nothing to release."""


def replay_client(run_dir: Path) -> ReplayClient:
    """A client replaying the model calls recorded in `run_dir`'s trace (checked to be its run.json's, read
    without writing)."""
    from moot.trace.opening import read_run_events
    from moot.trace.reading import effective_events

    events = effective_events(read_run_events(run_dir)[1])
    return ReplayClient(recorded_replies(events), replies_by_request(events))


def _check_model(ref: ModelRef) -> None:
    from moot.trace.reading import check_run_dir

    check_run_dir(Path(ref.model))


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ReplayClient:
    return replay_client(Path(ref.model))


PROVIDER = ProviderRecord(
    name="replay",
    create_client=_create_client,
    structured="grammar",
    check_model=_check_model,
    cacheable=False,
    listed=False,
)
"""`replay:RUN_DIR`, made by `moot replay`: every reply from the run's trace, in-process."""
