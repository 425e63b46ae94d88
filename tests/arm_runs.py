"""Several finished runs read as the arms of one study: each run one cell of a matrix.

Until a spec's matrix expands the arms itself, a test runs one run per line-up (or model) and
puts their events together the way a matrix run records them: conversation ids made unique
across the runs, and the arm and the models written on every `conversation_started`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers import events_of
from moot.trace.events import ConversationStarted, Event


@dataclass(frozen=True)
class ArmRun:
    """A finished run and the matrix cell it stands for."""

    run_dir: Path
    arm: Mapping[str, str]
    """Each varied dimension and its level (`{"model.alice": "X"}`)."""
    models: Mapping[str, str]
    """The model of each agent (`provider:model`)."""


def arm_events(runs: Sequence[ArmRun]) -> list[Event]:
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
