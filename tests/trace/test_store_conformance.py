"""One behaviour for every trace store: SQLite and PostgreSQL pass the same suite.

Sequence numbers and the hash chain, filters, counts, bulk appends and their rollback, refused
edits, reopening, and several processes appending to one run at once.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from moot.errors import UserError
from moot.trace.events import ConversationStarted, MessageAdded, Stopped
from moot.trace.location import open_store
from moot.trace.postgres import PostgresTraceStore
from moot.trace.store import TRACE_FILE, RawRow, TraceStore, canonical_json, event_hash
from moot.trace.verify import chain_problems, stored_rows

RUN = "run-1"


@dataclass
class Backend:
    """How a test reaches one kind of store."""

    name: str
    location: str | None
    """What `open_store` takes: None for the run directory's SQLite file, else the database URL."""
    run_dir: Path
    execute: Callable[[str], None]
    """Runs one SQL statement on the stored rows, outside the store (`{table}` names the events table)."""
    refused: type[Exception]
    """What the database raises for a refused statement."""

    def open(self, run_id: str = RUN, read_only: bool = False) -> TraceStore:
        """Open (creating when new) the trace of a run."""
        return open_store(self.location, self.run_dir, run_id, read_only=read_only)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test runs once per kind of store (PostgreSQL in a fresh database)."""
    if request.param == "sqlite":

        def execute(statement: str) -> None:
            db = sqlite3.connect(tmp_path / TRACE_FILE, isolation_level=None)
            try:
                db.execute(statement.format(table="events"))
            finally:
                db.close()

        yield Backend("sqlite", None, tmp_path, execute, sqlite3.IntegrityError)
        return
    url = request.getfixturevalue("postgres_url")

    def execute_pg(statement: str) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(statement.format(table="moot_events"))

    yield Backend("postgresql", url, tmp_path, execute_pg, psycopg.Error)


def _ids(round_: int = 0, agent: str | None = None, conversation: str = "c1", run_id: str = RUN) -> dict:
    return {"run_id": run_id, "conversation_id": conversation, "scenario_id": "s1", "round": round_, "agent": agent}


def _fill(store: TraceStore, conversation: str = "c1", run_id: str = RUN) -> list:
    return [
        store.append(
            ConversationStarted(
                **_ids(conversation=conversation, run_id=run_id), protocol="p", order=["a", "b"], repeat=0, seed=7
            )
        ),
        store.append(
            MessageAdded(
                **_ids(1, "a", conversation, run_id),
                role="debater",
                position=0,
                content="hi ✓",
                parsed={"verdict": "NTA"},
            )
        ),
        store.append(
            Stopped(
                **_ids(1, conversation=conversation, run_id=run_id),
                status="completed",
                reason="max rounds (1)",
                rounds=1,
            )
        ),
    ]


def test_sequence_numbers_and_hash_chain(backend: Backend) -> None:
    store = backend.open()
    assert (store.count(), store.last_hash, store.last_seq) == (0, None, 0)
    stored = _fill(store)
    assert [e.seq for e in stored] == [1, 2, 3]
    assert stored[0].prev_hash is None
    assert stored[1].prev_hash == event_hash(stored[0])
    assert stored[2].prev_hash == event_hash(stored[1])
    assert (store.count(), store.last_hash, store.last_seq) == (3, event_hash(stored[2]), 3)
    store.close()


def test_events_read_back_equal_and_filter(backend: Backend) -> None:
    store = backend.open()
    stored = _fill(store)
    other = store.append(ConversationStarted(**_ids(conversation="c2"), protocol="p", order=["a"], repeat=0, seed=1))
    assert list(store.events()) == [*stored, other]
    assert list(store.events("c1")) == stored
    assert list(store.events("nowhere")) == []
    assert [e.seq for e in store.events(kinds=["conversation_started"])] == [1, 4]
    assert [e.seq for e in store.events("c1", kinds=["stopped", "message_added"])] == [2, 3]
    assert list(store.events(kinds=[])) == []
    assert store.conversation_ids() == ["c1", "c2"]
    assert store.count() == 4
    store.close()


def test_raw_rows_are_the_stored_rows_unparsed(backend: Backend) -> None:
    store = backend.open()
    stored = _fill(store)
    rows = list(store.raw_rows())
    assert all(isinstance(row, RawRow) for row in rows)
    assert [
        (row.seq, row.event, row.run_id, row.conversation_id, row.scenario_id, row.round, row.agent) for row in rows
    ] == [(e.seq, e.event, e.run_id, e.conversation_id, e.scenario_id, e.round, e.agent) for e in stored]
    assert [(row.body, row.hash) for row in rows] == [(canonical_json(e), event_hash(e)) for e in stored]
    assert [row.seq for row in store.raw_rows(after=1)] == [2, 3]
    assert [row.seq for row in store.raw_rows(kinds=["stopped"])] == [3]
    assert [row.seq for row in store.raw_rows(conversation_id="c1", after=2)] == [3]
    assert chain_problems(stored_rows(store), 3, event_hash(stored[-1])) == []
    store.close()


def test_reopened_store_continues_the_chain(backend: Backend) -> None:
    first = backend.open()
    stored = _fill(first)
    first.close()
    again = backend.open()
    assert again.last_hash == event_hash(stored[-1])
    nxt = again.append(Stopped(**_ids(2), status="completed", reason="x", rounds=2))
    assert nxt.seq == 4 and nxt.prev_hash == event_hash(stored[-1])
    again.close()


def test_two_stores_on_one_run_see_and_continue_each_others_appends(backend: Backend) -> None:
    """What another writer (another process) appended moves the head: counts, hashes and seqs follow it."""
    first, second = backend.open(), backend.open()
    a = first.append(ConversationStarted(**_ids(), protocol="p", order=["a"], repeat=0, seed=0))
    assert (second.count(), second.last_seq, second.last_hash) == (1, 1, event_hash(a))
    b = second.append(Stopped(**_ids(1), status="completed", reason="x", rounds=1))
    c = first.append(Stopped(**_ids(2), status="completed", reason="y", rounds=2))
    assert (b.seq, b.prev_hash, c.seq, c.prev_hash) == (2, event_hash(a), 3, event_hash(b))
    assert first.last_hash == second.last_hash == event_hash(c)
    first.close()
    second.close()


def test_bulk_appends_commit_together_or_not_at_all(backend: Backend) -> None:
    store = backend.open()
    with store.bulk():
        _fill(store)
    kept = store.count()
    assert kept == 3
    with pytest.raises(RuntimeError), store.bulk():
        store.append(ConversationStarted(**_ids(), protocol="p", order=["a"], repeat=0, seed=0))
        store.append(ConversationStarted(**_ids(), protocol="p", order=["b"], repeat=0, seed=0))
        raise RuntimeError("stop")
    # the failed batch left nothing behind, and the chain goes on from the last committed event
    assert store.count() == kept and store.last_seq == kept
    after = store.append(ConversationStarted(**_ids(), protocol="p", order=["a"], repeat=0, seed=0))
    assert after.seq == kept + 1 and after.prev_hash == event_hash(list(store.events())[kept - 1])
    # a bulk is seen by another reader only once it ends
    reader = backend.open()
    with store.bulk():
        store.append(Stopped(**_ids(2), status="completed", reason="x", rounds=2))
        assert reader.count() == kept + 1
    assert reader.count() == kept + 2
    reader.close()
    store.close()


@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET body = '{{}}' WHERE seq = 1", "DELETE FROM {table} WHERE seq = 2"]
)
def test_rows_cannot_be_edited_or_deleted(backend: Backend, statement: str) -> None:
    store = backend.open()
    stored = _fill(store)
    with pytest.raises(backend.refused, match="append-only"):
        backend.execute(statement)
    assert list(store.events()) == stored
    store.close()


def test_a_read_only_store_reads_and_refuses_to_append(backend: Backend) -> None:
    writer = backend.open()
    stored = _fill(writer)
    reader = backend.open(read_only=True)
    assert list(reader.events()) == stored and reader.last_hash == event_hash(stored[-1])
    with pytest.raises(RuntimeError, match="read-only"):
        reader.append(Stopped(**_ids(2), status="completed", reason="x", rounds=2))
    with pytest.raises(RuntimeError, match="read-only"), reader.bulk():
        pass
    reader.close()
    writer.close()


WRITERS = 4


@pytest.fixture(scope="module")
def writers() -> Iterator[multiprocessing.pool.Pool]:
    """4 spawned writer processes, shared by the backends' tests (each process imports moot once)."""
    folder = str(Path(__file__).parent)
    sys.path.insert(0, folder)  # spawned processes inherit sys.path, and import the worker module from it
    try:
        import store_workers

        context = multiprocessing.get_context("spawn")
        with context.Pool(WRITERS, initializer=store_workers.ready, initargs=(context.Barrier(WRITERS),)) as pool:
            yield pool
    finally:
        sys.path.remove(folder)


