"""A tampering suite: `verify_run` catches every edit, removal, insertion and reordering of a real trace.

One scripted run (three conversations) is copied, and each copy is tampered directly in its
SQLite file (its append-only triggers dropped first, and created again after, as a careful
tamperer leaves them) at an event drawn with a seeded random generator, 30 seeds per kind.
Verify must name the kind and the seq of the first tampered event.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from helpers import consensus_run
from moot.graphs.audit import verify_run
from moot.trace.events import parse_event
from moot.trace.store import SQLiteTraceStore, canonical_json, event_hash

SEEDS = range(30)
EDITABLE = ("content", "raw_reply", "reason", "round", "agent", "scenario_id", "visible", "order")


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished scripted run: 3 scenarios, 3 debaters, consensus in round 2."""
    return consensus_run(tmp_path_factory.mktemp("tamper"))


def tampered_copy(original: Path, target: Path) -> tuple[Path, sqlite3.Connection]:
    """A copy of the run directory and a connection to its trace with the triggers dropped."""
    shutil.copytree(original, target)
    db = sqlite3.connect(target / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    return target, db


def cover_tracks(db: sqlite3.Connection, target: Path) -> None:
    """Close the tampering connection and create the dropped triggers again (a writable store does)."""
    db.close()
    SQLiteTraceStore(target / "trace.sqlite").close()


def count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def edit(db: sqlite3.Connection, rng: random.Random) -> int:
    """Change one field of one body, leaving its stored hash."""
    seq = rng.randint(1, count(db))
    body = json.loads(db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()[0])
    name = rng.choice([k for k in EDITABLE if k in body])
    value = body[name]
    if isinstance(value, int):
        body[name] = value + 1
    elif isinstance(value, list):
        body[name] = value[::-1] + ["forged"]
    else:
        body[name] = f"{value} (edited)"
    db.execute(
        "UPDATE events SET body = ? WHERE seq = ?", (json.dumps(body, sort_keys=True, separators=(",", ":")), seq)
    )
    return seq


def delete(db: sqlite3.Connection, rng: random.Random) -> int:
    """Remove one row."""
    seq = rng.randint(1, count(db))
    db.execute("DELETE FROM events WHERE seq = ?", (seq,))
    return seq


def insert(db: sqlite3.Connection, rng: random.Random) -> int:
    """Make room at a seq and insert a forged event there, correctly hashed and chained to the event before."""
    n = count(db)
    seq = rng.randint(1, n + 1)
    template = parse_event(db.execute("SELECT body FROM events WHERE seq = ?", (min(seq, n),)).fetchone()[0])
    prev = db.execute("SELECT hash FROM events WHERE seq = ?", (seq - 1,)).fetchone()
    db.execute("UPDATE events SET seq = seq + 1000000 WHERE seq >= ?", (seq,))
    db.execute("UPDATE events SET seq = seq - 999999 WHERE seq >= 1000000")
    update = {"seq": seq, "prev_hash": prev[0] if prev else None, "round": template.round + 7}
    forged = template.model_copy(update=update)
    db.execute(
        "INSERT INTO events (seq, event, run_id, conversation_id, scenario_id, round, agent, body, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            forged.event,
            forged.run_id,
            forged.conversation_id,
            forged.scenario_id,
            forged.round,
            forged.agent,
            canonical_json(forged),
            event_hash(forged),
        ),
    )
    return seq


def swap(db: sqlite3.Connection, rng: random.Random) -> int:
    """Swap the seq of two rows (bodies and hashes untouched)."""
    first, second = sorted(rng.sample(range(1, count(db) + 1), 2))
    db.execute("UPDATE events SET seq = -1 WHERE seq = ?", (first,))
    db.execute("UPDATE events SET seq = ? WHERE seq = ?", (first, second))
    db.execute("UPDATE events SET seq = ? WHERE seq = -1", (second,))
    return first


TAMPERS = {"edited": edit, "removed": delete, "inserted": insert, "reordered": swap}


def test_the_untouched_copy_verifies(original: Path, tmp_path: Path) -> None:
    target, db = tampered_copy(original, tmp_path / "copy")
    cover_tracks(db, target)
    report = verify_run(target)
    assert report.ok, [p.line() for p in report.problems]
    assert report.conversations == 3 and report.events == count(sqlite3.connect(original / "trace.sqlite"))


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_verify_names_the_first_tampered_event(kind: str, original: Path, tmp_path: Path) -> None:
    for seed in SEEDS:
        target, db = tampered_copy(original, tmp_path / f"{kind}-{seed}")
        seq = TAMPERS[kind](db, random.Random(seed))
        cover_tracks(db, target)
        report = verify_run(target)
        assert not report.ok, f"seed {seed}: {kind} at seq {seq} was not caught"
        first = report.problems[0]
        assert (first.kind, first.seq) == (kind, seq), f"seed {seed}: expected {kind} at seq {seq}, got {first.line()}"
        shutil.rmtree(target)


def test_a_tampered_run_json_is_caught(original: Path, tmp_path: Path) -> None:
    cases = {
        "spec": lambda m: m["spec"].update(rounds=m["spec"]["rounds"] + 1),
        "events": lambda m: m.update(events=m["events"] - 1),
        "final_hash": lambda m: m.update(final_hash="0" * 64),
    }
    expected = {
        "spec": "run.json's spec hashes to",
        "events": "events, the trace holds",
        "final_hash": "is not the hash of the last event",
    }
    for name, change in cases.items():
        target = tmp_path / name
        shutil.copytree(original, target)
        manifest = json.loads((target / "run.json").read_text())
        change(manifest)
        (target / "run.json").write_text(json.dumps(manifest))
        report = verify_run(target)
        assert [p.kind for p in report.problems] == ["manifest"], [p.line() for p in report.problems]
        assert expected[name] in report.problems[0].detail


def test_a_column_that_disagrees_with_its_body_is_caught(original: Path, tmp_path: Path) -> None:
    target, db = tampered_copy(original, tmp_path / "column")
    db.execute("UPDATE events SET agent = 'mallory' WHERE seq = 5")
    cover_tracks(db, target)
    report = verify_run(target)
    assert (
        report.problems[0].line()
        == f"edited at seq 5: column 'agent' holds 'mallory', its body {report_agent(original, 5)!r}"
    )


def report_agent(run_dir: Path, seq: int) -> str | None:
    """The agent of event `seq` in an untouched trace."""
    body = (
        sqlite3.connect(run_dir / "trace.sqlite").execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    )
    return json.loads(body)["agent"]


def test_dropped_triggers_are_a_finding_and_no_reader_creates_them_again(original: Path, tmp_path: Path) -> None:
    target, db = tampered_copy(original, tmp_path / "dropped")
    db.close()
    lines = [p.line() for p in verify_run(target).problems]
    where = target / "trace.sqlite"
    found = "so rows could be edited or deleted in place"
    names = ("events_no_update", "events_no_delete")
    assert lines == [f"triggers: {where}: trigger {name} is missing, {found}" for name in names]
    db = sqlite3.connect(where)
    assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []
    db.close()


def test_an_altered_trigger_is_a_finding(original: Path, tmp_path: Path) -> None:
    target, db = tampered_copy(original, tmp_path / "altered")
    db.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT 1; END")
    cover_tracks(db, target)
    altered = f"triggers: {target / 'trace.sqlite'}: trigger events_no_update was altered"
    lines = [p.line() for p in verify_run(target).problems]
    assert lines == [f"{altered}, so rows could be edited or deleted in place"]
