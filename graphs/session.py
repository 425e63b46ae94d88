"""The run session: the one life cycle of every run, for every program.

A session opens a run directory to write to, in one of three ways:

- `RunSession.new`: a new run of a program over its inputs (a protocol's scenarios, an
  explorer's topics) into a new run directory;
- `RunSession.resume`: an interrupted, killed or failed run, or the pass over it that did not
  end, with the program its run.json records (rebuilt by a `ProgramCatalog`, by kind);
- `RunSession.append`: a finished run, to which a pass (a judge) appends its work.

Each first checks every input without writing anything (the output folder, the trace location,
the ledger, the run's trace read as every reader reads it, the response cache last: it creates
its file). Then `run` opens the trace store, marks run.json (`running`; for a pass, a pass
record `running` too, so that a killed pass reads as unfinished, not tampered), hands the
program's units to the executor, and records run.json as units report, at most once every
`RECORD_INTERVAL_S`, and when the run ends: `completed`, `interrupted` on Ctrl-C, `failed` on an
error. The run's anchor goes to the ledger when it completes or is interrupted.

Each process that runs units opens its own store, cache and models: a `SessionWorker`
(`moot.graphs.worker`), which builds every conversation context of the run.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import secrets as token_source
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from moot.agents.cache import check_cache_file
from moot.agents.pool import ModelPool
from moot.errors import UserError
from moot.graphs.executor import Executor, LocalExecutor
from moot.graphs.program import (
    Program,
    ProgramCatalog,
    ProgressCallback,
    Reopening,
    RunResult,
    UnitReport,
    UsageListener,
    WorkUnit,
)
from moot.graphs.resume import check_planned, open_interrupted_run
from moot.graphs.worker import SessionJob, count_recorded_calls
from moot.outputs import check_new_folder
from moot.protocols.spec import spec_hash
from moot.scenarios import ScenarioSet
from moot.trace.events import Event, utc_now
from moot.trace.ledger import append_anchor, check_ledger
from moot.trace.location import check_trace_location, open_store
from moot.trace.manifest import MANIFEST_FILE, ConversationCounts, PassRecord, RunManifest, RunStatus, UsageReport
from moot.trace.opening import expectation, open_run
from moot.trace.otel import otel_endpoint, send_spans
from moot.trace.redaction import public_location
from moot.trace.spans import run_span
from moot.trace.store import TraceStore

VERSIONED_PACKAGES = (
    "moot",
    "langgraph",
    "autogen-agentchat",
    "autogen-core",
    "autogen-ext",
    "pydantic",
    "llama-cpp-python",
    "openai",
    "anthropic",
)

RECORD_INTERVAL_S = 1.0
"""Least time between two rewrites of run.json while a run goes on."""

Mode = Literal["new", "resume", "append", "resume_pass"]
"""How the session opened its run: a new run, a resumed one, a pass appended to a finished one, or that pass resumed."""

PassBuilder = Callable[[RunManifest, list[Event]], Program]
"""Builds a pass from the finished run it appends to (its manifest and recorded events); a UserError refuses it."""


def package_versions() -> dict[str, str]:
    """Versions of moot and the packages a run depends on (those installed)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def default_run_dir(name: str) -> Path:
    """`runs/NAME-TIME-XXXX`: where a run goes when no folder is named."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}-{token_source.token_hex(2)}"


def prepare_run_dir(out: Path | None, name: str) -> Path:
    """The run directory to create (by default under `runs/`, named after the program); refuses one that exists and is
    not empty."""
    out = default_run_dir(name) if out is None else out
    if out.exists() and not out.is_dir():
        raise UserError(f"--out '{out}' is a file; name a folder to create")
    if out.exists() and any(out.iterdir()):
        kind = "holds another run" if (out / MANIFEST_FILE).exists() else "is not empty"
        raise UserError(f"output directory '{out}' already exists and {kind}; choose another --out")
    check_new_folder(out, "--out")
    return out


def new_run_id() -> str:
    """A fresh, unique run id."""
    return f"run-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{token_source.token_hex(3)}"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C; its directory can be resumed."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(f"run interrupted: {run_dir}")
        self.run_dir = run_dir


def read_for_appending(run_dir: Path) -> tuple[RunManifest, list[Event]]:
    """The manifest and events of a finished run a pass is to append to, read without writing.

    A pass appends to the trace and then writes the new count and final hash into run.json, so it
    must not start on a trace that is not exactly what run.json records: it would bless whatever
    was changed or added behind run.json's back. The trace is checked as every reader checks it
    (`moot.trace.opening.open_run`), its append-only triggers must be there, the run must have
    completed (and its last pass too), and the trace must end at run.json's final event.
    """
    with open_run(run_dir) as opened:
        opened.require_append_only()
        manifest = opened.manifest
        unfinished = manifest.unfinished_pass()
        if unfinished is not None:
            raise UserError(
                f"run '{run_dir}' has a {unfinished.kind} pass that did not end;"
                f" finish it with `moot run --resume {run_dir}` before judging it again"
            )
        if manifest.status == "running":
            raise UserError(
                f"run '{run_dir}' is still running (or was killed);"
                f" finish it with `moot run --resume {run_dir}` before judging it"
            )
        if manifest.status != "completed":
            raise UserError(
                f"run '{run_dir}' is {manifest.status}; finish it with `moot run --resume {run_dir}` before judging it"
            )
        events = list(opened.events())
        if len(events) != manifest.events:
            advice = f"finish the run with `moot run --resume {run_dir}` before judging it"
            raise UserError(f"{opened.where}: {expectation(manifest)}; the trace holds {len(events)}: {advice}")
    return manifest, events


def _check_given_trace(trace: str | None, manifest: RunManifest, run_dir: Path) -> str | None:
    """The trace location to use for a recorded run: run.json's, or the same one given with its password."""
    trace = check_trace_location(trace)
    if trace is not None and public_location(trace) != manifest.trace:
        raise UserError(
            f"--trace '{public_location(trace)}' is not where run '{run_dir}' keeps its trace"
            f" ({manifest.trace or 'its trace.sqlite'})"
        )
    return trace or manifest.trace


