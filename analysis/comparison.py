"""`moot compare`: several runs put together as the arms of one study, and analysed together.

The runs are checked to belong to one study (the same study, the same scenarios: ids and content
as their traces recorded them, or only those all share with `overlap`), each gets a label (its
directory's name, made unique, or one given), and their events are put together with conversation
ids made unique (`LABEL/ID`). The arm of every conversation is its run's own arm (a matrix run
keeps its cells) extended by the run-level dimensions: the spec fields in which the runs differ
(`model.<agent>` for an agent's model, other fields by their dotted path), or `run` when the specs
are the same. The merged runs are analysed by `analyze_run`'s own code path (`write_analysis`),
which writes `comparison.json` beside `metrics.json`, the tables and the plots.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from moot.analysis.analyze import AnalysisInputs, read_run, study_of, write_analysis
from moot.analysis.arms import MODEL_DIM, ArmTable, ConversationArm, conversation_arms
from moot.analysis.cross_model import ModelGroups, shown_models
from moot.analysis.judge_selection import JudgeRoster, JudgesRead, judge_roster, merge_rosters, select_judge
from moot.analysis.methods import MethodOptions, parse_methods
from moot.analysis.outputs import AnalysisIndex
from moot.analysis.plot_style import FigureOptions
from moot.errors import UserError
from moot.outputs import check_output_folder
from moot.protocols.loader import PROTOCOL_KIND
from moot.trace.events import ConversationStarted, Event, Resumed, utc_now
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events

COMPARISON_FILE = "comparison.json"
"""The file that makes a folder a comparison: which runs, their labels and the dimensions."""
COMPARISON_VERSION = 1
RUN_DIM = "run"
"""The dimension of a comparison of runs whose specs are the same: its level is the run's label."""
PROTOCOL_STUDY = "protocol"
"""The study kind of a run of a protocol that names no study."""
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+=-]*")
"""What a run's label may hold (it starts conversation ids `LABEL/ID`, so no `/`)."""
LONG_LEVEL = 60
"""Characters beyond which a differing field's level is shortened (its start and a hash of the whole)."""
UNCOMPARED_FIELDS = ("matrix",)
"""Spec fields whose differences are not run dimensions (a matrix's cells are the runs' own arms)."""


class ComparedRun(BaseModel):
    """One run of a comparison."""

    label: str
    """The run's name in the comparison (conversation ids are `LABEL/ID`)."""
    path: str
    """The run directory (absolute, so the comparison finds it again from any folder)."""
    run_id: str
    final_hash: str | None
    """Hash of the run's last trace event when it was compared: ties the comparison to the exact traces."""
    protocol: str
    levels: dict[str, str] = Field(default_factory=dict)
    """The run's level in each run-level dimension."""
    conversations: int = 0
    """Conversations of the run in the comparison."""


class ComparisonManifest(BaseModel):
    """`comparison.json`: the runs of a comparison, their labels and the dimensions they are compared by."""

    version: int = COMPARISON_VERSION
    """Schema version of this file."""
    comparison_id: str
    """`compare-` and a hash of the runs' ids and final hashes."""
    study: str
    """The study every run belongs to (`protocol` for runs whose spec names none)."""
    created_at: datetime = Field(default_factory=utc_now)
    moot_version: str
    runs: list[ComparedRun]
    run_dimensions: list[str]
    """The spec fields in which the runs differ (`run` when their specs are the same)."""
    dimensions: list[str]
    """The arm dimensions whose level varies across the comparison's conversations."""
    arms: list[str]
    """The arms, as `dim=level, ...` labels."""
    scenarios: int
    """Scenarios analysed (all runs have them)."""
    overlap: bool = False
    """Whether only the scenarios all runs share were kept (`--overlap`)."""
    left_out_conversations: int = 0
    """Conversations left out by `overlap` (their scenario is not in every run)."""


@dataclass
class LoadedRun:
    """A run read for a comparison: its label, its folder, run.json and its events that stand."""

    label: str
    path: Path
    manifest: RunManifest
    events: list[Event]

    @property
    def study(self) -> str:
        """Its study kind: the spec's study, else its program kind, else `protocol`."""
        chosen = study_of(self.manifest)
        if chosen is not None:
            return chosen
        kind = self.manifest.kind
        return kind if kind not in (None, PROTOCOL_KIND) else PROTOCOL_STUDY

    def scenarios(self) -> dict[str, str]:
        """Each scenario of the run by id, with a hash of its content as its conversations recorded it."""
        found: dict[str, str] = {}
        for event in self.events:
            if isinstance(event, ConversationStarted) and event.scenario_id not in found:
                found[event.scenario_id] = _digest(event.scenario)
        return found


