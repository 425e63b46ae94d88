"""Trace stores: where events are appended and read back.

`TraceStore` is the interface the runner and the analysis use; `SQLiteTraceStore` is the
embedded default, one append-only SQLite file per run directory (`moot.trace.postgres` keeps
traces in a PostgreSQL database instead). Rows cannot be updated or deleted (triggers refuse
it), and each event is chained to the previous one by its hash.

Several processes may append to one trace at once: each append reads the chain's head, inserts
the next event and commits in one transaction that holds the write lock, so that the chain
stays one line whoever writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NamedTuple, Protocol

from moot.trace.events import Event, parse_event
from moot.trace.readonly import ReadOnlySQLite

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

BUSY_TIMEOUT_S = 30.0
"""How long an append waits for another process's append to the same file to finish."""

ROW_COLUMNS = ("seq", "event", "run_id", "conversation_id", "scenario_id", "round", "agent", "body", "hash")
"""Columns of a stored event row, in `RawRow` order."""

_INSERT = f"INSERT INTO events ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})"
_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"


class RawRow(NamedTuple):
    """One stored event row as it is: the columns that repeat fields of the body, the body, its hash."""

    seq: int
    event: str
    run_id: str
    conversation_id: str
    scenario_id: str
    round: int
    agent: str | None
    body: str
    hash: str


def canonical_json(event: Event) -> str:
    """The canonical JSON of an event: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: Event) -> str:
    """SHA-256 of the event's canonical JSON (its `prev_hash` included)."""
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


def seal(event: Event, seq: int, prev_hash: str | None) -> tuple[Event, RawRow]:
    """The event numbered `seq` and chained to `prev_hash`, and the row that stores it."""
    stored = event.model_copy(update={"seq": seq, "prev_hash": prev_hash})
    body = canonical_json(stored)  # serialised once: it is both the stored body and what the hash covers
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    row = RawRow(
        seq,
        stored.event,
        stored.run_id,
        stored.conversation_id,
        stored.scenario_id,
        stored.round,
        stored.agent,
        body,
        digest,
    )
    return stored, row


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

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event stored, 0 when empty."""
        ...

    def raw_rows(
        self, after: int | None = None, conversation_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> Iterator[RawRow]:
        """The stored rows (all, or those with a sequence number above `after`) in sequence order.

        They are given as they are stored (nothing parsed).
        """
        ...

    def row_at(self, seq: int) -> RawRow | None:
        """The stored row numbered `seq`, None when there is none."""
        ...

    def ends(self) -> tuple[RawRow, RawRow] | None:
        """The first and the last stored row, None when the trace holds none."""
        ...

    def unguarded(self) -> list[str]:
        """What is wrong with the triggers that keep the trace append-only, one line each (empty when nothing)."""
        ...

    def catch_up(self) -> bool:
        """Let a read-only store see what was appended since it was opened; True when it had to reconnect."""
        ...

    def bulk(self) -> AbstractContextManager[None]:
        """Append many events in one transaction: all of them are stored, or none."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


def filter_clause(
    conversation_id: str | None, kinds: Iterable[str] | None, placeholder: str = "?"
) -> tuple[list[str], list[object]]:
    """SQL conditions (and their parameters) selecting one conversation and/or some event kinds."""
    where: list[str] = []
    params: list[object] = []
    if conversation_id is not None:
        where.append(f"conversation_id = {placeholder}")
        params.append(conversation_id)
    if kinds is not None:
        kinds = list(kinds)
        where.append(f"event IN ({', '.join([placeholder] * len(kinds))})" if kinds else "1 = 0")
        params.extend(kinds)
    return where, params


