"""Verifying a run directory's trace: its hash chain, its manifest, its triggers and its anchors.

`verify_trace(run_dir)` reads the trace's rows as they are stored (the store opened read-only, so
that nothing missing is added back, and nothing is written in the run directory) and reports
every problem, first problem first:

- `missing`, `damaged`, `foreign`: the trace is not there (no file, zero bytes, no events table,
  no events while run.json counts some), is no sound database (not one, malformed, truncated),
  or holds another run's events; nothing else is checked then;
- `edited`: a body that does not match its stored hash, does not parse, or disagrees with the
  row's columns or the run; or a body rewritten with a fresh hash (the next event points to a
  hash no event has, while the event itself is still there);
- `removed`: a gap in the sequence numbers, a `prev_hash` pointing to an event that is not
  there, or events missing at the end (run.json counts more);
- `inserted`: an event chained to the previous one that no later event points to (the next
  event points past it), or events after the final hash of run.json of a completed run;
- `unfinished`: events after the final hash of run.json, chained on intact, of a run that is
  `running` or `interrupted` (it was killed: run.json is rewritten at most once a second); the
  line says how to finish it;
- `reordered`: events whose links are intact but whose stored order is not the chain's order;
- `manifest`: run.json's spec, event count or final hash disagree with the trace;
- `triggers`: a trigger that keeps the trace append-only was dropped, disabled or altered;
- `anchor`: a hash kept outside the run directory (`--expect HASH`, or the lines of this run in
  a ledger, `--ledger FILE`) is not the hash of the event it anchors (`moot.trace.anchors`).
  Whoever rewrites a trace can recompute its whole chain and run.json's final hash; only an
  anchor kept elsewhere shows it;

What each agent was shown (`leak` / `withheld`) is audited by the engine, from the spec
(`moot.graphs.audit`), which adds its findings to these in `verify_run`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from moot.trace.anchors import anchor_findings, anchors_to_check
from moot.trace.events import Event, ModelCall, parse_event
from moot.trace.manifest import RunManifest
from moot.trace.opening import (
    UNFINISHED,
    OpenedRun,
    TraceRefused,
    open_trace_as_stored,
    read_manifest,
    read_run_events,
    trace_name,
)
from moot.trace.store import RawRow, TraceStore, event_hash

COLUMNS = ("event", "run_id", "conversation_id", "scenario_id", "round", "agent")
"""Columns of the events table that repeat a field of the body."""


@dataclass(frozen=True)
class StoredRow:
    """One row of the events table, as stored, with its body parsed when it parses."""

    seq: int
    columns: dict[str, Any]
    body: str
    hash: str
    event: Event | None
    """The parsed body; None when it does not parse as an event."""
    defect: str | None
    """Why the body cannot be trusted (hash mismatch, not an event, not canonical), if it cannot."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a run."""

    kind: str
    """`missing`, `damaged`, `foreign`, `edited`, `removed`, `inserted`, `unfinished`, `reordered`,
    `manifest`, `triggers`, `anchor`, `leak` or `withheld`."""
    seq: int | None
    """The sequence number of the event concerned, when there is one."""
    detail: str
    """What is wrong, in one line."""

    def line(self) -> str:
        """The problem as one line of output."""
        where = f" at seq {self.seq}" if self.seq is not None else ""
        return f"{self.kind}{where}: {self.detail}"


@dataclass
class VerifyReport:
    """The outcome of verifying a run directory."""

    events: int
    conversations: int
    model_calls: int
    final_hash: str | None
    problems: list[Problem] = field(default_factory=list)
    anchors: int = 0
    """Hashes kept outside the run directory that were checked (`--expect`, ledger lines)."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def ok_line(self, run_dir: Path) -> str:
        """The one line printed for a sound run."""
        plural = "s" if self.anchors != 1 else ""
        anchored = f"; {self.anchors} anchor{plural} kept elsewhere hold" if self.anchors else ""
        return (
            f"ok: {run_dir}: {self.events} events, {self.conversations} conversations, {self.model_calls} model calls;"
            f" chain intact, final hash {self.final_hash}; every agent saw what its protocol allows{anchored}"
        )


@dataclass(frozen=True)
class TraceCheck:
    """What `verify_trace` found, with what an audit of the run's turns needs."""

    report: VerifyReport
    manifest: RunManifest
    events: list[Event]
    """The events whose bodies parse, in stored order."""


