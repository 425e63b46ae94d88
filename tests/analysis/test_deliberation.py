"""Deliberation measurements on hand-built debates whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest

from moot.analysis import deliberation as m
from moot.analysis.debates import DebateRecord

VERDICTS = ["NTA", "YTA", "NAH", "ESH", "INFO"]


def debate(
    cid: str,
    verdicts: dict[int, dict[str, str | None]],
    *,
    reason: str = "",
    status: str = "completed",
    values=None,
    seen=None,
    models=None,
) -> DebateRecord:
    """A two- or three-agent record; the stop reason defaults to consensus when the last round agrees."""
    order = tuple(next(iter(verdicts.values())))
    rounds = max(verdicts)
    last = [v for v in verdicts[rounds].values()]
    if not reason:
        reason = (
            f"consensus on verdict ({last[0]})"
            if None not in last and len(set(last)) == 1
            else f"max rounds ({rounds})"
        )
    return DebateRecord(
        conversation=cid,
        scenario=f"s-{cid}",
        repeat=0,
        order=order,
        models=models or {a: "local" for a in order},
        verdicts=verdicts,
        values=values or {},
        seen=seen or {},
        rounds=rounds,
        status=status,
        stop_reason=reason,
    )


# a: round 1 disagrees, round 2 agrees on NTA (bob moved to alice's verdict)
A = debate("a", {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "NTA"}})
# b: agrees at once on YTA
B = debate("b", {1: {"alice": "YTA", "bob": "YTA"}})
# c: never agrees in 3 rounds; alice flips to ESH then back; bob unparsed in round 3
C = debate(
    "c", {1: {"alice": "NAH", "bob": "YTA"}, 2: {"alice": "ESH", "bob": "YTA"}, 3: {"alice": "NAH", "bob": None}}
)
# d: failed conversation, ignored everywhere
D = debate("d", {1: {"alice": "NTA", "bob": "NTA"}}, status="failed", reason="model error")


def test_final_verdict_is_the_strict_majority_of_the_last_round():
    assert A.final_verdict == "NTA"
    assert C.final_verdict is None  # NAH vs unparsed: 1 of 2 is no strict majority
    three = debate("t", {1: {"x": "NTA", "y": "NTA", "z": "YTA"}})
    assert three.final_verdict == "NTA"  # 2 of 3
    split = debate("u", {1: {"x": "NTA", "y": "YTA", "z": None}})
    assert split.final_verdict is None


def test_consensus_rates_and_rounds_to_consensus():
    result = m.consensus_debates([A, B, C, D])
    # 3 completed two-agent debates, 2 reached consensus (in rounds 2 and 1)
    assert result["conversations"] == 3
    assert result["consensus"] == {"rate": pytest.approx(2 / 3), "count": 2, "total": 3}
    assert result["no_consensus"]["count"] == 1
    assert result["rounds_to_consensus"] == {"1": 1, "2": 1}
    assert result["mean_rounds_to_consensus"] == pytest.approx(1.5)
    assert result["by_first_speaker"]["alice"]["conversations"] == 3


def test_change_of_verdict_rate_per_agent_and_position():
    result = m.verdict_changes_debates([A, B, C, D])
    # alice: A no, B no (one round), C yes (NAH -> ESH) -> 1/3; bob: A yes, B no, C no (YTA, YTA, unparsed) -> 1/3
    assert result["by_agent"]["alice"] == {"rate": pytest.approx(1 / 3), "count": 1, "total": 3}
    assert result["by_agent"]["bob"]["count"] == 1
    assert result["by_position"]["1"]["total"] == 3 and result["by_position"]["2"]["total"] == 3


def test_verdict_distributions_round_one_last_and_final():
    result = m.verdict_distributions_debates([A, B, C, D], VERDICTS)
    assert result["round_1"]["alice"] == {"NTA": 1, "YTA": 1, "NAH": 1, "ESH": 0, "INFO": 0, "unparsed": 0}
    assert result["last_round"]["bob"]["unparsed"] == 1
    assert result["final"] == {"NTA": 1, "YTA": 1, "NAH": 0, "ESH": 0, "INFO": 0, "none": 1}


def test_value_similarity_agreement_vs_disagreement():
    values = {
        1: {"alice": ("Empathy and understanding", "Honest communication"), "bob": ("Honest communication",)},
        2: {"alice": ("Empathy and understanding",), "bob": ("Empathy and understanding", "Personal autonomy")},
    }
    record = debate("v", {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "NTA"}}, values=values)
    cluster = {"Empathy and understanding": "care", "Honest communication": "honesty", "Personal autonomy": "care"}
    result = m.value_similarity_debates([record], cluster, n_boot=50)
    # round 1 (disagree): |{H}| / |{E, H}| = 1/2; round 2 (agree): |{E}| / |{E, P}| = 1/2
    assert result["jaccard"]["disagreement"]["mean"] == pytest.approx(0.5)
    assert result["jaccard"]["agreement"]["mean"] == pytest.approx(0.5)
    # cluster-aware, round 2: E matches exactly (1); P (care) pairs with nothing left on alice's side
    # -> 1 / (1 + 2 - 1) = 0.5
    assert result["cluster_jaccard"]["agreement"]["mean"] == pytest.approx(0.5)
    # change for a consensus after disagreement: 0.5 - 0.5 = 0
    assert result["jaccard"]["change_first_to_last"]["consensus_after_disagreement"]["mean"] == pytest.approx(0.0)
    assert result["jaccard"]["change_first_to_last"]["never_consensus"]["n"] == 0


def test_inherited_values_after_a_change_of_verdict():
    values = {
        1: {"alice": ("Empathy and understanding",), "bob": ("Honest communication", "Personal autonomy")},
        2: {"alice": ("Honest communication", "Child welfare"), "bob": ("Honest communication",)},
    }
    record = debate("i", {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "YTA", "bob": "YTA"}}, values=values)
    result = m.inherited_values_debates([record])
    # alice changed NTA -> YTA; new values not in her round 1: {Honest communication, Child welfare};
    # of these, bob used Honest communication in round 1 -> inherited
    assert result["alice"]["verdict_changes"] == 1
    assert result["alice"]["with_inherited_values"]["count"] == 1
    assert result["alice"]["inherited"] == {"Honest communication": 1}
    assert "bob" not in result  # bob never changed


def test_elo_games_and_ranked_games():
    games = m.elo_games_debates([A, B, C, D])
    # A: alice's round-1 NTA became the consensus, bob's YTA did not -> alice wins.
    # B: both round-1 verdicts were the consensus -> draw. C: no consensus -> draw.
    assert games == [("alice", "bob", 1.0), ("alice", "bob", 0.5), ("alice", "bob", 0.5)]
    ranked = m.ranked_games_debates([A, B, C])
    assert ranked == [[("alice", 0), ("bob", 1)], [("alice", 0), ("bob", 0)]]


def test_players_are_models_when_the_models_differ():
    record = debate(
        "p",
        {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "NTA"}},
        models={"alice": "openai:x", "bob": "local"},
    )
    assert m.elo_games_debates([record]) == [("openai:x", "local", 1.0)]


def test_influence_moves_follow_what_each_agent_was_shown():
    verdicts = {1: {"alice": "NTA", "bob": "YTA", "carol": "ESH"}, 2: {"alice": "NTA", "bob": "ESH", "carol": "NTA"}}
    # round-robin: in round 2 bob saw round 1 (alice, carol) and alice's round-2 message;
    # carol saw everything before her
    seen = {
        2: {
            "alice": ("r1:alice", "r1:bob", "r1:carol"),
            "bob": ("r1:alice", "r1:bob", "r1:carol", "r2:alice"),
            "carol": ("r1:alice", "r1:bob", "r1:carol", "r2:alice", "r2:bob"),
        }
    }
    record = debate("f", verdicts, seen=seen)
    # bob moved to ESH: carol's latest message bob saw (round 1) said ESH -> (carol, bob).
    # carol moved to NTA: alice's latest seen (round 2) said NTA -> (alice, carol); bob's latest (round 2) said ESH.
    assert sorted(m.influence_moves_debates([record])) == [("alice", "carol"), ("carol", "bob")]


def test_rate_of_nothing_is_none():
    assert m.Rate(0, 0).value is None
    assert not math.isnan(m.Rate(1, 2).value)


E, H, P, F = "Empathy and understanding", "Honest communication", "Personal autonomy", "Family bonds and cohesion"


def _similarity_debates() -> list[DebateRecord]:
    """Three debates whose round Jaccard similarities are worked out by hand (in the comments)."""
    # x: disagree then agree. Round 1: {E,H} vs {H,P,F} -> 1/4; round 2: {E} vs {E} -> 1.
    x = debate(
        "x",
        {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "NTA"}},
        values={1: {"alice": (E, H), "bob": (H, P, F)}, 2: {"alice": (E,), "bob": (E,)}},
    )
    # y: disagree then agree. Round 1: {E} vs {H} -> 0; round 2: {E,H,P} vs {E,H} -> 2/3.
    y = debate(
        "y",
        {1: {"alice": "YTA", "bob": "NAH"}, 2: {"alice": "NAH", "bob": "NAH"}},
        values={1: {"alice": (E,), "bob": (H,)}, 2: {"alice": (E, H, P), "bob": (E, H)}},
    )
    # z: never agrees. Round 1: {E} vs {E,H} -> 1/2; round 2: {E,H} vs {E,P} -> 1/3.
    z = debate(
        "z",
        {1: {"alice": "ESH", "bob": "NTA"}, 2: {"alice": "ESH", "bob": "NTA"}},
        values={1: {"alice": (E,), "bob": (E, H)}, 2: {"alice": (E, H), "bob": (E, P)}},
    )
    return [x, y, z]


def test_similarity_in_agreement_vs_disagreement_is_tested_by_mann_whitney():
    result = m.value_similarity_debates(_similarity_debates(), {}, n_boot=50)["jaccard"]
    # agreement: [1, 2/3]; disagreement: [1/4, 0, 1/2, 1/3]. Every agreement value beats every disagreement
    # value, so U = 2 * 4 = 8, the largest U there is; with no ties the exact two-sided p is
    # 2 * P(U >= 8) = 2 / C(6, 2) = 2/15.
    test = result["agreement_vs_disagreement"]
    assert test == {"u": 8.0, "p": pytest.approx(2 / 15), "n_agreement": 2, "n_disagreement": 4}
    assert result["agreement"]["mean"] == pytest.approx(5 / 6)
    assert result["disagreement"]["mean"] == pytest.approx((1 / 4 + 0 + 1 / 2 + 1 / 3) / 4)


def test_mann_whitney_without_one_sample_gives_no_number():
    assert m.mann_whitney([0.5], []) == {"u": None, "p": None, "n_agreement": 1, "n_disagreement": 0}


def test_round_1_and_last_round_similarity_levels_and_their_percentage_change():
    levels = m.value_similarity_debates(_similarity_debates(), {}, n_boot=50)["jaccard"]["levels"]
    # consensus after disagreement (x, y): round 1 mean (1/4 + 0) / 2 = 1/8, last (1 + 2/3) / 2 = 5/6;
    # change 100 * (5/6 - 1/8) / (1/8) = 100 * 17/3 = 566.67%.
    reached = levels["consensus_after_disagreement"]
    assert reached["round_1"]["mean"] == pytest.approx(1 / 8) and reached["round_1"]["conversations"] == 2
    assert reached["last_round"]["mean"] == pytest.approx(5 / 6)
    assert reached["percent_change"] == pytest.approx(100 * 17 / 3)
    # never consensus (z): 1/2 -> 1/3, a change of -33.3%.
    never = levels["never_consensus"]
    assert never["round_1"]["mean"] == pytest.approx(1 / 2) and never["last_round"]["mean"] == pytest.approx(1 / 3)
    assert never["percent_change"] == pytest.approx(-100 / 3)


def test_a_zero_round_1_level_has_no_percentage_change():
    _, y, _ = _similarity_debates()
    levels = m.value_similarity_debates([y], {}, n_boot=20)["jaccard"]["levels"]
    assert levels["consensus_after_disagreement"]["round_1"]["mean"] == 0.0
    assert levels["consensus_after_disagreement"]["percent_change"] is None
    assert levels["never_consensus"]["percent_change"] is None and levels["never_consensus"]["round_1"]["n"] == 0


def test_change_of_verdict_within_debates_without_consensus():
    # E2: no consensus in 2 rounds and nobody moves. With C (alice moved NAH -> ESH), A and B reach consensus
    # and are left out: alice changed in 1 of 2 no-consensus debates, bob in 0 of 2.
    e2 = debate("e2", {1: {"alice": "NTA", "bob": "YTA"}, 2: {"alice": "NTA", "bob": "YTA"}})
    within = m.no_consensus_debates([A, B, C, D, e2])
    assert [r.conversation for r in within] == ["c", "e2"]
    rates = m.verdict_changes_debates(within)["by_agent"]
    assert rates["alice"] == {"rate": 0.5, "count": 1, "total": 2}
    assert rates["bob"] == {"rate": 0.0, "count": 0, "total": 2}