@dataclass
class MergedRuns:
    """Runs put together as one study: their events with unique conversation ids, and the arm of each conversation."""

    runs: list[LoadedRun]
    study: str
    events: list[Event]
    arm_table: ArmTable
    run_levels: dict[str, dict[str, str]]
    """Each run's level in each run-level dimension, by label."""
    scenarios: int
    overlap: bool = False
    left_out: int = 0
    notes: list[str] = field(default_factory=list)

    def inputs(
        self,
        *,
        n_boot: int = 1000,
        seed: int = 0,
        groups: str | None = None,
        shown: str | None = None,
        methods: Sequence[str] | Mapping[str, object] | None = None,
    ) -> AnalysisInputs:
        """The analysis inputs of the comparison: the first run's manifest for spec-level facts, the merged arms
        (`groups`, `shown`, `methods`: as `moot analyze --groups/--show/--method` take them)."""
        return AnalysisInputs(
            self.events,
            self.runs[0].manifest,
            n_boot=n_boot,
            seed=seed,
            groups=ModelGroups.parse(groups) if groups is not None else None,
            shown=shown_models(shown),
            methods=MethodOptions(parse_methods(methods)),
            arm_table=self.arm_table,
            run_manifests={run.label: run.manifest for run in self.runs},
        )

    def manifest(self, moot_version: str) -> ComparisonManifest:
        """What `comparison.json` records of these runs."""
        counts: dict[str, int] = {}
        for entry in self.arm_table.conversations.values():
            counts[entry.run] = counts.get(entry.run, 0) + 1
        identity = "\n".join(f"{run.manifest.run_id} {run.manifest.final_hash}" for run in self.runs)
        return ComparisonManifest(
            comparison_id="compare-" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12],
            study=self.study,
            moot_version=moot_version,
            runs=[
                ComparedRun(
                    label=run.label,
                    path=str(run.path.resolve()),
                    run_id=run.manifest.run_id,
                    final_hash=run.manifest.final_hash,
                    protocol=run.manifest.protocol,
                    levels=self.run_levels[run.label],
                    conversations=counts.get(run.label, 0),
                )
                for run in self.runs
            ],
            run_dimensions=list(dict.fromkeys(dim for levels in self.run_levels.values() for dim in levels)),
            dimensions=self.arm_table.dimensions(),
            arms=[arm.label for arm in self.arm_table.arms()],
            scenarios=self.scenarios,
            overlap=self.overlap,
            left_out_conversations=self.left_out,
        )


def run_labels(paths: Sequence[Path], given: Mapping[str, Path | str] | None = None) -> list[str]:
    """The label of each run: the one given for its path (`given`: label -> run directory), else its directory's name,
    made unique with `-2`, `-3`... in order."""
    named: dict[Path, str] = {}
    for label, path in (given or {}).items():
        if not LABEL_PATTERN.fullmatch(label):
            raise UserError(f"--label '{label}': a label is letters, digits and _ . + = - (no '/' or space)")
        matches = [p for p in paths if _same_path(p, Path(path))]
        if not matches:
            raise UserError(f"--label {label}={path}: '{path}' is not one of the runs compared")
        named[matches[0]] = label
    labels: list[str] = []
    taken = set(named.values())
    for path in paths:
        if path in named:
            labels.append(named[path])
            continue
        base = re.sub(r"[^A-Za-z0-9_.+=-]", "_", path.resolve().name) or "run"
        label, n = base, 1
        while label in taken:
            n += 1
            label = f"{base}-{n}"
        taken.add(label)
        labels.append(label)
    if len(set(labels)) < len(labels):
        twice = next(label for label in labels if labels.count(label) > 1)
        raise UserError(f"--label '{twice}' names two runs; give each run its own label")
    return labels


def load_runs(paths: Sequence[Path | str], labels: Mapping[str, Path | str] | None = None) -> list[LoadedRun]:
    """Read the runs of a comparison, each checked as `moot analyze` checks a run; refuse fewer than two, or one run
    given twice."""
    folders = [Path(p) for p in paths]
    if len(folders) < 2:
        raise UserError(f"a comparison needs at least two runs (got {len(folders)})")
    names = run_labels(folders, labels)
    runs: list[LoadedRun] = []
    for label, folder in zip(names, folders, strict=True):
        manifest, events = read_run(folder)
        for earlier in runs:
            if _same_path(earlier.path, folder) or earlier.manifest.run_id == manifest.run_id:
                raise UserError(
                    f"'{earlier.path}' and '{folder}' are the same run ({manifest.run_id}): compare different runs"
                )
        standing: list[Event] = [event for event in effective_events(events) if not isinstance(event, Resumed)]
        runs.append(LoadedRun(label, folder, manifest, standing))
    return runs


