"""The PostgreSQL trace store: many runs' traces in one database, appended to by many processes at once.

Table `moot_events` holds every run's rows, keyed by (run_id, seq), as SQLite's `events` holds
one run's; a trigger refuses UPDATE, DELETE and TRUNCATE. Table `moot_heads` keeps each run's
last sequence number and hash: an append locks its run's head row (`SELECT ... FOR UPDATE`),
inserts the next event and moves the head in one transaction, so that processes on several
machines appending to one run build one gapless chain. The schema is created on first use
(under an advisory lock, so that two processes starting together do not race).

psycopg 3 is imported only here, when a PostgreSQL store is opened (`pip install 'moot[postgresql]'`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from moot.errors import UserError
from moot.trace.events import Event, parse_event
from moot.trace.redaction import public_location, trace_url_secrets
from moot.trace.store import ROW_COLUMNS, RawRow, filter_clause, seal

CONNECT_TIMEOUT_S = 10
"""How long opening a connection may take before it is an error."""
PAGE = 2000
"""Rows fetched per query when reading a trace (keyset pages: no long transaction, little memory)."""
SCHEMA_LOCK = 0x6D6F6F74  # "moot": the advisory lock key held while the schema is created
APPEND_ONLY_TRIGGER = "moot_events_append_only"
NO_TRUNCATE_TRIGGER = "moot_events_no_truncate"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS moot_events (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    agent TEXT,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS moot_events_conversation ON moot_events (run_id, conversation_id, seq);
CREATE TABLE IF NOT EXISTS moot_heads (
    run_id TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    last_hash TEXT
);
CREATE OR REPLACE FUNCTION moot_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the trace is append-only';
END
$$;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_trigger WHERE tgname = '{APPEND_ONLY_TRIGGER}' AND tgrelid = 'moot_events'::regclass
    ) THEN
        CREATE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON moot_events
            FOR EACH ROW EXECUTE FUNCTION moot_refuse_change();
        CREATE TRIGGER {NO_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON moot_events
            FOR EACH STATEMENT EXECUTE FUNCTION moot_refuse_change();
    END IF;
END
$$;
"""

_SCHEMA_READY = f"""
SELECT to_regclass('moot_heads') IS NOT NULL AND EXISTS (
    SELECT 1 FROM pg_trigger WHERE tgname = '{APPEND_ONLY_TRIGGER}' AND tgrelid = to_regclass('moot_events')
)
"""


_TRIGGERS = """
SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = to_regclass('moot_events') AND NOT t.tgisinternal
"""


class NoTraceTables(UserError):
    """A database opened read-only holds no moot trace (no table moot_events)."""


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError("a PostgreSQL trace needs psycopg: pip install 'moot[postgresql]'") from None
    return psycopg


