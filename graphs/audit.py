"""What each agent was shown, audited from the spec alone; and `verify_run`, the whole of `moot verify`.

`audit_visibility` finds, in every turn and model call of a run:

- `leak`: an agent was shown a message its protocol hides from it, or its prompt quotes one;
- `withheld`: an agent was not shown a message its protocol shows it.

What an agent may see is derived here from the spec, not by calling `moot.graphs.visibility`,
so that a bug there cannot pass its own audit. `verify_run` adds these findings to those of the
trace itself (`moot.trace.verify.verify_trace`: chain, manifest, triggers, anchors).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from moot.errors import SpecError
from moot.graphs.state import TranscriptMessage
from moot.graphs.turns import RoundPlan, plan_round
from moot.protocols.matrix import expand_matrix
from moot.protocols.spec import ProtocolSpec
from moot.trace.events import ConversationStarted, Event, JudgeDecision, MessageAdded, ModelCall, TurnStarted
from moot.trace.reading import effective_events
from moot.trace.verify import Problem, VerifyReport, verify_trace


def verify_run(run_dir: Path | str, expect: str | None = None, ledger: Path | str | None = None) -> VerifyReport:
    """Verify a run directory: its trace (`verify_trace`) and what each agent was shown, from run.json's spec.

    A run.json whose spec does not validate is a `manifest` finding of `verify_trace`; the audit is then skipped.
    """
    checked = verify_trace(run_dir, expect, ledger)
    try:
        spec = ProtocolSpec.model_validate(checked.manifest.spec)
    except ValidationError:
        return checked.report
    checked.report.problems += audit_visibility(spec, checked.events)
    return checked.report


MIN_MARKER = 16
"""Shortest text taken as evidence that a hidden message reached a prompt (shorter text recurs by chance)."""


@dataclass(frozen=True)
class _Said:
    """A transcript message as the audit knows it."""

    id: str
    seq: int
    round: int
    agent: str
    role: str
    judge: bool
    markers: tuple[str, ...]
    """Texts of the message as a prompt may show it: the reply, its fields, its explanation."""
    evidence: tuple[str, ...]
    """The markers that would show a leak.

    Those that are not the scenario's text or a line of the author's own prompt.
    """


def _markers(content: str, parsed: dict[str, Any] | None) -> tuple[str, ...]:
    texts = {content.strip()}
    if parsed:
        texts.add(
            TranscriptMessage(
                round=1, agent="x", role="x", kind="speaker", position=0, content=content, parsed=parsed
            ).summary
        )
        if isinstance(parsed.get("explanation"), str):
            texts.add(parsed["explanation"].strip())
    return tuple(sorted((t for t in texts if len(t) >= MIN_MARKER), key=len, reverse=True))


def allowed_ids(spec: ProtocolSpec, plan: RoundPlan, said: list[_Said], agent: str, round_: int) -> list[str]:
    """Ids of the messages said so far that `agent` may be shown in `round_`, from the spec alone.

    Earlier rounds as the role's `history` allows; of this round only the agents before it in
    the round graph (synchronous: none; round robin: the earlier speakers; edges: ancestors);
    only messages of the roles it `sees` (every speaker role by default).
    """
    role_of = {a.name: a.role for a in spec.agents}
    role = spec.roles[role_of[agent]]
    allowed_roles = set(role.sees) if role.sees is not None else {a.role for a in spec.speakers()}
    earlier = plan.earlier(agent)
    out = []
    for message in said:
        if message.role not in allowed_roles:
            continue
        this_round = message.round == round_ and message.agent in earlier
        earlier_round = message.round < round_ and (
            role.history == "full" or (role.history == "last_round" and message.round == round_ - 1)
        )
        if this_round or earlier_round:
            out.append(message.id)
    return out


def audit_visibility(spec: ProtocolSpec, events: list[Event]) -> list[Problem]:
    """Leaks and withheld messages in every turn and model call of a run, per conversation (with a matrix, each
    conversation under its arm's spec).

    Events superseded by a resume are left out: the turns that replaced them are audited.
    """
    by_conversation: dict[str, list[Event]] = defaultdict(list)
    for event in effective_events(events):
        by_conversation[event.conversation_id].append(event)
    problems: list[Problem] = []
    arms = _arm_specs(spec)
    for conversation_id, conv in by_conversation.items():
        start = next((e for e in conv if isinstance(e, ConversationStarted)), None)
        arm = frozenset((start.arm or {}).items()) if start is not None else frozenset()
        problems += _audit_conversation(arms.get(arm, spec), conversation_id, conv)
    return problems


def _arm_specs(spec: ProtocolSpec) -> dict[frozenset[tuple[str, str]], ProtocolSpec]:
    """The spec of each arm of the spec's matrix, by its levels (a conversation of an arm is audited by its arm's
    spec: a turn policy or a `sees` may differ between arms); none without a matrix or with one that does not
    expand (the run's own spec is then the one used)."""
    try:
        return {frozenset(arm.levels): arm.spec for arm in expand_matrix(spec)}
    except SpecError:
        return {}


def _audit_conversation(spec: ProtocolSpec, conversation_id: str, events: list[Event]) -> list[Problem]:
    start = next((e for e in events if isinstance(e, ConversationStarted)), None)
    if start is None:
        return []
    names = {a.name for a in spec.agents}
    plan = plan_round(spec, tuple(start.order))
    role_of = {a.name: a.role for a in spec.agents}
    # A message that only repeats the scenario, or a line of its author's own prompt (small models
    # copy the title, or the actions they were shown), proves nothing about a leak.
    shared = "\n".join(str((start.scenario or {}).get(key) or "") for key in ("title", "text"))
    own_prompt: dict[str, str] = {}
    said: list[_Said] = []
    for event in events:
        if isinstance(event, ModelCall) and event.agent in names:
            own_prompt[event.agent] = "\n".join(m.content for m in event.messages)
        if isinstance(event, (MessageAdded, JudgeDecision)) and event.agent in names:
            about = getattr(event, "about", None)
            parsed = event.parsed if isinstance(event, MessageAdded) else event.decision
            markers = tuple(m for m in _markers(event.content, parsed) if m not in shared)
            evidence = tuple(m for m in markers if m not in own_prompt.get(event.agent, ""))
            message_id = f"r{event.round}:{event.agent}" + (f"@{about}" if about else "")
            said.append(
                _Said(
                    message_id,
                    event.seq,
                    event.round,
                    event.agent,
                    event.role,
                    isinstance(event, JudgeDecision),
                    markers,
                    evidence,
                )
            )
    problems: list[Problem] = []
    turn: dict[str, tuple[TurnStarted, set[str]]] = {}
    for event in events:
        where = f"conversation {conversation_id} round {event.round} agent {event.agent}"
        if isinstance(event, TurnStarted) and event.agent in names:
            before = [m for m in said if m.seq < event.seq]
            allowed = allowed_ids(spec, plan, before, event.agent, event.round)
            role = spec.roles[role_of[event.agent]]
            if getattr(role, "per", "round") == "message":
                # A judge of each message is shown one message of this round at a time.
                this_round = {m.id for m in before if m.id in allowed and m.round == event.round and not m.judge}
                allowed = [i for i in event.visible if i in this_round][:1]
            extra = sorted(set(event.visible) - set(allowed))
            missing = sorted(set(allowed) - set(event.visible))
            if extra:
                problems.append(
                    Problem(
                        "leak", event.seq, f"{where} was shown {', '.join(extra)}, which the protocol hides from it"
                    )
                )
            if missing:
                problems.append(
                    Problem(
                        "withheld",
                        event.seq,
                        f"{where} was not shown {', '.join(missing)}, which the protocol shows it",
                    )
                )
            turn[event.agent] = (event, set(allowed))
        elif isinstance(event, ModelCall) and event.agent in turn:
            began, shown = turn[event.agent]
            prompt = "\n".join(m.content for m in event.messages)
            for message in said:
                if message.agent == event.agent or message.id in shown:
                    prompt = _blank(prompt, message.markers)
            for message in said:
                # The prompt was built when the turn began: what was said later (by a synchronous
                # peer whose call ended first) cannot be in it, whatever text the two share.
                if message.agent == event.agent or message.id in shown or message.seq > began.seq:
                    continue
                if any(marker in prompt for marker in message.evidence):
                    problems.append(
                        Problem(
                            "leak",
                            event.seq,
                            f"{where}: the prompt of model call attempt {event.attempt} "
                            f"shows hidden message {message.id}",
                        )
                    )
                    break
    return problems


def _blank(text: str, markers: tuple[str, ...]) -> str:
    for marker in markers:
        text = text.replace(marker, "\0")
    return text
