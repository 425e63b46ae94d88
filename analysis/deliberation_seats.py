"""Deliberation rates per line-up, per speaking order and per position: nothing pooled without saying so.

A seat is one debater in one conversation: the agent, the player it is (agent and model, as the
comparison names it), its position in the speaking order, the order, the line-up (players in
speaking order), the arm and the repeat. A per-seat outcome (did it change its verdict, does its
round-1 verdict agree with its model's solo verdict) is given by every breakdown that can differ:
per agent and position, per speaking order, per player, per line-up and arm, and across repeats.
Each breakdown that pools a dimension that varies says so in `pooled`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moot.analysis.arms import FIRST_SPEAKER, ORDER, REPEAT, ArmTable, ConversationArm, Spread, pooled_note
from moot.analysis.debates import DebateRecord
from moot.analysis.deliberation import Rate, changed_verdict, consensus_rates, debates, player_names

LINE_UP_SEPARATOR = " > "
"""Between the players of a line-up, in speaking order."""


@dataclass(frozen=True)
class Seat:
    """One debater in one conversation: who it was and where it sat."""

    conversation: str
    scenario: str
    agent: str
    player: str
    """The agent's player (`ConversationArm.players()`): its model when the conversation's models all differ."""
    model: str
    """The agent's model as the comparison names it (`ConversationArm.model_label`)."""
    position: int
    """Place in the speaking order, from 1."""
    order: str
    """Agents in speaking order (`alice>bob`)."""
    line_up: str
    """Players in speaking order (`X > Y`)."""
    arm: str
    """The arm's label (`all` for a run that compares nothing)."""
    repeat: int


def seats_debate(record: DebateRecord, entry: ConversationArm | None) -> list[Seat]:
    """The seats of one conversation, in speaking order; its arm entry names the players (the record's models
    when the conversation is not in the arm table)."""
    if entry is not None:
        players = entry.players()
        models = {agent: entry.model_label(agent) for agent in record.order}
        arm = entry.arm.label
    else:
        players, models, arm = player_names(record), dict(record.models), "all"
    line_up = LINE_UP_SEPARATOR.join(players[a] for a in record.order)
    return [
        Seat(
            record.conversation,
            record.scenario,
            agent,
            players[agent],
            models.get(agent, ""),
            index + 1,
            ">".join(record.order),
            line_up,
            arm,
            record.repeat,
        )
        for index, agent in enumerate(record.order)
    ]


def debate_seats(records: Sequence[DebateRecord], table: ArmTable) -> dict[str, list[Seat]]:
    """The seats of every completed debate, by conversation."""
    return {r.conversation: seats_debate(r, table.get(r.conversation)) for r in debates(records)}


def _rates(groups: Mapping[Any, list[bool]]) -> dict[str, dict[str, float | int | None]]:
    return {str(key): Rate(sum(v), len(v)).as_dict() for key, v in sorted(groups.items(), key=lambda i: str(i[0]))}


