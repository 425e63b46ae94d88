"""Readers never write: every command that reads a run leaves its directory as it was, byte for byte.

Three runs: a finished one, a killed one (frames in its `-wal`, a `-shm` beside it, run.json
behind its trace), and one whose append-only triggers a tamperer dropped. The readers read
them all without creating, changing or deleting a file of the run directory (nor creating the
triggers again); the commands that append to a run refuse the one without triggers.
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
from moot.cli import main
from moot.trace.manifest import RunManifest
from moot.trace.store import TRACE_FILE

READERS: dict[str, list[str]] = {
    "verify": ["verify", "{run}"],
    "trace": ["trace", "{run}", "--format", "jsonl"],
    "export": ["export", "{run}", "--format", "csv", "--out", "{out}/export"],
    "report": ["report", "{run}", "--out", "{out}/report.html"],
    "analyze": ["analyze", "{run}", "--study", "deliberation", "--out", "{out}/analysis", "--boot", "10"],
    "replay": ["replay", "{run}", "--out", "{out}/replay"],
}
"""Every command that only reads a run, its outputs outside the run directory."""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished scripted run: 3 scenarios (from a file), 3 debaters, consensus in round 2."""
    return consensus_run(tmp_path_factory.mktemp("readers"))


KILLED_WRITER = """
import os, signal, sys
from moot.trace.store import SQLiteTraceStore
from moot.trace.events import ConversationStarted
store = SQLiteTraceStore(sys.argv[1])
ids = {"run_id": sys.argv[2], "conversation_id": "c-late", "scenario_id": "s0"}
store.append(ConversationStarted(**ids, protocol="p", order=["alice"], repeat=0, seed=1))
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_copy(finished: Path, target: Path) -> Path:
    """The run as a kill leaves it: status `running`, an event after run.json's count, its frame in the -wal."""
    shutil.copytree(finished, target)
    manifest = RunManifest.read(target)
    manifest.status = "running"
    manifest.write(target)
    argv = [sys.executable, "-c", KILLED_WRITER, str(target / TRACE_FILE), manifest.run_id]
    process = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert (target / f"{TRACE_FILE}-wal").stat().st_size > 0 and (target / f"{TRACE_FILE}-shm").exists()
    return target


def unguarded_copy(finished: Path, target: Path) -> Path:
    """The run with its append-only triggers dropped, and nothing else changed."""
    shutil.copytree(finished, target)
    db = sqlite3.connect(target / TRACE_FILE, isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    db.close()
    return target


def triggers(run: Path) -> list[str]:
    """The triggers of a run's trace, read from a copy (reading the file itself could write beside it)."""
    copy = run.parent / f"{run.name}-triggers.sqlite"
    shutil.copyfile(run / TRACE_FILE, copy)
    try:
        db = sqlite3.connect(copy)
        return [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")]
    finally:
        db.close()
        copy.unlink()


@pytest.mark.parametrize("kind", ["finished", "killed", "unguarded"])
def test_every_reader_leaves_the_run_directory_byte_for_byte(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture, kind: str
) -> None:
    copy = {"finished": shutil.copytree, "killed": killed_copy, "unguarded": unguarded_copy}[kind]
    run = copy(finished, tmp_path / "run")
    before = files_of(run)
    expected_codes = {"verify": 0 if kind == "finished" else 1}
    for name, argv in READERS.items():
        out = tmp_path / name
        out.mkdir()
        capsys.readouterr()
        code = main([part.format(run=run, out=out) for part in argv])
        captured = capsys.readouterr()
        assert code == expected_codes.get(name, 0), (name, captured.out[-500:], captured.err)
        assert "Traceback" not in captured.err
        assert files_of(run) == before, f"{name} changed the {kind} run directory"
    capsys.readouterr()
    assert main(["verify", str(run)]) == expected_codes["verify"]
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith({"finished": "ok: ", "killed": "unfinished at seq ", "unguarded": "triggers: "}[kind])
    if kind == "unguarded":
        assert triggers(run) == [], "no reader created the dropped triggers again"


def test_commands_that_append_refuse_a_trace_whose_triggers_were_dropped(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = unguarded_copy(finished, tmp_path / "run")
    manifest = RunManifest.read(run)
    manifest.status = "interrupted"
    manifest.write(run)
    before = files_of(run)
    for argv in (["run", "--resume", str(run)], ["judge", str(run), "--no-cache"]):
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        missing = "trigger events_no_update is missing, so its rows may have been changed"
        refusal = f"{missing}; check it with `moot verify {run}`"
        assert err == f"moot: error: {run / TRACE_FILE}: {refusal}\n"
        assert files_of(run) == before
    assert triggers(run) == []
