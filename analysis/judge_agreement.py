"""The `judges` section of an analysis: how far judges that decide the same things agree.

Whenever two or more judges of one kind (`moot.analysis.judge_selection`) decided about the same
items (a round of a conversation for a judge of each round, a message for a judge of each
message), each field of their decisions is compared over the items both decided (a decision
that could not be parsed, or lacks the field, is left out):

- a categorical field (a boolean, an enum: `conceded`): percent agreement and Cohen's kappa per
  pair of judges, and Fleiss' kappa over the items every judge decided when there are three or more;
- a set of values (a list of enum members: the values judge's `values`): percent agreement (the
  same set) and Jaccard (|A & B| / |A | B|, 1 for two empty sets), its mean over the items.

Degenerate cases are notes: a kappa with one category only is undefined, and fewer than 10
shared items make a rough figure.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any

from moot.analysis.agreement import cohen_kappa_labels, fleiss_kappa_labels
from moot.analysis.judge_selection import Judge, JudgeRoster
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.protocol_fields import OutputField, field_value, role_schema, schema_fields, value_label
from moot.trace.events import Event, JudgeDecision
from moot.trace.reading import effective_events

MIN_SHARED_ITEMS = 10
"""Shared items below which an agreement is noted as rough."""
CATEGORICAL = ("enum", "boolean")
"""Field kinds compared by kappa."""

Item = tuple[str, int, str | None]
"""What a decision is about: (conversation, round, message judged or None for the round)."""


def jaccard(a: frozenset[Hashable], b: frozenset[Hashable]) -> float:
    """|a & b| / |a | b|; 1 when both are empty (the judges agree that nothing applies)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def decisions_by_judge(events: Sequence[Event], judges: Sequence[Judge]) -> dict[str, dict[Item, dict[str, Any]]]:
    """Each judge's parsed decisions that stand, by the item they are about (the last one, were there two)."""
    names = {judge.name for judge in judges}
    found: dict[str, dict[Item, dict[str, Any]]] = {name: {} for name in names}
    for event in effective_events(events):
        if isinstance(event, JudgeDecision) and event.agent in names and event.decision is not None:
            found[event.agent][(event.conversation_id, event.round, event.about)] = event.decision
    return found


def as_compared(value: Any, kind: str) -> Hashable | None:
    """A field's value as it is compared: a frozen set for a list, the label itself for a boolean or an enum; None
    when it is not of its kind (a reply that lacks the field)."""
    if kind == "list":
        return frozenset(str(v) for v in value) if isinstance(value, list) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return None if isinstance(value, list | dict) else value


def field_values(decisions: dict[Item, dict[str, Any]], field: OutputField) -> dict[Item, Hashable]:
    """A field of each decision, as it is compared (`as_compared`); items without it left out."""
    values: dict[Item, Hashable] = {}
    for item, decision in decisions.items():
        value = as_compared(field_value(decision, field.path), field.kind)
        if value is not None:
            values[item] = value
    return values


def pair_row(kind: str, field: OutputField, a: str, b: str, first: dict, second: dict, notes: list[str]) -> dict:
    """The agreement of two judges on one field over the items both decided."""
    shared = [item for item in first if item in second]
    row: dict[str, Any] = {"kind": kind, "field": field.path, "judges": [a, b], "items": len(shared)}
    where = f"judges {a} and {b} on {kind}.{field.path}"
    if not shared:
        notes.append(f"{where}: no item both decided, so no agreement")
        return row
    if len(shared) < MIN_SHARED_ITEMS:
        notes.append(f"{where}: {len(shared)} shared items (fewer than {MIN_SHARED_ITEMS}), a rough agreement")
    row["percent_agreement"] = sum(first[i] == second[i] for i in shared) / len(shared)
    if field.kind == "list":
        row["jaccard"] = sum(jaccard(first[i], second[i]) for i in shared) / len(shared)
        return row
    kappa = cohen_kappa_labels([first[i] for i in shared], [second[i] for i in shared])
    row["cohen_kappa"] = kappa
    if math.isnan(kappa):
        labels = ", ".join(sorted({value_label(first[i]) for i in shared}))
        notes.append(f"{where}: kappa is undefined, both judges gave one category only ({labels})")
    return row


