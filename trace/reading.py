"""Opening an existing run directory for reading, with a clear error when it is not one."""

from __future__ import annotations

from pathlib import Path

from moot.errors import UserError
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
