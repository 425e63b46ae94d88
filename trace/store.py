"""Trace stores: where events are appended and read back.

`TraceStore` is the interface the runner and the analysis use; `SQLiteTraceStore` is the
embedded default, one append-only SQLite file per run directory. Rows cannot be updated or
deleted (triggers refuse it), and each event is chained to the previous one by its hash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import contextmanager
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from moot.trace.events import Event, parse_event

TRACE_FILE = "trace.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    run_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    agent TEXT,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_conversation ON events (conversation_id, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the trace is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the trace is append-only'); END;
"""


def canonical_json(event: Event) -> str:
    """The canonical JSON of an event: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: Event) -> str:
    """SHA-256 of the event's canonical JSON (its `prev_hash` included)."""
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


class TraceStore(Protocol):
    """Append-only storage of a run's events."""

    def append(self, event: Event) -> Event:
        """Assign the next sequence number and chain hash, store the event, return it."""
        ...

    def events(self, conversation_id: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        """Events in sequence order: all, or those of one conversation, or of the given kinds (`event` names)."""
        ...

    def conversation_ids(self) -> list[str]:
        """Ids of the conversations with at least one event, in order of first event."""
        ...

    def count(self) -> int:
        """Number of events stored."""
        ...

    @property
    def last_hash(self) -> str | None:
        """Hash of the last event stored, None when empty."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


class SQLiteTraceStore:
    """A run's events in one SQLite file (WAL mode, one writer)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self._last_seq, self._last_hash = (row[0], row[1]) if row else (0, None)

    @property
    def last_hash(self) -> str | None:
        """Hash of the last event stored, None when empty."""
        return self._last_hash

    def append(self, event: Event) -> Event:
        """Assign the next sequence number and chain hash, store the event, return it."""
        stored = event.model_copy(update={"seq": self._last_seq + 1, "prev_hash": self._last_hash})
        body = canonical_json(stored)  # serialised once: it is both the stored body and what the hash covers
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self._db.execute(
            "INSERT INTO events (seq, event, run_id, conversation_id, scenario_id, round, agent, body, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.seq,
                stored.event,
                stored.run_id,
                stored.conversation_id,
                stored.scenario_id,
                stored.round,
                stored.agent,
                body,
                digest,
            ),
        )
        self._last_seq, self._last_hash = stored.seq, digest
        return stored

    def events(self, conversation_id: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        """Events in sequence order: all, or those of one conversation, or of the given kinds (`event` names).

        The filters run in SQL, so that reading a few kinds out of a large trace parses only those.
        """
        where, params = [], []
        if conversation_id is not None:
            where.append("conversation_id = ?")
            params.append(conversation_id)
        if kinds is not None:
            kinds = list(kinds)
            where.append(f"event IN ({', '.join('?' * len(kinds))})" if kinds else "0")
            params.extend(kinds)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        for (body,) in self._db.execute(f"SELECT body FROM events{clause} ORDER BY seq", params):
            yield parse_event(body)

    def conversation_ids(self) -> list[str]:
        """Ids of the conversations with at least one event, in order of first event."""
        rows = self._db.execute(
            "SELECT conversation_id FROM events GROUP BY conversation_id ORDER BY MIN(seq)"
        )
        return [row[0] for row in rows]

    def count(self) -> int:
        """Number of events stored."""
        return self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Append many events in one transaction (for building large traces; nothing is on disk until it ends)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            self._last_seq, self._last_hash = (row[0], row[1]) if row else (0, None)
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Flush and release the store."""
        self._db.close()


def open_trace(run_dir: Path | str) -> SQLiteTraceStore:
    """Open the trace store of a run directory."""
    return SQLiteTraceStore(Path(run_dir) / TRACE_FILE)
