"""The trace writer: appends a run's events, redacts secrets, and sums model usage as it goes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, get_origin

from pydantic import BaseModel

from moot.trace.events import Event, ModelCall
from moot.trace.manifest import StructuredOutputFound, UsageReport, UsageTotals
from moot.trace.redaction import Redactor
from moot.trace.store import TraceStore

NAME_FIELDS = frozenset(
    {
        "run_id",
        "conversation_id",
        "scenario_id",
        "agent",
        "role",
        "model",
        "protocol",
        "order",
        "visible",
        "speakers",
        "about",
    }
)
"""Fields that name parts of the run (ids, agents, roles, models, messages) as the spec and the scenario file gave them.

They are written as they are: no model or server writes them, and a short key replaced inside one
(an agent named like the key) would break the links between events. So are fields of a fixed set
of values (`Literal`), which a replaced value would no longer belong to.
"""


@functools.cache
def _redactable_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model whose text is redacted: all but the names of the run's parts and the fixed values."""
    fixed = {name for name, field in model.model_fields.items() if get_origin(field.annotation) is Literal}
    return tuple(name for name in model.model_fields if name not in NAME_FIELDS and name not in fixed)


def _texts(value: Any) -> Iterator[str]:
    """Every string that redaction looks at in a value (a model's redactable fields, lists, dictionary values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, BaseModel):
        for name in _redactable_fields(type(value)):
            yield from _texts(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)


def _redacted(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, BaseModel):
        # Not validated again: redaction turns strings into strings, and leaves the fixed values alone.
        fields = _redactable_fields(type(value))
        return value.model_copy(update={name: _redacted(getattr(value, name), redactor) for name in fields})
    if isinstance(value, (list, tuple)):
        return [_redacted(item, redactor) for item in value]
    return redactor.redact_value(value)


def redact_event(event: Event, redactor: Redactor) -> Event:
    """The event with every key of `redactor` replaced in its text (the names of the run's parts kept).

    An event that holds no key is returned as it is.
    """
    if not redactor or not any(redactor.finds(text) for text in _texts(event)):
        return event
    return _redacted(event, redactor)


class TraceWriter:
    """Appends events to a store; every string is scrubbed of the run's secrets first (see `moot.trace.redaction`).

    `secrets` are the run's keys (`ModelPool.secrets()`); a store that holds a password (a
    PostgreSQL trace) adds its own. `listeners` are called with each event once it is stored, as
    stored (redacted, with its seq): the live spans of `moot run --otel` (`moot.trace.otel.LiveSpans`).
    """

    def __init__(
        self,
        store: TraceStore,
        secrets: list[str] | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
        listeners: Sequence[Callable[[Event], None]] = (),
    ) -> None:
        self.store = store
        self.listeners = tuple(listeners)
        self.redactor = Redactor([*(secrets or []), *getattr(store, "secrets", ())])
        """Replaces the keys in every event before it is stored."""
        self.prices = prices or {}
        self.usage = UsageReport()
        self.failure_kinds: dict[str, int] = {}

    def emit(self, event: Event) -> Event:
        """Store an event (secrets redacted), count its usage when it is a model call, and hand it to the listeners."""
        event = redact_event(event, self.redactor)
        stored = self.store.append(event)
        if isinstance(stored, ModelCall):
            self.count(stored)
        for listener in self.listeners:
            listener(stored)
        return stored

    def count(self, call: ModelCall) -> None:
        """Add a model call to the usage (done by `emit`)."""
        count_call(self.usage, call, self.prices)


def count_call(usage: UsageReport, call: ModelCall, prices: dict[str, tuple[float, float]]) -> None:
    """Add a model call to a usage report: in total, per agent, role, model and conversation, with its cost when
    priced, and the structured-output mode it went out in when the gateway found one out."""
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
            tokens_cached_in=call.tokens_cached_in or 0,
            latency_s=call.latency_s,
            retries=call.retries,
            failed=call.error is not None,
        )
    structured = call.params.get("structured_output")
    if isinstance(structured, dict) and isinstance(structured.get("mode"), str):
        rejected = structured.get("rejected")
        usage.found_structured_output(
            StructuredOutputFound(
                model=call.model,
                server=str(structured.get("server", "")),
                mode=structured["mode"],
                rejected={str(k): str(v) for k, v in rejected.items()} if isinstance(rejected, dict) else {},
            )
        )
    if call.model in prices and not call.cache_hit:
        price_in, price_out = prices[call.model]
        cost = (call.tokens_in * price_in + call.tokens_out * price_out) / 1000.0
        for total in (usage.total, usage.by_model[call.model], usage.by_agent[call.agent or ""]):
            total.cost = (total.cost or 0.0) + cost
