"""A protocol conformance check usable on any spec (in the spirit of an environment API test).

`check_conformance(spec)` runs the protocol with scripted models that give schema-valid,
deliberately disagreeing answers, then checks the trace alone:

- every speaker speaks once per round and judges decide after all speakers;
- each agent saw exactly what the turn policy, its role's `sees` and `history` allow
  (synchronous speakers nothing of their own round; round-robin speakers the earlier ones);
- the text each model received contains every visible message and no hidden one;
- every event carries run, conversation, scenario, round and agent; sequence numbers run
  1, 2, 3, ... and each event is chained to the previous one by its hash;
- every conversation starts once and stops once, last;
- the trace exported as JSONL parses back into the same events.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.graphs.compiler import compile_protocol
from moot.graphs.plans import stable_int
from moot.graphs.runner import run_async
from moot.graphs.turns import plan_round
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet
from moot.trace.events import (
    ConversationStarted,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Stopped,
    TurnStarted,
    parse_event,
)
from moot.trace.opening import read_run_events
from moot.trace.reading import effective_events
from moot.trace.store import canonical_json, event_hash

CONFORMANCE_RESPONDER = "conformance"
_schemas: dict[str, OutputSchema | None] = {}


class ConformanceError(AssertionError):
    """The protocol or its trace broke a conformance rule."""


def sample_value(prop: dict[str, Any], seed: int, label: str) -> Any:
    """A schema-valid value for one property, varied by `seed`."""
    if "enum" in prop:
        return prop["enum"][seed % len(prop["enum"])]
    kind = prop.get("type")
    if kind == "boolean":
        return seed % 3 == 0
    if kind == "integer":
        low, high = prop.get("minimum", 0), prop.get("maximum", 10)
        return low + seed % (high - low + 1)
    if kind == "number":
        return float(prop.get("minimum", 0))
    if kind == "array":
        items = prop.get("items", {"type": "string"})
        count = max(prop.get("minItems", 1), 1)
        return [sample_value(items, seed + i, label) for i in range(min(count, prop.get("maxItems", count)))]
    return f"{label} says {seed % 997}"[: prop.get("maxLength", 200)]


def _conformance_responder(messages: list[dict[str, str]], context: CallContext) -> str:
    schema = _schemas.get(context.agent)
    seed = stable_int(context.conversation_id, context.round, context.agent)
    if schema is None:
        return f"{context.agent} in round {context.round}: free text {seed}"
    data = {
        name: sample_value(prop, seed, f"{context.agent} r{context.round}")
        for name, prop in schema.json_schema["properties"].items()
    }
    return json.dumps(data)


def scripted_variant(spec: ProtocolSpec) -> ProtocolSpec:
    """The spec with every agent on the conformance responder; without its matrix, if it has one (the base protocol
    is what is checked: a matrix's models would replace the responder)."""
    agents = [agent.model_copy(update={"model": f"scripted:{CONFORMANCE_RESPONDER}"}) for agent in spec.agents]
    return spec.model_copy(update={"agents": agents, "matrix": None})


@dataclass(frozen=True)
class ConformanceReport:
    """What the check ran and looked at."""

    conversations: int
    events: int
    turns: int


def _fail(message: str) -> None:
    raise ConformanceError(message)


def check_trace(spec: ProtocolSpec, events: list[Event]) -> ConformanceReport:
    """Check a run's events against the spec's turn policy and visibility rules."""
    prev_hash = None
    for index, event in enumerate(events, 1):
        if event.seq != index:
            _fail(f"event {index} has sequence number {event.seq}")
        if event.prev_hash != prev_hash:
            _fail(f"event {event.seq} is not chained to the event before it")
        prev_hash = event_hash(event)
        if not (event.run_id and event.conversation_id and event.scenario_id):
            _fail(f"event {event.seq} lacks run, conversation or scenario id")
        if isinstance(event, (TurnStarted, ModelCall, MessageAdded, JudgeDecision)) and (
            event.round < 1 or not event.agent
        ):
            _fail(f"event {event.seq} ({event.event}) lacks its round or agent")
    by_conversation: dict[str, list[Event]] = defaultdict(list)
    for event in effective_events(events):  # a resumed conversation is checked as it stands
        by_conversation[event.conversation_id].append(event)
    turns = 0
    for conversation_id, conv in by_conversation.items():
        turns += _check_conversation(spec, conversation_id, conv)
    return ConformanceReport(conversations=len(by_conversation), events=len(events), turns=turns)


def _check_conversation(spec: ProtocolSpec, conversation_id: str, events: list[Event]) -> int:
    starts = [e for e in events if isinstance(e, ConversationStarted)]
    stops = [e for e in events if isinstance(e, Stopped)]
    if len(starts) != 1 or len(stops) != 1 or events[0] is not starts[0] or events[-1] is not stops[0]:
        _fail(f"{conversation_id}: a conversation must start once, first, and stop once, last")
    if stops[0].status != "completed":
        _fail(f"{conversation_id}: failed: {stops[0].reason}")
    order = tuple(starts[0].order)
    plan = plan_round(spec, order)
    role_of = {agent.name: agent.role for agent in spec.agents}
    speaker_roles = {agent.role for agent in spec.speakers()}
    said: dict[str, tuple[int, str, str]] = {}  # message id -> (round, agent, content)
    for event in events:
        if isinstance(event, (MessageAdded, JudgeDecision)):
            about = f"@{event.about}" if isinstance(event, JudgeDecision) and event.about else ""
            said[f"r{event.round}:{event.agent}{about}"] = (event.round, event.agent or "", event.content)
    rounds = stops[0].rounds
    for round_ in range(1, rounds + 1):
        # Every message names its agent (checked above).
        speakers = [e.agent or "" for e in events if isinstance(e, MessageAdded) and e.round == round_]
        if sorted(speakers) != sorted(plan.order):
            _fail(f"{conversation_id} round {round_}: speakers {speakers}, expected each of {list(plan.order)} once")
        for judge in plan.judges:
            role = spec.roles[role_of[judge]]
            decisions = [e for e in events if isinstance(e, JudgeDecision) and e.round == round_ and e.agent == judge]
            if role.per == "message":
                allowed_roles = set(role.sees) if role.sees is not None else speaker_roles
                expected_about = sorted(f"r{round_}:{name}" for name in speakers if role_of[name] in allowed_roles)
                if sorted(str(e.about) for e in decisions) != expected_about:
                    _fail(
                        f"{conversation_id} round {round_}: judge {judge} decided about "
                        f"{sorted(str(e.about) for e in decisions)}, expected {expected_about}"
                    )
            elif len(decisions) != 1:
                _fail(f"{conversation_id} round {round_}: judge {judge} decided {len(decisions)} times, expected once")
    for turn, calls in _turns_with_calls(events):
        agent = turn.agent or ""
        role = spec.roles[role_of[agent]]
        allowed_roles = set(role.sees) if role.sees is not None else speaker_roles
        earlier = plan.earlier(agent)
        expected = []
        for message_id, (round_, speaker, _) in said.items():
            if role_of[speaker] not in allowed_roles:
                continue
            if (
                round_ == turn.round
                and speaker in earlier
                or round_ < turn.round
                and (role.history == "full" or (role.history == "last_round" and round_ == turn.round - 1))
            ):
                expected.append(message_id)
        if role.kind == "judge" and role.per == "message":
            # A judge of each message is shown exactly one message of the current round that its role may see.
            allowed_one = [m for m in expected if said[m][0] == turn.round]
            if len(turn.visible) != 1 or turn.visible[0] not in allowed_one:
                _fail(
                    f"{conversation_id} round {turn.round} agent {agent}: saw {sorted(turn.visible)}, "
                    f"the protocol allows one of {sorted(allowed_one)}"
                )
        elif sorted(turn.visible) != sorted(expected):
            _fail(
                f"{conversation_id} round {turn.round} agent {agent}: saw {sorted(turn.visible)}, "
                f"the protocol allows {sorted(expected)}"
            )
        if not calls:
            _fail(f"{conversation_id} round {turn.round} agent {agent}: no model call")
        prompt = "\n".join(m.content for m in calls[0].messages)
        # A hidden message whose text is also a visible one's (a speaker repeating itself) cannot be told apart.
        shown = {said[m][2].strip() for m in turn.visible if m in said}
        for message_id, (_, _, content) in said.items():
            marker = content.strip()
            if marker in shown:
                continue
            if marker and marker in prompt and message_id not in turn.visible and said[message_id][1] != agent:
                _fail(
                    f"{conversation_id} round {turn.round} agent {agent}: the prompt shows hidden message {message_id}"
                )
    return sum(1 for e in events if isinstance(e, TurnStarted))


def _turns_with_calls(events: list[Event]) -> list[tuple[TurnStarted, list[ModelCall]]]:
    """Each turn with the model calls made for it (those of its agent before the agent's next turn)."""
    pairs: list[tuple[TurnStarted, list[ModelCall]]] = []
    current: dict[str, tuple[TurnStarted, list[ModelCall]]] = {}
    for event in events:
        if isinstance(event, TurnStarted):
            current[event.agent or ""] = (event, [])
            pairs.append(current[event.agent or ""])
        elif isinstance(event, ModelCall) and event.agent in current:
            current[event.agent][1].append(event)
    return pairs


def check_jsonl_round_trip(events: list[Event]) -> None:
    """Each event exported as a JSONL line parses back into an equal event."""
    for event in events:
        if parse_event(canonical_json(event)) != event:
            _fail(f"event {event.seq} does not round-trip through JSONL")


def check_conformance(
    spec: ProtocolSpec, scenarios: list[Scenario] | None = None, workdir: Path | None = None
) -> ConformanceReport:
    """Run `spec` on scripted models and check the protocol and its trace; raises ConformanceError."""
    scripted = scripted_variant(spec)
    register_responder(CONFORMANCE_RESPONDER, _conformance_responder)
    protocol = compile_protocol(scripted)
    _schemas.clear()
    _schemas.update({agent.name: protocol.schemas[agent.role] for agent in scripted.agents})
    scenarios = scenarios or [
        Scenario(id=f"conformance-{i}", title=f"Conformance case {i}", text=f"Scenario text number {i}.")
        for i in range(3)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = (workdir or Path(tmp)) / "conformance-run"
        result = asyncio.run(
            run_async(protocol, ScenarioSet("(conformance)", "", scenarios), out=out, concurrency=3, cache_path=None)
        )
        events = read_run_events(result.run_dir)[1]
    report = check_trace(scripted, events)
    check_jsonl_round_trip(events)
    return report