class RunSession:
    """One run directory opened to write to: a new run, a resumed one, or a finished one a pass appends to.

    Build it with `new`, `resume` or `append` (they check, and write nothing), then `await run()`.
    """

    def __init__(
        self,
        run_dir: Path,
        manifest: RunManifest,
        program: Program,
        inputs: ScenarioSet,
        *,
        mode: Mode,
        command: str,
        trace: str | None,
        cache: Path | None,
        concurrency: int,
        executor: Executor | None,
        progress: ProgressCallback | None,
        ledger: Path | None,
        events: Sequence[Event] = (),
        pass_record: PassRecord | None = None,
        otel: str | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.manifest = manifest
        self.program = program
        self.inputs = inputs
        self.mode = mode
        self.command = command
        """The command the ledger names (`run`, `resume`, `judge values`, ...)."""
        self.trace = trace
        """Where the trace is: None for the run directory's SQLite file, else a PostgreSQL URL (with its password,
        never written)."""
        self.cache = cache
        self.concurrency = concurrency
        self.executor = executor or LocalExecutor()
        self.progress = progress
        self.ledger = ledger
        self.recorded = list(events)
        """The run's events when the session opened it (resume)."""
        self.pass_record = pass_record
        """The pass this session runs (append, resume_pass)."""
        self.otel = otel
        """The OTLP/HTTP traces URL the run's spans go to as it runs (`moot run --otel`), or None."""
        self.units: list[WorkUnit] = program.units(inputs, manifest.seed)
        self._latest: dict[str, UnitReport] = {}
        self._usage = UsageReport()
        self._tally: Counter[str] = Counter()
        self._base = ConversationCounts()
        self._last_record = 0.0

    # --- opening: every check, nothing written ---------------------------------------------------

    @classmethod
    def new(
        cls,
        program: Program,
        inputs: ScenarioSet,
        *,
        out: Path | None = None,
        seed: int | None = None,
        concurrency: int = 4,
        cache_path: Path | None = None,
        trace: str | None = None,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
        ledger: Path | None = None,
        otel: str | None = None,
    ) -> RunSession:
        """A new run of `program` over `inputs` into `out` (default: a new folder under `runs/`); `otel` an OTLP/HTTP
        endpoint to send its spans to as it runs."""
        if concurrency < 1:
            raise UserError(f"concurrency must be at least 1 (got {concurrency})")
        trace = check_trace_location(trace)
        otel = otel_endpoint(otel) if otel is not None else None
        run_dir = prepare_run_dir(out, program.name)
        if ledger is not None:
            check_ledger(ledger, run_dir)
        if cache_path is not None:
            check_cache_file(cache_path)  # last: it creates the cache file when it is new
        record = program.record()
        executor = executor or LocalExecutor()
        manifest = RunManifest(
            run_id=new_run_id(),
            protocol=program.name,
            spec=record.spec.model_dump(mode="json"),
            spec_hash=spec_hash(record.spec),
            kind=record.kind,
            program_spec=record.program_spec,
            spec_dir=record.spec_dir,
            scenario_source=inputs.source,
            scenario_hash=inputs.sha256,
            scenario_count=len(inputs.scenarios),
            scenario_ids=[scenario.id for scenario in inputs.scenarios],
            seed=program.roster.seed if seed is None else seed,
            concurrency=concurrency,
            cache=str(cache_path) if cache_path else None,
            package_versions=package_versions(),
            trace=public_location(trace),
            executor=executor.name,
        )
        return cls(
            run_dir,
            manifest,
            program,
            inputs,
            mode="new",
            command="run",
            trace=trace,
            cache=cache_path,
            concurrency=concurrency,
            executor=executor,
            progress=progress,
            ledger=ledger,
            otel=otel,
        )

    @classmethod
    def resume(
        cls,
        run_dir: Path,
        catalog: ProgramCatalog,
        *,
        scenarios: ScenarioSet | None = None,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
        trace: str | None = None,
        ledger: Path | None = None,
        otel: str | None = None,
    ) -> RunSession:
        """An interrupted, killed or failed run (or its last pass, when that is what did not end), to finish with the
        program, inputs, seed and options its run.json records. `scenarios` is needed only when the run's scenarios
        were given in Python; `trace` only when the run's PostgreSQL password is not in the environment; `otel` as
        for `new`."""
        otel = otel_endpoint(otel) if otel is not None else None
        if ledger is not None:
            check_ledger(ledger, run_dir)
        interrupted = open_interrupted_run(run_dir)
        manifest = interrupted.manifest
        record = manifest.unfinished_pass()
        mode: Mode
        if record is not None:
            program = catalog.rebuild_pass(record, manifest, interrupted.events)
            inputs = ScenarioSet(manifest.scenario_source, manifest.scenario_hash, [])
            cache, concurrency, mode = (Path(record.cache) if record.cache else None), record.concurrency, "resume_pass"
        else:
            program, inputs = catalog.rebuild(run_dir, manifest, Reopening(scenarios=scenarios))
            cache, concurrency, mode = (
                (Path(manifest.cache) if manifest.cache else None),
                manifest.concurrency,
                "resume",
            )
        trace = _check_given_trace(trace, manifest, run_dir)
        if cache is not None:
            check_cache_file(cache, "the run's cache")
        session = cls(
            run_dir,
            manifest,
            program,
            inputs,
            mode=mode,
            command="resume",
            trace=trace,
            cache=cache,
            concurrency=concurrency,
            executor=executor,
            progress=progress,
            ledger=ledger,
            events=interrupted.events,
            pass_record=record,
            otel=otel,
        )
        if record is None:
            known = [unit.conversations for unit in session.units]
            check_planned(
                interrupted, None if any(c is None for c in known) else {cid for c in known if c for cid in c}
            )
        return session

    @classmethod
    def append(
        cls,
        run_dir: Path,
        build: PassBuilder,
        *,
        command: str,
        cache_path: Path | None = None,
        concurrency: int = 4,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
        trace: str | None = None,
        ledger: Path | None = None,
    ) -> RunSession:
        """A pass over a finished run, appending to its trace: `build` makes it from the run's manifest and events."""
        if concurrency < 1:
            raise UserError(f"concurrency must be at least 1 (got {concurrency})")
        if ledger is not None:
            check_ledger(ledger, run_dir)
        manifest, events = read_for_appending(run_dir)
        program = build(manifest, events)
        trace = _check_given_trace(trace, manifest, run_dir)
        if cache_path is not None:
            check_cache_file(cache_path)  # last: opening the trace to append comes after every check
        executor = executor or LocalExecutor()
        record = program.record()
        pass_record = PassRecord(
            kind=record.kind,
            spec=record.spec.model_dump(mode="json"),
            options=record.program_spec or {},
            first_event=manifest.events,
            concurrency=concurrency,
            cache=str(cache_path) if cache_path else None,
            executor=executor.name,
        )
        inputs = ScenarioSet(manifest.scenario_source, manifest.scenario_hash, [])
        return cls(
            run_dir,
            manifest,
            program,
            inputs,
            mode="append",
            command=command,
            trace=trace,
            cache=cache_path,
            concurrency=concurrency,
            executor=executor,
            progress=progress,
            ledger=ledger,
            events=events,
            pass_record=pass_record,
        )

    # --- running -----------------------------------------------------------------------------------

    async def run(self) -> RunResult:
        """Run every unit that has not ended; return when all have (run.json then says `completed`)."""
        store = self._open_store()
        status: RunStatus = "running"
        try:
            self._start(store)
            job = SessionJob(
                run_id=self.manifest.run_id,
                run_dir=str(self.run_dir),
                inputs=self.inputs,
                trace=self.trace,
                cache=str(self.cache) if self.cache else None,
                seed=self.manifest.seed,
                concurrency=self.concurrency,
                since_seq=store.last_seq,
                structured_found={key: found.mode for key, found in self._usage.structured_output.items()},
                otel=self.otel,
            )
            pending = [unit for unit in self.units if unit.id not in self._latest]
            self._report_progress()
            try:
                await self.executor.run(job, self.program, pending, lambda report: self._on_report(report, store))
                status = "completed"
            except (asyncio.CancelledError, KeyboardInterrupt):
                status = "interrupted"
                raise
            except BaseException:
                status = "failed"
                raise
        finally:
            self._end(store, status)
        return RunResult(self.run_dir, self.manifest, dict(self._tally), self.program)

    def _open_store(self) -> TraceStore:
        if self.mode == "new":
            if self.trace is not None:
                # Reach the database (and create its tables) before anything is written: a wrong URL leaves no run
                # directory.
                store = open_store(self.trace, self.run_dir, self.manifest.run_id)
                self.run_dir.mkdir(parents=True, exist_ok=True)
                return store
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.manifest.write(self.run_dir)
        store = open_store(self.trace, self.run_dir, self.manifest.run_id)
        if self.mode == "append" and store.last_hash != self.manifest.final_hash:
            store.close()
            raise UserError(
                f"the trace of run '{self.run_dir}' changed while it was read (another process appends to it);"
                " judge it again once that is done"
            )
        return store

    def _start(self, store: TraceStore) -> None:
        """Mark run.json `running` (and the pass), with what stands of the run's work so far."""
        manifest, now = self.manifest, utc_now()
        manifest.status, manifest.ended_at = "running", None
        if self.mode in ("new", "resume"):
            self._base = ConversationCounts(planned=self.program.planned(self.units))
        else:
            self._base = manifest.conversations.model_copy()
        if self.mode == "new":
            self._usage = UsageReport()
        elif self.mode == "append":
            self._usage = manifest.usage.model_copy(deep=True)
        else:
            # The usage of the earlier part, as its calls were recorded; failures per kind as run.json last had them.
            self._usage = UsageReport(
                retries_by_kind=dict(manifest.usage.retries_by_kind),
                failures_by_kind=dict(manifest.usage.failures_by_kind),
            )
            count_recorded_calls(self._usage, self.recorded, ModelPool(self.program.roster, None).prices())
        if self.mode == "resume":
            manifest.resumed_at.append(now)
            manifest.executor = self.executor.name
            self._latest = self.program.standing(self.recorded, self.units)
        if self.mode == "append" and self.pass_record is not None:
            manifest.passes.append(self.pass_record)
        if self.mode == "resume_pass" and self.pass_record is not None:
            manifest.resumed_at.append(now)
            self.pass_record.resumed_at.append(now)
            self.pass_record.executor = self.executor.name
        if self.pass_record is not None:
            self.pass_record.status, self.pass_record.ended_at = "running", None
        self._record(store)

    def _on_report(self, report: UnitReport, store: TraceStore) -> None:
        self._latest[report.unit_id] = report
        self._usage.merge(report.usage)
        self._tally.update(report.tally)
        if time.monotonic() - self._last_record >= RECORD_INTERVAL_S:
            self._record(store)
        self._report_progress()

    def _report_progress(self) -> None:
        if isinstance(self.progress, UsageListener):
            failed = sum(report.counts.failed for report in self._latest.values())
            self.progress.on_usage(self._usage.total, failed)
        if self.progress:
            self.progress(sum(report.steps for report in self._latest.values()), self.program.steps(self.units))

    def _end(self, store: TraceStore, status: RunStatus) -> None:
        """Record how the run ended, release the store, and anchor the run when it completed or was interrupted."""
        now = utc_now()
        try:
            if (self.run_dir / MANIFEST_FILE).exists():
                self.manifest.status, self.manifest.ended_at = status, now
                if self.pass_record is not None:
                    self.pass_record.status, self.pass_record.ended_at = status, now
                self._record(store)
        finally:
            store.close()
        if self.ledger is not None and status in ("completed", "interrupted"):
            append_anchor(self.ledger, self.run_dir, self.command)
        if self.otel is not None:
            manifest = self.manifest
            root = run_span(
                manifest.run_id, manifest.protocol, manifest.started_at, now, status, manifest.conversations.planned
            )
            send_spans(self.otel, [root])

    def _record(self, store: TraceStore) -> None:
        """Write run.json with the counts, usage and trace position as they are now."""
        manifest, usage = self.manifest, self._usage
        counts = self._base.model_copy()
        for report in self._latest.values():
            counts.planned += report.counts.planned
            counts.completed += report.counts.completed
            counts.failed += report.counts.failed
        manifest.conversations = counts
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
        self._last_record = time.monotonic()


def run_to_end(session: RunSession) -> RunResult:
    """Run a session in a new event loop; Ctrl-C becomes a `RunInterrupted` naming the run directory once it exists."""
    try:
        return asyncio.run(session.run())
    except KeyboardInterrupt:
        if (session.run_dir / MANIFEST_FILE).is_file():
            raise RunInterrupted(session.run_dir) from None
        raise
