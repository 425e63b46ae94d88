"""`moot analyze`: the measurements of a run's study, from its run directory alone.

The study comes from the spec recorded in `run.json` (its `study` field). The analysis writes
`metrics.json`, `tables/*.csv` and `plots/*.png` into `RUN_DIR/analysis` (or another folder).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from moot.analysis.outputs import AnalysisIndex, AnalysisWriter
from moot.errors import UserError
from moot.protocols.spec import STUDIES
from moot.trace.events import Event
from moot.trace.manifest import RunManifest
from moot.trace.reading import check_run_dir, open_run_trace

ANALYSIS_FOLDER = "analysis"


def read_run(run_dir: Path) -> tuple[RunManifest, list[Event]]:
    """The manifest and every event of a run directory."""
    check_run_dir(run_dir)
    manifest = RunManifest.read(run_dir)
    store = open_run_trace(run_dir)
    try:
        return manifest, list(store.events())
    finally:
        store.close()


def study_of(manifest: RunManifest, study: str | None = None) -> str:
    """The study to analyse: the one asked for, else the spec's."""
    chosen = study or manifest.spec.get("study")
    if chosen is None:
        raise UserError(f"run '{manifest.run_id}' (protocol '{manifest.protocol}') names no study; pass --study ({', '.join(STUDIES)})")
    if chosen not in STUDIES:
        raise UserError(f"study '{chosen}' is unknown; known: {', '.join(STUDIES)}")
    return chosen


def judge_taxonomy(spec: dict[str, Any]):
    """The value list a run's value judge used (`values` or `values:FILE` output), else the bundled one."""
    from moot.judges.taxonomy import load_value_taxonomy

    for role in spec.get("roles", {}).values():
        output = role.get("output")
        if isinstance(output, str) and output.split(":", 1)[0] == "values":
            return load_value_taxonomy(output.partition(":")[2] or None)
    return load_value_taxonomy()


def analyze_run(
    run_dir: Path | str,
    out: Path | str | None = None,
    *,
    study: str | None = None,
    baseline: Path | str | None = None,
    stated: Path | str | None = None,
    unsteered: Path | str | None = None,
    labels: Path | str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[Path, AnalysisIndex]:
    """Analyse a run; return the analysis folder and its index (`metrics.json`).

    Companion runs: `baseline` (a solo run, deliberation), `stated` (a stated-preference run of
    the same scenarios, cooperation), `unsteered` (the same protocol without value steering, for
    the adaptation measure); `labels` is a CSV of human concession labels (cooperation).
    """
    run_dir = Path(run_dir)
    manifest, events = read_run(run_dir)
    chosen = study_of(manifest, study)
    baseline_events = read_run(Path(baseline))[1] if baseline is not None else None
    stated_events = read_run(Path(stated))[1] if stated is not None else None
    unsteered_events = read_run(Path(unsteered))[1] if unsteered is not None else None
    if n_boot < 10:
        raise UserError(f"--boot must be at least 10 (got {n_boot})")
    folder = Path(out) if out is not None else run_dir / ANALYSIS_FOLDER
    staging = folder.with_name(folder.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    writer = AnalysisWriter(staging)
    try:
        metrics = _analyze(chosen, events, manifest, writer, baseline_events, stated_events, unsteered_events, labels, n_boot, seed)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    index = writer.finish(AnalysisIndex(run_id=manifest.run_id, study=chosen, final_hash=manifest.final_hash, metrics=metrics))
    # Replace the previous analysis only once the new one is complete, so a failure leaves the old one whole.
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return folder, index


def _analyze(chosen: str, events: list[Event], manifest: RunManifest, writer: AnalysisWriter, baseline_events: list[Event] | None, stated_events: list[Event] | None,
             unsteered_events: list[Event] | None, labels: Path | str | None, n_boot: int, seed: int) -> dict[str, Any]:
    """Dispatch to the study's analysis."""
    if chosen == "deliberation":
        from moot.analysis.study_deliberation import analyze_deliberation

        return analyze_deliberation(events, manifest.spec, writer, taxonomy=judge_taxonomy(manifest.spec), baseline=baseline_events, n_boot=n_boot, seed=seed)
    from moot.analysis.study_cooperation import analyze_cooperation, analyze_stated

    analyze = analyze_cooperation if chosen == "cooperation" else analyze_stated
    return analyze(events, manifest.spec, writer, n_boot=n_boot, seed=seed, stated=stated_events, unsteered=unsteered_events, labels=Path(labels) if labels else None)
