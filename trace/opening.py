"""Opening a run for reading: run.json checked, its trace opened without writing, and the two shown to belong together.

Every command that reads a run goes through `open_run`. It

1. reads run.json strictly: a file that is not UTF-8, not JSON, not an object or not a manifest
   is one line naming it;
2. opens the trace where run.json says (the run directory's `trace.sqlite`, or the run's rows
   in a PostgreSQL database) without writing anything, in the folder or the database;
3. checks the trace is run.json's: it has an events table and events of run.json's run id (first
   and last), as many as run.json counts (at least as many for a run that is `running` or
   `interrupted`: run.json is rewritten at most once a second, so a killed run holds more), and
   its event numbered `events` has run.json's `final_hash`.

A trace that is missing, empty (no file, zero bytes, no events table, no events), damaged (not a
database, malformed, truncated) or another run's is a `TraceRefused`: one line that names the
trace and what run.json expected of it. Only a run that counts no events yet (one killed before
its first event) may have no trace; it reads as empty. `moot verify` opens the trace with
`open_trace_as_stored` (steps 1 and 2, and the run id) and reports the rest itself, as findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from moot.errors import UserError
from moot.trace.events import Event, parse_event
from moot.trace.location import check_trace_location, open_store, store_errors
from moot.trace.manifest import MANIFEST_FILE, RunManifest
from moot.trace.readonly import SIDE_FILES
from moot.trace.redaction import public_location
from moot.trace.store import TRACE_FILE, RawRow, SQLiteTraceStore, TraceStore

UNFINISHED = ("running", "interrupted")
"""Statuses of a run that may be resumed: its trace may hold more events than run.json counts."""
SHORT_HASH = 12
"""Hex digits of a hash shown in a message."""


class TraceRefused(UserError):
    """A trace that cannot be read as its run.json's trace.

    `kind` is what `moot verify` calls it: `missing` (no file, zero bytes, no events table, no
    events), `damaged` (not a database, malformed, truncated, a directory, an event that does not
    parse), `foreign` (another run's events) or `mismatch` (more or fewer events than run.json
    counts, or another final hash: verify's chain audit says which events).
    """

    def __init__(self, kind: str, where: str, problem: str, expected: str) -> None:
        self.kind = kind
        self.where = where
        self.problem = problem
        self.expected = expected
        super().__init__(f"{where}: {expected}; the trace {problem}")

    def finding(self) -> str:
        """The refusal as `moot verify` words a finding: the trace first, then what run.json expected."""
        return f"{self.where} {self.problem}; {self.expected}"


def short(digest: str | None) -> str:
    """A hash as messages show it: its first digits."""
    return f"{digest[:SHORT_HASH]}..." if digest else "none"


def expectation(manifest: RunManifest) -> str:
    """What run.json says the trace holds, in words."""
    if not manifest.events:
        return "run.json counts no events"
    return f"run.json counts {manifest.events} events ending in {short(manifest.final_hash)}"


def _check_run_dir(run_dir: Path) -> Path:
    """run.json's path, after checking `run_dir` is a folder holding one."""
    if not run_dir.exists():
        raise UserError(f"run directory '{run_dir}' not found")
    if not run_dir.is_dir():
        raise UserError(f"'{run_dir}' is not a run directory (it is a file)")
    path = run_dir / MANIFEST_FILE
    if not path.exists():
        missing = [MANIFEST_FILE] + ([TRACE_FILE] if not (run_dir / TRACE_FILE).exists() else [])
        raise UserError(f"'{run_dir}' is not a run directory (no {' or '.join(missing)})")
    if not path.is_file():
        raise UserError(f"{path}: not a file")
    return path


def read_manifest(run_dir: Path | str) -> RunManifest:
    """run.json of a run directory, checked; a UserError names what is wrong with it."""
    path = _check_run_dir(Path(run_dir))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(fields, dict):
        raise UserError(f"{path}: not a run manifest (a JSON {_json_kind(fields)}, not an object)")
    try:
        manifest = RunManifest.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        raise UserError(f"{path}: not a valid run manifest ({where + ': ' if where else ''}{error['msg']})") from None
    try:
        check_trace_location(manifest.trace)
    except UserError:
        raise UserError(f"{path}: trace '{public_location(manifest.trace)}' is not a postgresql:// URL") from None
    return manifest


def _json_kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def trace_name(run_dir: Path, manifest: RunManifest) -> str:
    """How messages name a run's trace: its SQLite file, or the database (without its password)."""
    return str(public_location(manifest.trace)) if manifest.trace is not None else str(run_dir / TRACE_FILE)


@dataclass
class OpenedRun:
    """A run opened for reading: its manifest and its trace, read-only.

    The read methods turn a database error or an event that does not parse into a one-line
    `TraceRefused`. `store` is None for a run whose run.json counts no events and that has no
    trace yet: it reads as empty.
    """

    run_dir: Path
    manifest: RunManifest
    where: str
    """The trace as messages name it."""
    store: TraceStore | None = None

    def __enter__(self) -> OpenedRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refused(self, kind: str, problem: str) -> TraceRefused:
        """A refusal of this run's trace."""
        return TraceRefused(kind, self.where, problem, expectation(self.manifest))

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A block whose database errors become a one-line refusal naming the trace."""
        try:
            yield
        except _damage_errors() as exc:
            raise self.refused("damaged", f"is damaged ({_first_line(exc)})") from None

    def raw_rows(
        self, after: int | None = None, conversation_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> Iterator[RawRow]:
        """The stored rows, as the store's `raw_rows`."""
        if self.store is None:
            return
        with self.reading():
            yield from self.store.raw_rows(after=after, conversation_id=conversation_id, kinds=kinds)

    def events(self, conversation_id: str | None = None, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        """Events in sequence order (all, one conversation's, or those of some kinds); one that does not parse
        is refused."""
        for row in self.raw_rows(conversation_id=conversation_id, kinds=kinds):
            try:
                yield parse_event(row.body)
            except ValueError as exc:
                problem = f"holds an event that does not parse at seq {row.seq} ({_parse_error(exc)})"
                raise self.refused("damaged", problem) from None

    def conversation_ids(self) -> list[str]:
        """Ids of the conversations with at least one event, in order of first event."""
        if self.store is None:
            return []
        with self.reading():
            return self.store.conversation_ids()

    def count(self) -> int:
        """Number of events stored."""
        if self.store is None:
            return 0
        with self.reading():
            return self.store.count()

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event stored, 0 when there is none."""
        if self.store is None:
            return 0
        with self.reading():
            return self.store.last_seq

    def catch_up(self) -> bool:
        """See what was appended since the trace was opened (a run being written); True when the store reconnected."""
        if self.store is None:
            return False
        with self.reading():
            return self.store.catch_up()

    def unguarded(self) -> list[str]:
        """What is wrong with the trace's append-only triggers, one line each (empty when nothing)."""
        if self.store is None:
            return []
        with self.reading():
            return self.store.unguarded()

    def require_append_only(self) -> None:
        """Refuse a trace whose append-only triggers were dropped, disabled or altered (before appending to it:
        the store would create them again, and hide that they had gone)."""
        problems = self.unguarded()
        if problems:
            advice = f"so its rows may have been changed; check it with `moot verify {self.run_dir}`"
            raise UserError(f"{self.where}: {problems[0]}, {advice}")

    def check_counts(self) -> None:
        """Refuse a trace that does not hold what run.json counts, or does not end in run.json's final hash."""
        manifest = self.manifest
        expected = manifest.events
        count = self.count()
        finished = manifest.status not in UNFINISHED
        if count < expected:
            raise self.refused("mismatch", f"holds {count} events" if count else "holds no events")
        if finished and count > expected:
            problem = f"holds {count} events; a {manifest.status} run's run.json counts every event of its trace"
            raise self.refused("mismatch", problem)
        if finished and self.last_seq != expected:
            raise self.refused("mismatch", f"numbers its last event {self.last_seq}")
        if not expected:
            if manifest.final_hash is not None:
                problem = f"has no event to end in run.json's final hash {short(manifest.final_hash)}"
                raise self.refused("mismatch", problem)
            return
        with self.reading():
            row = self.store.row_at(expected) if self.store is not None else None
        if row is None:
            raise self.refused("mismatch", f"has no event {expected}")
        if row.hash != manifest.final_hash:
            raise self.refused("mismatch", f"has event {expected} hashed {short(row.hash)}, not run.json's final hash")

    def close(self) -> None:
        """Release the trace (a snapshot taken to read it is deleted)."""
        if self.store is not None:
            self.store.close()
            self.store = None


def _damage_errors() -> tuple[type[Exception], ...]:
    """What opening or reading a trace file raises when it is damaged: the file system's errors and the store's."""
    return (OSError, *store_errors())


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


PARSE_ERROR_LENGTH = 120
"""Characters of a parse error a refusal quotes (pydantic lists every event kind it expected)."""


def _parse_error(exc: ValueError) -> str:
    """Why an event body does not parse, in a few words: the first error's field and message."""
    if isinstance(exc, ValidationError) and exc.errors():
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        text = f"{where}: {error['msg']}" if where else error["msg"]
    else:
        text = _first_line(exc)
    return text if len(text) <= PARSE_ERROR_LENGTH else text[: PARSE_ERROR_LENGTH - 3] + "..."


def _open_sqlite(opened: OpenedRun) -> None:
    """Open the run directory's trace file read-only into `opened`; a missing or empty one leaves it None."""
    path = opened.run_dir / TRACE_FILE
    if not path.exists():
        return _no_trace(opened, "is missing")
    if path.is_dir():
        raise opened.refused("damaged", "is a directory, not a database")
    if not path.is_file():
        raise opened.refused("damaged", "is not a regular file")
    sides = (path.with_name(path.name + suffix) for suffix in SIDE_FILES)
    pending = [side for side in sides if side.is_file() and side.stat().st_size]
    if path.stat().st_size == 0 and not pending:
        return _no_trace(opened, "is empty (0 bytes)")
    try:
        store = SQLiteTraceStore(path, read_only=True)
    except _damage_errors() as exc:
        raise opened.refused("damaged", f"is damaged ({_first_line(exc)})") from None
    opened.store = store
    with opened.reading():
        damage = store.damage()
        if damage is not None:
            raise opened.refused("damaged", f"is damaged ({damage})")
        if not store.has_events_table():
            store.close()
            opened.store = None
            return _no_trace(opened, "has no events table")
    return None


def _open_postgres(opened: OpenedRun, location: str | None) -> None:
    """Open the run's rows in its PostgreSQL database (at `location`, else run.json's) read-only into `opened`; a
    database without traces leaves it None."""
    from moot.trace.postgres import NoTraceTables

    location = location or opened.manifest.trace
    try:
        opened.store = open_store(location, opened.run_dir, opened.manifest.run_id, read_only=True)
    except NoTraceTables:
        _no_trace(opened, "is missing (the database holds no moot trace)")


def _no_trace(opened: OpenedRun, problem: str) -> None:
    """A run without a trace reads as empty only while run.json counts no events."""
    if opened.manifest.events:
        raise opened.refused("missing", problem)


def given_location(location: str | None, run_dir: Path, manifest: RunManifest) -> str | None:
    """A trace location given with its password for a run (when the environment does not hold it), checked to be
    where run.json says the run's trace is."""
    location = check_trace_location(location)
    if location is not None and public_location(location) != manifest.trace:
        where = manifest.trace or "its trace.sqlite"
        raise UserError(f"trace '{public_location(location)}' is not where run '{run_dir}' keeps its trace ({where})")
    return location


def open_trace_as_stored(run_dir: Path, manifest: RunManifest, location: str | None = None) -> OpenedRun:
    """A run's trace opened read-only and checked to be a sound database of run.json's run; its counts are not checked.

    `location` is run.json's PostgreSQL URL with its password, for a password not in the environment.
    Raises `TraceRefused` for a missing, empty, damaged or foreign trace (`moot verify` reports those
    as findings, and audits the counts and the chain itself).
    """
    location = given_location(location, Path(run_dir), manifest)
    opened = OpenedRun(Path(run_dir), manifest, trace_name(Path(run_dir), manifest))
    try:
        if manifest.trace is None:
            _open_sqlite(opened)
        else:
            _open_postgres(opened, location)
        _check_run_id(opened)
    except BaseException:
        opened.close()
        raise
    return opened


def _check_run_id(opened: OpenedRun) -> None:
    if opened.store is None:
        return
    with opened.reading():
        ends = opened.store.ends()
    if ends is None:
        return _no_trace(opened, "holds no events")
    run_id = opened.manifest.run_id
    stranger = next((row.run_id for row in ends if row.run_id != run_id), None)
    if stranger is not None:
        raise opened.refused("foreign", f"holds events of run '{stranger}', not of run '{run_id}' of run.json")
    return None


def open_run(run_dir: Path | str, location: str | None = None) -> OpenedRun:
    """Open a run for reading: run.json, and its trace checked to be run.json's (see the module's docstring).

    `location` is run.json's PostgreSQL URL with its password, for a password not in the
    environment. Close the run (or use it in a `with` block) to release the trace.
    """
    run_dir = Path(run_dir)
    opened = open_trace_as_stored(run_dir, read_manifest(run_dir), location)
    try:
        opened.check_counts()
    except BaseException:
        opened.close()
        raise
    return opened


def read_run_events(run_dir: Path | str) -> tuple[RunManifest, list[Event]]:
    """run.json and every event of a run, through `open_run`."""
    with open_run(run_dir) as opened:
        return opened.manifest, list(opened.events())
