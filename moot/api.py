"""The Python front door: load a spec, run it, get the run back opened (`moot.runs.Run`); resume an interrupted run.

Every kind of spec goes the same way: the program catalog (`moot.judges.programs`) turns it into
the program its kind says, and a run session (`moot.graphs.session`) runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moot.agents.cache import default_cache_path
from moot.graphs.executor import Executor
from moot.graphs.program import Program, ProgressCallback, RunOptions, RunResult
from moot.graphs.session import RunSession, run_to_end
from moot.judges.programs import CATALOG, compile_program, prepare_program
from moot.protocols.loader import LoadedSpec, as_loaded
from moot.runs import Run, open_run
from moot.scenarios import Scenario, ScenarioSet

USE_DEFAULT_CACHE = "default"


def compile_loaded(loaded: LoadedSpec) -> Any:
    """Compile a loaded spec of any kind into its program (a protocol's `CompiledProtocol`, an explorer's
    `CompiledExplorer`); a SpecError becomes one line naming the file and line."""
    return compile_program(loaded)


def run(
    spec: Any,
    scenarios: ScenarioSet | Sequence[Scenario | dict[str, Any]] | str | Path | None = None,
    *,
    out: str | Path | None = None,
    limit: int | None = None,
    concurrency: int = 4,
    seed: int | None = None,
    cache: str | Path | None = USE_DEFAULT_CACHE,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: str | Path | None = None,
    otel: str | None = None,
) -> Run:
    """Run a spec of any kind (a `ProtocolSpec` or `ExplorerSpec`, a `LoadedSpec`, or what `moot.load_spec` takes: a
    dict of the same structure, YAML text, a YAML path or a bundled name) and return the run, opened (`open_run`).

    `scenarios` are a protocol's (default: the spec's); an explorer runs over its topics. `cache`
    is a cache file, `"default"` for the shared one (`$MOOT_CACHE` or
    `~/.cache/moot/responses.sqlite`), or None to call the models every time. `executor` runs
    the units of work (default: this process; `executor_named("ray", ...)` for a cluster);
    `trace` is a `postgresql://` URL to keep the trace in that database instead of the run directory.
    `ledger` is a file outside the run directory to which the run's event count and final hash
    are appended when it ends or is interrupted (`moot.trace.ledger`). `otel` is an OTLP/HTTP endpoint
    (`http://HOST:4318`) to send the run's spans to as it runs (needs the `otel` extra).
    """
    program, inputs = prepare_program(as_loaded(spec), RunOptions(scenarios=scenarios, limit=limit))
    ended = run_program(
        program,
        inputs,
        out=out,
        concurrency=concurrency,
        seed=seed,
        cache=cache,
        executor=executor,
        progress=progress,
        trace=trace,
        ledger=ledger,
        otel=otel,
    )
    return open_run(ended.run_dir, trace=trace)


def run_program(
    program: Program,
    inputs: ScenarioSet,
    *,
    out: str | Path | None = None,
    concurrency: int = 4,
    seed: int | None = None,
    cache: str | Path | None = USE_DEFAULT_CACHE,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: str | Path | None = None,
    otel: str | None = None,
) -> RunResult:
    """Run a program already compiled (`moot.judges.programs.prepare_program`) over its inputs; options as for `run`."""
    cache_path = default_cache_path() if cache == USE_DEFAULT_CACHE else (Path(cache) if cache else None)
    session = RunSession.new(
        program,
        inputs,
        out=Path(out) if out else None,
        seed=seed,
        concurrency=concurrency,
        cache_path=cache_path,
        trace=trace,
        executor=executor,
        progress=progress,
        ledger=_ledger(ledger),
        otel=otel,
    )
    return run_to_end(session)


def resume(
    run_dir: str | Path,
    scenarios: ScenarioSet | Sequence[Scenario | dict[str, Any]] | None = None,
    *,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: str | Path | None = None,
    otel: str | None = None,
) -> Run:
    """Finish an interrupted (or killed, or failed) run, or the pass over it that did not end, with the program,
    inputs, seed and options of its run.json; the run, opened (`open_run`).

    What ended is kept; the rest goes on from where it stands. `scenarios` is needed only when
    the run's scenarios were given in Python; `trace` only when the run's PostgreSQL password is
    not in the environment; `ledger` and `otel` as for `run`.
    """
    ended = resume_program(
        run_dir, scenarios, executor=executor, progress=progress, trace=trace, ledger=ledger, otel=otel
    )
    return open_run(ended.run_dir, trace=trace)


def resume_program(
    run_dir: str | Path,
    scenarios: ScenarioSet | Sequence[Scenario | dict[str, Any]] | None = None,
    *,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: str | Path | None = None,
    otel: str | None = None,
) -> RunResult:
    """`resume`, returning what the program counted (`RunResult`: the CLI prints its summary) rather than the run."""
    given = None
    if scenarios is not None:
        given = (
            scenarios
            if isinstance(scenarios, ScenarioSet)
            else ScenarioSet(
                "(python)", "", [s if isinstance(s, Scenario) else Scenario.model_validate(s) for s in scenarios]
            )
        )
    session = RunSession.resume(
        Path(run_dir),
        CATALOG,
        scenarios=given,
        executor=executor,
        progress=progress,
        trace=trace,
        ledger=_ledger(ledger),
        otel=otel,
    )
    return run_to_end(session)


def _ledger(ledger: str | Path | None) -> Path | None:
    return Path(ledger) if ledger is not None else None
