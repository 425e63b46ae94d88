"""Programs that run judges and generators over the engine: judging a finished run (`posthoc`: values of each
message; `arguments`: arguments, their values and specificity; `rejudging`: a judge role of the run's spec played
again under a new name; `judging`: which of them `moot judge --judge` calls for), the question explorer
(`explorer`, scored by `explorer_scoring`), and scenario generation and filtering (`scenario_generation`).

A judge's reply that cannot be parsed is recorded as unparsed, never raised.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.judges.arguments import ArgumentJudgingReport, judge_arguments_run
    from moot.judges.explorer import CompiledExplorer, compile_explorer, compile_explorer_loaded
    from moot.judges.judging import judge_pass
    from moot.judges.posthoc import JudgingReport, judge_run
    from moot.judges.programs import CATALOG, compile_program
    from moot.judges.rejudging import judge_role_run
    from moot.judges.scenario_generation import FilterReport, filter_decisions, generation_jobs
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.judges.arguments": ("ArgumentJudgingReport", "judge_arguments_run"),
            "moot.judges.explorer": ("CompiledExplorer", "compile_explorer", "compile_explorer_loaded"),
            "moot.judges.judging": ("judge_pass",),
            "moot.judges.programs": ("CATALOG", "compile_program"),
            "moot.judges.rejudging": ("judge_role_run",),
            "moot.judges.posthoc": ("JudgingReport", "judge_run"),
            "moot.judges.scenario_generation": ("FilterReport", "filter_decisions", "generation_jobs"),
        },
    )

__all__ = [
    "CATALOG",
    "ArgumentJudgingReport",
    "CompiledExplorer",
    "FilterReport",
    "JudgingReport",
    "compile_explorer",
    "compile_explorer_loaded",
    "compile_program",
    "filter_decisions",
    "generation_jobs",
    "judge_arguments_run",
    "judge_pass",
    "judge_role_run",
    "judge_run",
]