def _one_line(exc: BaseException, url: str) -> str:
    """An error's first line, with the URL's password (if any) blanked out."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    secrets = {userinfo.split(":", 1)[1]} if ":" in userinfo else set()
    secrets |= {value for key, value in parse_qsl(parts.query) if key == "password"}
    for secret in sorted(secrets | {unquote(s) for s in secrets}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


class PostgresTraceStore:
    """One run's events in a PostgreSQL database (`url`: a `postgresql://` URL), beside other runs'.

    `read_only` opens the database without writing anything (the session is read-only and the
    schema must already exist), as readers and verification do.
    """

    def __init__(self, url: str, run_id: str, read_only: bool = False) -> None:
        self.location = public_location(url)
        self.secrets = tuple(trace_url_secrets(url))
        """The password the store was opened with (the URL's, `$PGPASSWORD`): the trace writer redacts it."""
        self.run_id = run_id
        self.read_only = read_only
        self._lock = threading.RLock()
        self._in_bulk = False
        psycopg = _psycopg()
        options: dict[str, Any] = {"autocommit": True, "application_name": "moot"}
        if "connect_timeout" not in url:
            options["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            self._db = psycopg.connect(url, **options)
        except psycopg.Error as exc:
            raise UserError(f"cannot open the trace database {self.location}: {_one_line(exc, url)}") from None
        try:
            if read_only:
                self._db.execute("SET default_transaction_read_only = on")
                if self._db.execute("SELECT to_regclass('moot_events')").fetchone()[0] is None:
                    raise NoTraceTables(f"{self.location} holds no moot trace (no table moot_events)")
            elif not self._db.execute(_SCHEMA_READY).fetchone()[0]:
                with self._db.transaction():
                    self._db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    self._db.execute(_SCHEMA)
        except psycopg.Error as exc:
            self._db.close()
            raise UserError(f"cannot open the trace database {self.location}: {_one_line(exc, url)}") from None
        except UserError:
            self._db.close()
            raise

    def _writable(self) -> None:
        if self.read_only:
            raise RuntimeError(f"the trace store {self.location} was opened read-only")

    @property
    def last_hash(self) -> str | None:
        """Hash of the last event stored, None when empty (read from the database: other processes may append)."""
        return self._head()[1]

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event stored, 0 when empty."""
        return self._head()[0]

    def _head(self) -> tuple[int, str | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, hash FROM moot_events WHERE run_id = %s ORDER BY seq DESC LIMIT 1", (self.run_id,)
            ).fetchone()
        return (row[0], row[1]) if row else (0, None)

    def append(self, event: Event) -> Event:
        """Assign the next sequence number and chain hash, store the event, return it.

        The run's head row is locked for the transaction, so concurrent appends to one run take turns.
        """
        self._writable()
        with self._lock:
            if self._in_bulk:
                return self._insert(event)
            with self._db.transaction():
                return self._insert(event)

    def _locked_head(self) -> tuple[int, str | None]:
        """The run's head, locked until the transaction ends (created from its events when missing)."""
        query = "SELECT last_seq, last_hash FROM moot_heads WHERE run_id = %s FOR UPDATE"
        row = self._db.execute(query, (self.run_id,)).fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO moot_heads (run_id, last_seq, last_hash)"
                " SELECT %(run)s, COALESCE(MAX(seq), 0),"
                " (SELECT hash FROM moot_events WHERE run_id = %(run)s ORDER BY seq DESC LIMIT 1)"
                " FROM moot_events WHERE run_id = %(run)s ON CONFLICT (run_id) DO NOTHING",
                {"run": self.run_id},
            )
            row = self._db.execute(query, (self.run_id,)).fetchone()
        return row[0], row[1]

    def _insert(self, event: Event) -> Event:
        seq, prev_hash = self._locked_head()
        stored, row = seal(event, seq + 1, prev_hash)
        if row.run_id != self.run_id:
            raise ValueError(f"event of run '{row.run_id}' appended to the trace of run '{self.run_id}'")
        self._db.execute(
            f"INSERT INTO moot_events ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join(['%s'] * len(ROW_COLUMNS))})", row
        )
        self._db.execute(
            "UPDATE moot_heads SET last_seq = %s, last_hash = %s WHERE run_id = %s", (row.seq, row.hash, self.run_id)
        )
        return stored

    def _pages(
        self, columns: str, after: int | None, conversation_id: str | None, kinds: Iterable[str] | None
    ) -> Iterator[tuple]:
        """Rows of the run (seq first; all, or those above `after`) in sequence order, a page per query."""
        where, params = filter_clause(conversation_id, kinds, placeholder="%s")
        while True:
            above = [] if after is None else ["seq > %s"]
            clause = " AND ".join(["run_id = %s", *above, *where])
            query = f"SELECT seq, {columns} FROM moot_events WHERE {clause} ORDER BY seq LIMIT {PAGE}"
            with self._lock:
                rows = self._db.execute(query, [self.run_id, *([] if after is None else [after]), *params]).fetchall()
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def events(self, conversation_id: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        """Events in sequence order: all, or those of one conversation, or of the given kinds (`event` names)."""
        for _, body in self._pages("body", None, conversation_id, kinds):
            yield parse_event(body)

    def raw_rows(
        self, after: int | None = None, conversation_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> Iterator[RawRow]:
        """The stored rows (all, or those with a sequence number above `after`) in sequence order.

        They are given as they are stored (nothing parsed).
        """
        for row in self._pages(", ".join(ROW_COLUMNS[1:]), after, conversation_id, kinds):
            yield RawRow(*row)

    def row_at(self, seq: int) -> RawRow | None:
        """The stored row numbered `seq`, None when there is none."""
        with self._lock:
            query = f"SELECT {', '.join(ROW_COLUMNS)} FROM moot_events WHERE run_id = %s AND seq = %s"
            row = self._db.execute(query, (self.run_id, seq)).fetchone()
        return RawRow(*row) if row else None

    def ends(self) -> tuple[RawRow, RawRow] | None:
        """The first and the last stored row of the run, None when it has none."""
        select = f"SELECT {', '.join(ROW_COLUMNS)} FROM moot_events WHERE run_id = %s ORDER BY seq"
        with self._lock:
            first = self._db.execute(f"{select} LIMIT 1", (self.run_id,)).fetchone()
            if first is None:
                return None
            last = self._db.execute(f"{select} DESC LIMIT 1", (self.run_id,)).fetchone()
        return RawRow(*first), RawRow(*last)

    def unguarded(self) -> list[str]:
        """What is wrong with the triggers that keep the table append-only, one line each (empty when nothing)."""
        with self._lock:
            found = {name: (enabled, source) for name, enabled, source in self._db.execute(_TRIGGERS).fetchall()}
        problems = []
        for name in (APPEND_ONLY_TRIGGER, NO_TRUNCATE_TRIGGER):
            if name not in found:
                problems.append(f"trigger {name} is missing")
            elif found[name][0] == "D":
                problems.append(f"trigger {name} is disabled")
            elif "RAISE EXCEPTION" not in (found[name][1] or ""):
                problems.append(f"trigger {name} no longer refuses changes (its function was replaced)")
        return problems

    def catch_up(self) -> bool:
        """Nothing to do: every query reads the database as it is now."""
        return False

    def conversation_ids(self) -> list[str]:
        """Ids of the conversations with at least one event, in order of first event."""
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation_id FROM moot_events WHERE run_id = %s GROUP BY conversation_id ORDER BY MIN(seq)",
                (self.run_id,),
            ).fetchall()
        return [row[0] for row in rows]

    def count(self) -> int:
        """Number of events stored."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM moot_events WHERE run_id = %s", (self.run_id,)).fetchone()[0]

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Append many events in one transaction: all of them are stored, or none.

        The run's head stays locked throughout, so other processes' appends to this run wait for it.
        """
        self._writable()
        with self._lock:
            if self._in_bulk:
                yield
                return
            with self._db.transaction():
                self._in_bulk = True
                try:
                    yield
                finally:
                    self._in_bulk = False

    def close(self) -> None:
        """Release the connection."""
        self._db.close()
