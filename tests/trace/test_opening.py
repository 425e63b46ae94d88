"""Opening a run for reading: run.json checked, the trace read without writing a byte, and shown to be run.json's.

A killed run's trace has frames in its `-wal` and a `-shm` beside it: those are made here by a
writer process that is killed before it closes its store.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import consensus_run, files_of
from moot.errors import UserError
from moot.trace.events import ConversationStarted, Stopped
from moot.trace.manifest import RunManifest
from moot.trace.opening import TraceRefused, open_run, read_manifest
from moot.trace.store import TRACE_FILE, SQLiteTraceStore


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished scripted run: 3 scenarios, 3 debaters, consensus in round 2."""
    return consensus_run(tmp_path_factory.mktemp("opening"))


def copy_of(run: Path, target: Path, **changes: object) -> Path:
    """A copy of a run directory, its run.json changed as given."""
    shutil.copytree(run, target)
    if changes:
        manifest = RunManifest.read(target)
        for name, value in changes.items():
            setattr(manifest, name, value)
        manifest.write(target)
    return target


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "run.json: not UTF-8 text (byte 0xff at offset 0)"),
        (b'{"run_id": ', "run.json: not JSON (Expecting value at line 1 column 12)"),
        (b'"a run"', "run.json: not a run manifest (a JSON string, not an object)"),
        (b"[1, 2]", "run.json: not a run manifest (a JSON array, not an object)"),
        (b'{"run_id": "r"}', "run.json: not a valid run manifest (protocol: Field required)"),
    ],
)
def test_a_run_json_that_is_not_a_manifest_is_one_line_naming_it(
    finished: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    run = copy_of(finished, tmp_path / "run")
    (run / "run.json").write_bytes(content)
    with pytest.raises(UserError) as error:
        open_run(run)
    assert str(error.value) == f"{run}/{message}"


def test_a_finished_run_opens_and_reads_without_a_file_appearing_or_changing(finished: Path, tmp_path: Path) -> None:
    run = copy_of(finished, tmp_path / "run")
    before = files_of(run)
    assert sorted(before) == ["run.json", TRACE_FILE]
    with open_run(run) as opened:
        events = list(opened.events())
        assert opened.store.read_only and opened.store.snapshot is None  # the file itself, opened immutable
        assert files_of(run) == before
    assert len(events) == RunManifest.read(run).events and isinstance(events[0], ConversationStarted)
    assert files_of(run) == before


WRITER = """
import os, signal, sys
from moot.trace.events import ConversationStarted, Stopped
from moot.trace.store import SQLiteTraceStore
store = SQLiteTraceStore(sys.argv[1])
ids = {"run_id": sys.argv[2], "conversation_id": "c9", "scenario_id": "s9"}
store.append(ConversationStarted(**ids, protocol="p", order=["a"], repeat=0, seed=9))
store.append(Stopped(**ids, round=1, status="completed", reason="max rounds (1)", rounds=1))
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_writer(trace: Path, run_id: str) -> None:
    """Append two events to `trace` in a process killed before it closes the store (its frames stay in the -wal)."""
    argv = [sys.executable, "-c", WRITER, str(trace), run_id]
    process = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr


def test_a_killed_runs_frames_are_read_from_a_snapshot_leaving_wal_and_shm_untouched(
    finished: Path, tmp_path: Path
) -> None:
    run = copy_of(finished, tmp_path / "run", status="running")
    manifest = RunManifest.read(run)
    killed_writer(run / TRACE_FILE, manifest.run_id)
    before = files_of(run)
    assert f"{TRACE_FILE}-wal" in before and f"{TRACE_FILE}-shm" in before
    with open_run(run) as opened:
        snapshot = opened.store.snapshot
        assert snapshot is not None and not snapshot.is_relative_to(run)
        events = list(opened.events())
        assert opened.count() == manifest.events + 2
    assert isinstance(events[-1], Stopped) and events[-1].conversation_id == "c9", "the frames of the -wal are read"
    assert not snapshot.exists(), "the snapshot is deleted on close"
    assert files_of(run) == before, "not a byte of the run directory changed, -shm included"


def test_a_killed_run_without_its_shm_gets_none_back(finished: Path, tmp_path: Path) -> None:
    run = copy_of(finished, tmp_path / "run", status="running")
    killed_writer(run / TRACE_FILE, RunManifest.read(run).run_id)
    (run / f"{TRACE_FILE}-shm").unlink()
    before = files_of(run)
    with open_run(run) as opened:
        assert opened.count() == RunManifest.read(run).events + 2
    assert files_of(run) == before


def test_a_reader_catches_up_with_a_run_being_written(finished: Path, tmp_path: Path) -> None:
    run = copy_of(finished, tmp_path / "run", status="running")
    manifest = RunManifest.read(run)
    with open_run(run) as opened:
        assert opened.count() == manifest.events
        writer = SQLiteTraceStore(run / TRACE_FILE)
        ids = {"run_id": manifest.run_id, "conversation_id": "c-late", "scenario_id": "s-late"}
        writer.append(ConversationStarted(**ids, protocol="p", order=["a"], repeat=0, seed=1))
        assert opened.count() == manifest.events, "a reader sees the trace as it was opened"
        assert opened.catch_up() and opened.count() == manifest.events + 1
        assert not opened.catch_up(), "nothing changed since"
        writer.close()
        assert opened.catch_up() and opened.count() == manifest.events + 1


@pytest.mark.parametrize("trace", ["none", "zero bytes", "no events table", "no events"])
def test_a_run_killed_before_its_first_event_reads_as_empty(finished: Path, tmp_path: Path, trace: str) -> None:
    run = copy_of(finished, tmp_path / "run", status="running", events=0, final_hash=None)
    (run / TRACE_FILE).unlink()
    if trace == "zero bytes":
        (run / TRACE_FILE).write_bytes(b"")
    elif trace == "no events table":
        sqlite3.connect(run / TRACE_FILE).close()  # SQLite made the file, the store wrote nothing yet
    elif trace == "no events":
        SQLiteTraceStore(run / TRACE_FILE).close()
    before = files_of(run)
    with open_run(run) as opened:
        assert (list(opened.events()), opened.count(), opened.conversation_ids()) == ([], 0, [])
    assert files_of(run) == before


def test_counts_may_run_ahead_of_run_json_only_for_an_unfinished_run(finished: Path, tmp_path: Path) -> None:
    manifest = RunManifest.read(finished)
    with open_run(finished) as opened:
        earlier = opened.store.row_at(manifest.events - 5)
    for status in ("running", "interrupted"):
        run = copy_of(finished, tmp_path / status, status=status, events=earlier.seq, final_hash=earlier.hash)
        with open_run(run) as opened:
            assert opened.count() == manifest.events
    for status in ("completed", "failed"):
        run = copy_of(finished, tmp_path / status, status=status, events=earlier.seq, final_hash=earlier.hash)
        refusal = f"the trace holds {manifest.events} events; a {status} run's run.json counts every event"
        with pytest.raises(TraceRefused, match=refusal):
            open_run(run)
    run = copy_of(finished, tmp_path / "other-hash", status="running", events=earlier.seq, final_hash="ab" * 32)
    with pytest.raises(TraceRefused) as refused:
        open_run(run)
    assert str(refused.value) == (
        f"{run / TRACE_FILE}: run.json counts {earlier.seq} events ending in abababababab...;"
        f" the trace has event {earlier.seq} hashed {earlier.hash[:12]}..., not run.json's final hash"
    )


def test_the_read_only_store_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        SQLiteTraceStore(tmp_path / TRACE_FILE, read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_read_manifest_names_a_run_json_that_is_a_folder(finished: Path, tmp_path: Path) -> None:
    run = copy_of(finished, tmp_path / "run")
    (run / "run.json").unlink()
    (run / "run.json").mkdir()
    with pytest.raises(UserError) as error:
        read_manifest(run)
    assert str(error.value) == f"{run / 'run.json'}: not a file"
