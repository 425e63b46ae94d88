"""Reaching an existing run's trace to append to it, and the events that stand (readers use `moot.trace.opening`).

A resumed run holds, for each conversation taken up again, the events of the round that was
interrupted and, after a `resumed` marker, the events that replaced them. `effective_events`
is the one place that drops the superseded ones; every reader of conversations uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from moot.errors import UserError
from moot.trace.events import Event, Resumed
from moot.trace.location import open_store
from moot.trace.manifest import MANIFEST_FILE
from moot.trace.redaction import public_location
from moot.trace.store import TRACE_FILE, TraceStore


def _manifest_fields(run_dir: Path) -> dict:
    """run.json as a plain object ({} when it does not parse: whoever reads the manifest reports that)."""
    try:
        data = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _location_in(fields: dict) -> str | None:
    location = fields.get("trace")
    return location if isinstance(location, str) and location else None


def trace_location(run_dir: Path | str) -> str | None:
    """Where a run's trace is, as run.json records it: None for its `trace.sqlite`, else a PostgreSQL URL."""
    return _location_in(_manifest_fields(Path(run_dir)))


def _checked_fields(run_dir: Path) -> dict:
    """run.json's fields (read once), after checking `run_dir` holds a run; UserError when it does not."""
    if not run_dir.is_dir():
        raise UserError(f"run directory '{run_dir}' not found")
    if not (run_dir / MANIFEST_FILE).is_file():
        missing = [MANIFEST_FILE] + ([TRACE_FILE] if not (run_dir / TRACE_FILE).is_file() else [])
        raise UserError(f"'{run_dir}' is not a run directory (no {' or '.join(missing)})")
    fields = _manifest_fields(run_dir)
    if _location_in(fields) is None and not (run_dir / TRACE_FILE).is_file():
        raise UserError(f"'{run_dir}' is not a run directory (no {TRACE_FILE})")
    return fields


def check_run_dir(run_dir: Path | str) -> None:
    """Raise a UserError unless `run_dir` holds a run (run.json, and trace.sqlite unless its trace is in PostgreSQL)."""
    _checked_fields(Path(run_dir))


def open_run_trace(run_dir: Path | str, read_only: bool = False) -> TraceStore:
    """Open the trace of an existing run directory, wherever run.json says it is (never creates a run).

    `read_only` opens it without writing anything (see `moot.trace.location.open_store`). Nothing
    is checked but that the directory holds a run: to read a run, `moot.trace.opening.open_run`
    also checks its trace is run.json's; to append to one, open it that way first.
    """
    run_dir = Path(run_dir)
    fields = _checked_fields(run_dir)
    location = _location_in(fields)
    run_id = fields.get("run_id")
    if location is not None and not isinstance(run_id, str):
        raise UserError(
            f"{run_dir / MANIFEST_FILE} names no run_id, so its trace in {public_location(location)} cannot be found"
        )
    return open_store(location, run_dir, run_id or "", read_only=read_only)


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
