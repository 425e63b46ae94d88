"""A conversation as the page shows it: rounds of messages side by side, decisions, values and every model call.

Each message carries what its agent was shown (`visible`), the calls that produced it (exact prompt
messages, raw reply, tokens, latency, cache hit, retries) and the per-message judgements about it
(the values a judge tagged among them). A turn that failed before producing a message is kept as a
`failed` entry so that its calls can still be inspected. Events a resume superseded are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from moot.report.protocol_view import ProtocolView
from moot.report.summaries import SummaryBuilder
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Resumed,
    RoundEnded,
    Stopped,
    TurnStarted,
)
from moot.trace.reading import effective_events


def call_view(call: ModelCall) -> dict[str, Any]:
    """One model call for the inspector."""
    return {
        "model": call.model,
        "attempt": call.attempt,
        "messages": [m.model_dump() for m in call.messages],
        "raw": call.raw_reply,
        "parsed": call.parsed,
        "parse_error": call.parse_error,
        "finish_reason": call.finish_reason,
        "tokens_in": call.tokens_in,
        "tokens_out": call.tokens_out,
        "latency_s": call.latency_s,
        "cache_hit": call.cache_hit,
        "retries": call.retries,
        "error": call.error,
        "params": call.params,
    }


class _Turn:
    """An agent's turn in progress: what it was shown and the calls made so far."""

    def __init__(self, visible: list[str] | None = None, role: str = "") -> None:
        self.visible = visible or []
        self.role = role
        self.calls: list[dict[str, Any]] = []


def conversation_detail(events: Iterable[Event], protocol: ProtocolView | None = None) -> dict[str, Any] | None:
    """The view of one conversation from its events (in trace order); None when it never started.

    `protocol`: the run's protocol, whose fields give the conversation's outcome and final values.
    """
    events = effective_events(events)
    start = next((e for e in events if isinstance(e, ConversationStarted)), None)
    if start is None:
        return None
    builder = SummaryBuilder(protocol)
    rounds: dict[int, dict[str, Any]] = defaultdict(lambda: {"messages": [], "decisions": [], "outcome": None})
    turns: dict[tuple[int, str], _Turn] = {}
    by_id: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    resumed: list[int] = []
    for event in events:
        if isinstance(event, (ConversationStarted, MessageAdded, JudgeDecision, Stopped, ErrorEvent)):
            builder.add(event.model_dump(mode="json"))
        key = (event.round, event.agent or "")
        if isinstance(event, TurnStarted):
            turns[key] = _Turn(list(event.visible), event.role)
        elif isinstance(event, ModelCall):
            turns.setdefault(key, _Turn(role=event.role)).calls.append(call_view(event))
        elif isinstance(event, MessageAdded):
            turn = turns.pop(key, _Turn())
            message_id = f"r{event.round}:{event.agent}"
            entry = {
                "id": message_id,
                "kind": "message",
                "agent": event.agent,
                "role": event.role,
                "position": event.position,
                "content": event.content,
                "parsed": event.parsed,
                "parse_error": event.parse_error,
                "visible": turn.visible,
                "calls": turn.calls,
                "values": [],
                "judgements": [],
            }
            by_id[message_id] = entry
            rounds[event.round]["messages"].append(entry)
        elif isinstance(event, JudgeDecision):
            turn = turns.pop(key, _Turn())
            entry = {
                "kind": "decision",
                "agent": event.agent,
                "role": event.role,
                "about": event.about,
                "content": event.content,
                "parsed": event.decision,
                "parse_error": event.parse_error,
                "visible": turn.visible,
                "calls": turn.calls,
            }
            target = by_id.get(event.about or "")
            if target is not None:
                target["judgements"].append(entry)
                if event.decision and isinstance(event.decision.get("values"), list):
                    target["values"] = list(event.decision["values"])
            else:
                rounds[event.round]["decisions"].append(entry)
        elif isinstance(event, RoundEnded):
            rounds[event.round]["outcome"] = event.outcome
        elif isinstance(event, ErrorEvent):
            errors.append(f"{event.kind}: {event.message}")
        elif isinstance(event, Resumed):
            resumed.append(event.kept_rounds)
    for (round_, agent), turn in turns.items():
        if turn.calls:  # the turn never produced a message or decision: it failed
            rounds[round_]["messages"].append(
                {
                    "id": f"r{round_}:{agent}",
                    "kind": "failed",
                    "agent": agent,
                    "role": turn.role,
                    "content": "",
                    "parsed": None,
                    "parse_error": None,
                    "visible": turn.visible,
                    "calls": turn.calls,
                    "values": [],
                    "judgements": [],
                    "error": next((c["error"] for c in reversed(turn.calls) if c["error"]), None),
                }
            )
    position = {agent: index for index, agent in enumerate(start.order)}
    for round_view in rounds.values():
        round_view["messages"].sort(key=lambda entry: position.get(entry["agent"], len(position)))
    (summary,) = builder.summaries()
    scenario = start.scenario or {"id": start.scenario_id}
    return {
        **summary.to_json(),
        "protocol": start.protocol,
        "seed": start.seed,
        "scenario_detail": scenario,
        "error_messages": errors,
        "resumed_after": resumed,
        "rounds_detail": [{"round": r, **rounds[r]} for r in sorted(rounds) if r > 0],
    }


def conversation_details(events: Iterable[Event], protocol: ProtocolView | None = None) -> dict[str, dict[str, Any]]:
    """The view of every conversation of a run, by id, in order of first event."""
    grouped: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        grouped[event.conversation_id].append(event)
    details = {cid: conversation_detail(group, protocol) for cid, group in grouped.items()}
    return {cid: detail for cid, detail in details.items() if detail is not None}
