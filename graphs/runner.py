"""The runner: expands an experiment into conversations, runs them, and writes the run directory.

An experiment is a protocol x scenarios x agent orders x repeats, each conversation with its
own seed. Everything is checked before the run directory is created; once running, a failed
conversation is recorded and the run goes on.

run.json says `running` from the start and is rewritten (atomically) as conversations end, at most
once every `RECORD_INTERVAL_S` (a run of many thousands of conversations would otherwise spend
its time rewriting it), and when the run ends. A run killed at any moment can be finished with
`resume_async` (see `moot.graphs.resume`), which recounts conversations and usage from the trace.
Ctrl-C cancels the calls in flight and leaves the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import secrets as token_source
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from moot.agents.cache import check_cache_file
from moot.agents.pool import ModelPool
from moot.errors import UserError
from moot.outputs import check_new_folder
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.executor import Executor, LocalExecutor
from moot.graphs.plans import expand
from moot.graphs.resume import InterruptedRun, open_interrupted_run, stopped_events
from moot.graphs.worker import ConversationOutcome, RunJob, count_recorded_calls
from moot.protocols.spec import ProtocolSpec, spec_hash
from moot.scenarios import ScenarioSet
from moot.trace.events import Event, utc_now
from moot.trace.location import check_trace_location, open_store
from moot.trace.redaction import public_location
from moot.trace.manifest import MANIFEST_FILE, ConversationCounts, RunManifest, UsageReport
from moot.trace.store import TRACE_FILE, TraceStore

VERSIONED_PACKAGES = ("moot", "langgraph", "autogen-agentchat", "autogen-core", "autogen-ext", "pydantic", "llama-cpp-python", "openai", "anthropic")

RECORD_INTERVAL_S = 1.0
"""Least time between two rewrites of run.json while a run goes on."""

ProgressCallback = Callable[[int, int], None]
"""Called with (conversations finished, conversations planned)."""


def package_versions() -> dict[str, str]:
    """Versions of moot and the packages a run depends on (those installed)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def prepare_run_dir(out: Path | None, spec: ProtocolSpec) -> Path:
    """The run directory to create; refuses one that exists and is not empty."""
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{spec.name}-{stamp}-{token_source.token_hex(2)}"
    if out.exists() and not out.is_dir():
        raise UserError(f"--out '{out}' is a file; name a folder to create")
    if out.exists() and any(out.iterdir()):
        kind = "holds another run" if (out / MANIFEST_FILE).exists() else "is not empty"
        raise UserError(f"output directory '{out}' already exists and {kind}; choose another --out")
    check_new_folder(out, "--out")
    return out


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
        """The run's trace database (when the trace is the SQLite file of the run directory)."""
        return self.run_dir / TRACE_FILE


