"""Deliberation rates per seat (order, position, player, line-up, repeat) and solo baselines, on hand-built debates."""

from __future__ import annotations

import pytest

from moot.analysis.arms import conversation_arms
from moot.analysis.debates import DebateRecord
from moot.analysis.deliberation import elo_games_debates
from moot.analysis.deliberation_seats import (
    breakdown_rows,
    consensus_breakdowns,
    debate_seats,
    seat_breakdowns,
    value_occurrence_seats,
    verdict_change_outcomes,
)
from moot.analysis.solo_baseline import (
    SoloAnswer,
    solo_agreement,
    solo_agreement_by_repeat,
    solo_by_model,
    solo_verdicts,
)
from moot.trace.events import ConversationStarted

VERDICTS = ["NTA", "YTA"]


def record(cid: str, order: tuple[str, str], rounds: list[tuple[str, str]], repeat: int = 0) -> DebateRecord:
    """A two-debater record (verdicts per round in speaking order); consensus when the last round agrees."""
    verdicts = {r: dict(zip(order, pair, strict=True)) for r, pair in enumerate(rounds, 1)}
    agreed = len(set(rounds[-1])) == 1
    return DebateRecord(
        conversation=cid,
        scenario="s1",
        repeat=repeat,
        order=order,
        models={a: "scripted" for a in order},
        verdicts=verdicts,
        rounds=len(rounds),
        stop_reason="consensus on verdict" if agreed else "max rounds",
    )


def start(cid: str, order: list[str], arm: dict[str, str], repeat: int = 0) -> ConversationStarted:
    return ConversationStarted(
        run_id="r",
        conversation_id=cid,
        scenario_id="s1",
        protocol="p",
        order=order,
        repeat=repeat,
        seed=1,
        arm=arm,
        models={"a": "scripted", "b": "scripted"},
    )


# Arm 1: a=M1, b=M2. Arm 2: a=M2, b=M3. Both orders in each; repeat 1 of arm 1 repeats order a>b.
ARM_1 = {"model.a": "M1", "model.b": "M2"}
ARM_2 = {"model.a": "M2", "model.b": "M3"}
RECORDS = [
    record("c1", ("a", "b"), [("NTA", "YTA"), ("NTA", "NTA")]),  # b (M2, second) changes
    record("c2", ("b", "a"), [("YTA", "NTA"), ("YTA", "NTA")]),  # nobody changes, no consensus
    record("c3", ("a", "b"), [("NTA", "YTA"), ("YTA", "YTA")]),  # a (M2, first) changes
    record("c4", ("b", "a"), [("NTA", "YTA"), ("NTA", "NTA")]),  # a (M2, second) changes
    record("c5", ("a", "b"), [("NTA", "YTA"), ("NTA", "YTA")], repeat=1),  # nobody changes
]
TABLE = conversation_arms(
    [
        start("c1", ["a", "b"], ARM_1),
        start("c2", ["b", "a"], ARM_1),
        start("c3", ["a", "b"], ARM_2),
        start("c4", ["b", "a"], ARM_2),
        start("c5", ["a", "b"], ARM_1, repeat=1),
    ]
)


