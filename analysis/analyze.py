"""`moot analyze`: the measurements of a run, from its run directory alone.

Every run of a protocol gets its generic measurements (the `protocol` section of the metrics,
`study_protocol`; a question explorer's run has its own study alone); a run whose spec names a
`study` (or given one with `--study`) gets that study's measurements on top. The analysis writes
`metrics.json`, `tables/*.csv` and `plots/*.png` into `RUN_DIR/analysis` (or another folder).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moot.analysis.arms import ArmTable, conversation_arms
from moot.analysis.judge_agreement import analyze_judges
from moot.analysis.judge_selection import JudgesRead, judge_roster, select_judge
from moot.analysis.methods import MethodOptions, parse_methods
from moot.analysis.outputs import AnalysisIndex, AnalysisWriter
from moot.analysis.plot_style import FigureOptions, figure_settings
from moot.analysis.protocol_fields import role_schema
from moot.errors import UserError, unknown_name
from moot.outputs import check_output_folder
from moot.protocols.explorer import is_explorer_roster
from moot.protocols.loader import PROTOCOL_KIND
from moot.trace.events import Event
from moot.trace.manifest import RunManifest
from moot.trace.opening import read_run_events

if TYPE_CHECKING:
    from moot.analysis.cross_model import ModelGroups

ANALYSIS_FOLDER = "analysis"


def read_run(run_dir: Path) -> tuple[RunManifest, list[Event]]:
    """The manifest and every event of a run directory, its trace checked to be run.json's and read without writing."""
    return read_run_events(run_dir)


def study_of(manifest: RunManifest, study: str | None = None) -> str | None:
    """The study to analyse on top of the protocol's measurements: the one asked for, else the spec's, else None."""
    chosen = study or manifest.spec.get("study")
    if chosen is None:
        return None
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
    arm_table: ArmTable | None = None
    """The arm of every conversation, when given (runs put together by `moot compare`); None to read it from the
    events."""
    run_manifests: dict[str, RunManifest] = field(default_factory=dict)
    """The manifest of each run put together by `moot compare`, by its label; empty for one run."""
    groups: ModelGroups | None = None
    """Named groups of models, for the agreement within and between groups (`--groups`)."""
    shown: tuple[str, ...] = ()
    """The models a plot that compares models draws (`--show`; empty: every model)."""
    methods: MethodOptions = field(default_factory=MethodOptions)
    """How quantities with more than one method are computed (`--method NAME=VALUE`; `moot.analysis.methods`)."""

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved spec of the run."""
        return self.manifest.spec

    @cached_property
    def arms(self) -> ArmTable:
        """The arm, models, speaking order and repeat of every conversation (`moot.analysis.arms`)."""
        return self.arm_table if self.arm_table is not None else conversation_arms(self.events, self.spec)


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

PROTOCOL_ANALYSIS = "moot.analysis.study_protocol:analyze_protocol_run"
"""The generic analysis every run gets, whatever its protocol (imported when used)."""
PROTOCOL_SECTION = "protocol"
"""Its key in the metrics, and the study name of a run analysed without a study."""

STUDY_SPEAKER_FIELDS: dict[str, str] = {"deliberation": "verdict"}
"""The field a study reads from the speakers' messages, for studies that read one: a run whose speakers do not
answer with it gets a note instead of the study's (empty) measurements."""

JUDGES_SECTION = "judges"
"""The key in the metrics of the agreement between judges of one kind (when a run has two or more)."""

COMPANIONS = ("baseline", "stated", "unsteered", "short")
"""Companion runs an analysis may read beside the run itself."""


def study_analysis(study: str) -> StudyAnalysis:
    """The analysis function of a study."""
    return _imported(STUDY_ANALYSES[study])


def _imported(target: str) -> StudyAnalysis:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def study_misfit(study: str, spec: dict[str, Any]) -> str | None:
    """Why a run's protocol cannot give a study's measurements (its speakers lack the field it reads), else None."""
    needed = STUDY_SPEAKER_FIELDS.get(study)
    if needed is None:
        return None
    speakers = [
        list((role_schema(role) or {}).get("properties", {}))
        for role in (spec.get("roles") or {}).values()
        if role.get("kind", "speaker") == "speaker"
    ]
    if any(needed in fields for fields in speakers):
        return None
    given = sorted({f for fields in speakers for f in fields})
    return (
        f"study '{study}' reads the speakers' '{needed}' field, and this protocol's speakers give "
        f"{', '.join(given) if given else 'no field'}: its measurements are left out (the protocol's are above)"
    )


def is_protocol_run(manifest: RunManifest) -> bool:
    """The run is of a protocol (not of another kind of program, such as a question explorer)."""
    if manifest.kind is not None:
        return manifest.kind == PROTOCOL_KIND
    return not is_explorer_roster(manifest.spec)  # a run.json written before runs recorded their kind


def _run_study(study: str, inputs: AnalysisInputs, writer: AnalysisWriter) -> dict[str, Any]:
    """A study's metrics; a note instead when the protocol does not fit it, or when it measured nothing."""
    misfit = study_misfit(study, inputs.spec)
    if misfit:
        writer.note(misfit)
        return {}
    plots, notes = len(writer.plots), len(writer.notes)
    metrics = study_analysis(study)(inputs, writer)
    drawn = [path for path in list(writer.plots.values())[plots:] if (writer.folder / path).is_file()]
    if not drawn and len(writer.notes) == notes:
        writer.note(f"study '{study}' drew no plot from this run: check that the protocol is one of the study's")
    return metrics


