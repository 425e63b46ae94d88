"""Running a program into a run directory, and finishing an interrupted run: the engine's two entry points.

An experiment is a protocol x scenarios x agent orders x repeats, each conversation with its
own seed; an explorer's search runs over its topics. Everything is checked before the run
directory is created; once running, a failed conversation is recorded and the run goes on.
Both go through a `RunSession` (`moot.graphs.session`), which keeps run.json current (at most
once every `RECORD_INTERVAL_S`) so that a run killed at any moment can be finished with
`resume_async`. Ctrl-C cancels the calls in flight and leaves the run `interrupted`.
"""

from __future__ import annotations

from pathlib import Path

from moot.graphs.executor import Executor
from moot.graphs.program import Program, ProgramCatalog, ProgressCallback, RunResult
from moot.graphs.session import RECORD_INTERVAL_S, RunInterrupted, RunSession, package_versions, prepare_run_dir
from moot.scenarios import ScenarioSet

__all__ = [
    "RECORD_INTERVAL_S",
    "ProgressCallback",
    "RunInterrupted",
    "RunResult",
    "package_versions",
    "prepare_run_dir",
    "resume_async",
    "run_async",
]


async def run_async(
    program: Program,
    inputs: ScenarioSet,
    *,
    out: Path | None = None,
    concurrency: int = 4,
    seed: int | None = None,
    cache_path: Path | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
) -> RunResult:
    """Check, then run a program (a compiled protocol, an explorer) over its inputs into a new run directory (its
    trace there, or in the PostgreSQL database `trace`)."""
    session = RunSession.new(
        program,
        inputs,
        out=out,
        seed=seed,
        concurrency=concurrency,
        cache_path=cache_path,
        trace=trace,
        executor=executor,
        progress=progress,
        ledger=ledger,
    )
    return await session.run()


async def resume_async(
    run_dir: Path,
    catalog: ProgramCatalog,
    *,
    scenarios: ScenarioSet | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: Path | None = None,
) -> RunResult:
    """Finish an interrupted run (or the pass over it that did not end) in its directory, with the program, inputs,
    seed and options of its run.json, rebuilt by `catalog`.

    Units that ended are kept as they are; the others go on from where they stand. Scenarios
    come from the file the run started with (refused when it changed) unless given (needed when
    the run's scenarios were given in Python). `trace` is the run's PostgreSQL URL with its
    password, when the environment does not give the password.
    """
    session = RunSession.resume(
        Path(run_dir), catalog, scenarios=scenarios, executor=executor, progress=progress, trace=trace, ledger=ledger
    )
    return await session.run()