def _row(seq: int, columns: dict[str, Any], body: str, stored_hash: str) -> StoredRow:
    try:
        event = parse_event(body)
    except (ValidationError, ValueError) as exc:
        return StoredRow(
            seq, columns, body, stored_hash, None, f"its body is not a valid event ({str(exc).splitlines()[0]})"
        )
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != stored_hash:
        return StoredRow(seq, columns, body, stored_hash, event, "its body does not match its stored hash")
    if event_hash(event) != stored_hash:
        return StoredRow(
            seq, columns, body, stored_hash, event, "its body is not the canonical JSON of the event it holds"
        )
    return StoredRow(seq, columns, body, stored_hash, event, None)


def stored_rows(store: TraceStore | OpenedRun) -> list[StoredRow]:
    """Every row of an open store (or opened run) in stored sequence order, each body parsed and checked
    against its hash."""
    return [_stored_row(raw) for raw in store.raw_rows()]


def _stored_row(raw: RawRow) -> StoredRow:
    return _row(raw.seq, {name: getattr(raw, name) for name in COLUMNS}, raw.body, raw.hash)


def recorded_events(run_dir: Path | str) -> list[Event]:
    """Every event of a run, in stored order, read without writing to the run directory; the trace is
    checked to be run.json's first (`moot.trace.opening.open_run`)."""
    return read_run_events(run_dir)[1]


def _column_problems(rows: list[StoredRow], run_id: str) -> list[Problem]:
    problems = []
    for row in rows:
        if row.event is None or row.defect:
            continue
        for name in COLUMNS:
            if row.columns[name] != getattr(row.event, name):
                problems.append(
                    Problem(
                        "edited",
                        row.seq,
                        f"column '{name}' holds {row.columns[name]!r}, its body {getattr(row.event, name)!r}",
                    )
                )
                break
        else:
            if row.event.run_id != run_id:
                problems.append(
                    Problem("edited", row.seq, f"run id {row.event.run_id!r} is not the run's ({run_id!r})")
                )
    return problems


