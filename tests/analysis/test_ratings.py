"""Elo, TrueSkill, win rates and the influence graph on outcomes worked out by hand."""

from __future__ import annotations

import math

import pytest
import trueskill

from moot.analysis.ratings import (
    elo_matches,
    elo_matches_shuffled,
    influence_graph,
    plot_influence_graph,
    trueskill_ranked_games,
    trueskill_team_matches,
    trueskill_win_rates,
)


def test_elo_three_matches_by_hand():
    # E_a = 1 / (1 + 10 ** ((R_b - R_a) / 400)); each match moves A by 32 (s - E_a), B by the opposite.
    # 1. A beats B, both 1500: E = 0.5, change 16 -> A 1516, B 1484.
    # 2. A draws C (1500): E_A = 1 / (1 + 10 ** (-16 / 400)) = 1 / (1 + 0.9120108394) = 0.5230095873,
    #    change 32 (0.5 - 0.5230095873) = -0.7363067935 -> A 1515.2636932065, C 1500.7363067935.
    # 3. C loses to B (1484): E_C = 1 / (1 + 10 ** ((1484 - 1500.7363067935) / 400)) = 0.5240668692,
    #    change 32 (0 - 0.5240668692) = -16.7701398145 -> C 1483.9661669789, B 1500.7701398146.
    ratings = elo_matches([("A", "B", 1), ("A", "C", 0.5), ("C", "B", 0)])
    assert ratings["A"] == pytest.approx(1515.263693206478007, abs=1e-9)
    assert ratings["B"] == pytest.approx(1500.770139814642730, abs=1e-9)
    assert ratings["C"] == pytest.approx(1483.966166978879263, abs=1e-9)


def test_elo_rejects_bad_scores_and_self_matches():
    with pytest.raises(ValueError, match="1, 0.5 or 0"):
        elo_matches([("A", "B", 2)])
    with pytest.raises(ValueError, match="two different players"):
        elo_matches([("A", "A", 1)])


def test_elo_shuffled_averages_over_orders():
    matches = [("A", "B", 1), ("A", "C", 0.5), ("C", "B", 0)]
    spread = elo_matches_shuffled(matches, n_orders=50, seed=3)
    # Elo is zero-sum: every order gives ratings summing to 3 x 1500, so the means do too.
    assert sum(s.mean for s in spread.values()) == pytest.approx(4500.0, abs=1e-9)
    # Different orders give different ratings, so the spread is positive.
    assert all(s.sd > 0 for s in spread.values())
    # A single match has one order: no spread, and the hand result 1516 / 1484.
    one = elo_matches_shuffled([("A", "B", 1)], n_orders=5)
    assert one["A"].mean == pytest.approx(1516.0) and one["A"].sd == pytest.approx(0.0)
    assert one["B"].mean == pytest.approx(1484.0)
    assert elo_matches_shuffled(matches, n_orders=20, seed=1) == elo_matches_shuffled(matches, n_orders=20, seed=1)


def test_trueskill_one_vs_one_from_prior_matches_package_docs():
    # trueskill documents rate_1vs1(Rating(), Rating()) as (29.396, 7.171) and (20.604, 7.171).
    ratings = trueskill_ranked_games([[("winner", 0), ("loser", 1)]])
    assert ratings["winner"].mu == pytest.approx(29.396, abs=1e-3)
    assert ratings["winner"].sigma == pytest.approx(7.171, abs=1e-3)
    assert ratings["loser"].mu == pytest.approx(20.604, abs=1e-3)
    assert ratings["loser"].sigma == pytest.approx(7.171, abs=1e-3)


def test_trueskill_draw_from_prior_matches_package_docs():
    # trueskill documents a drawn 1 vs 1 from the prior as (25.000, 6.458) for both.
    ratings = trueskill_ranked_games([[("a", 0), ("b", 0)]])
    for skill in ratings.values():
        assert skill.mu == pytest.approx(25.0, abs=1e-3)
        assert skill.sigma == pytest.approx(6.458, abs=1e-3)


def test_trueskill_ranked_games_sequence_equals_package_calls():
    games = [[("a", 0), ("b", 1), ("c", 1)], [("c", 0), ("a", 1)]]
    ratings = trueskill_ranked_games(games)
    env = trueskill.TrueSkill(draw_probability=0.10)
    (a,), (b,), (c,) = env.rate([(env.create_rating(),)] * 3, ranks=[0, 1, 1])
    (c,), (a,) = env.rate([(c,), (a,)], ranks=[0, 1])
    for name, expected in {"a": a, "b": b, "c": c}.items():
        assert ratings[name].mu == pytest.approx(expected.mu, abs=1e-12)
        assert ratings[name].sigma == pytest.approx(expected.sigma, abs=1e-12)


