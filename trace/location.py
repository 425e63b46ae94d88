"""Where a run's trace lives: the SQLite file in its run directory (default) or a PostgreSQL database.

A location is None (the default: `trace.sqlite` beside `run.json`) or a `postgresql://` URL.
run.json records the URL without its password (`public_location`), so that readers of the run
find the same store; the password comes from the environment (`PGPASSWORD`, `~/.pgpass`).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlsplit

from moot.errors import UserError
from moot.trace.redaction import public_location
from moot.trace.store import TRACE_FILE, SQLiteTraceStore, TraceStore

POSTGRES_SCHEMES = ("postgresql", "postgres")


def check_trace_location(value: str | None) -> str | None:
    """The location as given, or a UserError naming what is wrong with it."""
    if value is None or value in ("", "sqlite"):
        return None
    scheme = urlsplit(value).scheme
    if scheme not in POSTGRES_SCHEMES:
        raise UserError(f"--trace '{public_location(value)}': expected a postgresql:// URL (or 'sqlite', the default)")
    return value


def open_store(location: str | None, run_dir: Path, run_id: str, read_only: bool = False) -> TraceStore:
    """Open (creating when new) the trace store of a run: its SQLite file, or its rows in a PostgreSQL database.

    `read_only` opens an existing trace without writing anything, not even a missing schema.
    """
    if location is None:
        return SQLiteTraceStore(Path(run_dir) / TRACE_FILE, read_only=read_only)
    from moot.trace.postgres import PostgresTraceStore

    return PostgresTraceStore(location, run_id, read_only=read_only)


def store_errors() -> tuple[type[Exception], ...]:
    """The exceptions a trace store's queries raise (SQLite's, and psycopg's once a PostgreSQL store was opened)."""
    errors: list[type[Exception]] = [sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)