def chain_problems(
    rows: list[StoredRow], manifest_events: int | None = None, final_hash: str | None = None, resume: str | None = None
) -> list[Problem]:
    """Edits, removals, insertions and reorderings of a trace's rows, first problem first.

    Rows whose body is not trusted (edited) still count by their stored hash, so an edit
    of one body is reported once, not again at the event that points to it. `resume` is the
    command that finishes an unfinished run (None for a completed one): events after run.json's
    final hash that chain on intact are then `unfinished`, not `inserted`.
    """
    problems = [Problem("edited", row.seq, row.defect) for row in rows if row.defect]
    by_hash = {row.hash: row for row in rows}
    sound = [(row, row.event) for row in rows if row.event is not None and not row.defect]
    children: dict[str | None, list[tuple[StoredRow, Event]]] = defaultdict(list)
    for row, event in sound:
        children[event.prev_hash].append((row, event))
    pointed_to = {h for h in children if h is not None}
    explained: set[int] = set()

    for row, event in sound:
        prev = event.prev_hash
        if prev is not None and prev not in by_hash:
            # The event before this one is gone, or it was rewritten with a new hash.
            rewritten = [r for r, e in sound if e.seq == event.seq - 1 and r.hash not in pointed_to]
            if rewritten:
                problems.append(
                    Problem(
                        "edited",
                        rewritten[0].seq,
                        f"event {rewritten[0].seq} was rewritten with a new hash: "
                        f"event {event.seq} points to a hash no event has",
                    )
                )
            else:
                problems.append(
                    Problem(
                        "removed",
                        event.seq - 1,
                        f"event {event.seq - 1} is missing: event {event.seq} points to a hash no event has",
                    )
                )
            explained.add(row.seq)
    seqs = [row.seq for row in rows]
    expected = 1
    for seq in seqs:
        if seq > expected:
            several = seq - expected > 1
            gone = f"events {expected}..{seq - 1}" if several else f"event {expected}"
            problems.append(
                Problem("removed", expected, f"{gone} missing: the sequence jumps from {expected - 1} to {seq}")
            )
        expected = seq + 1

    for parent, kids in children.items():
        if len(kids) < 2:
            continue
        # Two events chained to one: the one that nothing points to (and that does not end the run) was inserted.
        for kid, kid_event in kids:
            if kid.hash not in pointed_to and kid.hash != final_hash:
                parent_seq = by_hash[parent].seq if parent in by_hash else 0
                problems.append(
                    Problem(
                        "inserted",
                        kid.seq,
                        f"event {kid.seq} ({kid_event.event}) is chained to event {parent_seq} "
                        "but the next event points past it",
                    )
                )
                explained.update(r.seq for r, e in sound if r.seq > kid.seq and e.seq == r.seq - 1)
                explained.add(kid.seq)

    if final_hash is not None and final_hash in by_hash:
        end = by_hash[final_hash]
        extra = [
            row
            for row in rows
            if row.seq > end.seq and (row.event is None or end.event is None or row.event.seq > end.event.seq)
        ]
        if extra:
            problems.append(_after_the_end(end, extra, resume))
            explained.update(row.seq for row in extra)
    elif final_hash is None and manifest_events == 0 and rows:
        problems.append(_after_the_end(None, rows, resume))
        explained.update(row.seq for row in rows)
    elif final_hash is not None and manifest_events is not None and len(rows) < manifest_events and rows:
        last = rows[-1].seq
        problems.append(
            Problem(
                "removed",
                last + 1,
                f"run.json counts {manifest_events} events ending in a hash no event has; "
                f"the trace stops at event {last}",
            )
        )

    misplaced = [(row, event) for row, event in sound if event.seq != row.seq and row.seq not in explained]
    if misplaced:
        stored_at = {event.seq: row.seq for row, event in misplaced}
        first, first_event = misplaced[0]
        other = stored_at.get(first.seq)
        pair = f"; event {first.seq} is stored at seq {other}" if other is not None else ""
        problems.append(
            Problem("reordered", first.seq, f"the row at seq {first.seq} holds event {first_event.seq}{pair}")
        )
        explained.update(row.seq for row, _ in misplaced)
    if not any(p.kind in ("edited", "removed", "inserted", "reordered") for p in problems):
        prev_hash = None
        for row in rows:
            if row.event is not None and row.event.prev_hash != prev_hash:
                problems.append(Problem("edited", row.seq, "the event is not chained to the event stored before it"))
                break
            prev_hash = row.hash
    return sorted(problems, key=lambda p: p.seq if p.seq is not None else 0)


def _after_the_end(end: StoredRow | None, extra: list[StoredRow], resume: str | None) -> Problem:
    """Events after run.json's final event (`end`; None when it counts none): an unfinished run's, or inserted."""
    where = f"after the final event of run.json (event {end.seq})" if end is not None else "while run.json counts none"
    if resume is not None and _chained_on(end, extra):
        stopped = f"the run stopped before it finished; finish it with `{resume}`"
        return Problem("unfinished", extra[0].seq, f"{len(extra)} event(s) {where}, chained on intact: {stopped}")
    return Problem("inserted", extra[0].seq, f"{len(extra)} event(s) {where}")


def _chained_on(end: StoredRow | None, extra: list[StoredRow]) -> bool:
    """True when `extra` follow `end` (None: the start of the trace) one by one, each sound and chained to
    the one before."""
    seq, prev_hash = (end.seq, end.hash) if end is not None else (0, None)
    for row in extra:
        if row.defect or row.event is None or row.seq != seq + 1:
            return False
        if row.event.seq != row.seq or row.event.prev_hash != prev_hash:
            return False
        seq, prev_hash = row.seq, row.hash
    return True


