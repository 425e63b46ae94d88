"""A run directory whose trace is in PostgreSQL: verified, tampering caught, and read by every reader.

The runner writes SQLite traces here, so each test builds its PostgreSQL run from a scripted
SQLite run: run.json with `trace` set to the database URL (without its password), and the
run's events appended to the database in order, which re-creates the same chain.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from helpers import consensus_run
from moot.analysis.analyze import read_run
from moot.analysis.summary import summarize_run
from moot.cli import main
from moot.errors import UserError
from moot.graphs.audit import verify_run
from moot.graphs.resume import open_interrupted_run
from moot.report.index import RunIndex
from moot.report.query import ListQuery
from moot.trace.export import export_run
from moot.trace.manifest import RunManifest
from moot.trace.opening import TraceRefused, open_run
from moot.trace.postgres import APPEND_ONLY_TRIGGER, PostgresTraceStore
from moot.trace.reading import check_run_dir, open_run_trace
from moot.trace.redaction import public_location
from moot.trace.store import TRACE_FILE, canonical_json, open_trace


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished scripted run: 3 scenarios, 3 debaters, consensus in round 2."""
    return consensus_run(tmp_path_factory.mktemp("sqlite-run"))


def postgres_copy(source: Path, target: Path, url: str, **manifest_changes) -> Path:
    """A copy of a run directory whose trace is in the database at `url` (no trace.sqlite)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(f"{TRACE_FILE}*"))
    manifest = RunManifest.read(source)
    store = PostgresTraceStore(url, manifest.run_id)
    events = open_trace(source)
    try:
        with store.bulk():
            for event in events.events():
                store.append(event)
        assert store.last_hash == manifest.final_hash  # the same chain, event for event
    finally:
        events.close()
        store.close()
    manifest.trace = public_location(url)
    for name, value in manifest_changes.items():
        setattr(manifest, name, value)
    manifest.write(target)
    return target


def test_a_postgresql_run_verifies_and_reads_like_its_sqlite_original(
    sqlite_run: Path, postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run_dir = postgres_copy(sqlite_run, tmp_path / "pg-run", postgres_url)
    assert not (run_dir / TRACE_FILE).exists()
    recorded = json.loads((run_dir / "run.json").read_text())["trace"]
    assert recorded == public_location(postgres_url) and urlsplit(recorded).password is None
    check_run_dir(run_dir)

    report, original = verify_run(run_dir), verify_run(sqlite_run)
    assert report.ok, [p.line() for p in report.problems]
    assert (report.events, report.conversations, report.model_calls, report.final_hash) == (
        original.events,
        original.conversations,
        original.model_calls,
        original.final_hash,
    )

    # every reader goes through the run's store
    store = open_run_trace(run_dir)
    try:
        assert isinstance(store, PostgresTraceStore)
        assert [canonical_json(e) for e in store.events()] == [
            canonical_json(e) for e in open_trace(sqlite_run).events()
        ]
    finally:
        store.close()
    assert read_run(run_dir)[1] == read_run(sqlite_run)[1]
    assert summarize_run(run_dir) == summarize_run(sqlite_run)
    exported = export_run(run_dir, "jsonl", out=tmp_path / "pg-tables")
    expected = export_run(sqlite_run, "jsonl", out=tmp_path / "sqlite-tables")
    assert [(t.table, t.rows, t.path.read_text()) for t in exported] == [
        (t.table, t.rows, t.path.read_text()) for t in expected
    ]

    index, reference = RunIndex(run_dir), RunIndex(sqlite_run)
    try:
        assert index.page(ListQuery()) == reference.page(ListQuery())
        assert index.facets() == reference.facets()
        conversation = reference.page(ListQuery())["items"][0]["id"]
        assert index.conversation(conversation) == reference.conversation(conversation)
        assert index.refresh() == 0
    finally:
        index.close()
        reference.close()

    capsys.readouterr()
    assert main(["verify", str(run_dir)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {run_dir}: {original.events} events, 3 conversations")
    assert main(["trace", str(run_dir), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [canonical_json(e) for e in open_trace(sqlite_run).events()]
    assert main(["report", str(run_dir), "--out", str(tmp_path / "report.html")]) == 0
    assert (tmp_path / "report.html").is_file() and "report:" in capsys.readouterr().out


def test_an_interrupted_postgresql_run_is_read_for_resuming(
    sqlite_run: Path, postgres_url: str, tmp_path: Path
) -> None:
    run_dir = postgres_copy(sqlite_run, tmp_path / "pg-run", postgres_url, status="interrupted")
    interrupted = open_interrupted_run(run_dir)
    assert [canonical_json(e) for e in interrupted.events] == [
        canonical_json(e) for e in open_trace(sqlite_run).events()
    ]


@contextmanager
def _owner(url: str) -> Iterator[psycopg.Connection]:
    """A connection of the tables' owner with the append-only trigger disabled, as a tamperer would have;
    the trigger is enabled again afterwards, as a careful one would leave it."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"ALTER TABLE moot_events DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        yield db
        db.execute(f"ALTER TABLE moot_events ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")


def _edit(db: psycopg.Connection, run_id: str) -> int:
    (body,) = db.execute("SELECT body FROM moot_events WHERE run_id = %s AND seq = 7", (run_id,)).fetchone()
    event = {**json.loads(body), "time": "2001-01-01T00:00:00Z"}
    db.execute(
        "UPDATE moot_events SET body = %s WHERE run_id = %s AND seq = 7",
        (json.dumps(event, sort_keys=True, separators=(",", ":")), run_id),
    )
    return 7


