"""Exporting a run's trace as flat tables (JSONL, CSV, Parquet) for pandas and friends.

Tables:

- `messages`: one row per message, with its run, conversation, scenario, round, agent, role,
  position, model, every parsed field as its own column, the content, and tokens, latency, cache
  hit, retries and attempts summed over the model calls of that turn;
- `decisions`: one row per judge decision, its decision fields as columns;
- `calls`: one row per model call;
- `events`: every event; as JSONL the events themselves, one canonical JSON line each.

The builders keep a parsed field's list or object as it is (the DataFrames of `moot.runs.Run`
hold them so). The files hold scalar values (None, bool, int, float, str), lists and objects
as JSON text (`flat_rows`), except Parquet, which keeps a list of values of one type as a list
(`values`, `dropped_values`, a judge's `tags`). So JSONL, CSV and Parquet read back to the same
rows, once Parquet's lists are written as JSON.

`--format otlp` writes the run's spans instead, as OTLP JSON (`moot.trace.otel`).
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from moot.errors import UserError
from moot.outputs import check_output_folder, write_whole, written_whole
from moot.trace.events import Event, JudgeDecision, MessageAdded, ModelCall, TurnStarted
from moot.trace.reading import effective_events
from moot.trace.store import canonical_json
from moot.trace.verify import recorded_events

TABLES = ("messages", "decisions", "calls", "events")
FORMATS = ("jsonl", "csv", "parquet", "otlp")
_IDS = ("run_id", "conversation_id", "scenario_id", "round", "agent")

Row = dict[str, Any]


@dataclass(frozen=True)
class ExportedTable:
    """One file written by an export."""

    table: str
    path: Path
    rows: int


SCALARS = (bool, int, float, str)
"""The types of a table cell besides None, a list and an object."""


def as_json_text(value: Any) -> str:
    """A list or an object as a file's cell holds it: JSON with sorted keys."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _scalar(value: Any) -> Any:
    """A value as a file's cell: scalars as they are, anything else as JSON text."""
    if value is None or isinstance(value, SCALARS):
        return value
    return as_json_text(value)


def flat_rows(rows: list[Row]) -> list[Row]:
    """Rows with every list and object as JSON text, as JSONL and CSV hold them."""
    return [{name: _scalar(value) for name, value in row.items()} for row in rows]


def _ids(event: Event) -> Row:
    return {name: getattr(event, name) for name in _IDS}


def _field_columns(prefix_taken: set[str], fields: dict[str, Any] | None) -> Row:
    """Parsed fields as columns; a field named like a fixed column is prefixed with `parsed_`."""
    return {(f"parsed_{k}" if k in prefix_taken else k): v for k, v in (fields or {}).items()}


class CallUsage(BaseModel):
    """What a turn's row needs of a model call, read without its chat, parameters and reply (most of a large trace):
    the messages and decisions tables of a `moot.runs.Run` read model calls as this."""

    model_config = ConfigDict(extra="ignore")

    seq: int
    conversation_id: str
    agent: str | None = None
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cache_hit: bool = False
    retries: int = 0


TurnCall = ModelCall | CallUsage
"""A model call as a turn's usage reads it: the event, or its usage alone."""


def _turn_usage(calls: list[TurnCall]) -> Row:
    return {
        "model": calls[-1].model if calls else None,
        "tokens_in": sum(c.tokens_in for c in calls),
        "tokens_out": sum(c.tokens_out for c in calls),
        "latency_s": round(sum(c.latency_s for c in calls), 6),
        "cache_hit": bool(calls) and all(c.cache_hit for c in calls),
        "retries": sum(c.retries for c in calls),
        "attempts": len(calls),
    }


