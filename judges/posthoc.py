"""Judging a finished run: `moot judge RUN_DIR --judge values`.

The judge reads every speaker message of the run, one at a time, exactly as a judge of each
message inside the protocol graph would, and its turns, model calls and decisions are appended
to the run's own trace (the hash chain goes on). Messages the judge already decided about are
skipped, so an interrupted judging resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moot.agents.cache import ResponseCache, check_cache_file
from moot.agents.pool import ModelPool
from moot.graphs.checks import check_spec
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.plans import stable_int
from moot.graphs.nodes import AgentTurn
from moot.graphs.state import TranscriptMessage
from moot.graphs.turns import plan_round
from moot.protocols.loader import validate_spec_data
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, load_scenarios, resolve_scenario_source
from moot.trace.events import (
    ConversationStarted,
    ErrorEvent,
    Event,
    JudgeDecision,
    MessageAdded,
)
from moot.trace.manifest import RunManifest, UsageReport, UsageTotals
from moot.trace.opening import expectation, open_run
from moot.trace.reading import open_run_trace
from moot.trace.store import TraceStore
from moot.trace.writer import TraceWriter

from moot.errors import SpecError, UserError, unknown_name

POSTHOC_JUDGES: dict[str, dict[str, Any]] = {
    "values": {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
    },
}
"""Judges that can run over a finished run, by name: the role each plays."""


@dataclass(frozen=True)
class JudgingReport:
    """What a judging pass did."""

    judge: str
    judged: int
    """Messages decided about in this pass."""
    skipped: int
    """Messages decided about by an earlier pass."""
    unparsed: int
    """Decisions that could not be parsed."""
    failed: int
    """Messages whose judging failed after retries (recorded as error events)."""


def speaker_roles(run_spec: dict[str, Any]) -> list[str]:
    """The roles of a recorded spec whose agents speak (what a judge of a finished run looks at)."""
    return sorted({a["role"] for a in run_spec["agents"] if run_spec["roles"][a["role"]].get("kind", "speaker") == "speaker"})


def with_judges(run_spec: dict[str, Any], roles: dict[str, dict[str, Any]], agents: list[dict[str, Any]], what: str) -> tuple[ProtocolSpec, dict[str, OutputSchema | None]]:
    """A recorded spec with judge roles and agents added (agents of the same names replaced), checked; and its output schemas."""
    names = {agent["name"] for agent in agents}
    data = {**run_spec, "roles": {**run_spec["roles"], **roles}, "agents": [a for a in run_spec["agents"] if a["name"] not in names] + agents}
    try:
        spec = validate_spec_data(data)
        return spec, check_spec(spec)
    except SpecError as exc:
        raise UserError(f"{what}: {exc}") from None


def judge_spec(run_spec: dict[str, Any], judge: str, agent_name: str, model: str | None, taxonomy: str | None) -> tuple[ProtocolSpec, dict[str, OutputSchema | None]]:
    """The run's spec with the judge agent and its role added (replacing a role or agent of the same name), and its output schemas."""
    if judge not in POSTHOC_JUDGES:
        raise UserError(unknown_name("judge", judge, [*POSTHOC_JUDGES, "arguments"]))
    role = {**POSTHOC_JUDGES[judge], "sees": speaker_roles(run_spec)}
    if taxonomy:
        role["output"] = f"values:{taxonomy}"
    role_name = f"posthoc_{judge}"
    agent: dict[str, Any] = {"name": agent_name, "role": role_name, "temperature": 0.0}
    if model:
        agent["model"] = model
    return with_judges(run_spec, {role_name: role}, [agent], f"judge '{judge}'")


def _scenarios(manifest: RunManifest) -> dict[str, Scenario]:
    try:
        path = resolve_scenario_source(manifest.scenario_source)
    except UserError as exc:
        raise UserError(f"the run's scenario file is needed to judge it: {exc}") from None
    scenario_set = load_scenarios(path)
    if manifest.scenario_hash and scenario_set.sha256 != manifest.scenario_hash:
        raise UserError(f"scenario file '{path}' changed since the run (its hash differs from run.json's scenario_hash)")
    return {s.id: s for s in scenario_set.scenarios}


def read_for_judging(run_dir: Path) -> tuple[RunManifest, list[Event]]:
    """The manifest and events of a run to judge, read without writing.

    A judging pass appends to the trace and then writes the new count and final hash into
    run.json, so it must not start on a trace that is not exactly what run.json records: it would
    bless whatever was changed or added behind run.json's back. The trace is checked as every
    reader checks it (`moot.trace.opening.open_run`), its append-only triggers must be there, and
    it must end at run.json's final event.
    """
    with open_run(run_dir) as opened:
        opened.require_append_only()
        manifest = opened.manifest
        if manifest.status == "running":
            raise UserError(f"run '{run_dir}' is still running (or was killed); finish it before judging it")
        events = list(opened.events())
        if len(events) != manifest.events:
            advice = f"finish the run with `moot run --resume {run_dir}` before judging it"
            raise UserError(f"{opened.where}: {expectation(manifest)}; the trace holds {len(events)}: {advice}")
    return manifest, events


