"""The Python front door: load a spec, run it on scenarios, get the run directory back; resume an interrupted run."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moot.agents.cache import check_cache_file, default_cache_path
from moot.errors import UserError
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.executor import Executor
from moot.graphs.runner import ProgressCallback, RunInterrupted, RunResult, prepare_run_dir, resume_async, run_async
from moot.protocols.loader import LoadedSpec, load_spec, validate_spec_data
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios, resolve_scenario_source
from moot.scenarios.cooperation import first_base_scenarios
from moot.trace.location import check_trace_location
from moot.trace.ledger import anchored

USE_DEFAULT_CACHE = "default"


def as_spec(spec: ProtocolSpec | LoadedSpec | dict[str, Any] | str | Path) -> LoadedSpec:
    """Accept a spec object, a dict of the same structure, a YAML path or a bundled name."""
    if isinstance(spec, LoadedSpec):
        return spec
    if isinstance(spec, ProtocolSpec):
        return LoadedSpec(spec, None)
    if isinstance(spec, dict):
        return LoadedSpec(validate_spec_data(spec), None)
    return load_spec(spec)


def compile_loaded(loaded: LoadedSpec) -> CompiledProtocol:
    """Compile a loaded spec (an explorer spec to its explorer); a SpecError becomes one line naming the file and line."""
    from moot.errors import SpecError
    from moot.protocols.explorer import ExplorerSpec

    if isinstance(loaded.spec, ExplorerSpec):
        from moot.judges.explorer import compile_explorer_loaded

        return compile_explorer_loaded(loaded)
    try:
        return compile_protocol(loaded.spec)
    except SpecError as exc:
        raise loaded.error(exc) from None


def as_scenarios(
    scenarios: ScenarioSet | Sequence[Scenario | dict[str, Any]] | str | Path | None, loaded: LoadedSpec, limit: int | None = None
) -> ScenarioSet:
    """Scenarios from a set, a list, a file, a bundled name, or the spec's default; first `limit` of them."""
    if scenarios is None:
        if loaded.spec.scenarios is None:
            raise UserError(f"spec '{loaded.spec.name}' names no scenarios; pass a scenario file")
        scenarios = loaded.spec.scenarios
        base = loaded.base_dir
    else:
        base = None
    if isinstance(scenarios, (str, Path)):
        result = load_scenarios(resolve_scenario_source(str(scenarios), base))
    elif isinstance(scenarios, ScenarioSet):
        result = scenarios
    else:
        items = [s if isinstance(s, Scenario) else Scenario.model_validate(s) for s in scenarios]
        result = ScenarioSet(source="(python)", sha256="", scenarios=items)
    if limit is not None:
        if limit < 1:
            raise UserError(f"--limit must be at least 1 (got {limit})")
        # Rows that share a base scenario (its role swaps) are kept or left out together.
        result = ScenarioSet(result.source, result.sha256, first_base_scenarios(result.scenarios, limit))
    return result


def run(
    spec: ProtocolSpec | LoadedSpec | dict[str, Any] | str | Path,
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
) -> RunResult:
    """Run an experiment and return where its run directory is.

    `cache` is a cache file, `"default"` for the shared one (`$MOOT_CACHE` or
    `~/.cache/moot/responses.sqlite`), or None to call the models every time. `executor` runs
    the conversations (default: this process; `executor_named("ray", ...)` for a cluster);
    `trace` is a `postgresql://` URL to keep the trace in that database instead of the run directory.
    `ledger` is a file outside the run directory to which the run's event count and final hash
    are appended when it ends or is interrupted (`moot.trace.ledger`).
    """
    loaded = as_spec(spec)
    protocol = compile_loaded(loaded)
    cache_path = default_cache_path() if cache == USE_DEFAULT_CACHE else (Path(cache) if cache else None)
    if not isinstance(protocol, CompiledProtocol):  # an explorer: its topics are its scenarios
        from moot.judges.explorer import run_explorer

        run_dir = prepare_run_dir(Path(out) if out else None, protocol.roster)
        if cache_path is not None:
            check_cache_file(cache_path)
        with anchored(_ledger(ledger), run_dir, "run"):
            return run_explorer(protocol, out=run_dir, seed=seed, cache_path=cache_path, progress=progress)
    scenario_set = as_scenarios(scenarios, loaded, limit)
    run_dir = prepare_run_dir(Path(out) if out else None, protocol.spec)
    check_trace_location(trace)
    if cache_path is not None:
        # Last of the checks: it creates the cache file when it is new.
        check_cache_file(cache_path)
    with anchored(_ledger(ledger), run_dir, "run"):
        coroutine = run_async(
            protocol,
            scenario_set,
            out=run_dir,
            concurrency=concurrency,
            seed=seed,
            cache_path=cache_path,
            executor=executor,
            progress=progress,
            trace=trace,
        )
        return _until_interrupted(coroutine, run_dir)


def resume(
    run_dir: str | Path,
    scenarios: ScenarioSet | Sequence[Scenario | dict[str, Any]] | None = None,
    *,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    trace: str | None = None,
    ledger: str | Path | None = None,
) -> RunResult:
    """Finish an interrupted (or killed) run with the spec, scenarios, seed and options of its run.json.

    Conversations that stopped are kept; interrupted ones go on from their last complete round.
    `scenarios` is needed only when the run's scenarios were given in Python; `trace` only when
    the run's PostgreSQL password is not in the environment; `ledger` as for `run`.
    """
    given = None
    if scenarios is not None:
        given = scenarios if isinstance(scenarios, ScenarioSet) else ScenarioSet(
            "(python)", "", [s if isinstance(s, Scenario) else Scenario.model_validate(s) for s in scenarios]
        )
    with anchored(_ledger(ledger), Path(run_dir), "resume"):
        coroutine = resume_async(Path(run_dir), scenarios=given, executor=executor, progress=progress, trace=trace)
        return _until_interrupted(coroutine, Path(run_dir))


def _ledger(ledger: str | Path | None) -> Path | None:
    return Path(ledger) if ledger is not None else None


def _until_interrupted(coroutine: Any, run_dir: Path) -> RunResult:
    """Run a run's coroutine; Ctrl-C becomes a RunInterrupted naming the run directory once it exists."""
    from moot.trace.manifest import MANIFEST_FILE

    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        if (run_dir / MANIFEST_FILE).is_file():
            raise RunInterrupted(run_dir) from None
        raise