def test_change_rates_per_order_player_line_up_and_repeat_by_hand():
    seats = debate_seats(RECORDS, TABLE)
    assert [(s.agent, s.player, s.position, s.line_up) for s in seats["c4"]] == [
        ("b", "M3", 1, "M3 > M2"),
        ("a", "M2", 2, "M3 > M2"),
    ]
    found = seat_breakdowns(verdict_change_outcomes(RECORDS, seats), TABLE)
    # a>b: a is M1 (c1, c5: no change) and M2 (c3: change) -> 1 of 3; b changes in c1 only -> 1 of 3.
    assert found["by_order"]["a>b"] == {
        "a": {"rate": 1 / 3, "count": 1, "total": 3},
        "b": {"rate": 1 / 3, "count": 1, "total": 3},
    }
    assert found["by_order"]["b>a"]["a"] == {"rate": 0.5, "count": 1, "total": 2}
    # M2 sits in c1 (b, 2nd, changes), c2 (b, 1st), c3 (a, 1st, changes), c4 (a, 2nd, changes), c5 (b, 2nd).
    assert found["by_player"]["M2"] == {"rate": 0.6, "count": 3, "total": 5}
    assert found["by_player_position"]["M2"] == {
        "1": {"rate": 0.5, "count": 1, "total": 2},
        "2": {"rate": 2 / 3, "count": 2, "total": 3},
    }
    assert found["by_line_up"]["M1 > M2"]["M2"] == {"rate": 0.5, "count": 1, "total": 2}
    assert found["by_arm"]["model.a=M2, model.b=M3"] == {
        "M2": {"rate": 1.0, "count": 2, "total": 2},
        "M3": {"rate": 0.0, "count": 0, "total": 2},
    }
    # Per repeat, M2's rate: repeat 0 -> 3 of 4, repeat 1 -> 0 of 1; mean 0.375, sd |0.75 - 0| / sqrt 2.
    assert found["across_repeats"]["M2"] == {"mean": 0.375, "sd": pytest.approx(0.75 / 2**0.5), "n": 2}
    assert found["pooled"]["by_agent"] == "pooled over order, model.a, model.b, repeat"
    assert found["pooled"]["by_line_up"] == "pooled over repeat"
    rows = breakdown_rows("verdict_change", found)
    m2 = [r for r in rows if r["breakdown"] == "by_player" and r["group"] == "M2"]
    assert [(r["rate"], r["count"], r["total"], r["pooled_over"]) for r in m2] == [
        (0.6, 3, 5, "pooled over order, model.a, model.b, repeat")
    ]


def test_consensus_per_line_up_and_first_player_by_hand():
    seats = debate_seats(RECORDS, TABLE)
    found = consensus_breakdowns(RECORDS, seats, TABLE)
    # consensus in c1, c3, c4
    assert {k: v["consensus"]["count"] for k, v in found["by_line_up"].items()} == {
        "M1 > M2": 1,
        "M2 > M1": 0,
        "M2 > M3": 1,
        "M3 > M2": 1,
    }
    assert found["by_first_player"]["M1"]["consensus"] == {"rate": 0.5, "count": 1, "total": 2}
    # repeat 0: 3 of 4, repeat 1: 0 of 1
    assert found["across_repeats"] == {"mean": 0.375, "sd": pytest.approx(0.75 / 2**0.5), "n": 2}


def test_ratings_name_players_across_arms():
    players = {cid: {s.agent: s.player for s in mine} for cid, mine in debate_seats(RECORDS, TABLE).items()}
    # c1: M1's round-1 verdict prevails; c2: no consensus, a draw; c3: M3 (b) prevails; c4: M3 first prevails.
    assert elo_games_debates(RECORDS, players) == [
        ("M1", "M2", 1.0),
        ("M2", "M1", 0.5),
        ("M2", "M3", 0.0),
        ("M3", "M2", 1.0),
        ("M1", "M2", 0.5),
    ]
    assert elo_games_debates(RECORDS)[0] == ("a", "b", 1.0)  # without players: the record's (same) models -> agents


def test_solo_verdict_is_the_model_majority_and_ties_have_none():
    answers = [
        SoloAnswer("M1", "s1", 0, "NTA"),
        SoloAnswer("M1", "s1", 1, "NTA"),
        SoloAnswer("M1", "s1", 2, "YTA"),
        SoloAnswer("M2", "s1", 0, "NTA"),
        SoloAnswer("M2", "s1", 1, "YTA"),
        SoloAnswer("M3", "s1", 0, None),
    ]
    solo = solo_verdicts(answers)
    assert solo == {("M1", "s1"): "NTA", ("M2", "s1"): None, ("M3", "s1"): None}
    by_model = solo_by_model(answers, VERDICTS)
    assert by_model["M1"]["verdicts"] == {"NTA": 2, "YTA": 1, "unparsed": 0}
    # NTA share per repeat: 1, 1, 0 -> mean 2/3, sd sqrt(1/3)
    assert by_model["M1"]["share_across_repeats"]["NTA"] == {
        "mean": pytest.approx(2 / 3),
        "sd": pytest.approx((1 / 3) ** 0.5),
        "n": 3,
    }
    seats = debate_seats(RECORDS, TABLE)
    agreement = solo_agreement(RECORDS, seats, solo)
    # Only M1 has a solo verdict (NTA): M1 is a in c1, c2, c5 and says NTA in round 1 each time.
    assert [(s.conversation, ok) for s, ok in agreement.round_1] == [("c1", True), ("c2", True), ("c5", True)]
    # M2 (tie) sits in all five debates, M3 (unparsed) in two -> 7 seats without a solo verdict; no model lacks a run.
    assert agreement.without_solo_verdict == 7 and agreement.without_solo_run == []


