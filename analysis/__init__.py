"""Statistics over traces: each function on plain data, named `<method>_<data>`.

`analyze_run` computes a run's measurements into an analysis folder: the generic ones of its
protocol (`analyze_protocol_run`, over `protocol_records` and the fields `role_fields` reads
from the output schemas) and its study's (`STUDY_ANALYSES`); `compare_runs` analyses several
runs together as the arms of one study, by the same code; `summarize_run` gives the short summary
of a run.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.analysis.analyze import STUDY_ANALYSES, analyze_run, study_of
    from moot.analysis.bootstrap import BootstrapCI, bootstrap_ci, bootstrap_mean_ci
    from moot.analysis.bradley_terry import BradleyTerryFit, bradley_terry_comparisons, bradley_terry_ranking
    from moot.analysis.comparison import ComparisonManifest, compare_runs
    from moot.analysis.debates import DebateRecord, debate_records_events
    from moot.analysis.inertia import InertiaFit, fit_inertia_conformity
    from moot.analysis.judge_agreement import analyze_judges
    from moot.analysis.judge_selection import JudgeRoster, judge_roster, select_judge
    from moot.analysis.outputs import AnalysisIndex
    from moot.analysis.protocol_data import ConversationRecord, protocol_records
    from moot.analysis.protocol_fields import OutputField, role_fields
    from moot.analysis.study_protocol import analyze_protocol_run
    from moot.analysis.summary import RunSummary, summarize_run, summarize_stops
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.analysis.analyze": ("STUDY_ANALYSES", "analyze_run", "study_of"),
            "moot.analysis.bootstrap": ("BootstrapCI", "bootstrap_ci", "bootstrap_mean_ci"),
            "moot.analysis.bradley_terry": ("BradleyTerryFit", "bradley_terry_comparisons", "bradley_terry_ranking"),
            "moot.analysis.comparison": ("ComparisonManifest", "compare_runs"),
            "moot.analysis.debates": ("DebateRecord", "debate_records_events"),
            "moot.analysis.inertia": ("InertiaFit", "fit_inertia_conformity"),
            "moot.analysis.judge_agreement": ("analyze_judges",),
            "moot.analysis.judge_selection": ("JudgeRoster", "judge_roster", "select_judge"),
            "moot.analysis.outputs": ("AnalysisIndex",),
            "moot.analysis.protocol_data": ("ConversationRecord", "protocol_records"),
            "moot.analysis.protocol_fields": ("OutputField", "role_fields"),
            "moot.analysis.study_protocol": ("analyze_protocol_run",),
            "moot.analysis.summary": ("RunSummary", "summarize_run", "summarize_stops"),
        },
    )

__all__ = [
    "STUDY_ANALYSES",
    "AnalysisIndex",
    "BootstrapCI",
    "BradleyTerryFit",
    "ComparisonManifest",
    "ConversationRecord",
    "DebateRecord",
    "InertiaFit",
    "JudgeRoster",
    "OutputField",
    "RunSummary",
    "analyze_judges",
    "analyze_protocol_run",
    "analyze_run",
    "bootstrap_ci",
    "bootstrap_mean_ci",
    "bradley_terry_comparisons",
    "bradley_terry_ranking",
    "compare_runs",
    "debate_records_events",
    "fit_inertia_conformity",
    "judge_roster",
    "protocol_records",
    "role_fields",
    "select_judge",
    "study_of",
    "summarize_run",
    "summarize_stops",
]
