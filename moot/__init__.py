"""moot: a multi-agent LLM simulator for deliberation and cooperation protocols.

    import moot
    spec = moot.load_spec("aita_round_robin_3")
    run = moot.run(spec, limit=2)  # the run, opened: `moot.open_run(run.run_dir)` gives the same
    print(run.summary())
    run.messages()  # a DataFrame (the extra `moot[pandas]`)

Its public names (`__all__`) are imported from their modules on first use, so `import moot` alone
loads neither the engine nor its libraries; `moot.__version__` is read from the installed
package's metadata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moot.lazy import lazy_exports

UNKNOWN_VERSION = "0+unknown"
"""`__version__` when moot runs from files that were not installed (no package metadata)."""

if TYPE_CHECKING:
    from moot.analysis.summary import RunSummary, summarize_run
    from moot.api import resume, run
    from moot.comparisons import Comparison, compare, open_comparison
    from moot.errors import SpecError, UserError
    from moot.graphs.compiler import CompiledProtocol, compile_protocol
    from moot.graphs.executor import executor_named
    from moot.graphs.runner import RunResult
    from moot.protocols.loader import LoadedSpec, bundled_specs, load_spec
    from moot.protocols.spec import AgentSpec, ProtocolSpec, RoleSpec
    from moot.runs import Run, judge, open_run
    from moot.scenarios import Scenario, ScenarioSet, load_scenarios

    __version__: str
else:
    _exported, _listed = lazy_exports(
        __name__,
        {
            "moot.analysis.summary": ("RunSummary", "summarize_run"),
            "moot.api": ("resume", "run"),
            "moot.comparisons": ("Comparison", "compare", "open_comparison"),
            "moot.errors": ("SpecError", "UserError"),
            "moot.graphs.compiler": ("CompiledProtocol", "compile_protocol"),
            "moot.graphs.executor": ("executor_named",),
            "moot.graphs.runner": ("RunResult",),
            "moot.protocols.loader": ("LoadedSpec", "bundled_specs", "load_spec"),
            "moot.protocols.spec": ("AgentSpec", "ProtocolSpec", "RoleSpec"),
            "moot.runs": ("Run", "judge", "open_run"),
            "moot.scenarios": ("Scenario", "ScenarioSet", "load_scenarios"),
        },
    )

    def __getattr__(name: str) -> Any:
        """A public name of moot, imported from its module on first use; `__version__` read once from the metadata."""
        if name == "__version__":
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version(__name__)
            except PackageNotFoundError:
                found = UNKNOWN_VERSION
            globals()["__version__"] = found
            return found
        return _exported(name)

    def __dir__() -> list[str]:
        """The public names of moot, those not imported yet included."""
        return sorted({*_listed(), "__version__"})


__all__ = [
    "AgentSpec",
    "Comparison",
    "CompiledProtocol",
    "LoadedSpec",
    "ProtocolSpec",
    "RoleSpec",
    "Run",
    "RunResult",
    "RunSummary",
    "Scenario",
    "ScenarioSet",
    "SpecError",
    "UserError",
    "bundled_specs",
    "compare",
    "compile_protocol",
    "executor_named",
    "judge",
    "load_scenarios",
    "load_spec",
    "open_comparison",
    "open_run",
    "resume",
    "run",
    "summarize_run",
]