def open_for_appending(run_dir: Path, manifest: RunManifest) -> TraceStore:
    """The run's trace opened to append to, after checking nothing was appended since it was read."""
    store = open_run_trace(run_dir)
    if store.last_hash != manifest.final_hash:
        store.close()
        advice = "judge it again once that is done"
        changed = "changed while it was read (another process appends to it)"
        raise UserError(f"the trace of run '{run_dir}' {changed}; {advice}")
    return store


def judge_run(run_dir: Path | str, judge: str = "values", *, model: str | None = None, taxonomy: str | None = None, agent_name: str | None = None, cache_path: Path | None = None, concurrency: int = 4) -> JudgingReport:
    """Judge every speaker message of a finished run and append the decisions to its trace."""
    run_dir = Path(run_dir)
    manifest, events = read_for_judging(run_dir)
    name = agent_name or f"{judge}_judge"
    spec, schemas = judge_spec(manifest.spec, judge, name, model, taxonomy)
    starts = [e for e in events if isinstance(e, ConversationStarted)]
    recorded = {e.scenario_id: Scenario.model_validate(e.scenario) for e in starts if e.scenario}
    scenarios = recorded if len(recorded) == len({e.scenario_id for e in starts}) else _scenarios(manifest)
    turn = AgentTurn(spec, spec.agent(name), schemas[spec.agent(name).role])
    if cache_path is not None:
        check_cache_file(cache_path)
    # Opened last: opening the trace to append creates its side files, so every check comes first.
    store = open_for_appending(run_dir, manifest)
    try:
        return asyncio.run(_judge_all(spec, turn, manifest, events, scenarios, store, cache_path, concurrency, run_dir))
    finally:
        store.close()


async def _judge_all(spec: ProtocolSpec, turn: AgentTurn, manifest: RunManifest, events: list[Event], scenarios: dict[str, Scenario], store: Any, cache_path: Path | None, concurrency: int, run_dir: Path) -> JudgingReport:
    agent = turn.agent
    name = agent.name
    cache = ResponseCache(cache_path) if cache_path else None
    pool = ModelPool(spec, cache)
    writer = TraceWriter(store, secrets=pool.secrets(), prices=pool.prices())
    starts = {e.conversation_id: e for e in events if isinstance(e, ConversationStarted)}
    done = {(e.conversation_id, e.about) for e in events if isinstance(e, JudgeDecision) and e.agent == name}
    messages: dict[str, list[TranscriptMessage]] = defaultdict(list)
    for event in events:
        if isinstance(event, MessageAdded) and event.agent:
            messages[event.conversation_id].append(
                TranscriptMessage(round=event.round, agent=event.agent, role=event.role, kind="speaker", position=event.position, content=event.content, parsed=event.parsed)
            )
    counts = {"judged": 0, "skipped": 0, "unparsed": 0, "failed": 0}
    lock = asyncio.Semaphore(concurrency)

    async def judge_conversation(cid: str) -> None:
        start = starts[cid]
        order = tuple(start.order)
        ctx = ConversationContext(
            run_id=manifest.run_id, conversation_id=cid, scenario=scenarios[start.scenario_id],
            order=order, repeat=start.repeat, seed=start.seed, plan=plan_round(spec, order),
            gateways={name: pool.gateway(agent)}, agent_seeds={name: agent.seed if agent.seed is not None else stable_int(start.seed, name)},
            emit=writer.emit,
        )
        for message in messages[cid]:
            if (cid, message.id) in done:
                counts["skipped"] += 1
                continue
            async with lock:
                try:
                    decision = await turn(ctx, message.round, [message], message)
                except ConversationFailed as exc:
                    writer.emit(ErrorEvent(**ctx.ids(message.round, name), kind=exc.kind, message=exc.message))
                    counts["failed"] += 1
                    continue
            counts["judged"] += 1
            counts["unparsed"] += decision.parsed is None

    missing = sorted({s.scenario_id for s in starts.values()} - set(scenarios))
    if missing:
        raise UserError(f"scenario '{missing[0]}' of the run is not in its scenario file")
    try:
        await asyncio.gather(*(judge_conversation(cid) for cid in starts))
    finally:
        await close_judging(run_dir, manifest, store, writer, pool, cache)
    return JudgingReport(judge=name, **counts)


async def close_judging(run_dir: Path, manifest: RunManifest, store: Any, writer: TraceWriter, pool: ModelPool, cache: ResponseCache | None) -> None:
    """End a judging pass over a run: bring run.json up to date with the trace and the pass's usage, release the models."""
    manifest.events = store.count()
    manifest.final_hash = store.last_hash
    manifest.usage = merge_usage(manifest.usage, writer.usage)
    manifest.write(run_dir)
    await pool.close()
    if cache:
        cache.close()


def merge_usage(first: UsageReport, second: UsageReport) -> UsageReport:
    """Usage of two passes over one run, added up key by key."""
    merged = first.model_copy(deep=True)
    merged.total.merge(second.total)
    for table in ("by_agent", "by_role", "by_model", "by_conversation"):
        target = getattr(merged, table)
        for key, totals in getattr(second, table).items():
            target.setdefault(key, UsageTotals()).merge(totals)
    return merged
