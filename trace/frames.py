"""A run's tables as pandas DataFrames, in memory (the optional extra `moot[pandas]`).

The rows are those of `moot export` (`moot.trace.export`): a row per message, decision, model
call or event, and here also one per conversation. A parsed field is a column of its own, and a
list stays a list (a `values` cell is `["Empathy", "Honesty"]`, not JSON text). Each column has
one type: `int64` or `Int64` (with missing values), `float64`, `bool` or `boolean`, `string`,
`datetime64[ns, UTC]` for times, and `object` for lists, objects and columns of mixed values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy

from moot.errors import UserError
from moot.trace.events import (
    ConversationStarted,
    Event,
    JudgeDecision,
    MessageAdded,
    ModelCall,
    Resumed,
    Stopped,
    parse_event,
)
from moot.trace.export import CallUsage, Row, calls_table, decisions_table, messages_table
from moot.trace.opening import OpenedRun

if TYPE_CHECKING:
    from pandas import DataFrame

PANDAS_MISSING = "a run's tables as DataFrames need pandas: pip install 'moot[pandas]'"
"""The one line said when pandas is not installed."""
Prices = dict[str, tuple[float, float]]
"""Price per 1k tokens in and out, by model (`provider:model`)."""
TurnEvents = list[Event | CallUsage]
"""The events a messages or decisions table is made of, model calls as their usage alone."""


def require_pandas() -> ModuleType:
    """pandas, or a UserError naming the extra that installs it."""
    try:
        import pandas
    except ImportError:
        raise UserError(PANDAS_MISSING) from None
    return pandas


COLUMN_TYPES: dict[str, type] = {
    **dict.fromkeys(("seq", "round", "position", "attempt", "attempts", "repeat", "seed", "rounds"), int),
    **dict.fromkeys(("tokens_in", "tokens_out", "tokens_cached_in", "retries", "messages", "decisions"), int),
    **dict.fromkeys(("calls", "cache_hits", "failed_calls"), int),
    **dict.fromkeys(("run_id", "conversation_id", "scenario_id", "agent", "role", "about", "model", "event"), str),
    **dict.fromkeys(("content", "parse_error", "error", "finish_reason", "raw_reply", "prev_hash"), str),
    **dict.fromkeys(("status", "stop_reason"), str),
    **dict.fromkeys(("latency_s", "cost"), float),
    "cache_hit": bool,
    **dict.fromkeys(("time", "started", "ended"), datetime),
}
"""The type of each fixed column, for a column without a value (a table without rows, a cost without prices)."""


def typed_frame(rows: list[Row], columns: Sequence[str] = ()) -> DataFrame:
    """A DataFrame of `rows` (`columns` first, then any other in the order met), each column of one type."""
    pd = require_pandas()
    names = list(dict.fromkeys([*columns, *(name for row in rows for name in row)]))
    data = {name: _column(pd, [row.get(name) for row in rows], COLUMN_TYPES.get(name)) for name in names}
    return pd.DataFrame(data, columns=names)


def _column(pd: ModuleType, values: list[Any], declared: type | None = None) -> Any:
    """A column's values as the pandas array of their type (see the module's docstring); a column without a value
    is of its `declared` type, with every value missing."""
    kinds = {type(value) for value in values if value is not None}
    missing = any(value is None for value in values)
    if not kinds and declared is not None:
        kinds, missing = {declared}, True
    if kinds == {bool}:
        return pd.array(values, dtype="boolean" if missing else "bool")
    if kinds == {int}:
        return pd.array(values, dtype="Int64" if missing else "int64")
    if kinds and kinds <= {int, float}:
        return pd.array([float("nan") if value is None else float(value) for value in values], dtype="float64")
    if kinds == {str}:
        return pd.array(values, dtype=pd.StringDtype())
    if kinds == {datetime}:
        return pd.to_datetime(values, utc=True).as_unit("ns")
    cells = numpy.empty(len(values), dtype=object)
    for index, value in enumerate(values):  # one by one: lists of one length would be read as rows of a 2D array
        cells[index] = value
    return cells


def read_turn_events(opened: OpenedRun, judged: bool = False) -> TurnEvents:
    """The events that stand of which messages (and with `judged`, decisions) and their turns' calls are made, in
    order, each model call read as its usage alone (`CallUsage`): the chat and reply it leaves out are most of the
    trace. An event that does not parse is refused as every reader refuses it."""
    kinds = ["turn_started", "model_call", "message_added", "resumed"] + (["judge_decision"] if judged else [])
    events: TurnEvents = []
    for row in opened.raw_rows(kinds=kinds):
        try:
            events.append(
                CallUsage.model_validate_json(row.body) if row.event == "model_call" else parse_event(row.body)
            )
        except ValueError:
            raise opened.refused("damaged", f"holds an event that does not parse at seq {row.seq}") from None
    dropped = {seq for event in events if isinstance(event, Resumed) for seq in event.superseded}
    return [event for event in events if event.seq not in dropped] if dropped else events


def messages_frame(events: TurnEvents) -> DataFrame:
    """One row per message: its ids, position, model, parsed fields, content and the usage of its turn's calls."""
    return typed_frame(messages_table(events), _TURN_IDS + ("position", "model"))


