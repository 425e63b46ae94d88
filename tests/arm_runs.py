"""Several finished runs read as the arms of one study: each run one cell of a matrix.

Tests of a study's per-arm measurements run one small run per model (or line-up) and put their
events together the way a matrix run records them: conversation ids made unique across the runs,
and the arm (and the models) written on every `conversation_started`. End-to-end tests of the
matrix itself run a spec with a `matrix` (tests/protocols/test_matrix.py, tests/test_comparisons.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import events_of
from moot.analysis.analyze import AnalysisInputs, read_run
from moot.analysis.outputs import AnalysisWriter
from moot.trace.events import ConversationStarted, Event


@dataclass(frozen=True)
class ArmRun:
    """A finished run and the matrix cell it stands for."""

    run_dir: Path
    arm: Mapping[str, str]
    """Each varied dimension and its level (`{"model.alice": "X"}`)."""
    models: Mapping[str, str]
    """The model of each agent (`provider:model`)."""


def arm_run_events(runs: Sequence[ArmRun]) -> list[Event]:
    """The events of every run, in run order, as one run with a matrix: the conversations of run `i` renamed
    `a<i>/<id>` and their `conversation_started` carrying the run's arm and models."""
    merged: list[Event] = []
    for index, run in enumerate(runs):
        for event in events_of(run.run_dir):
            update: dict[str, object] = {"conversation_id": f"a{index}/{event.conversation_id}"}
            if isinstance(event, ConversationStarted):
                update |= {"arm": dict(run.arm), "models": dict(run.models)}
            merged.append(event.model_copy(update=update))
    return merged


def arm_events(runs: Mapping[str, tuple[Path, Mapping[str, str]]]) -> tuple[Any, list[Event]]:
    """The events of several runs by label, as `arm_run_events` puts them together (conversation ids prefixed with
    the label, `conversation_started` given the run's arm); the first run's manifest and the events."""
    manifest = None
    merged: list[Event] = []
    for label, (run_dir, arm) in runs.items():
        found, events = read_run(run_dir)
        manifest = manifest or found
        for event in events:
            cid = getattr(event, "conversation_id", None)
            update: dict[str, Any] = {"conversation_id": f"{label}/{cid}"} if cid else {}
            if isinstance(event, ConversationStarted):
                update["arm"] = dict(arm)
            merged.append(event.model_copy(update=update))
    assert manifest is not None
    return manifest, merged


def analyze_arms(study_analysis, runs, tmp_path: Path, **options: Any) -> tuple[dict[str, Any], AnalysisWriter]:
    """A study's analysis of runs put together by `arm_events`; its metrics and the writer (tables, plots, notes)."""
    manifest, events = arm_events(runs)
    writer = AnalysisWriter(tmp_path)
    metrics = study_analysis(AnalysisInputs(events, manifest, **options), writer)
    return metrics, writer