def merge_runs(runs: Sequence[LoadedRun], *, overlap: bool = False) -> MergedRuns:
    """The runs put together: one study, one scenario set (or the scenarios all share, with `overlap`), conversation
    ids `LABEL/ID`, each conversation's arm extended by the run-level dimensions."""
    first = runs[0]
    for other in runs[1:]:
        if other.study != first.study:
            raise UserError(
                f"run '{first.path}' is {_a(first.study)} run, '{other.path}' {_a(other.study)} run: "
                "a comparison is of one study"
            )
    kept, left_out_scenarios = _shared_scenarios(runs, overlap)
    levels = run_levels([run.manifest.spec for run in runs], [run.label for run in runs])
    events: list[Event] = []
    table: dict[str, ConversationArm] = {}
    left_out = 0
    for run in runs:
        arms = conversation_arms(run.events, run.manifest.spec, run=run.label)
        scenario_of = {e.conversation_id: e.scenario_id for e in run.events if isinstance(e, ConversationStarted)}
        for event in run.events:
            if event.scenario_id in kept:
                events.append(event.model_copy(update={"conversation_id": f"{run.label}/{event.conversation_id}"}))
        for cid, entry in arms.conversations.items():
            if scenario_of.get(cid) not in kept:
                left_out += 1
                continue
            own = entry.arm.as_dict()
            extra = {dim: level for dim, level in levels[run.label].items() if dim not in own}
            table[f"{run.label}/{cid}"] = ConversationArm(
                f"{run.label}/{cid}", entry.arm.with_dims(extra), entry.models, entry.order, entry.repeat, run.label
            )
    merged = MergedRuns(list(runs), first.study, events, ArmTable(table), levels, len(kept), overlap, left_out)
    if overlap:
        merged.notes.append(
            f"--overlap: the {len(kept)} scenarios every run has are compared; {left_out_scenarios} scenarios not in "
            f"every run (or different in content) are left out, with their {left_out} conversations"
        )
    return merged


def _a(study: str) -> str:
    return ("an " if study[:1] in "aeiou" else "a ") + study


def _shared_scenarios(runs: Sequence[LoadedRun], overlap: bool) -> tuple[set[str], int]:
    """The scenario ids to compare and how many were left out; refuse runs whose scenarios differ unless `overlap`."""
    sets = [run.scenarios() for run in runs]
    every = set().union(*(set(found) for found in sets))
    shared = {sid for sid in every if all(sid in found for found in sets) and len({f[sid] for f in sets}) == 1}
    differing = len(every) - len(shared)
    if not shared:
        raise UserError(
            f"the {len(runs)} runs share no scenario (the same id and content), so there is nothing to compare"
        )
    if differing and not overlap:
        other = next(i for i, found in enumerate(sets) if found != sets[0])
        raise UserError(
            f"runs '{runs[0].path}' and '{runs[other].path}' differ in {differing} of their {len(every)} scenarios "
            "(ids or content): compare runs of the same scenarios, or pass --overlap to keep the "
            f"{len(shared)} all runs share"
        )
    return shared, differing


def run_levels(specs: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each run's level in each spec field in which the runs differ: `model.<agent>` for an agent's model
    (`provider:model`), other fields by their dotted path; `run` (the label) when the specs are the same."""
    flat = [_flattened(spec) for spec in specs]
    paths = list(dict.fromkeys(path for fields in flat for path in fields))
    differing = [path for path in paths if len({fields.get(path) for fields in flat}) > 1]
    if not differing:
        return {label: {RUN_DIM: label} for label in labels}
    return {
        label: {path: fields.get(path, "-") for path in differing} for label, fields in zip(labels, flat, strict=True)
    }


def _flattened(spec: Mapping[str, Any]) -> dict[str, str]:
    """A spec as dotted paths to text levels: agents by name, each agent's model as `model.<agent>` (the spec's
    default applied), the default model itself and the fields not compared left out."""
    default = str(spec.get("model") or "")
    fields: dict[str, str] = {}
    for key, value in spec.items():
        if key in UNCOMPARED_FIELDS or key == "model":
            continue
        if key == "agents" and isinstance(value, list):
            for agent in value:
                if not isinstance(agent, Mapping) or not agent.get("name"):
                    continue
                name = str(agent["name"])
                fields[MODEL_DIM + name] = str(agent.get("model") or default)
                rest = {k: v for k, v in agent.items() if k not in ("name", "model")}
                _flatten_into(fields, f"agents.{name}", rest)
        else:
            _flatten_into(fields, key, value)
    return fields


def _flatten_into(fields: dict[str, str], path: str, value: Any) -> None:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            _flatten_into(fields, f"{path}.{key}", inner)
        return
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) > LONG_LEVEL:
        text = f"{text[:24]}...#{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    fields[path] = text


def _digest(scenario: Mapping[str, Any] | None) -> str:
    if scenario is None:
        return ""
    text = json.dumps(scenario, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def moot_version() -> str:
    """The installed moot's version (`0+unknown` when it runs from files that were not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moot")
    except PackageNotFoundError:
        return "0+unknown"