def test_solo_agreement_per_solo_repeat_by_hand():
    # The paper's table 6: each debater's round-1 verdict against its model's verdict alone in each solo run.
    answers = [
        SoloAnswer("M1", "s1", 0, "NTA"),
        SoloAnswer("M1", "s1", 1, "YTA"),
        SoloAnswer("M1", "s1", 2, None),  # unparsed: repeat 2 compares nothing
        SoloAnswer("M2", "s1", 0, "YTA"),
    ]
    found = solo_agreement_by_repeat(RECORDS, debate_seats(RECORDS, TABLE), answers)
    # M1 is a in c1, c2, c5 (all against M2) and says NTA in round 1 each time: 3 of 3 with repeat 0 (NTA),
    # 0 of 3 with repeat 1 (YTA); mean 0.5, sd of (1, 0) = sqrt(1/2).
    assert found["M1"] == {
        "vs M2": {
            "by_repeat": {"0": {"rate": 1.0, "count": 3, "total": 3}, "1": {"rate": 0.0, "count": 0, "total": 3}},
            "across_repeats": {"mean": 0.5, "sd": pytest.approx(0.5**0.5), "n": 2},
        }
    }
    # M2 alone says YTA. Against M1 (c1, c2, c5) its round-1 verdicts are YTA, YTA, YTA -> 3 of 3; against M3:
    # NTA in c3, YTA in c4 -> 1 of 2. M3 has no solo answer, so no entry.
    assert found["M2"]["vs M1"]["by_repeat"] == {"0": {"rate": 1.0, "count": 3, "total": 3}}
    assert found["M2"]["vs M3"]["by_repeat"] == {"0": {"rate": 0.5, "count": 1, "total": 2}}
    assert "M3" not in found


def test_values_are_counted_per_line_up_and_player():
    judged = DebateRecord(**{**vars(RECORDS[3]), "values": {1: {"a": ("Care",), "b": ("Care", "Honesty")}}})
    found = value_occurrence_seats([judged], debate_seats([judged], TABLE))
    # c4 is M3 (b) > M2 (a)
    assert found == {"M3 > M2": {"M2": {"Care": 1}, "M3": {"Care": 1, "Honesty": 1}}}


def test_three_debaters_give_rates_per_first_speaker_apart_from_order():
    records = [
        DebateRecord("t1", "s1", 0, ("a", "b", "c"), {}, {1: {"a": "NTA", "b": "NTA", "c": "YTA"}, 2: {"c": "NTA"}}),
        DebateRecord("t2", "s1", 0, ("a", "c", "b"), {}, {1: {"a": "NTA", "c": "NTA", "b": "NTA"}}),
        DebateRecord("t3", "s1", 0, ("b", "a", "c"), {}, {1: {"b": "YTA", "a": "NTA", "c": "YTA"}, 2: {"a": "YTA"}}),
    ]
    records = [DebateRecord(**{**vars(r), "rounds": max(r.verdicts), "stop_reason": "consensus"}) for r in records]
    table = conversation_arms([start(r.conversation, list(r.order), {}) for r in records])
    found = seat_breakdowns(verdict_change_outcomes(records, debate_seats(records, table)), table)
    # a first in t1 (c changes) and t2 (nobody): c 1 of 2; b first in t3, where a changes.
    assert {k: {a: r["count"] for a, r in v.items()} for k, v in found["by_first_speaker"].items()} == {
        "a": {"a": 0, "b": 0, "c": 1},
        "b": {"a": 1, "b": 0, "c": 0},
    }
    assert found["pooled"]["by_first_speaker"] == "pooled over order"
