"""Trace locations: which store a location opens, and the location it records (never a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from moot.errors import UserError
from moot.trace.location import check_trace_location, open_store
from moot.trace.postgres import PostgresTraceStore
from moot.trace.redaction import public_location
from moot.trace.store import TRACE_FILE, SQLiteTraceStore


def test_check_trace_location_takes_sqlite_or_a_postgresql_url() -> None:
    assert check_trace_location(None) is None and check_trace_location("sqlite") is None
    assert check_trace_location("postgresql://u:pw@h/db") == "postgresql://u:pw@h/db"
    with pytest.raises(UserError, match=r"^--trace 'mysql://u@h/db': expected a postgresql:// URL") as caught:
        check_trace_location("mysql://u:hunter22@h/db")
    assert "hunter22" not in str(caught.value)


def test_open_store_opens_the_sqlite_file_or_the_database(tmp_path: Path, postgres_url: str) -> None:
    sqlite = open_store(None, tmp_path, "run-1")
    assert isinstance(sqlite, SQLiteTraceStore) and sqlite.path == tmp_path / TRACE_FILE
    sqlite.close()
    postgres = open_store(postgres_url, tmp_path, "run-1")
    assert (
        isinstance(postgres, PostgresTraceStore)
        and postgres.run_id == "run-1"
        and postgres.location == public_location(postgres_url)
    )
    postgres.close()