def test_concurrent_writers_from_four_processes_build_one_chain(
    backend: Backend, writers: multiprocessing.pool.Pool
) -> None:
    """4 processes append 200 events each to one run at once: every event once, seq 1..800, one valid chain."""
    import store_workers

    each = 200
    backend.open().close()  # the store exists before the writers start, as a run creates it
    tasks = [(backend.location, str(backend.run_dir), RUN, worker, each) for worker in range(WRITERS)]
    # chunksize 1 and the barrier in each task: every process takes exactly one writer
    pids = writers.starmap_async(store_workers.append_events, tasks, chunksize=1).get(180)
    assert len(set(pids)) == WRITERS
    store = backend.open(read_only=True)
    try:
        rows = stored_rows(store)
        assert [row.seq for row in rows] == list(range(1, WRITERS * each + 1))
        contents = [row.event.content for row in rows]
        assert sorted(contents) == sorted(f"worker {w} message {i}" for w in range(WRITERS) for i in range(each))
        # each writer's events keep its order
        for worker in range(WRITERS):
            mine = [c for c in contents if c.startswith(f"worker {worker} ")]
            assert mine == [f"worker {worker} message {i}" for i in range(each)]
        assert chain_problems(rows, WRITERS * each, store.last_hash) == []
        assert all(row.defect is None for row in rows)
    finally:
        store.close()