def _nested(
    outcomes: Iterable[tuple[Seat, bool]], outer: Callable[[Seat], Any], inner: Callable[[Seat], Any]
) -> dict[str, dict[str, dict[str, float | int | None]]]:
    groups: dict[str, dict[Any, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for seat, outcome in outcomes:
        groups[str(outer(seat))][inner(seat)].append(outcome)
    return {key: _rates(groups[key]) for key in sorted(groups)}


def _flat(outcomes: Iterable[tuple[Seat, bool]], key: Callable[[Seat], Any]) -> dict[str, dict[str, Any]]:
    groups: dict[Any, list[bool]] = defaultdict(list)
    for seat, outcome in outcomes:
        groups[key(seat)].append(outcome)
    return _rates(groups)


def across_repeats(
    outcomes: Sequence[tuple[Seat, bool]], key: Callable[[Seat], str]
) -> dict[str, dict[str, float | int | None]]:
    """Per group, the mean and sd over repeats of the group's rate in each repeat (`Spread`)."""
    per_repeat: dict[str, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for seat, outcome in outcomes:
        per_repeat[key(seat)][seat.repeat].append(outcome)
    return {
        group: Spread.of(sum(v) / len(v) for v in repeats.values()).as_dict()
        for group, repeats in sorted(per_repeat.items())
    }


def seat_breakdowns(outcomes: Sequence[tuple[Seat, bool]], table: ArmTable) -> dict[str, Any]:
    """A per-seat outcome's rate in every breakdown where it can differ, each pooled one saying what it pools.

    Always `by_agent_position` (agent -> position -> rate). When the speaking order varies:
    `by_order` (order -> agent -> rate), and `by_first_speaker` (first speaker -> agent -> rate) when
    there are more orders than first speakers (three debaters or more). When the conversations belong to several arms:
    `by_player`, `by_player_position` (player -> position), `by_line_up` (players in speaking
    order -> player) and `by_arm` (arm -> player). When repeats vary: `across_repeats`, the mean
    and sd over repeats of each agent's (or player's) rate. `pooled` names, for each breakdown
    (and for `by_agent` and `by_position`, which the caller keeps), the dimensions it pools.
    """
    arm_dims = table.dimensions()
    compares = table.compares()
    result: dict[str, Any] = {"by_agent_position": _nested(outcomes, lambda s: s.agent, lambda s: s.position)}
    if table.varies(ORDER):
        result["by_order"] = _nested(outcomes, lambda s: s.order, lambda s: s.agent)
    orders = {s.order for s, _ in outcomes}
    if table.varies(FIRST_SPEAKER) and len({o.split(">")[0] for o in orders}) < len(orders):
        result["by_first_speaker"] = _nested(outcomes, lambda s: s.order.split(">")[0], lambda s: s.agent)
    if compares:
        result["by_player"] = _flat(outcomes, lambda s: s.player)
        result["by_player_position"] = _nested(outcomes, lambda s: s.player, lambda s: s.position)
        result["by_line_up"] = _nested(outcomes, lambda s: s.line_up, lambda s: s.player)
        result["by_arm"] = _nested(outcomes, lambda s: s.arm, lambda s: s.player)
    if table.varies(REPEAT):
        result["across_repeats"] = across_repeats(outcomes, (lambda s: s.player) if compares else (lambda s: s.agent))
    agents_pooled = "pooled over agents" + (", " + ", ".join(arm_dims) if arm_dims else "")
    notes = {
        "by_agent": pooled_note(table, [ORDER, *arm_dims, REPEAT]),
        "by_position": agents_pooled + (", repeat" if table.varies(REPEAT) else ""),
        "by_agent_position": pooled_note(table, [*arm_dims, REPEAT]),
        "by_order": pooled_note(table, [*arm_dims, REPEAT]),
        "by_first_speaker": pooled_note(table, [ORDER, *arm_dims, REPEAT]),
        "by_player": pooled_note(table, [ORDER, *arm_dims, REPEAT]),
        "by_player_position": pooled_note(table, [*arm_dims, REPEAT]),
        "by_line_up": pooled_note(table, [REPEAT]),
        "by_arm": pooled_note(table, [ORDER, REPEAT]),
    }
    result["pooled"] = {k: v for k, v in notes.items() if v and (k in result or k in ("by_agent", "by_position"))}
    return result


def verdict_change_outcomes(
    records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]]
) -> list[tuple[Seat, bool]]:
    """(seat, changed its verdict after round 1) for every seat with a parsed round-1 verdict."""
    outcomes = []
    for record in debates(records):
        for seat in seats[record.conversation]:
            changed = changed_verdict(record, seat.agent)
            if changed is not None:
                outcomes.append((seat, changed))
    return outcomes


def consensus_breakdowns(records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]], table: ArmTable) -> dict:
    """Consensus rates per speaking order, per line-up, per arm and per first player, and their spread over repeats,
    each where it can differ, with what the pooled ones pool."""
    done = debates(records)
    result: dict[str, Any] = {}

    def grouped(key: Callable[[DebateRecord], str]) -> dict[str, dict[str, object]]:
        groups: dict[str, list[DebateRecord]] = defaultdict(list)
        for record in done:
            groups[key(record)].append(record)
        return {name: consensus_rates(group) for name, group in sorted(groups.items())}

    if table.varies(ORDER):
        result["by_order"] = grouped(lambda r: ">".join(r.order))
    if table.compares():
        result["by_line_up"] = grouped(lambda r: seats[r.conversation][0].line_up)
        result["by_arm"] = grouped(lambda r: seats[r.conversation][0].arm)
        result["by_first_player"] = grouped(lambda r: seats[r.conversation][0].player)
    if table.varies(REPEAT):
        per_repeat: dict[int, list[DebateRecord]] = defaultdict(list)
        for record in done:
            per_repeat[record.repeat].append(record)
        result["across_repeats"] = Spread.of(
            sum(r.consensus for r in group) / len(group) for group in per_repeat.values()
        ).as_dict()
    arm_dims = table.dimensions()
    notes = {
        "consensus": pooled_note(table, [ORDER, *arm_dims, REPEAT]),
        "by_first_speaker": pooled_note(table, [*arm_dims, REPEAT]),
        "by_order": pooled_note(table, [*arm_dims, REPEAT]),
        "by_line_up": pooled_note(table, [REPEAT]),
        "by_arm": pooled_note(table, [ORDER, REPEAT]),
        "by_first_player": pooled_note(table, [ORDER, *arm_dims, REPEAT]),
    }
    result["pooled"] = {k: v for k, v in notes.items() if v and (k in result or k in ("consensus", "by_first_speaker"))}
    return result


