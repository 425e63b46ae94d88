"""moot: a multi-agent LLM simulator for deliberation and cooperation protocols.

    import moot
    spec = moot.load_spec("aita_round_robin_3")
    result = moot.run(spec, limit=2)
    print(result.run_dir)
"""

from moot.analysis.summary import RunSummary, summarize_run
from moot.api import resume, run
from moot.errors import SpecError, UserError
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.runner import RunResult
from moot.protocols.loader import LoadedSpec, bundled_specs, load_spec
from moot.protocols.spec import AgentSpec, ProtocolSpec, RoleSpec
from moot.scenarios import Scenario, ScenarioSet, load_scenarios

__version__ = "0.1.0"

__all__ = [
    "AgentSpec",
    "CompiledProtocol",
    "LoadedSpec",
    "ProtocolSpec",
    "RoleSpec",
    "RunResult",
    "RunSummary",
    "Scenario",
    "ScenarioSet",
    "SpecError",
    "UserError",
    "bundled_specs",
    "compile_protocol",
    "load_scenarios",
    "load_spec",
    "resume",
    "run",
    "summarize_run",
]