def turn_calls(events: Sequence[Event | CallUsage]) -> dict[int, list[TurnCall]]:
    """The model calls of each turn, keyed by the seq of the message or decision that closed it.

    An agent has one turn at a time in a conversation, so its calls belong to the turn started
    last by that agent there.
    """
    open_turns: dict[tuple[str, str], list[TurnCall]] = defaultdict(list)
    closed: dict[int, list[TurnCall]] = {}
    for event in events:
        key = (event.conversation_id, event.agent or "")
        if isinstance(event, TurnStarted):
            open_turns[key] = []
        elif isinstance(event, (ModelCall, CallUsage)):
            open_turns[key].append(event)
        elif isinstance(event, (MessageAdded, JudgeDecision)):
            closed[event.seq] = open_turns.pop(key, [])
    return closed


_TURN_COLUMNS = (
    "model",
    "content",
    "parse_error",
    "tokens_in",
    "tokens_out",
    "latency_s",
    "cache_hit",
    "retries",
    "attempts",
)


def _turn_row(
    event: MessageAdded | JudgeDecision, calls: list[TurnCall], specific: Row, fields: dict[str, Any] | None
) -> Row:
    """A message or decision as a row: ids, its own columns, its parsed fields, its text and its calls' usage."""
    fixed = {"seq", *_IDS, "role", *specific, *_TURN_COLUMNS}
    return {
        "seq": event.seq,
        **_ids(event),
        "role": event.role,
        **specific,
        "model": None,
        **_field_columns(fixed, fields),
        "content": event.content,
        "parse_error": event.parse_error,
        **_turn_usage(calls),
    }


def messages_table(events: Sequence[Event | CallUsage]) -> list[Row]:
    """One row per message of every conversation."""
    calls = turn_calls(events)
    return [
        _turn_row(e, calls.get(e.seq, []), {"position": e.position}, e.parsed)
        for e in events
        if isinstance(e, MessageAdded)
    ]


def decisions_table(events: Sequence[Event | CallUsage]) -> list[Row]:
    """One row per judge decision."""
    calls = turn_calls(events)
    return [
        _turn_row(e, calls.get(e.seq, []), {"about": e.about}, e.decision)
        for e in events
        if isinstance(e, JudgeDecision)
    ]


def calls_table(events: Sequence[Event]) -> list[Row]:
    """One row per model call."""
    rows = []
    for event in events:
        if isinstance(event, ModelCall):
            rows.append(
                {
                    "seq": event.seq,
                    **_ids(event),
                    "role": event.role,
                    "model": event.model,
                    "attempt": event.attempt,
                    "tokens_in": event.tokens_in,
                    "tokens_out": event.tokens_out,
                    "latency_s": event.latency_s,
                    "cache_hit": event.cache_hit,
                    "retries": event.retries,
                    "error": event.error,
                    "finish_reason": event.finish_reason,
                    "parse_error": event.parse_error,
                    "raw_reply": event.raw_reply,
                    "parsed": event.parsed,
                    "messages": [m.model_dump() for m in event.messages],
                    "params": event.params,
                }
            )
    return rows


def events_table(events: list[Event]) -> list[Row]:
    """One row per event: its identifying columns and its body as JSON."""
    return [
        {
            "seq": e.seq,
            "event": e.event,
            **_ids(e),
            "time": e.time.isoformat(),
            "prev_hash": e.prev_hash,
            "body": canonical_json(e),
        }
        for e in events
    ]


BUILDERS = {"messages": messages_table, "decisions": decisions_table, "calls": calls_table, "events": events_table}


