"""The SQLite trace store's own behaviour (what every store does is in test_store_conformance.py)."""

from __future__ import annotations

import sqlite3

from moot.trace.events import ConversationStarted, MessageAdded, Stopped, parse_event
from moot.trace.store import SQLiteTraceStore, canonical_json


def _ids(round_: int = 0, agent: str | None = None) -> dict:
    return {"run_id": "run-1", "conversation_id": "c1", "scenario_id": "s1", "round": round_, "agent": agent}


def _fill(store: SQLiteTraceStore) -> list:
    return [
        store.append(ConversationStarted(**_ids(), protocol="p", order=["a", "b"], repeat=0, seed=7)),
        store.append(MessageAdded(**_ids(1, "a"), role="debater", position=0, content="hi", parsed={"verdict": "NTA"})),
        store.append(Stopped(**_ids(1), status="completed", reason="max rounds (1)", rounds=1)),
    ]


def test_jsonl_line_round_trips_into_the_same_event(tmp_path):
    for event in _fill(SQLiteTraceStore(tmp_path / "trace.sqlite")):
        assert parse_event(canonical_json(event)) == event


def test_a_read_only_store_writes_nothing_not_even_a_dropped_trigger(tmp_path):
    """Verification opens the store read-only: a trigger a tamperer dropped must stay dropped."""
    path = tmp_path / "trace.sqlite"
    stored = _fill(SQLiteTraceStore(path))
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.close()
    reader = SQLiteTraceStore(path, read_only=True)
    assert list(reader.events()) == stored
    reader.close()
    triggers = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert triggers == [("events_no_delete",)]