def decisions_frame(events: TurnEvents) -> DataFrame:
    """One row per judge decision: its ids, what it was about, its decision's fields and its turn's usage."""
    return typed_frame(decisions_table(events), _TURN_IDS + ("about", "model"))


_TURN_IDS = ("seq", "run_id", "conversation_id", "scenario_id", "round", "agent", "role")


def call_cost(call: ModelCall, prices: Prices) -> float | None:
    """What a call cost by the price table: None for a model without a price, 0 for a reply from the cache."""
    if call.model not in prices:
        return None
    if call.cache_hit:
        return 0.0
    price_in, price_out = prices[call.model]
    return (call.tokens_in * price_in + call.tokens_out * price_out) / 1000.0


def calls_frame(events: list[Event], prices: Prices) -> DataFrame:
    """One row per model call: tokens (and prompt tokens the provider cached), latency, cache hit, retries, error,
    cost by `prices`, the reply, and the chat and parameters sent."""
    calls = [event for event in events if isinstance(event, ModelCall)]
    rows = calls_table(events)  # a row per model call, in the same order
    for row, call in zip(rows, calls, strict=True):
        row["tokens_cached_in"] = call.tokens_cached_in
        row["cost"] = call_cost(call, prices)
    first = ("seq", "run_id", "conversation_id", "scenario_id", "round", "agent", "role", "model", "attempt")
    usage = ("tokens_in", "tokens_out", "tokens_cached_in", "latency_s", "cache_hit", "retries", "cost", "error")
    return typed_frame(rows, first + usage)


def events_frame(events: list[Event]) -> DataFrame:
    """One row per event: its kind, ids and time, and its own fields as an object (`body`)."""
    common = {"seq", "event", "run_id", "conversation_id", "scenario_id", "round", "agent", "time", "prev_hash"}
    rows = [
        {
            "seq": event.seq,
            "event": event.event,
            "run_id": event.run_id,
            "conversation_id": event.conversation_id,
            "scenario_id": event.scenario_id,
            "round": event.round,
            "agent": event.agent,
            "time": event.time,
            "prev_hash": event.prev_hash,
            "body": event.model_dump(mode="json", exclude=common | {"version"}),
        }
        for event in events
    ]
    return typed_frame(rows, ("seq", "event", "run_id", "conversation_id", "scenario_id", "round", "agent", "time"))


CONVERSATION_COLUMNS = (
    "conversation_id",
    "scenario_id",
    "repeat",
    "seed",
    "order",
    "arm",
    "status",
    "stop_reason",
    "rounds",
    "messages",
    "decisions",
    "calls",
    "cache_hits",
    "tokens_in",
    "tokens_out",
    "latency_s",
    "retries",
    "failed_calls",
    "cost",
    "started",
    "ended",
)
"""The columns of the conversations table, in order."""


def conversations_frame(events: list[Event], prices: Prices) -> DataFrame:
    """One row per conversation, in the order they started: its scenario, repeat, seed, speaking order and matrix
    arm; how it ended (`status` and `stop_reason` missing while it has not); what it holds; and its calls' usage."""
    rows: dict[str, Row] = {}
    for event in events:
        row = rows.get(event.conversation_id)
        if row is None:
            row = rows[event.conversation_id] = _conversation_row(event)
        _CONVERSATION_STEPS.get(type(event), _nothing)(row, event, prices)
    return typed_frame(list(rows.values()), CONVERSATION_COLUMNS)


def _conversation_row(first: Event) -> Row:
    zeros = ("messages", "decisions", "calls", "cache_hits", "tokens_in", "tokens_out", "retries", "failed_calls")
    row: Row = dict.fromkeys(CONVERSATION_COLUMNS)
    row.update(dict.fromkeys(zeros, 0), conversation_id=first.conversation_id, scenario_id=first.scenario_id)
    row.update(latency_s=0.0, started=first.time)
    return row


def _started(row: Row, event: Any, prices: Prices) -> None:
    row.update(repeat=event.repeat, seed=event.seed, order=list(event.order), arm=event.arm, started=event.time)


def _stopped(row: Row, event: Any, prices: Prices) -> None:
    row.update(status=event.status, stop_reason=event.reason, rounds=event.rounds, ended=event.time)


def _message(row: Row, event: Any, prices: Prices) -> None:
    row["messages"] += 1


def _decision(row: Row, event: Any, prices: Prices) -> None:
    row["decisions"] += 1


def _call(row: Row, event: Any, prices: Prices) -> None:
    row["calls"] += 1
    row["cache_hits"] += int(event.cache_hit)
    if not event.cache_hit:  # as run.json counts them: tokens of calls that reached a model
        row["tokens_in"] += event.tokens_in
        row["tokens_out"] += event.tokens_out
    row["latency_s"] += event.latency_s
    row["retries"] += event.retries
    row["failed_calls"] += int(event.error is not None)
    cost = call_cost(event, prices)
    if cost is not None:
        row["cost"] = (row["cost"] or 0.0) + cost


def _nothing(row: Row, event: Any, prices: Prices) -> None:
    return None


_CONVERSATION_STEPS: dict[type, Callable[[Row, Any, Prices], None]] = {
    ConversationStarted: _started,
    Stopped: _stopped,
    MessageAdded: _message,
    JudgeDecision: _decision,
    ModelCall: _call,
}