def value_occurrence_seats(records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]]) -> dict:
    """How often each player's messages invoke each value, per line-up (players in speaking order)."""
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for record in debates(records):
        by_agent = {seat.agent: seat for seat in seats[record.conversation]}
        for judged in record.values.values():
            for agent, values in judged.items():
                seat = by_agent.get(agent)
                if seat is not None:
                    counts[seat.line_up][seat.player].update(values)
    return {
        line_up: {player: dict(c.most_common()) for player, c in sorted(players.items())}
        for line_up, players in sorted(counts.items())
    }


def breakdown_rows(name: str, breakdowns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rate breakdowns of one measurement as table rows: measurement, breakdown, group, member, rate, count,
    total, and what the breakdown pools."""
    pooled = breakdowns.get("pooled", {})
    rows = []

    def row(breakdown: str, group: str, member: str, rate: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "measurement": name,
            "breakdown": breakdown,
            "group": group,
            "member": member,
            "rate": rate["rate"],
            "count": rate["count"],
            "total": rate["total"],
            "pooled_over": pooled.get(breakdown, ""),
        }

    for breakdown, groups in breakdowns.items():
        if breakdown in ("pooled", "across_repeats") or not isinstance(groups, Mapping):
            continue
        if "rate" in groups:  # one rate over everything (`overall`)
            rows.append(row(breakdown, "", "", groups))
            continue
        for group, members in groups.items():
            if "rate" in members:
                rows.append(row(breakdown, group, "", members))
            else:
                rows += [row(breakdown, group, member, rate) for member, rate in members.items()]
    for group, spread in (breakdowns.get("across_repeats") or {}).items():
        rows.append(
            {
                "measurement": name,
                "breakdown": "across_repeats",
                "group": group,
                "member": "",
                "rate": spread["mean"],
                "sd": spread["sd"],
                "count": None,
                "total": spread["n"],
                "pooled_over": "",
            }
        )
    return rows


def final_verdicts_seats(
    records: Sequence[DebateRecord], seats: Mapping[str, list[Seat]], verdicts: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Counts of the debates' final verdicts per line-up (players in speaking order; `none` without a majority)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for record in debates(records):
        found[seats[record.conversation][0].line_up][record.final_verdict or "none"] += 1
    return {line_up: {v: c.get(v, 0) for v in [*verdicts, "none"]} for line_up, c in sorted(found.items())}
