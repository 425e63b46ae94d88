"""Replay: re-execute a run from its run.json with every model reply served from its trace.

The spec and seed come from run.json, the scenarios from the very file it hashed, and every
agent's model becomes `replay:RUN_DIR` (no model, network or key; no response cache). The
replayed run gets its own run directory; then each conversation's messages, judge decisions
and stop are compared with the original's. Any difference means the trace does not follow
from its own recorded replies (a tampered reply, a changed prompt template or parser, ...).

This lives in `graphs` because it drives the runner; the provider it uses is
`moot.agents.providers.replay`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moot.errors import UserError
from moot.graphs.runner import RunResult, run_async
from moot.protocols.explorer import is_explorer_roster
from moot.protocols.spec import ProtocolSpec, ProviderSettings
from moot.scenarios import ScenarioSet, load_scenarios
from moot.trace.events import Event, JudgeDecision, MessageAdded, Stopped
from moot.trace.manifest import RunManifest
from moot.trace.opening import read_run_events
from moot.trace.reading import effective_events


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
            return [f"ok: {self.original}: {self.conversations} conversations, {self.steps} messages, decisions and stops replayed identically in {self.replay}"]
        return [f"{conversation}: {line}" for conversation, lines in self.differences.items() for line in lines]


def conversation_steps(events: list[Event]) -> dict[str, list[Step]]:
    """Each conversation's messages, judge decisions and stop, in trace order."""
    steps: dict[str, list[Step]] = defaultdict(list)
    for event in effective_events(events):
        if isinstance(event, MessageAdded):
            steps[event.conversation_id].append(Step("message", event.round, event.agent, event.content, event.parsed))
        elif isinstance(event, JudgeDecision):
            about = getattr(event, "about", None)
            kind = f"decision about {about}" if about else "decision"
            steps[event.conversation_id].append(Step(kind, event.round, event.agent, event.content, event.decision))
        elif isinstance(event, Stopped):
            steps[event.conversation_id].append(Step("stop", event.round, None, event.reason, {"status": event.status, "rounds": event.rounds}))
    return steps


def _describe(original: Step, replayed: Step) -> str:
    if (original.kind, original.round, original.agent) != (replayed.kind, replayed.round, replayed.agent):
        return f"recorded {original.label()}, replay gave {replayed.label()}"
    if original.fields != replayed.fields:
        keys = sorted(set(original.fields or {}) | set(replayed.fields or {}))
        changed = [k for k in keys if (original.fields or {}).get(k) != (replayed.fields or {}).get(k)]
        shown = ", ".join(f"{k} {(original.fields or {}).get(k)!r} -> {(replayed.fields or {}).get(k)!r}" for k in changed[:3])
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
        lines = [_describe(a, b) for a, b in zip(ours, theirs) if a != b]
        for extra in theirs[len(ours):]:
            lines.append(f"the replay added {extra.label()}")
        for lost in ours[len(theirs):]:
            lines.append(f"the replay lacks {lost.label()}")
        if lines:
            differences[conversation] = lines
    return differences


def replay_scenarios(manifest: RunManifest, override: Path | None = None) -> ScenarioSet:
    """The run's scenarios from the file it hashed (or `override`, which must hash the same)."""
    if not manifest.scenario_hash:
        raise UserError(f"run {manifest.run_id} took its scenarios from {manifest.scenario_source}, not a file; a replay needs the scenario file")
    path = override or Path(manifest.scenario_source)
    if not path.is_file():
        raise UserError(f"scenario file '{path}' of run {manifest.run_id} is missing; pass the same file with --scenarios")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != manifest.scenario_hash:
        raise UserError(f"scenario file '{path}' changed since run {manifest.run_id} (sha256 {digest[:12]}..., run.json has {manifest.scenario_hash[:12]}...)")
    scenarios = load_scenarios(path)
    return ScenarioSet(scenarios.source, scenarios.sha256, scenarios.scenarios[: manifest.scenario_count])


def replay_spec(spec: ProtocolSpec, run_dir: Path) -> ProtocolSpec:
    """The spec with every agent's model replaced by the run's recorded replies.

    Retries are off: a recorded failure must fail at once, as it finally did in the run.
    """
    agents = [agent.model_copy(update={"model": f"replay:{run_dir}"}) for agent in spec.agents]
    providers = {**spec.providers, "replay": ProviderSettings(max_retries=0)}
    return spec.model_copy(update={"agents": agents, "providers": providers})


def default_replay_dir(run_dir: Path) -> Path:
    """`RUN_DIR-replay`, numbered when that exists."""
    candidate = run_dir.with_name(f"{run_dir.name}-replay")
    number = 2
    while candidate.exists():
        candidate = run_dir.with_name(f"{run_dir.name}-replay-{number}")
        number += 1
    return candidate


def replay_run(run_dir: Path | str, out: Path | str | None = None, scenarios: Path | str | None = None) -> ReplayReport:
    """Replay a run into a new run directory and compare it with the original, conversation by conversation.

    The original is read first, its trace checked to be its run.json's (`moot.trace.opening.open_run`).
    """
    run_dir, out = Path(run_dir), Path(out) if out else None
    manifest, recorded = read_run_events(run_dir)
    if is_explorer_roster(manifest.spec):
        raise UserError(f"run '{run_dir}' is a question-generation explorer run; replay re-runs protocol runs only")
    try:
        spec = ProtocolSpec.model_validate(manifest.spec)
    except ValueError as exc:
        raise UserError(f"{run_dir / 'run.json'}: its spec is not valid ({str(exc).splitlines()[0]})") from None
    scenario_set = replay_scenarios(manifest, Path(scenarios) if scenarios else None)
    original = conversation_steps(recorded)
    result: RunResult = asyncio.run(
        run_async(
            replay_spec(spec, run_dir.resolve()),
            scenario_set,
            out=out or default_replay_dir(run_dir),
            concurrency=manifest.concurrency,
            seed=manifest.seed,
            cache_path=None,
        )
    )
    replayed = conversation_steps(read_run_events(result.run_dir)[1])
    return ReplayReport(
        original=run_dir,
        replay=result.run_dir,
        conversations=len(original),
        steps=sum(len(steps) for steps in original.values()),
        differences=compare_steps(original, replayed),
    )