class SQLiteTraceStore:
    """A run's events in one SQLite file (WAL mode); several processes may append to it at once.

    `read_only` opens an existing file without writing anything to it or beside it, not even the
    schema (as verification needs: a store that restored a dropped trigger would hide the
    tampering); see `moot.trace.readonly`.
    """

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        self._in_bulk = False
        self._reader: ReadOnlySQLite | None = None
        if read_only:
            self._reader = ReadOnlySQLite(self.path)
            self._db = self._reader.connect()
            return
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        # Switching to WAL needs the file to itself: skip it when another process already did it.
        if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @property
    def snapshot(self) -> Path | None:
        """The temporary folder a read-only store reads a copy of the file from (a killed run's); None when it
        reads the file itself."""
        return self._reader.snapshot if self._reader is not None else None

    def _head(self) -> tuple[int, str | None]:
        row = self._db.execute(_HEAD).fetchone()
        return (row[0], row[1]) if row else (0, None)

    @property
    def last_hash(self) -> str | None:
        """Hash of the last event stored, None when empty (read from the file: other processes may append)."""
        with self._lock:
            return self._head()[1]

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event stored, 0 when empty."""
        with self._lock:
            return self._head()[0]

    def _writable(self) -> None:
        if self.read_only:
            raise RuntimeError(f"the trace store {self.path} was opened read-only")

    def append(self, event: Event) -> Event:
        """Assign the next sequence number and chain hash, store the event, return it.

        The head of the chain is read inside the transaction that inserts the event, under the
        file's write lock (`BEGIN IMMEDIATE`), so appends from several processes chain one after another.
        """
        self._writable()
        with self._lock:
            if self._in_bulk:
                return self._insert(event)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                stored = self._insert(event)
            except BaseException:
                self._rollback()
                raise
            self._db.execute("COMMIT")
            return stored

    def _rollback(self) -> None:
        if self._db.in_transaction:  # an error may have ended the transaction already
            self._db.execute("ROLLBACK")

    def _insert(self, event: Event) -> Event:
        seq, prev_hash = self._head()
        stored, row = seal(event, seq + 1, prev_hash)
        self._db.execute(_INSERT, row)
        return stored

    def events(self, conversation_id: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        """Events in sequence order: all, or those of one conversation, or of the given kinds (`event` names).

        The filters run in SQL, so that reading a few kinds out of a large trace parses only those.
        """
        where, params = filter_clause(conversation_id, kinds)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        for (body,) in self._db.execute(f"SELECT body FROM events{clause} ORDER BY seq", params):
            yield parse_event(body)

    def raw_rows(
        self, after: int | None = None, conversation_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> Iterator[RawRow]:
        """The stored rows (all, or those with a sequence number above `after`) in sequence order.

        They are given as they are stored (nothing parsed).
        """
        where, params = filter_clause(conversation_id, kinds)
        if after is not None:
            where.insert(0, "seq > ?")
            params.insert(0, after)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        for row in self._db.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM events{clause} ORDER BY seq", params):
            yield RawRow(*row)

    def row_at(self, seq: int) -> RawRow | None:
        """The stored row numbered `seq`, None when there is none."""
        row = self._db.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM events WHERE seq = ?", (seq,)).fetchone()
        return RawRow(*row) if row else None

    def ends(self) -> tuple[RawRow, RawRow] | None:
        """The first and the last stored row, None when the trace holds none."""
        select = f"SELECT {', '.join(ROW_COLUMNS)} FROM events ORDER BY seq"
        first = self._db.execute(f"{select} LIMIT 1").fetchone()
        if first is None:
            return None
        return RawRow(*first), RawRow(*self._db.execute(f"{select} DESC LIMIT 1").fetchone())

    def has_events_table(self) -> bool:
        """True when the file holds the events table (a file SQLite made but the store never wrote to has none)."""
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
        return found is not None

    def damage(self) -> str | None:
        """What SQLite's quick check finds wrong with the file (its first line), None when the file is sound.

        It reads every page (about 0.1 s for 100 MB), so a truncated or scribbled-on file is found
        when it is opened, not half-way through a read.
        """
        result = str(self._db.execute("PRAGMA quick_check(1)").fetchone()[0])
        if result == "ok":
            return None
        # The report may open with a header line naming the database ("*** in database main ***").
        lines = [line for line in result.splitlines() if line.strip() and not line.startswith("***")]
        return lines[0] if lines else result.strip()

    def unguarded(self) -> list[str]:
        """What is wrong with the triggers that keep the trace append-only, one line each (empty when nothing)."""
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        found = dict(self._db.execute(query).fetchall())
        problems = []
        for name, sql in _expected_triggers().items():
            if name not in found:
                problems.append(f"trigger {name} is missing")
            elif " ".join(str(found[name]).split()) != " ".join(sql.split()):
                problems.append(f"trigger {name} was altered")
        return problems

    def catch_up(self) -> bool:
        """Reconnect a read-only store whose file changed since it was opened (a run being written); True when
        it did."""
        with self._lock:
            if self._reader is None or not self._reader.changed():
                return False
            self._db.close()
            self._db = self._reader.connect()
            return True

    def conversation_ids(self) -> list[str]:
        """Ids of the conversations with at least one event, in order of first event."""
        rows = self._db.execute("SELECT conversation_id FROM events GROUP BY conversation_id ORDER BY MIN(seq)")
        return [row[0] for row in rows]

    def count(self) -> int:
        """Number of events stored."""
        return self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Append many events in one transaction: all of them are stored, or none (nothing is on disk until it ends).

        The file's write lock is held throughout, so other processes' appends wait for it (up to `BUSY_TIMEOUT_S`).
        """
        self._writable()
        with self._lock:
            if self._in_bulk:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._in_bulk = True
            try:
                yield
            except BaseException:
                self._in_bulk = False
                self._rollback()
                raise
            self._in_bulk = False
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Flush and release the store (a read-only store's snapshot is deleted)."""
        self._db.close()
        if self._reader is not None:
            self._reader.close()


def _expected_triggers() -> dict[str, str]:
    """The append-only triggers as the schema creates them, by name (SQLite keeps each one's SQL text)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(_SCHEMA)
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    finally:
        db.close()


def open_trace(run_dir: Path | str) -> SQLiteTraceStore:
    """Open (creating when new) the SQLite trace of a run directory; `moot.trace.reading.open_run_trace`
    opens an existing run's trace wherever it is."""
    return SQLiteTraceStore(Path(run_dir) / TRACE_FILE)