def fleiss_row(kind: str, field: OutputField, values: dict[str, dict], notes: list[str]) -> dict:
    """Fleiss' kappa of three or more judges on one field over the items every one of them decided."""
    names = list(values)
    shared = [item for item in values[names[0]] if all(item in values[name] for name in names)]
    row: dict[str, Any] = {"kind": kind, "field": field.path, "judges": names, "items": len(shared)}
    where = f"judges {', '.join(names)} on {kind}.{field.path}"
    if not shared:
        notes.append(f"{where}: no item every judge decided, so no Fleiss' kappa")
        return row
    if len(shared) < MIN_SHARED_ITEMS:
        notes.append(f"{where}: {len(shared)} items every judge decided (fewer than {MIN_SHARED_ITEMS}), a rough kappa")
    labels = [[values[name][item] for name in names] for item in shared]
    row["percent_agreement"] = sum(len(set(item)) == 1 for item in labels) / len(labels)
    row["fleiss_kappa"] = fleiss_kappa_labels(labels)
    if math.isnan(row["fleiss_kappa"]):
        notes.append(f"{where}: Fleiss' kappa is undefined, every decision is of one category")
    return row


def kind_fields(roster: JudgeRoster, kind: str) -> list[OutputField]:
    """The categorical and list fields of a kind's decisions, from its role's output schema."""
    schema = role_schema(roster.roles.get(kind, {})) or {}
    return [f for f in schema_fields(kind, schema, judge=True) if f.kind in (*CATEGORICAL, "list")]


def judge_agreement(roster: JudgeRoster, events: Sequence[Event], notes: list[str]) -> list[dict[str, Any]]:
    """One row per pair of judges of a kind and field (and one for all of them, by Fleiss' kappa, when three or
    more judge a categorical field); `notes` gets the degenerate cases."""
    rows: list[dict[str, Any]] = []
    for kind, judges in roster.compared().items():
        decided = decisions_by_judge(events, judges)
        fields = kind_fields(roster, kind)
        if not fields:
            notes.append(
                f"judges of {kind} decide no categorical field or value set, so their agreement is not measured"
            )
        for field in fields:
            values = {judge.name: field_values(decided[judge.name], field) for judge in judges}
            for a, b in combinations(values, 2):
                rows.append(pair_row(kind, field, a, b, values[a], values[b], notes))
            if len(judges) >= 3 and field.kind in CATEGORICAL:
                rows.append(fleiss_row(kind, field, values, notes))
    return rows


def analyze_judges(
    roster: JudgeRoster, events: Sequence[Event], writer: AnalysisWriter, read: str | None = None
) -> dict[str, Any]:
    """The `judges` section: the judges, the one read of each kind (`read`: the judge asked for, if any), and their
    agreement (tables `judges` and `judge_agreement`)."""
    chosen = roster.named(read) if read is not None else None
    reading = {
        kind: [chosen.name] if chosen is not None and chosen.kind == kind else [j.name for j in roster.defaults(kind)]
        for kind in roster.kinds()
    }
    listed = [
        {
            "judge": judge.name,
            "role": judge.role,
            "kind": judge.kind,
            "source": judge.source,
            "model": judge.model,
            "decisions": judge.decisions,
            "read": judge.name in reading[judge.kind],
        }
        for judge in roster.judges
    ]
    notes: list[str] = []
    rows = judge_agreement(roster, events, notes)
    writer.table("judges", listed)
    writer.table("judge_agreement", [{**row, "judges": ", ".join(row["judges"])} for row in rows])
    for note in notes:
        writer.note(note)
    return {"judges": listed, "read": reading, "agreement": rows}