class Runner:
    """Runs one experiment into one run directory, its conversations handed to an executor."""

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
        trace: str | None = None,
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
        self.trace = trace
        """Where the trace goes: None for the run directory's SQLite file, else a PostgreSQL URL (with its password, never written)."""

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
            trace=public_location(self.trace),
            executor=self.executor.name,
        )

    def _job(self) -> RunJob:
        return RunJob(
            run_id=self.run_id,
            run_dir=str(self.run_dir),
            spec=self.spec.model_dump(mode="json"),
            scenarios=self.scenarios,
            trace=self.trace,
            cache=str(self.cache_path) if self.cache_path else None,
        )

    async def run(self) -> RunResult:
        """Run every conversation; return when all have ended."""
        if self.trace is not None:
            # Reach the database (and create its tables) before anything is written: a wrong URL leaves no run directory.
            open_store(self.trace, self.run_dir, self.run_id).close()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        manifest = self._manifest()
        manifest.conversations.planned = len(self.plans)
        manifest.write(self.run_dir)
        return await self._execute(manifest, UsageReport(), set())

    async def resume(self, manifest: RunManifest, events: list[Event]) -> RunResult:
        """Finish an interrupted run whose recorded events are `events`: run what did not stop, keep the rest."""
        stops = stopped_events(events)
        manifest.status = "running"
        manifest.ended_at = None
        manifest.resumed_at.append(utc_now())
        manifest.executor = self.executor.name
        manifest.conversations = ConversationCounts(
            planned=len(self.plans),
            completed=sum(stop.status == "completed" for stop in stops.values()),
            failed=sum(stop.status == "failed" for stop in stops.values()),
        )
        manifest.write(self.run_dir)
        # The usage of the run's earlier part, as its calls were recorded; failures per kind as run.json last had them.
        earlier = UsageReport(retries_by_kind=dict(manifest.usage.retries_by_kind), failures_by_kind=dict(manifest.usage.failures_by_kind))
        count_recorded_calls(earlier, events, ModelPool(self.spec, None).prices())
        return await self._execute(manifest, earlier, set(stops))

    async def _execute(self, manifest: RunManifest, usage: UsageReport, skip: set[str]) -> RunResult:
        """Hand the plans not in `skip` to the executor, recording run.json as each conversation ends."""
        store = open_store(self.trace, self.run_dir, self.run_id)
        pending = [plan for plan in self.plans if plan.conversation_id not in skip]
        finished = len(self.plans) - len(pending)
        last_record = time.monotonic()
        if self.progress:
            self.progress(finished, len(self.plans))

        def on_done(outcome: ConversationOutcome) -> None:
            nonlocal finished, last_record
            if outcome.status == "completed":
                manifest.conversations.completed += 1
            elif outcome.status == "failed":
                manifest.conversations.failed += 1
            usage.merge(outcome.usage)
            finished += 1
            if time.monotonic() - last_record >= RECORD_INTERVAL_S:
                self._record(manifest, usage, store)
                last_record = time.monotonic()
            if self.progress:
                self.progress(finished, len(self.plans))

        try:
            await self.executor.run(self._job(), pending, self.concurrency, on_done, protocol=self.protocol)
            manifest.status = "completed"
        except (asyncio.CancelledError, KeyboardInterrupt):
            manifest.status = "interrupted"
            raise
        finally:
            manifest.ended_at = utc_now()
            self._record(manifest, usage, store)
            store.close()
        return RunResult(self.run_dir, manifest)

    def _record(self, manifest: RunManifest, usage: UsageReport, store: TraceStore) -> None:
        """Write run.json with the counts, usage and trace position as they are now."""
        manifest.usage = usage.model_copy(
            update={
                "retries_by_kind": dict(sorted(usage.retries_by_kind.items())),
                "failures_by_kind": dict(sorted(usage.failures_by_kind.items())),
                "invalid_replies_by_kind": dict(sorted(usage.invalid_replies_by_kind.items())),
            }
        )
        manifest.events = store.count()
        manifest.final_hash = store.last_hash
        manifest.write(self.run_dir)


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
    trace: str | None = None,
) -> RunResult:
    """Check, then run an experiment into a new run directory (its trace there, or in the PostgreSQL database `trace`)."""
    protocol = spec if isinstance(spec, CompiledProtocol) else compile_protocol(spec)
    if concurrency < 1:
        raise UserError(f"concurrency must be at least 1 (got {concurrency})")
    trace = check_trace_location(trace)
    run_dir = prepare_run_dir(out, protocol.spec)
    runner = Runner(protocol, scenarios, run_dir, concurrency=concurrency, seed=seed, cache_path=cache_path, executor=executor, progress=progress, trace=trace)
    return await runner.run()


async def resume_async(
    run_dir: Path,
    *,
    scenarios: ScenarioSet | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
) -> RunResult:
    """Finish an interrupted run in its directory, with the spec, scenarios, seed and options of its run.json.

    Conversations that stopped are kept as they are; interrupted ones go on from their last
    complete round. Scenarios come from the file the run started with (refused when it
    changed) unless given (needed when the run's scenarios were given in Python). `trace` is
    the run's PostgreSQL URL with its password, when the environment does not give the password.
    """
    interrupted: InterruptedRun = open_interrupted_run(Path(run_dir), scenarios)
    manifest = interrupted.manifest
    if manifest.cache:
        check_cache_file(Path(manifest.cache), "the run's cache")
    trace = check_trace_location(trace)
    if public_location(trace) != manifest.trace and trace is not None:
        raise UserError(f"--trace '{public_location(trace)}' is not where run '{run_dir}' keeps its trace ({manifest.trace or 'its trace.sqlite'})")
    trace = trace or manifest.trace
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
        trace=trace,
    )
    return await runner.resume(manifest, interrupted.events)