def _delete(db: psycopg.Connection, run_id: str) -> int:
    db.execute("DELETE FROM moot_events WHERE run_id = %s AND seq = 12", (run_id,))
    return 12


def _swap(db: psycopg.Connection, run_id: str) -> int:
    db.execute("UPDATE moot_events SET seq = -1 WHERE run_id = %s AND seq = 5", (run_id,))
    db.execute("UPDATE moot_events SET seq = 5 WHERE run_id = %s AND seq = 9", (run_id,))
    db.execute("UPDATE moot_events SET seq = 9 WHERE run_id = %s AND seq = -1", (run_id,))
    return 5


@pytest.mark.parametrize(("kind", "tamper"), [("edited", _edit), ("removed", _delete), ("reordered", _swap)])
def test_tampered_postgresql_rows_are_caught(
    sqlite_run: Path, postgres_url: str, tmp_path: Path, kind: str, tamper
) -> None:
    run_dir = postgres_copy(sqlite_run, tmp_path / "pg-run", postgres_url)
    run_id = RunManifest.read(run_dir).run_id
    with _owner(postgres_url) as db:
        seq = tamper(db, run_id)
    report = verify_run(run_dir)
    assert not report.ok
    assert (report.problems[0].kind, report.problems[0].seq) == (kind, seq), [p.line() for p in report.problems]


def test_a_tampered_column_and_another_runs_rows_are_told_apart(
    sqlite_run: Path, postgres_url: str, tmp_path: Path
) -> None:
    """Two runs in one database: tampering with one leaves the other verified."""
    first = postgres_copy(sqlite_run, tmp_path / "first", postgres_url)
    other = tmp_path / "other"
    manifest = RunManifest.read(sqlite_run)
    store = PostgresTraceStore(postgres_url, "another-run")
    try:
        for event in open_trace(sqlite_run).events():
            store.append(event.model_copy(update={"run_id": "another-run"}))
        final = store.last_hash
    finally:
        store.close()
    shutil.copytree(first, other)
    manifest.run_id, manifest.trace, manifest.final_hash = "another-run", public_location(postgres_url), final
    manifest.write(other)
    with _owner(postgres_url) as db:
        db.execute(
            "UPDATE moot_events SET agent = 'mallory' WHERE run_id = %s AND seq = 5", (RunManifest.read(first).run_id,)
        )
    assert verify_run(other).ok
    problems = verify_run(first).problems
    assert (
        problems[0].kind == "edited" and problems[0].seq == 5 and "column 'agent' holds 'mallory'" in problems[0].detail
    )


def test_a_postgresql_run_whose_database_holds_no_trace_is_refused_and_found_missing(
    sqlite_run: Path, postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run_dir = tmp_path / "empty"
    shutil.copytree(sqlite_run, run_dir, ignore=shutil.ignore_patterns(f"{TRACE_FILE}*"))
    manifest = RunManifest.read(run_dir)
    manifest.trace = public_location(postgres_url)
    manifest.write(run_dir)
    counted = f"run.json counts {manifest.events} events ending in {manifest.final_hash[:12]}..."
    expected = f"{public_location(postgres_url)}: {counted}; the trace is missing (the database holds no moot trace)"
    with pytest.raises(TraceRefused) as refused:
        open_run(run_dir)
    assert str(refused.value) == expected
    capsys.readouterr()
    assert main(["trace", str(run_dir)]) == 2
    assert capsys.readouterr().err == f"moot: error: {expected}\n"
    assert main(["verify", str(run_dir)]) == 1
    found = f"missing: {public_location(postgres_url)} is missing (the database holds no moot trace); {counted}"
    assert capsys.readouterr().out == found + "\n"


def test_a_postgresql_run_of_another_run_id_holds_no_events_of_it(
    sqlite_run: Path, postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run_dir = postgres_copy(sqlite_run, tmp_path / "pg-run", postgres_url)
    manifest = RunManifest.read(run_dir)
    manifest.run_id = "run-of-nobody"
    manifest.write(run_dir)
    with pytest.raises(TraceRefused, match=r"; the trace holds no events$"):
        read_run(run_dir)
    capsys.readouterr()
    assert main(["verify", str(run_dir)]) == 1
    assert capsys.readouterr().out.startswith("missing: ")


def test_a_disabled_postgresql_trigger_is_found_and_stops_appends(
    sqlite_run: Path, postgres_url: str, tmp_path: Path
) -> None:
    run_dir = postgres_copy(sqlite_run, tmp_path / "pg-run", postgres_url, status="interrupted")
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(f"ALTER TABLE moot_events DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")
    lines = [p.line() for p in verify_run(run_dir).problems]
    disabled = f"{public_location(postgres_url)}: trigger {APPEND_ONLY_TRIGGER} is disabled"
    assert lines == [f"triggers: {disabled}, so rows could be edited or deleted in place"]
    with pytest.raises(UserError, match=f"{disabled}, so its rows may have been changed; check it with `moot verify"):
        open_interrupted_run(run_dir)
    assert read_run(run_dir)[1] == read_run(sqlite_run)[1], "readers still read it"


def test_a_sqlite_run_without_its_trace_file_is_refused_naming_what_run_json_expected(
    sqlite_run: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "no-trace"
    shutil.copytree(sqlite_run, run_dir, ignore=shutil.ignore_patterns(f"{TRACE_FILE}*"))
    manifest = RunManifest.read(run_dir)
    with pytest.raises(TraceRefused) as refused:
        open_run(run_dir)
    counted = f"run.json counts {manifest.events} events ending in {manifest.final_hash[:12]}..."
    assert str(refused.value) == f"{run_dir / TRACE_FILE}: {counted}; the trace is missing"
    assert refused.value.kind == "missing"