def manifest_problems(manifest: RunManifest, rows: list[StoredRow], grown: bool = False) -> list[Problem]:
    """Disagreements between run.json and the trace (spec hash, event count, final hash).

    `grown`: the trace goes on after run.json's final event (an unfinished run), so the count and
    the final hash are behind, not wrong.
    """
    from moot.protocols.spec import ProtocolSpec, spec_hash

    problems = []
    try:
        recomputed = spec_hash(ProtocolSpec.model_validate(manifest.spec))
    except ValidationError as exc:
        problems.append(Problem("manifest", None, f"run.json's spec is not a valid spec ({str(exc).splitlines()[0]})"))
    else:
        if recomputed != manifest.spec_hash:
            problems.append(
                Problem(
                    "manifest",
                    None,
                    f"run.json's spec hashes to {recomputed}, not to its spec_hash {manifest.spec_hash}",
                )
            )
    if grown:
        return problems
    if manifest.events != len(rows):
        problems.append(
            Problem("manifest", None, f"run.json counts {manifest.events} events, the trace holds {len(rows)}")
        )
    last = rows[-1].hash if rows else None
    if manifest.final_hash != last:
        problems.append(
            Problem(
                "manifest",
                None,
                f"run.json's final hash {manifest.final_hash} is not the hash of the last event ({last})",
            )
        )
    return problems


def verify_trace(run_dir: Path | str, expect: str | None = None, ledger: Path | str | None = None) -> TraceCheck:
    """Verify a run directory's trace, chain, manifest, append-only triggers and anchors.

    `expect` is a hash kept outside the run directory: it must be the hash of an event of the
    trace (the run may have grown since). `ledger` is a ledger file whose lines of this run must
    all still hold. A path that is not a run directory, a run.json that does not parse, a bad
    `expect` or ledger is a UserError; everything wrong with the trace is a problem of the report.
    What each agent was shown is audited by the engine (`moot.graphs.audit.verify_run`).
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    anchors, unanchored = anchors_to_check(manifest.run_id, expect, ledger)
    try:
        with open_trace_as_stored(run_dir, manifest) as opened:
            rows = stored_rows(opened)
            unguarded = opened.unguarded()
    except TraceRefused as exc:
        problem = Problem(exc.kind, None, exc.finding())
        return TraceCheck(
            VerifyReport(events=0, conversations=0, model_calls=0, final_hash=None, problems=[problem]), manifest, []
        )
    resume = f"moot run --resume {run_dir}" if manifest.status in UNFINISHED else None
    problems = chain_problems(rows, manifest.events, manifest.final_hash, resume)
    problems += _column_problems(rows, manifest.run_id)
    problems.sort(key=lambda p: p.seq if p.seq is not None else 0)
    problems = _first_per_event(problems)
    problems += manifest_problems(manifest, rows, grown=any(p.kind == "unfinished" for p in problems))
    where = trace_name(run_dir, manifest)
    unprotected = "so rows could be edited or deleted in place"
    problems += [Problem("triggers", None, f"{where}: {line}, {unprotected}") for line in unguarded]
    sound = {row.hash for row in rows if row.event is not None and not row.defect}
    findings = unanchored + anchor_findings({row.seq: row.hash for row in rows}, sound, anchors)
    problems += [Problem("anchor", seq, detail) for seq, detail in findings]
    events = [row.event for row in rows if row.event is not None]
    report = VerifyReport(
        events=len(rows),
        conversations=len({event.conversation_id for event in events}),
        model_calls=sum(isinstance(event, ModelCall) for event in events),
        final_hash=rows[-1].hash if rows else None,
        problems=problems,
        anchors=len(anchors),
    )
    return TraceCheck(report, manifest, events)


def _first_per_event(problems: list[Problem]) -> list[Problem]:
    """One problem per event (the first found), order kept."""
    seen: set[int] = set()
    out = []
    for problem in problems:
        if problem.seq is not None and problem.seq in seen:
            continue
        if problem.seq is not None:
            seen.add(problem.seq)
        out.append(problem)
    return out
