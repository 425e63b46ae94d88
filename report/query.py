"""Filtering and paging the conversation list, and the filter options (facets) it offers.

The page's script applies the same rules to the summaries embedded in a static report
(`matches` in report/static/app.js); keep the two in step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moot.errors import UserError
from moot.report.protocol_view import ProtocolView
from moot.report.summaries import ConversationSummary

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_YES_NO = ("", "yes", "no")
FIELD_PREFIX = "final."
"""URL parameters `final.FIELD=VALUE` filter on a field's final value."""


@dataclass(frozen=True)
class ListQuery:
    """A page of the conversation list: free-text search, filters, offset and limit."""

    q: str = ""
    """Words that must all occur (case-insensitive) in the conversation or its scenario."""
    scenario: str = ""
    """Scenario id, exactly."""
    order: str = ""
    """Speaking order joined by ` → `, exactly."""
    outcome: str = ""
    """Final verdict or outcome, exactly (`-` for conversations without one)."""
    stop: str = ""
    """Which way the conversation ended (`ConversationSummary.stop`), exactly."""
    finals: tuple[tuple[str, str], ...] = ()
    """(field, value) pairs: the field's final value, exactly (`-` for none)."""
    consensus: str = ""
    """`yes` or `no`."""
    rounds: int | None = None
    """Rounds played, exactly."""
    errors: str = ""
    """`yes` (an error event or a failed stop) or `no`."""
    offset: int = 0
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        """Read a query from URL parameters; a bad value raises a UserError naming the parameter."""

        def integer(name: str, default: int | None, low: int, high: int | None = None) -> int | None:
            raw = params.get(name, "")
            if raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                raise UserError(f"parameter '{name}' must be an integer (got '{raw}')") from None
            if value < low or (high is not None and value > high):
                raise UserError(
                    f"parameter '{name}' must be between {low} and {high if high is not None else 'any'} (got {value})"
                )
            return value

        for name in ("consensus", "errors"):
            if params.get(name, "") not in _YES_NO:
                raise UserError(f"parameter '{name}' must be 'yes' or 'no' (got '{params[name]}')")
        return cls(
            q=params.get("q", ""),
            scenario=params.get("scenario", ""),
            order=params.get("order", ""),
            outcome=params.get("outcome", ""),
            stop=params.get("stop", ""),
            finals=tuple(
                (name[len(FIELD_PREFIX) :], value)
                for name, value in params.items()
                if name.startswith(FIELD_PREFIX) and value != ""
            ),
            consensus=params.get("consensus", ""),
            rounds=integer("rounds", None, 0),
            errors=params.get("errors", ""),
            offset=integer("offset", 0, 0) or 0,
            limit=integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT,
        )

    def matches(self, summary: ConversationSummary, scenario_text: str = "") -> bool:
        """Whether a conversation passes every filter and contains every search word."""
        if self.scenario and summary.scenario != self.scenario:
            return False
        if self.order and summary.order_key != self.order:
            return False
        if self.outcome and (summary.outcome or "-") != self.outcome:
            return False
        if self.stop and summary.stop != self.stop:
            return False
        if any(summary.finals.get(name, "-") != value for name, value in self.finals):
            return False
        if self.consensus and summary.consensus != (self.consensus == "yes"):
            return False
        if self.rounds is not None and summary.rounds != self.rounds:
            return False
        if self.errors and has_errors(summary) != (self.errors == "yes"):
            return False
        return all(word in summary.search or word in scenario_text for word in self.q.lower().split())


def has_errors(summary: ConversationSummary) -> bool:
    """The conversation recorded an error or failed."""
    return summary.errors > 0 or summary.status == "failed"


def page_summaries(
    summaries: list[ConversationSummary], query: ListQuery, scenario_texts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The conversations matching a query, one page of them: `{total, matched, offset, limit, items}`."""
    texts = scenario_texts or {}
    matched = [s for s in summaries if query.matches(s, texts.get(s.scenario, ""))]
    items = matched[query.offset : query.offset + query.limit]
    return {
        "total": len(summaries),
        "matched": len(matched),
        "offset": query.offset,
        "limit": query.limit,
        "items": [s.to_json() for s in items],
    }


def facets_summaries(summaries: list[ConversationSummary], protocol: ProtocolView | None = None) -> dict[str, Any]:
    """The values each filter can take, with how many conversations have them.

    `scenarios` holds `[id, title, count]`; the others `[value, count]`; scenarios and orders in
    order of first appearance, outcomes and final values by count, rounds ascending; `stops` holds
    every kind of reason the protocol can give, in its order, then the others seen (`failed`, `running`).
    `finals` holds `[field, [[value, count], ...]]` for each enum or boolean field of the protocol.
    `consensus` is there only when a stop rule asks for a consensus (without a readable protocol:
    when a conversation stopped on one).
    """
    titles: dict[str, str] = {}
    scenarios: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    rounds: Counter[int] = Counter()
    consensus: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    fields = [item.name for item in protocol.outcome_fields()] if protocol and protocol.readable else []
    finals: dict[str, Counter[str]] = {name: Counter() for name in fields}
    for s in summaries:
        titles.setdefault(s.scenario, s.title)
        scenarios[s.scenario] += 1
        orders[s.order_key] += 1
        outcomes[s.outcome or "-"] += 1
        rounds[s.rounds] += 1
        consensus["yes" if s.consensus else "no"] += 1
        errors["yes" if has_errors(s) else "no"] += 1
        stops[s.stop] += 1
        for name, counter in finals.items():
            counter[s.finals.get(name, "-")] += 1
    readable = protocol is not None and protocol.readable
    # every reason the protocol can give (those that never came too), then the others seen (failures, running)
    stop_kinds = protocol.stop_kinds if protocol and readable else [kind for kind, _ in stops.most_common()]
    with_consensus = protocol.consensus_rule if protocol and readable else consensus["yes"] > 0
    return {
        "total": len(summaries),
        "scenarios": [[sid, titles[sid], n] for sid, n in scenarios.items()],
        "orders": [[key, n] for key, n in orders.items()],
        "outcomes": [[label, n] for label, n in outcomes.most_common()],
        "rounds": [[r, rounds[r]] for r in sorted(rounds)],
        "stops": [[kind, stops[kind]] for kind in stop_kinds]
        + [[k, n] for k, n in stops.items() if k not in stop_kinds],
        "finals": [[name, [[value, n] for value, n in counter.most_common()]] for name, counter in finals.items()],
        "consensus": [[k, consensus[k]] for k in ("yes", "no")] if with_consensus else None,
        "errors": [[k, errors[k]] for k in ("yes", "no")],
    }
