"""From specs to running graphs: state, turn policies, visibility, stop rules, checks, compiler, runner, executors.

`compile_protocol` turns a spec into a LangGraph state machine. Every kind of run (a protocol, an
explorer, a judging pass) is a `Program` run by one `RunSession`, which opens or resumes the run
directory, its trace, cache and models; `run_async` and `resume_async` are its two entry points,
on an `Executor` (`executor_named`). The audits of a finished run are here too: `verify_run`
(chain, manifest, what each agent was shown) and `replay_run` (the run again from its recorded
replies).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.graphs.audit import verify_run
    from moot.graphs.compiler import CompiledProtocol, compile_protocol
    from moot.graphs.conformance import ConformanceReport, check_conformance
    from moot.graphs.drawing import (
        VisibilityRow,
        protocol_dot,
        protocol_mermaid,
        protocol_svg,
        protocol_text,
        speaker_edges,
        speaking_order,
        visibility_table,
    )
    from moot.graphs.executor import Executor, LocalExecutor, executor_named
    from moot.graphs.program import Program, ProgramCatalog, RunResult, WorkUnit
    from moot.graphs.replay import ReplayReport, replay_run
    from moot.graphs.runner import resume_async, run_async
    from moot.graphs.session import RunInterrupted, RunSession, prepare_run_dir
    from moot.graphs.state import ConversationState, TranscriptMessage
    from moot.graphs.turns import RoundPlan, plan_round
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.graphs.audit": ("verify_run",),
            "moot.graphs.compiler": ("CompiledProtocol", "compile_protocol"),
            "moot.graphs.conformance": ("ConformanceReport", "check_conformance"),
            "moot.graphs.drawing": (
                "VisibilityRow",
                "protocol_dot",
                "protocol_mermaid",
                "protocol_svg",
                "protocol_text",
                "speaker_edges",
                "speaking_order",
                "visibility_table",
            ),
            "moot.graphs.executor": ("Executor", "LocalExecutor", "executor_named"),
            "moot.graphs.replay": ("ReplayReport", "replay_run"),
            "moot.graphs.program": ("Program", "ProgramCatalog", "RunResult", "WorkUnit"),
            "moot.graphs.runner": ("resume_async", "run_async"),
            "moot.graphs.session": ("RunInterrupted", "RunSession", "prepare_run_dir"),
            "moot.graphs.state": ("ConversationState", "TranscriptMessage"),
            "moot.graphs.turns": ("RoundPlan", "plan_round"),
        },
    )

__all__ = [
    "CompiledProtocol",
    "ConformanceReport",
    "ConversationState",
    "Executor",
    "LocalExecutor",
    "Program",
    "ProgramCatalog",
    "ReplayReport",
    "RoundPlan",
    "RunInterrupted",
    "RunResult",
    "RunSession",
    "TranscriptMessage",
    "VisibilityRow",
    "WorkUnit",
    "check_conformance",
    "compile_protocol",
    "executor_named",
    "plan_round",
    "prepare_run_dir",
    "protocol_dot",
    "protocol_mermaid",
    "protocol_svg",
    "protocol_text",
    "replay_run",
    "resume_async",
    "run_async",
    "speaker_edges",
    "speaking_order",
    "verify_run",
    "visibility_table",
]