def default_comparison_folder(study: str, now: datetime | None = None) -> Path:
    """Where a comparison is written when no folder is given: `runs/compare-<study>-<UTC time>` in the current
    directory, beside the runs `moot run` writes there."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return Path("runs") / f"compare-{study}-{stamp}"


def is_comparison(folder: Path | str) -> bool:
    """Whether a folder holds a comparison (`comparison.json`)."""
    return (Path(folder) / COMPARISON_FILE).is_file()


def read_comparison(folder: Path | str) -> ComparisonManifest:
    """`comparison.json` of a comparison folder; a UserError when it is missing or not one."""
    path = Path(folder) / COMPARISON_FILE
    if not path.is_file():
        raise UserError(f"'{folder}' is not a comparison (no {COMPARISON_FILE})")
    try:
        return ComparisonManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"{path}: not a valid comparison ({first})") from None


def _check_out(out: Path) -> None:
    """Refuse an output folder that is a file, lies under one, or holds something other than a comparison."""
    check_output_folder(out, "--out")
    if out.is_dir() and any(out.iterdir()) and not is_comparison(out):
        raise UserError(
            f"--out '{out}' already exists and holds something other than a comparison; name another folder"
        )


def compare_runs(
    paths: Sequence[Path | str],
    out: Path | str | None = None,
    *,
    labels: Mapping[str, Path | str] | None = None,
    overlap: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    groups: str | None = None,
    shown: str | None = None,
    judge: str | None = None,
    methods: Sequence[str] | Mapping[str, object] | None = None,
    figures: FigureOptions | None = None,
) -> tuple[Path, AnalysisIndex, ComparisonManifest]:
    """Put runs together as the arms of one study and analyse them; return the comparison folder, its metrics index
    and `comparison.json`.

    `labels` names runs (label -> run directory); `overlap` keeps only the scenarios all runs share; `figures` how
    the plots are written (`plot_style.FigureOptions`: PNG dpi, PDF).
    The folder (default `runs/compare-<study>-<time>`) is written whole or not at all; a previous
    comparison there is replaced.
    """
    if out is not None:
        _check_out(Path(out))
    if n_boot < 10:
        raise UserError(f"--boot must be at least 10 (got {n_boot})")
    runs = load_runs(paths, labels)
    rosters = [judge_roster(run.manifest, run.events) for run in runs]
    every_judge = merge_runs(runs, overlap=overlap)
    merged = merge_runs(
        [_judge_read(run, roster, judge) for run, roster in zip(runs, rosters, strict=True)], overlap=overlap
    )
    folder = Path(out) if out is not None else default_comparison_folder(merged.study)
    if out is None:
        _check_out(folder)
    record = merged.manifest(moot_version())
    study = None if merged.study == PROTOCOL_STUDY else merged.study
    index = write_analysis(
        merged.inputs(n_boot=n_boot, seed=seed, groups=groups, shown=shown, methods=methods),
        folder,
        study,
        run_id=record.comparison_id,
        final_hash=record.comparison_id,
        notes=merged.notes,
        extra_files={COMPARISON_FILE: record.model_dump_json(indent=2)},
        figures=figures,
        judges=JudgesRead(merge_rosters(rosters), every_judge.events, judge),
    )
    return folder, index, record


def _judge_read(run: LoadedRun, roster: JudgeRoster, judge: str | None) -> LoadedRun:
    """The run with, of each kind of judge, only the decisions of the judge the comparison reads (`select_judge`);
    a judge the run does not have is refused naming the run."""
    try:
        events = select_judge(run.events, roster, judge)
    except UserError as exc:
        raise UserError(f"run '{run.label}': {exc}") from None
    return replace(run, events=events)


def compare_again(
    folder: Path | str,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    groups: str | None = None,
    shown: str | None = None,
    judge: str | None = None,
    methods: Sequence[str] | Mapping[str, object] | None = None,
    figures: FigureOptions | None = None,
) -> tuple[Path, AnalysisIndex, ComparisonManifest]:
    """Analyse a comparison folder's runs again (same runs, labels and `overlap`, as `comparison.json` names them)
    into the same folder: after a judge appended to one of the runs, or to change the bootstrap."""
    record = read_comparison(folder)
    labels = {run.label: Path(run.path) for run in record.runs}
    return compare_runs(
        list(labels.values()),
        folder,
        labels=labels,
        overlap=record.overlap,
        n_boot=n_boot,
        seed=seed,
        groups=groups,
        shown=shown,
        judge=judge,
        methods=methods,
        figures=figures,
    )