def analyze_run(
    run_dir: Path | str,
    out: Path | str | None = None,
    *,
    study: str | None = None,
    companions: dict[str, Path | str | None] | None = None,
    labels: Path | str | None = None,
    judge: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    groups: str | None = None,
    shown: str | None = None,
    methods: Sequence[str] | Mapping[str, object] | None = None,
    figures: FigureOptions | None = None,
) -> tuple[Path, AnalysisIndex]:
    """Analyse a run (its protocol's measurements, and its study's when it has one); return the analysis folder and
    its index (`metrics.json`).

    `companions` names other run directories the study compares with: `baseline` (a solo run,
    deliberation), `stated` (a stated-preference run of the same scenarios, cooperation),
    `unsteered` (the same protocol without value steering, for adaptation measures). `labels` is
    a CSV of human labels (cooperation: concession labels). `judge` names the judge whose decisions are read in
    place of its kind's default judge (`moot.analysis.judge_selection`); a run whose judges of one kind are two or
    more gets the `judges` section, their agreement. `groups` names groups of models to compare within and
    between (`NAME=M1,M2;NAME=M3` or a YAML file); `shown` the models a plot comparing models draws (`M1,M2`);
    `methods` the method options (`NAME=VALUE` strings or a mapping; `moot.analysis.methods`); `figures` how the
    plots are written (`plot_style.FigureOptions`: PNG dpi, PDF beside PNG and SVG).
    """
    run_dir = Path(run_dir)
    if out is not None:
        check_output_folder(Path(out), "--out")
    manifest, all_events = read_run(run_dir)
    roster = judge_roster(manifest, all_events)
    events = select_judge(all_events, roster, judge)
    chosen = study_of(manifest, study)
    if n_boot < 10:
        raise UserError(f"--boot must be at least 10 (got {n_boot})")
    extra, extra_specs = {}, {}
    for name, path in (companions or {}).items():
        if name not in COMPANIONS:
            raise UserError(f"companion run '{name}' is unknown; known: {', '.join(COMPANIONS)}")
        if path is not None:
            companion, companion_events = read_run(Path(path))
            extra[name] = select_judge(companion_events, judge_roster(companion, companion_events))
            extra_specs[name] = companion.spec
    from moot.analysis.cross_model import ModelGroups, shown_models

    inputs = AnalysisInputs(
        events,
        manifest,
        extra,
        Path(labels) if labels else None,
        n_boot,
        seed,
        companion_specs=extra_specs,
        groups=ModelGroups.parse(groups) if groups is not None else None,
        shown=shown_models(shown),
        methods=MethodOptions(parse_methods(methods)),
    )
    folder = Path(out) if out is not None else run_dir / ANALYSIS_FOLDER
    index = write_analysis(
        inputs,
        folder,
        chosen,
        run_id=manifest.run_id,
        final_hash=manifest.final_hash,
        judges=JudgesRead(roster, all_events, judge),
        figures=figures,
    )
    return folder, index


def write_analysis(
    inputs: AnalysisInputs,
    folder: Path,
    study: str | None,
    *,
    run_id: str,
    final_hash: str | None,
    notes: Sequence[str] = (),
    extra_files: Mapping[str, str] | None = None,
    judges: JudgesRead | None = None,
    figures: FigureOptions | None = None,
) -> AnalysisIndex:
    """Analyse the inputs (the protocol's measurements, and `study`'s) into `folder`; return its index.

    The analysis is written into a staging folder renamed to `folder` once complete (with
    `extra_files`, name -> text, beside `metrics.json`), so a failure leaves the previous analysis
    whole. `notes` open the analysis's notes; `judges`, when two or more judges decide one kind of thing, gives the
    `judges` section (their agreement). The plots are written with `figures` (PNG dpi, PDF), every agent and model
    of the run in one colour across them. A run and a comparison of runs (`moot compare`) are analysed by this one
    function.
    """
    staging = folder.with_name(folder.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    writer = AnalysisWriter(staging)
    for note in notes:
        writer.note(note)
    try:
        with figure_settings(figures, colour_names(inputs.spec)):
            index = _analyse(inputs, writer, study, run_id=run_id, final_hash=final_hash, judges=judges)
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # Replace the previous analysis only once the new one is complete, so a failure leaves the old one whole.
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return index


def _analyse(
    inputs: AnalysisInputs,
    writer: AnalysisWriter,
    study: str | None,
    *,
    run_id: str,
    final_hash: str | None,
    judges: JudgesRead | None,
) -> AnalysisIndex:
    """The protocol's, the study's and the judges' measurements written by `writer`; its index, finished."""
    metrics: dict[str, Any] = {}
    if is_protocol_run(inputs.manifest):
        metrics[PROTOCOL_SECTION] = _imported(PROTOCOL_ANALYSIS)(inputs, writer)
    if study is not None:
        metrics.update(_run_study(study, inputs, writer))
    if judges is not None and judges.roster.compared():
        metrics[JUDGES_SECTION] = analyze_judges(judges.roster, judges.events, writer, judges.chosen)
    inputs.methods.check_all_read(study or PROTOCOL_SECTION)
    return writer.finish(
        AnalysisIndex(
            run_id=run_id,
            study=study or PROTOCOL_SECTION,
            final_hash=final_hash,
            metrics=metrics,
            methods=dict(inputs.methods.in_force),
        )
    )


def colour_names(spec: Mapping[str, Any]) -> list[str]:
    """The names whose colours the figures of a run keep: its agents, in order, then its models."""
    agents = [agent for agent in spec.get("agents") or [] if isinstance(agent, Mapping)]
    models = [str(agent.get("model") or spec.get("model") or "") for agent in agents]
    return [str(agent.get("name", "")) for agent in agents] + [model for model in models if model]
