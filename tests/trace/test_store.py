"""The SQLite trace store: append-only, sequenced, hash-chained, round-tripping."""

from __future__ import annotations

import sqlite3

import pytest

from moot.trace.events import ConversationStarted, MessageAdded, Stopped, parse_event
from moot.trace.store import SQLiteTraceStore, canonical_json, event_hash


def _ids(round_: int = 0, agent: str | None = None) -> dict:
    return {"run_id": "run-1", "conversation_id": "c1", "scenario_id": "s1", "round": round_, "agent": agent}


def _fill(store: SQLiteTraceStore) -> list:
    return [
        store.append(ConversationStarted(**_ids(), protocol="p", order=["a", "b"], repeat=0, seed=7)),
        store.append(MessageAdded(**_ids(1, "a"), role="debater", position=0, content="hi", parsed={"verdict": "NTA"})),
        store.append(Stopped(**_ids(1), status="completed", reason="max rounds (1)", rounds=1)),
    ]


def test_sequence_numbers_and_hash_chain(tmp_path):
    store = SQLiteTraceStore(tmp_path / "trace.sqlite")
    stored = _fill(store)
    assert [e.seq for e in stored] == [1, 2, 3]
    assert stored[0].prev_hash is None
    assert stored[1].prev_hash == event_hash(stored[0])
    assert stored[2].prev_hash == event_hash(stored[1])
    assert store.last_hash == event_hash(stored[2])


def test_events_read_back_equal_and_filter_by_conversation(tmp_path):
    store = SQLiteTraceStore(tmp_path / "trace.sqlite")
    stored = _fill(store)
    other = store.append(ConversationStarted(**{**_ids(), "conversation_id": "c2"}, protocol="p", order=["a"], repeat=0, seed=1))
    assert list(store.events()) == [*stored, other]
    assert list(store.events("c1")) == stored
    assert store.conversation_ids() == ["c1", "c2"]
    assert store.count() == 4


def test_reopened_store_continues_the_chain(tmp_path):
    path = tmp_path / "trace.sqlite"
    first = SQLiteTraceStore(path)
    stored = _fill(first)
    first.close()
    again = SQLiteTraceStore(path)
    nxt = again.append(Stopped(**_ids(2), status="completed", reason="x", rounds=2))
    assert nxt.seq == 4 and nxt.prev_hash == event_hash(stored[-1])


@pytest.mark.parametrize("statement", ["UPDATE events SET body = '{}' WHERE seq = 1", "DELETE FROM events WHERE seq = 2"])
def test_rows_cannot_be_edited_or_deleted(tmp_path, statement):
    path = tmp_path / "trace.sqlite"
    _fill(SQLiteTraceStore(path))
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)


def test_jsonl_line_round_trips_into_the_same_event(tmp_path):
    for event in _fill(SQLiteTraceStore(tmp_path / "trace.sqlite")):
        assert parse_event(canonical_json(event)) == event


def test_events_filter_by_kind(tmp_path):
    store = SQLiteTraceStore(tmp_path / "t.sqlite")
    written = _fill(store)
    assert [e.event for e in store.events(kinds=["stopped"])] == ["stopped"]
    assert [e.seq for e in store.events(kinds=["message_added", "conversation_started"])] == [e.seq for e in written if e.event in ("message_added", "conversation_started")]
    store.close()


def test_bulk_appends_commit_together_or_not_at_all(tmp_path):
    store = SQLiteTraceStore(tmp_path / "t.sqlite")
    with store.bulk():
        _fill(store)
    kept = store.count()
    with pytest.raises(RuntimeError):
        with store.bulk():
            store.append(ConversationStarted(**_ids(), protocol="p", order=["a"], repeat=0, seed=0))
            raise RuntimeError("stop")
    # the failed batch left nothing behind, and the chain goes on from the last committed event
    assert store.count() == kept
    after = store.append(ConversationStarted(**_ids(), protocol="p", order=["a"], repeat=0, seed=0))
    assert after.seq == kept + 1 and after.prev_hash == event_hash(list(store.events())[kept - 1])
    store.close()
