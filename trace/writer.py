"""The trace writer: appends a run's events, redacts secrets, and sums model usage as it goes."""

from __future__ import annotations

from moot.trace.events import Event, ModelCall
from moot.trace.manifest import UsageReport, UsageTotals
from moot.trace.store import TraceStore

REDACTED = "[redacted]"


def _redact_value(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [_redact_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v, secrets) for k, v in value.items()}
    return value


class TraceWriter:
    """Appends events to a store; every string is scrubbed of the run's secrets first."""

    def __init__(self, store: TraceStore, secrets: list[str] | None = None, prices: dict[str, tuple[float, float]] | None = None) -> None:
        self.store = store
        self.secrets = tuple(s for s in (secrets or []) if len(s) >= 8)
        self.prices = prices or {}
        self.usage = UsageReport()
        self.failure_kinds: dict[str, int] = {}

    def emit(self, event: Event) -> Event:
        """Store an event (secrets redacted) and count its usage when it is a model call."""
        if self.secrets:
            event = type(event).model_validate(_redact_value(event.model_dump(), self.secrets))
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
