"""The trace writer: appends a run's events, redacts secrets, and sums model usage as it goes."""

from __future__ import annotations

from typing import Any, Literal, get_origin

from pydantic import BaseModel

from moot.trace.events import Event, ModelCall
from moot.trace.manifest import UsageReport, UsageTotals
from moot.trace.redaction import Redactor
from moot.trace.store import TraceStore

NAME_FIELDS = frozenset({"run_id", "conversation_id", "scenario_id", "agent", "role", "model", "protocol", "order", "visible", "speakers", "about"})
"""Fields that name parts of the run (ids, agents, roles, models, messages) as the spec and the scenario file gave them.

They are written as they are: no model or server writes them, and a short key replaced inside one
(an agent named like the key) would break the links between events. So are fields of a fixed set
of values (`Literal`), which a replaced value would no longer belong to.
"""


def _kept_as_written(model: type[BaseModel], name: str) -> bool:
    return name in NAME_FIELDS or get_origin(model.model_fields[name].annotation) is Literal


def _redact_fields(model: BaseModel, redactor: Redactor) -> dict[str, Any]:
    """The fields of a model, each redacted unless it names a part of the run; nested models alike."""
    fields = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        fields[name] = value if _kept_as_written(type(model), name) else _redact_any(value, redactor)
    return fields


def _redact_any(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, BaseModel):
        return _redact_fields(value, redactor)
    if isinstance(value, (list, tuple)):
        return [_redact_any(item, redactor) for item in value]
    return redactor.redact_value(value)


def redact_event(event: Event, redactor: Redactor) -> Event:
    """The event with every key of `redactor` replaced in its text (names of the run's parts kept)."""
    if not redactor:
        return event
    return type(event).model_validate(_redact_fields(event, redactor))


class TraceWriter:
    """Appends events to a store; every string is scrubbed of the run's secrets first (see `moot.trace.redaction`).

    `secrets` are the run's keys (`ModelPool.secrets()`); a store that holds a password (a
    PostgreSQL trace) adds its own.
    """

    def __init__(self, store: TraceStore, secrets: list[str] | None = None, prices: dict[str, tuple[float, float]] | None = None) -> None:
        self.store = store
        self.redactor = Redactor([*(secrets or []), *getattr(store, "secrets", ())])
        """Replaces the keys in every event before it is stored."""
        self.prices = prices or {}
        self.usage = UsageReport()
        self.failure_kinds: dict[str, int] = {}

    def emit(self, event: Event) -> Event:
        """Store an event (secrets redacted) and count its usage when it is a model call."""
        event = redact_event(event, self.redactor)
        stored = self.store.append(event)
        if isinstance(stored, ModelCall):
            self.count(stored)
        return stored

    def count(self, call: ModelCall) -> None:
        """Add a model call to the usage (done by `emit`)."""
        count_call(self.usage, call, self.prices)


def count_call(usage: UsageReport, call: ModelCall, prices: dict[str, tuple[float, float]]) -> None:
    """Add a model call to a usage report: in total, per agent, role, model and conversation, with its cost when priced."""
    keys = (
        (usage.by_agent, call.agent or ""),
        (usage.by_role, call.role),
        (usage.by_model, call.model),
        (usage.by_conversation, call.conversation_id),
    )
    totals = [usage.total] + [table.setdefault(key, UsageTotals()) for table, key in keys]
    for total in totals:
        total.add(
            cache_hit=call.cache_hit,
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
            latency_s=call.latency_s,
            retries=call.retries,
            failed=call.error is not None,
        )
    if call.model in prices and not call.cache_hit:
        price_in, price_out = prices[call.model]
        cost = (call.tokens_in * price_in + call.tokens_out * price_out) / 1000.0
        for total in (usage.total, usage.by_model[call.model], usage.by_agent[call.agent or ""]):
            total.cost = (total.cost or 0.0) + cost