def test_two_runs_in_one_database_are_kept_apart(postgres_url: str) -> None:
    first = PostgresTraceStore(postgres_url, "run-a")
    second = PostgresTraceStore(postgres_url, "run-b")
    a = _fill(first, run_id="run-a")
    b = _fill(second, conversation="c9", run_id="run-b") + [
        second.append(Stopped(**_ids(2, conversation="c9", run_id="run-b"), status="completed", reason="x", rounds=2))
    ]
    assert [e.seq for e in a] == [1, 2, 3] and [e.seq for e in b] == [1, 2, 3, 4]
    assert list(first.events()) == a and list(second.events()) == b
    assert (first.count(), second.count()) == (3, 4)
    assert first.conversation_ids() == ["c1"] and second.conversation_ids() == ["c9"]
    assert first.last_hash == event_hash(a[-1]) and second.last_hash == event_hash(b[-1])
    assert [row.run_id for row in second.raw_rows()] == ["run-b"] * 4
    with pytest.raises(ValueError, match="run 'run-a'"):
        second.append(Stopped(**_ids(run_id="run-a"), status="completed", reason="x", rounds=1))
    assert first.count() == 3 and second.count() == 4
    first.close()
    second.close()


def test_a_second_store_on_a_fresh_database_finds_the_schema_made(postgres_url: str) -> None:
    """Opening creates the schema once; later opens (and read-only ones) use it as it is."""
    PostgresTraceStore(postgres_url, "r").close()
    again = PostgresTraceStore(postgres_url, "r")
    _fill(again, run_id="r")
    again.close()
    reader = PostgresTraceStore(postgres_url, "r", read_only=True)
    assert reader.count() == 3
    reader.close()


def test_a_read_only_store_of_a_database_without_traces_is_a_user_error(postgres_url: str) -> None:
    with pytest.raises(UserError, match="holds no moot trace"):
        PostgresTraceStore(postgres_url, "r", read_only=True)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://moot:s3cret-pw@127.0.0.1:1/traces",  # nothing listens there
        "postgresql://moot:s3cret-pw@127.0.0.1:notaport/traces",  # not a URL libpq takes
        "postgresql://moot@127.0.0.1:1/traces?password=s3cret-pw",
    ],
)
def test_a_bad_url_is_one_clean_user_error_without_the_password(url: str) -> None:
    with pytest.raises(UserError) as caught:
        PostgresTraceStore(url, "r")
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith("cannot open the trace database postgresql://moot@127.0.0.1:")
    assert "/traces" in message


def test_a_missing_database_is_a_user_error_naming_it(postgres_url: str) -> None:
    from pg_server import with_database

    url = with_database(postgres_url, "no_such_database")
    with pytest.raises(
        UserError, match='cannot open the trace database .*/no_such_database: .*"no_such_database" does not exist'
    ):
        PostgresTraceStore(url, "r")


def test_reads_page_through_a_long_trace(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL reads a trace a page at a time; the pages join up whatever the filters."""
    import moot.trace.postgres

    monkeypatch.setattr(moot.trace.postgres, "PAGE", 2)
    store = PostgresTraceStore(postgres_url, RUN)
    stored = _fill(store) + _fill(store, conversation="c2") + _fill(store)
    assert list(store.events()) == stored
    assert list(store.events("c1")) == [e for e in stored if e.conversation_id == "c1"]
    assert [e.seq for e in store.events(kinds=["message_added", "stopped"])] == [2, 3, 5, 6, 8, 9]
    assert [row.seq for row in store.raw_rows()] == list(range(1, 10))
    assert [row.seq for row in store.raw_rows(after=4, conversation_id="c1")] == [7, 8, 9]
    store.close()
