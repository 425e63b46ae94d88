"""`moot analyze`: the measurements of a run's study, from its run directory alone.

The study comes from the spec recorded in `run.json` (its `study` field). The analysis writes
`metrics.json`, `tables/*.csv` and `plots/*.png` into `RUN_DIR/analysis` (or another folder).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moot.analysis.outputs import AnalysisIndex, AnalysisWriter
from moot.errors import UserError, unknown_name
from moot.outputs import check_output_folder
from moot.trace.events import Event
from moot.trace.manifest import RunManifest
from moot.trace.opening import read_run_events

ANALYSIS_FOLDER = "analysis"


def read_run(run_dir: Path) -> tuple[RunManifest, list[Event]]:
    """The manifest and every event of a run directory, its trace checked to be run.json's and read without writing."""
    return read_run_events(run_dir)


def study_of(manifest: RunManifest, study: str | None = None) -> str:
    """The study to analyse: the one asked for, else the spec's."""
    chosen = study or manifest.spec.get("study")
    if chosen is None:
        raise UserError(
            f"run '{manifest.run_id}' (protocol '{manifest.protocol}') names no study; "
            f"pass --study ({', '.join(STUDY_ANALYSES)})"
        )
    if chosen not in STUDY_ANALYSES:
        raise UserError(unknown_name("study", chosen, STUDY_ANALYSES))
    return chosen


@dataclass(frozen=True)
class AnalysisInputs:
    """What a study's analysis reads: the run, its companion runs, and the analysis options."""

    events: list[Event]
    """Every event of the run."""
    manifest: RunManifest
    """The run's manifest (its `spec` is the resolved spec)."""
    companions: dict[str, list[Event]] = field(default_factory=dict)
    """Events of companion runs by role: `baseline` (solo), `stated`, `unsteered`."""
    labels: Path | None = None
    """A CSV of human labels, for studies that check a judge against them."""
    n_boot: int = 1000
    """Bootstrap resamples."""
    seed: int = 0
    """Seed of the bootstrap."""
    companion_specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resolved spec of each companion run, by role (e.g. which agents saw a dilemma's actions swapped)."""

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved spec of the run."""
        return self.manifest.spec


StudyAnalysis = Callable[[AnalysisInputs, AnalysisWriter], dict[str, Any]]
"""A study's analysis: inputs and a writer for tables and plots in, the metrics out."""

STUDY_ANALYSES: dict[str, str] = {
    "deliberation": "moot.analysis.study_deliberation:analyze_deliberation_run",
    "cooperation": "moot.analysis.study_cooperation:analyze_cooperation_run",
    "stated_preference": "moot.analysis.study_cooperation:analyze_stated_run",
    "value_portrait": "moot.analysis.study_value_portrait:analyze_value_portrait_run",
    "consistency": "moot.analysis.study_consistency:analyze_consistency_run",
    "question_generation": "moot.analysis.study_question_generation:analyze_question_generation_run",
    "question_evaluation": "moot.analysis.study_question_evaluation:analyze_question_evaluation_run",
}
"""The analysis of each study, as `module:function` (imported when used)."""

COMPANIONS = ("baseline", "stated", "unsteered", "short")
"""Companion runs an analysis may read beside the run itself."""


def study_analysis(study: str) -> StudyAnalysis:
    """The analysis function of a study."""
    module, _, function = STUDY_ANALYSES[study].partition(":")
    return getattr(importlib.import_module(module), function)


def analyze_run(
    run_dir: Path | str,
    out: Path | str | None = None,
    *,
    study: str | None = None,
    companions: dict[str, Path | str | None] | None = None,
    labels: Path | str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[Path, AnalysisIndex]:
    """Analyse a run; return the analysis folder and its index (`metrics.json`).

    `companions` names other run directories the study compares with: `baseline` (a solo run,
    deliberation), `stated` (a stated-preference run of the same scenarios, cooperation),
    `unsteered` (the same protocol without value steering, for adaptation measures). `labels` is
    a CSV of human labels (cooperation: concession labels).
    """
    run_dir = Path(run_dir)
    if out is not None:
        check_output_folder(Path(out), "--out")
    manifest, events = read_run(run_dir)
    chosen = study_of(manifest, study)
    if n_boot < 10:
        raise UserError(f"--boot must be at least 10 (got {n_boot})")
    extra, extra_specs = {}, {}
    for name, path in (companions or {}).items():
        if name not in COMPANIONS:
            raise UserError(f"companion run '{name}' is unknown; known: {', '.join(COMPANIONS)}")
        if path is not None:
            companion, extra[name] = read_run(Path(path))
            extra_specs[name] = companion.spec
    inputs = AnalysisInputs(
        events, manifest, extra, Path(labels) if labels else None, n_boot, seed, companion_specs=extra_specs
    )
    folder = Path(out) if out is not None else run_dir / ANALYSIS_FOLDER
    staging = folder.with_name(folder.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    writer = AnalysisWriter(staging)
    try:
        metrics = study_analysis(chosen)(inputs, writer)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    index = writer.finish(
        AnalysisIndex(run_id=manifest.run_id, study=chosen, final_hash=manifest.final_hash, metrics=metrics)
    )
    # Replace the previous analysis only once the new one is complete, so a failure leaves the old one whole.
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return folder, index
