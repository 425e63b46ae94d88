"""Replay: re-execute a run from its run.json with every model reply served from its trace.

The program is built again from run.json by its kind (a protocol, an explorer), with its seed,
its inputs (the scenarios from the very file it hashed, an explorer's topics), and every
agent's model made `replay:RUN_DIR` (no model, network or key; no response cache). The replayed
run gets its own run directory; then every pass the run recorded (a judge) is replayed over it
the same way. Last, each conversation's messages, judge decisions, stop and the program's own
steps (an explorer's arm choices, scores, kept and dropped questions) are compared with the
original's. Any difference means the trace does not follow from its own recorded replies (a
tampered reply, a changed prompt template or parser, ...).

This lives in `graphs` because it drives run sessions; the provider it uses is
`moot.agents.providers.replay`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from moot.errors import UserError
from moot.graphs.program import ProgramCatalog, Reopening, RunResult
from moot.graphs.session import RunSession
from moot.protocols.loader import with_models, with_provider
from moot.protocols.matrix import with_matrix_model
from moot.protocols.spec import ProtocolSpec, ProviderSettings
from moot.scenarios import ScenarioSet, load_scenarios
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    EventBase,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Resumed,
    RoundEnded,
    Stopped,
    TurnStarted,
)
from moot.trace.manifest import RunManifest
from moot.trace.opening import read_run_events
from moot.trace.reading import effective_events

BOOKKEEPING = (ConversationStarted, TurnStarted, ModelCall, RoundEnded, Resumed, ErrorEvent)
"""Events that are not steps of a conversation: how it was run, not what it came to."""


@dataclass(frozen=True)
class Step:
    """What a conversation recorded at one point: a message, a judge decision, or its stop."""

    kind: str
    round: int
    agent: str | None
    content: str
    fields: dict[str, Any] | None
    """Parsed fields of a message, decision of a judge, or status and rounds of a stop."""

    def label(self) -> str:
        """Where the step is, e.g. `round 2 bob message`."""
        who = f" {self.agent}" if self.agent else ""
        return f"round {self.round}{who} {self.kind}"


@dataclass
class ReplayReport:
    """A replay and its comparison with the original run."""

    original: Path
    replay: Path
    conversations: int
    steps: int
    differences: dict[str, list[str]] = field(default_factory=dict)
    """Per conversation id, each difference in one line."""

    @property
    def ok(self) -> bool:
        """True when every conversation replayed identically."""
        return not self.differences

    def lines(self) -> list[str]:
        """One line per difference, or one OK line."""
        if self.ok:
            return [
                f"ok: {self.original}: {self.conversations} conversations, {self.steps} messages, "
                f"decisions and stops replayed identically in {self.replay}"
            ]
        return [f"{conversation}: {line}" for conversation, lines in self.differences.items() for line in lines]


def _canonical(step: Step) -> tuple[Any, ...]:
    return (step.round, step.kind, step.agent or "", step.content, json.dumps(step.fields, sort_keys=True, default=str))


def conversation_steps(events: list[Event]) -> dict[str, list[Step]]:
    """Each conversation's messages, judge decisions, stop and the program's own steps, round by round.

    Within a round they are in a canonical order (by kind, agent and content), not in the trace's:
    turns taken at once (synchronous speakers, a panel's answers) end in any order.
    """
    steps: dict[str, list[Step]] = defaultdict(list)
    for event in effective_events(events):
        if isinstance(event, MessageAdded):
            steps[event.conversation_id].append(Step("message", event.round, event.agent, event.content, event.parsed))
        elif isinstance(event, JudgeDecision):
            about = getattr(event, "about", None)
            kind = f"decision about {about}" if about else "decision"
            steps[event.conversation_id].append(Step(kind, event.round, event.agent, event.content, event.decision))
        elif isinstance(event, Stopped):
            steps[event.conversation_id].append(
                Step("stop", event.round, None, event.reason, {"status": event.status, "rounds": event.rounds})
            )
        elif not isinstance(event, BOOKKEEPING):
            fields = event.model_dump(mode="json", exclude=set(EventBase.model_fields) | {"event"})
            steps[event.conversation_id].append(
                Step(event.event.replace("_", " "), event.round, event.agent, "", fields)
            )
    return {conversation: sorted(found, key=_canonical) for conversation, found in steps.items()}


def _describe(original: Step, replayed: Step) -> str:
    if (original.kind, original.round, original.agent) != (replayed.kind, replayed.round, replayed.agent):
        return f"recorded {original.label()}, replay gave {replayed.label()}"
    if original.fields != replayed.fields:
        keys = sorted(set(original.fields or {}) | set(replayed.fields or {}))
        changed = [k for k in keys if (original.fields or {}).get(k) != (replayed.fields or {}).get(k)]
        shown = ", ".join(
            f"{k} {(original.fields or {}).get(k)!r} -> {(replayed.fields or {}).get(k)!r}" for k in changed[:3]
        )
        return f"{original.label()}: {shown or 'parsed ' + repr(original.fields) + ' -> ' + repr(replayed.fields)}"
    what = "reason" if original.kind == "stop" else "content"
    return f"{original.label()}: {what} {_clip(original.content)!r} -> {_clip(replayed.content)!r}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare_steps(original: dict[str, list[Step]], replayed: dict[str, list[Step]]) -> dict[str, list[str]]:
    """Each difference between two runs' steps, per conversation."""
    differences: dict[str, list[str]] = {}
    for conversation in list(original) + [c for c in replayed if c not in original]:
        if conversation not in replayed:
            differences[conversation] = ["missing from the replay"]
            continue
        if conversation not in original:
            differences[conversation] = ["not in the original run"]
            continue
        ours, theirs = original[conversation], replayed[conversation]
        # Shorter wins: the steps one run has beyond the other are told just below.
        lines = [_describe(a, b) for a, b in zip(ours, theirs, strict=False) if a != b]
        for extra in theirs[len(ours) :]:
            lines.append(f"the replay added {extra.label()}")
        for lost in ours[len(theirs) :]:
            lines.append(f"the replay lacks {lost.label()}")
        if lines:
            differences[conversation] = lines
    return differences


def replay_scenarios(manifest: RunManifest, override: Path | None = None) -> ScenarioSet:
    """The run's scenarios from the file it hashed (or `override`, which must hash the same)."""
    if not manifest.scenario_hash:
        raise UserError(
            f"run {manifest.run_id} took its scenarios from {manifest.scenario_source}, not a file; "
            "a replay needs the scenario file"
        )
    path = override or Path(manifest.scenario_source)
    if not path.is_file():
        raise UserError(
            f"scenario file '{path}' of run {manifest.run_id} is missing; pass the same file with --scenarios"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != manifest.scenario_hash:
        raise UserError(
            f"scenario file '{path}' changed since run {manifest.run_id} (sha256 {digest[:12]}..., "
            f"run.json has {manifest.scenario_hash[:12]}...)"
        )
    scenarios = load_scenarios(path)
    return ScenarioSet(scenarios.source, scenarios.sha256, scenarios.scenarios[: manifest.scenario_count])


def replay_spec(spec: Any, run_dir: Path) -> Any:
    """A spec of any kind with every agent's model replaced by the run's recorded replies.

    Retries are off: a recorded failure must fail at once, as it finally did in the run.
    """
    model = f"replay:{run_dir}"
    if isinstance(spec, ProtocolSpec):
        spec = with_matrix_model(spec, model)
    return with_provider(with_models(spec, [(None, model)]), "replay", ProviderSettings(max_retries=0))


def default_replay_dir(run_dir: Path) -> Path:
    """`RUN_DIR-replay`, numbered when that exists."""
    candidate = run_dir.with_name(f"{run_dir.name}-replay")
    number = 2
    while candidate.exists():
        candidate = run_dir.with_name(f"{run_dir.name}-replay-{number}")
        number += 1
    return candidate


def replay_run(
    run_dir: Path | str, catalog: ProgramCatalog, out: Path | str | None = None, scenarios: Path | str | None = None
) -> ReplayReport:
    """Replay a run (and the passes over it) into a new run directory and compare it with the original, conversation
    by conversation. `catalog` builds the run's program and passes again, by kind.

    The original is read first, its trace checked to be its run.json's (`moot.trace.opening.open_run`).
    """
    run_dir, out = Path(run_dir), Path(out) if out else None
    manifest, recorded = read_run_events(run_dir)
    source = run_dir.resolve()
    reopening = Reopening(scenario_file=Path(scenarios) if scenarios else None, replay_of=source)
    program, inputs = catalog.rebuild(run_dir, manifest, reopening)
    session = RunSession.new(
        program,
        inputs,
        out=out or default_replay_dir(run_dir),
        seed=manifest.seed,
        concurrency=manifest.concurrency,
        cache_path=None,
    )
    result: RunResult = asyncio.run(session.run())
    for record in manifest.passes:
        build = partial(catalog.rebuild_pass, record, replay_of=source)
        asyncio.run(
            RunSession.append(
                result.run_dir, build, command=f"replay {record.kind}", concurrency=record.concurrency
            ).run()
        )
    original = conversation_steps(recorded)
    replayed = conversation_steps(read_run_events(result.run_dir)[1])
    return ReplayReport(
        original=run_dir,
        replay=result.run_dir,
        conversations=len(original),
        steps=sum(len(steps) for steps in original.values()),
        differences=compare_steps(original, replayed),
    )
