"""The runner: expands an experiment into conversations, runs them, and writes the run directory.

An experiment is a protocol x scenarios x agent orders x repeats, each conversation with its
own seed. Everything is checked before the run directory is created; once running, a failed
conversation is recorded and the run goes on.

run.json is rewritten (atomically) whenever a conversation ends, so a run killed at any moment
leaves a manifest saying `running` beside its trace; `resume_async` finishes such a run (see
`moot.graphs.resume`). Ctrl-C cancels the calls in flight and leaves the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import itertools
import json
import secrets as token_source
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moot.agents.cache import ResponseCache
from moot.agents.gateway import FailureTally, ModelGateway
from moot.agents.pool import ModelPool
from moot.errors import UserError
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.context import ConversationContext, ConversationFailed
from moot.graphs.executor import ConversationPlan, Executor, LocalExecutor
from moot.graphs.resume import InterruptedRun, ResumePoint, events_by_conversation, open_interrupted_run, resume_point, stopped_events
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import ScenarioSet
from moot.trace.events import ConversationStarted, ErrorEvent, Event, ModelCall, Resumed, Stopped, utc_now
from moot.trace.manifest import MANIFEST_FILE, ConversationCounts, RunManifest, UsageReport
from moot.trace.store import TRACE_FILE, SQLiteTraceStore
from moot.trace.writer import TraceWriter

VERSIONED_PACKAGES = ("moot", "langgraph", "autogen-agentchat", "autogen-core", "autogen-ext", "pydantic", "llama-cpp-python", "openai", "anthropic")

ProgressCallback = Callable[[int, int], None]
"""Called with (conversations finished, conversations planned)."""


def stable_int(*parts: Any) -> int:
    """A deterministic 31-bit integer from any parts (seeds, ids)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def speaker_orders(order: tuple[str, ...], mode: str) -> list[tuple[str, ...]]:
    """The agent orders an experiment runs: the given one, every rotation, or every permutation."""
    if mode == "permutations":
        return list(itertools.permutations(order))
    if mode == "rotations":
        return [order[i:] + order[:i] for i in range(len(order))]
    return [order]


def expand(protocol: CompiledProtocol, scenarios: ScenarioSet, seed: int) -> list[ConversationPlan]:
    """Every conversation of the experiment, with a deterministic id and seed."""
    plans = []
    for index, scenario in enumerate(scenarios.scenarios):
        for order in speaker_orders(protocol.default_order, protocol.spec.orders):
            for repeat in range(protocol.spec.repeats):
                key = (protocol.spec.name, scenario.id, ">".join(order), repeat, seed)
                conversation_id = "c" + hashlib.sha256("|".join(map(str, key)).encode("utf-8")).hexdigest()[:12]
                plans.append(ConversationPlan(conversation_id, index, order, repeat, stable_int(*key)))
    return plans


def package_versions() -> dict[str, str]:
    """Versions of moot and the packages a run depends on (those installed)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def spec_hash(spec: ProtocolSpec) -> str:
    """SHA-256 of the spec's canonical JSON."""
    return hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode("utf-8")).hexdigest()


def prepare_run_dir(out: Path | None, spec: ProtocolSpec) -> Path:
    """The run directory to create; refuses one that exists and is not empty."""
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{spec.name}-{stamp}-{token_source.token_hex(2)}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        kind = "holds another run" if (out / MANIFEST_FILE).exists() else "is not empty"
        raise UserError(f"output directory '{out}' already exists and {kind}; choose another --out")
    return out


def invalid_reply_kind(call: ModelCall) -> str | None:
    """`truncated` or `invalid` for a reply that did not fit its schema; None for any other call."""
    if call.parse_error is None or call.raw_reply is None:
        return None
    return "truncated" if call.finish_reason in ("length", "max_tokens") else "invalid"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C; its directory can be resumed."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(f"run interrupted: {run_dir}")
        self.run_dir = run_dir


@dataclass
class RunResult:
    """A finished run: where it is and what its manifest says."""

    run_dir: Path
    manifest: RunManifest

    @property
    def trace_path(self) -> Path:
        """The run's trace database."""
        return self.run_dir / TRACE_FILE