def test_trueskill_team_matches_removes_items_on_both_sides():
    # "honesty" is on both sides of the first match: it is removed from both, so the match is
    # {care, fairness} beating {liberty}; the second match is a draw of {liberty} and {care}.
    matches = [({"care", "fairness", "honesty"}, {"liberty", "honesty"}), ({"liberty"}, {"care"}, True)]
    ratings = trueskill_team_matches(matches)
    env = trueskill.TrueSkill(mu=25, sigma=25 / 3, draw_probability=0.10)
    prior = env.create_rating()
    winners, losers = env.rate([{"care": prior, "fairness": prior}, {"liberty": prior}], ranks=[0, 1])
    drawn_liberty, drawn_care = env.rate([{"liberty": losers["liberty"]}, {"care": winners["care"]}], ranks=[0, 0])
    expected = {
        "care": drawn_care["care"],
        "fairness": winners["fairness"],
        "liberty": drawn_liberty["liberty"],
        "honesty": prior,
    }
    assert set(ratings) == set(expected)
    for name, rating in expected.items():
        assert ratings[name].mu == pytest.approx(rating.mu, abs=1e-12), name
        assert ratings[name].sigma == pytest.approx(rating.sigma, abs=1e-12), name
    assert ratings["honesty"] == (25.0, 25 / 3)
    assert ratings["fairness"].mu > 25.0 > drawn_liberty["liberty"].mu


def test_trueskill_team_match_with_identical_teams_is_skipped():
    ratings = trueskill_team_matches([({"a", "b"}, {"a", "b"})])
    assert ratings == {"a": (25.0, 25 / 3), "b": (25.0, 25 / 3)}
    assert trueskill_team_matches([({"a", "b"}, {"a", "b"})], keep_shared=True) == ratings


def test_trueskill_team_matches_can_keep_an_item_on_both_sides():
    # With keep_shared, {care, honesty} beat {liberty, honesty} as a four-player match in which honesty's two
    # copies move by opposite amounts: care and liberty move as in the library's own four-player match, and
    # honesty keeps mu 25 with the copies' smaller sigma.
    ratings = trueskill_team_matches([({"care", "honesty"}, {"liberty", "honesty"})], keep_shared=True)
    env = trueskill.TrueSkill(mu=25, sigma=25 / 3, draw_probability=0.10)
    prior = env.create_rating()
    won, lost = env.rate([{"care": prior, "honesty+": prior}, {"liberty": prior, "honesty-": prior}], ranks=[0, 1])
    assert ratings["care"].mu == pytest.approx(won["care"].mu, abs=1e-12)
    assert ratings["liberty"].mu == pytest.approx(lost["liberty"].mu, abs=1e-12)
    assert ratings["honesty"].mu == pytest.approx(25.0, abs=1e-12)
    assert ratings["honesty"].sigma == pytest.approx(won["honesty+"].sigma, abs=1e-12)
    assert ratings["honesty"].sigma < 25 / 3


def test_trueskill_win_rates_by_hand():
    # mu 30 vs 20, sigma 0, beta 25/6: z = 10 / sqrt(2 (25/6)^2) = 10 / ((25/6) sqrt 2);
    # Phi(z) = (1 + erf(z / sqrt 2)) / 2 and z / sqrt 2 = 10 / (25/3) = 1.2 exactly.
    rates = trueskill_win_rates({"a": (30.0, 0.0), "b": (20.0, 0.0), "c": (20.0, 0.0)})
    assert rates["a"]["b"] == pytest.approx((1 + math.erf(1.2)) / 2, abs=1e-12)
    assert rates["a"]["b"] == pytest.approx(0.9551569891148177, abs=1e-12)
    assert rates["b"]["a"] == pytest.approx(1 - rates["a"]["b"], abs=1e-12)
    assert rates["b"]["c"] == 0.5
    assert "a" not in rates["a"]
    # Uncertainty pulls the probability towards 1/2. With sigma_a = sigma_b = 25/6, AdAEM's denominator
    # (App. B.6) is sqrt(2 ((25/6)^2 + 2 (25/6)^2)) = (25/6) sqrt 6, z = 10 / ((25/6) sqrt 6) = 2.4 / sqrt 6
    # = 0.97980, Phi(z) = 0.83641; TrueSkill's sqrt(4 (25/6)^2) = 25/3 gives z = 1.2, Phi(1.2) = 0.8849303297782918.
    uncertain = trueskill_win_rates({"a": (30.0, 25 / 6), "b": (20.0, 25 / 6)})
    assert uncertain["a"]["b"] == pytest.approx(0.8364065611048472, abs=1e-12)
    standard = trueskill_win_rates({"a": (30.0, 25 / 6), "b": (20.0, 25 / 6)}, formula="trueskill")
    assert standard["a"]["b"] == pytest.approx(0.8849303297782918, abs=1e-12)
    with pytest.raises(ValueError, match="unknown win-rate formula"):
        trueskill_win_rates({"a": (30.0, 0.0)}, formula="elo")


def test_influence_graph_counts_moves():
    # bob moved to alice's verdict twice, alice to bob's once, alice to carol's once.
    graph = influence_graph([("alice", "bob"), ("bob", "alice"), ("alice", "bob"), ("carol", "alice")])
    assert sorted(graph.nodes) == ["alice", "bob", "carol"]
    assert {(a, b): d["weight"] for a, b, d in graph.edges(data=True)} == {
        ("alice", "bob"): 2,
        ("bob", "alice"): 1,
        ("carol", "alice"): 1,
    }
    with pytest.raises(ValueError, match="own verdict"):
        influence_graph([("alice", "alice")])


def test_plot_influence_graph_writes_png(tmp_path):
    graph = influence_graph([("alice", "bob"), ("bob", "alice"), ("alice", "bob"), ("carol", "alice")])
    out = plot_influence_graph(graph, tmp_path / "influence.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000
