"""Reading an existing run: opening its directory with a clear error, and the events that stand.

A resumed run holds, for each conversation taken up again, the events of the round that was
interrupted and, after a `resumed` marker, the events that replaced them. `effective_events`
is the one place that drops the superseded ones; every reader of conversations uses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from moot.errors import UserError
from moot.trace.events import Event, Resumed
from moot.trace.manifest import MANIFEST_FILE
from moot.trace.store import TRACE_FILE, SQLiteTraceStore


def check_run_dir(run_dir: Path) -> None:
    """Raise a UserError unless `run_dir` holds a run (run.json and trace.sqlite)."""
    if not run_dir.is_dir():
        raise UserError(f"run directory '{run_dir}' not found")
    missing = [name for name in (MANIFEST_FILE, TRACE_FILE) if not (run_dir / name).is_file()]
    if missing:
        raise UserError(f"'{run_dir}' is not a run directory (no {' or '.join(missing)})")


def open_run_trace(run_dir: Path) -> SQLiteTraceStore:
    """Open the trace of an existing run directory (never creates one)."""
    check_run_dir(run_dir)
    return SQLiteTraceStore(run_dir / TRACE_FILE)


def superseded_seqs(events: Iterable[Event]) -> set[int]:
    """Sequence numbers of the events that `resumed` markers supersede."""
    return {seq for event in events if isinstance(event, Resumed) for seq in event.superseded}


def effective_events(events: Iterable[Event]) -> list[Event]:
    """The events that stand, in their order: those superseded by a resume are left out.

    `resumed` markers themselves stay; readers that do not know them ignore them.
    """
    events = list(events)
    dropped = superseded_seqs(events)
    if not dropped:
        return events
    return [event for event in events if event.seq not in dropped or isinstance(event, Resumed)]
