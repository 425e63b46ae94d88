"""The Python front door: load a spec, run it on scenarios, get the run directory back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moot.agents.cache import default_cache_path
from moot.errors import UserError
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.executor import Executor
from moot.graphs.runner import ProgressCallback, RunResult, run_async
from moot.protocols.loader import LoadedSpec, load_spec, validate_spec_data
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios, resolve_scenario_source
from moot.scenarios.cooperation import first_base_scenarios

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
    """Compile a loaded spec; a SpecError becomes one line naming the file and line."""
    from moot.errors import SpecError

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
) -> RunResult:
    """Run an experiment and return where its run directory is.

    `cache` is a cache file, `"default"` for the shared one (`$MOOT_CACHE` or
    `~/.cache/moot/responses.sqlite`), or None to call the models every time.
    """
    loaded = as_spec(spec)
    protocol = compile_loaded(loaded)
    scenario_set = as_scenarios(scenarios, loaded, limit)
    cache_path = default_cache_path() if cache == USE_DEFAULT_CACHE else (Path(cache) if cache else None)
    return asyncio.run(
        run_async(
            protocol,
            scenario_set,
            out=Path(out) if out else None,
            concurrency=concurrency,
            seed=seed,
            cache_path=cache_path,
            executor=executor,
            progress=progress,
        )
    )
