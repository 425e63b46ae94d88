"""Test helpers for studies over several models: runs of one model each put together as the arms of one trace."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moot.analysis.analyze import AnalysisInputs, read_run
from moot.analysis.outputs import AnalysisWriter
from moot.trace.events import ConversationStarted, Event


def arm_events(runs: Mapping[str, tuple[Path, Mapping[str, str]]]) -> tuple[Any, list[Event]]:
    """The events of several runs as one matrix run would write them: each run's conversation ids prefixed with its
    label, and its `conversation_started` events given the run's arm (`{dimension: level}`).

    Returns the first run's manifest and the events.
    """
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