class Runner:
    """Runs one experiment into one run directory."""

    def __init__(
        self,
        protocol: CompiledProtocol,
        scenarios: ScenarioSet,
        run_dir: Path,
        *,
        concurrency: int = 4,
        seed: int | None = None,
        cache_path: Path | None = None,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
        run_id: str | None = None,
    ) -> None:
        self.protocol = protocol
        self.spec = protocol.spec
        self.scenarios = scenarios
        self.run_dir = run_dir
        self.concurrency = concurrency
        self.seed = self.spec.seed if seed is None else seed
        self.cache_path = cache_path
        self.executor = executor or LocalExecutor()
        self.progress = progress
        self.plans = expand(protocol, scenarios, self.seed)
        self.run_id = run_id or f"run-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{token_source.token_hex(3)}"
        self.tally = FailureTally()

    def _manifest(self) -> RunManifest:
        return RunManifest(
            run_id=self.run_id,
            protocol=self.spec.name,
            spec=self.spec.model_dump(mode="json"),
            spec_hash=spec_hash(self.spec),
            scenario_source=self.scenarios.source,
            scenario_hash=self.scenarios.sha256,
            scenario_count=len(self.scenarios.scenarios),
            scenario_ids=[scenario.id for scenario in self.scenarios.scenarios],
            seed=self.seed,
            concurrency=self.concurrency,
            cache=str(self.cache_path) if self.cache_path else None,
            package_versions=package_versions(),
        )

    async def run(self) -> RunResult:
        """Run every conversation; return when all have ended."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        manifest = self._manifest()
        manifest.conversations.planned = len(self.plans)
        manifest.write(self.run_dir)
        return await self._execute(manifest, {}, [])

    async def resume(self, manifest: RunManifest, events: list[Event]) -> RunResult:
        """Finish an interrupted run whose recorded events are `events`: run what did not stop, keep the rest."""
        by_conversation = events_by_conversation(events)
        stops = stopped_events(events)
        points = {}
        for plan in self.plans:
            recorded = by_conversation.get(plan.conversation_id)
            if recorded and plan.conversation_id not in stops:
                points[plan.conversation_id] = resume_point(self.protocol, self.protocol.plan(plan.order), recorded)
        manifest.status = "running"
        manifest.ended_at = None
        manifest.resumed_at.append(utc_now())
        manifest.conversations = ConversationCounts(
            planned=len(self.plans),
            completed=sum(stop.status == "completed" for stop in stops.values()),
            failed=sum(stop.status == "failed" for stop in stops.values()),
        )
        self.tally.retried.update(manifest.usage.retries_by_kind)
        self.tally.failed.update(manifest.usage.failures_by_kind)
        manifest.write(self.run_dir)
        calls = [event for event in events if isinstance(event, ModelCall)]
        return await self._execute(manifest, points, calls, skip=set(stops))

    async def _execute(self, manifest: RunManifest, points: dict[str, ResumePoint], earlier_calls: list[ModelCall], skip: set[str] | frozenset[str] = frozenset()) -> RunResult:
        """Run the plans not in `skip` (from their resume point when they have one), recording as they end."""
        store = SQLiteTraceStore(self.run_dir / TRACE_FILE)
        cache = ResponseCache(self.cache_path) if self.cache_path else None
        pool = ModelPool(self.spec, cache)
        writer = TraceWriter(store, secrets=pool.secrets(), prices=pool.prices())
        for call in earlier_calls:
            writer.count(call)  # the usage of the run's earlier part, as its calls were recorded
            self._count_invalid(writer.usage, call)
        pending = [plan for plan in self.plans if plan.conversation_id not in skip]
        finished = len(self.plans) - len(pending)
        if self.progress:
            self.progress(finished, len(self.plans))

        def emit(event: Event) -> Event:
            stored = writer.emit(event)
            if isinstance(stored, ModelCall):
                self._count_invalid(writer.usage, stored)
            return stored

        async def run_one(plan: ConversationPlan) -> None:
            nonlocal finished
            ok = await self._run_conversation(plan, pool, writer, emit, points.get(plan.conversation_id))
            if ok:
                manifest.conversations.completed += 1
            else:
                manifest.conversations.failed += 1
            finished += 1
            self._record(manifest, writer, store)
            if self.progress:
                self.progress(finished, len(self.plans))

        try:
            await self.executor.run(pending, run_one, self.concurrency)
            manifest.status = "completed"
        except (asyncio.CancelledError, KeyboardInterrupt):
            manifest.status = "interrupted"
            raise
        finally:
            manifest.ended_at = utc_now()
            self._record(manifest, writer, store)
            store.close()
            await pool.close()
            if cache:
                cache.close()
        return RunResult(self.run_dir, manifest)

    @staticmethod
    def _count_invalid(usage: UsageReport, call: ModelCall) -> None:
        kind = invalid_reply_kind(call)
        if kind is not None:
            usage.invalid_replies_by_kind[kind] = usage.invalid_replies_by_kind.get(kind, 0) + 1

    def _record(self, manifest: RunManifest, writer: TraceWriter, store: SQLiteTraceStore) -> None:
        """Write run.json with the counts, usage and trace position as they are now."""
        manifest.usage = writer.usage.model_copy(
            update={
                "retries_by_kind": dict(sorted(self.tally.retried.items())),
                "failures_by_kind": dict(sorted(self.tally.failed.items())),
                "invalid_replies_by_kind": dict(sorted(writer.usage.invalid_replies_by_kind.items())),
            }
        )
        manifest.events = store.count()
        manifest.final_hash = store.last_hash
        manifest.write(self.run_dir)

    def _gateway(self, pool: ModelPool, agent_name: str) -> ModelGateway:
        """The agent's gateway, counting failures in the run's tally and retrying as its provider's settings say."""
        gateway = pool.gateway(self.spec.agent(agent_name))
        gateway.tally = self.tally
        return gateway

    async def _run_conversation(self, plan: ConversationPlan, pool: ModelPool, writer: TraceWriter, emit: Callable[[Event], Event], point: ResumePoint | None = None) -> bool:
        """Run one conversation to its stop (from `point` when resumed); record a failure instead of raising. True when completed."""
        scenario = self.scenarios.scenarios[plan.scenario_index]
        round_plan = self.protocol.plan(plan.order)
        ctx = ConversationContext(
            run_id=self.run_id,
            conversation_id=plan.conversation_id,
            scenario=scenario,
            order=round_plan.order,
            repeat=plan.repeat,
            seed=plan.seed,
            plan=round_plan,
            gateways={agent.name: self._gateway(pool, agent.name) for agent in self.spec.agents},
            agent_seeds={agent.name: agent.seed if agent.seed is not None else stable_int(plan.seed, agent.name) for agent in self.spec.agents},
            emit=emit,
        )
        if point is None:
            emit(ConversationStarted(**ctx.ids(0), protocol=self.spec.name, order=list(round_plan.order), repeat=plan.repeat, seed=plan.seed, scenario=scenario.model_dump(mode="json")))
            state = {"round": 0, "messages": [], "stop_reason": None}
        else:
            emit(Resumed(**ctx.ids(point.kept_rounds), kept_rounds=point.kept_rounds, superseded=point.superseded))
            if point.error is not None:
                emit(Stopped(**ctx.ids(point.error.round), status="failed", reason=point.error.message, rounds=point.error.round))
                return False
            if point.stop_reason is not None:
                emit(Stopped(**ctx.ids(point.kept_rounds), status="completed", reason=point.stop_reason, rounds=point.kept_rounds))
                return True
            state = {"round": point.kept_rounds, "messages": list(point.messages), "stop_reason": None}
        try:
            final = await self.protocol.graph(plan.order).ainvoke(
                state, context=ctx, config={"recursion_limit": self.protocol.recursion_limit()}
            )
        except ConversationFailed as exc:
            return self._failed(ctx, writer, exc.kind, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in one conversation must not end the run
            return self._failed(ctx, writer, "internal", f"{type(exc).__name__}: {exc}")
        emit(Stopped(**ctx.ids(final["round"]), status="completed", reason=final["stop_reason"] or "ended", rounds=final["round"]))
        return True

    def _failed(self, ctx: ConversationContext, writer: TraceWriter, kind: str, message: str) -> bool:
        rounds = max((e.round for e in writer.store.events(ctx.conversation_id)), default=0)
        writer.emit(ErrorEvent(**ctx.ids(rounds), kind=kind, message=message))
        writer.emit(Stopped(**ctx.ids(rounds), status="failed", reason=message, rounds=rounds))
        return False


async def run_async(
    spec: ProtocolSpec | CompiledProtocol,
    scenarios: ScenarioSet,
    *,
    out: Path | None = None,
    concurrency: int = 4,
    seed: int | None = None,
    cache_path: Path | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Check, then run an experiment into a new run directory."""
    protocol = spec if isinstance(spec, CompiledProtocol) else compile_protocol(spec)
    if concurrency < 1:
        raise UserError(f"concurrency must be at least 1 (got {concurrency})")
    run_dir = prepare_run_dir(out, protocol.spec)
    runner = Runner(protocol, scenarios, run_dir, concurrency=concurrency, seed=seed, cache_path=cache_path, executor=executor, progress=progress)
    return await runner.run()


async def resume_async(
    run_dir: Path,
    *,
    scenarios: ScenarioSet | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Finish an interrupted run in its directory, with the spec, scenarios, seed and options of its run.json.

    Conversations that stopped are kept as they are; interrupted ones go on from their last
    complete round. Scenarios come from the file the run started with (refused when it
    changed) unless given (needed when the run's scenarios were given in Python).
    """
    interrupted: InterruptedRun = open_interrupted_run(Path(run_dir), scenarios)
    manifest = interrupted.manifest
    runner = Runner(
        interrupted.protocol,
        interrupted.scenarios,
        interrupted.run_dir,
        concurrency=manifest.concurrency,
        seed=manifest.seed,
        cache_path=Path(manifest.cache) if manifest.cache else None,
        executor=executor,
        progress=progress,
        run_id=manifest.run_id,
    )
    return await runner.resume(manifest, interrupted.events)