def uniform_columns(rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Every row with every column (None where absent), each column of one type.

    A column mixing ints and floats becomes float; one mixing other types becomes text (JSON).
    """
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row if name not in columns]
    kinds: dict[str, set[type]] = {
        name: {type(row[name]) for row in rows if row.get(name) is not None} for name in columns
    }
    out = []
    for row in rows:
        fixed = {}
        for name in columns:
            value, kind = row.get(name), kinds[name]
            if value is not None and len(kind) > 1:
                value = (
                    float(value) if kind == {int, float} else (value if isinstance(value, str) else _json_cell(value))
                )
            fixed[name] = value
        out.append(fixed)
    return columns, out


def write_jsonl(rows: list[Row], path: Path) -> None:
    """One JSON object per line."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(columns: list[str], rows: list[Row], path: Path) -> None:
    """A header and one line per row (None as an empty cell)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _json_cell(value: Any) -> Any:
    """A value of a column of mixed types: lists and objects as JSON text, scalars as JSON too."""
    return as_json_text(value) if isinstance(value, (list, dict)) else json.dumps(value)


def write_parquet(columns: list[str], rows: list[Row], path: Path) -> None:
    """A Parquet file (needs pyarrow: the `export` extra); a column of lists of one type of value stays a list."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("parquet export needs pyarrow: pip install 'moot[export]'") from None
    types = {name: _arrow_type(pa, [row[name] for row in rows]) for name in columns}
    cells = [{name: _parquet_cell(row[name], types[name], pa) for name in columns} for row in rows]
    table = pa.Table.from_pylist(cells, schema=pa.schema(list(types.items())))
    pq.write_table(table, path)


def _arrow_type(pa: Any, values: list[Any]) -> Any:
    """A column's Parquet type: one scalar type, a list of one scalar type, else text (JSON for lists and objects)."""
    kinds = frozenset(type(value) for value in values if value is not None)
    scalar = {frozenset({bool}): pa.bool_(), frozenset({int}): pa.int64(), frozenset({float}): pa.float64()}
    if kinds == {list}:
        items = frozenset(type(item) for value in values if value is not None for item in value)
        if items <= {str}:
            return pa.list_(pa.string())
        if items in scalar:
            return pa.list_(scalar[items])
    return scalar.get(kinds, pa.string())


def _parquet_cell(value: Any, arrow_type: Any, pa: Any) -> Any:
    """A value as its Parquet column holds it: a list stays a list in a list column, else JSON text."""
    if isinstance(value, (list, dict)) and not pa.types.is_list(arrow_type):
        return as_json_text(value)
    return value


def export_run(
    run_dir: Path | str, fmt: str, out: Path | str | None = None, tables: list[str] | None = None
) -> list[ExportedTable]:
    """Write the run's tables to `out` (default `RUN_DIR/export`) as `TABLE.jsonl|csv|parquet`, or with `otlp` its
    spans as `spans.otlp.json`."""
    run_dir = Path(run_dir)
    if fmt not in FORMATS:
        raise UserError(f"export format '{fmt}' is unknown; known: {', '.join(FORMATS)}")
    for table in tables or []:
        if table not in TABLES:
            raise UserError(f"table '{table}' is unknown; known: {', '.join(TABLES)}")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise UserError("parquet export needs pyarrow: pip install 'moot[export]'")
    if fmt == "otlp":
        if tables:
            raise UserError("--table does not apply to --format otlp (it writes the run's spans, not tables)")
        from moot.trace.otel import export_otlp

        path, spans = export_otlp(run_dir, out)
        return [ExportedTable("spans", path, spans)]
    out = Path(out) if out else run_dir / "export"
    check_output_folder(out, "--out")
    events = recorded_events(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables or list(TABLES):
        path = out / f"{table}.{fmt}"
        if table == "events" and fmt == "jsonl":
            write_whole(path, "".join(canonical_json(e) + "\n" for e in events))
            written.append(ExportedTable(table, path, len(events)))
            continue
        built = BUILDERS[table](events if table == "events" else effective_events(events))
        columns, rows = uniform_columns(built if fmt == "parquet" else flat_rows(built))
        with written_whole(path) as tmp:
            if fmt == "jsonl":
                write_jsonl(rows, tmp)
            elif fmt == "csv":
                write_csv(columns, rows, tmp)
            else:
                write_parquet(columns, rows, tmp)
        written.append(ExportedTable(table, path, len(rows)))
    return written
