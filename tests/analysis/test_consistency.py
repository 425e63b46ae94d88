"""Measures of the consistency study on cases worked out by hand."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from moot.analysis.consistency import (
    compression_by_value_arguments,
    compression_ratio_texts,
    correlation_preferences,
    group_means_preferences,
    mean_by_value_arguments,
    mean_over_samples,
    mean_pairwise_spearman_preferences,
    position_preferences_answers,
    same_decision_share,
    trueskill_value_choices,
)
from moot.analysis.consistency_answers import Argument, LongAnswer
from moot.analysis.consistency_attributes import attributes_per_k

MU, SIGMA = 25.0, 25.0 / 3
BETA, TAU, DRAW = SIGMA / 2, SIGMA / 100, 0.10


def two_team_update(
    winners: dict[str, tuple[float, float]], losers: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """TrueSkill's closed form for one match between two teams (Herbrich et al. 2007), written out by hand.

    Each sigma first grows by the dynamics tau: s2 = sigma^2 + tau^2. Team performances are
    sums, so c^2 = sum over every player of (beta^2 + s2). The draw margin is
    eps = Phi^-1((p + 1) / 2) * sqrt(players) * beta. With t = (sum mu_won - sum mu_lost) / c and
    e = eps / c: v = pdf(t - e) / cdf(t - e), w = v (v + t - e). Then each winner's mu gains
    s2 / c * v and each loser's loses as much, and every s2 shrinks by the factor 1 - s2 / c^2 * w.
    """
    normal = NormalDist()
    players = {**winners, **losers}
    s2 = {p: sigma**2 + TAU**2 for p, (_, sigma) in players.items()}
    c = math.sqrt(sum(BETA**2 + s2[p] for p in players))
    eps = normal.inv_cdf((DRAW + 1) / 2) * math.sqrt(len(players)) * BETA
    t = (sum(mu for mu, _ in winners.values()) - sum(mu for mu, _ in losers.values())) / c
    e = eps / c
    v = normal.pdf(t - e) / normal.cdf(t - e)
    w = v * (v + t - e)
    out = {}
    for p, (mu, _) in players.items():
        sign = 1 if p in winners else -1
        out[p] = (mu + sign * s2[p] / c * v, math.sqrt(s2[p] * (1 - s2[p] / c**2 * w)))
    return out


def test_one_choice_is_one_team_match_from_the_prior():
    """Honesty and Fairness (chosen) against Loyalty, all at (25, 25/3).

    By hand: s2 = 69.4444 + 0.00694 = 69.4514; c = sqrt(3 * 17.3611 + 3 * 69.4514) = 16.1381;
    eps = Phi^-1(0.55) * sqrt(3) * beta = 0.12566 * 1.7321 * 4.1667 = 0.9069;
    t = 25 / 16.1381 = 1.5491, e = 0.0562, v = 0.14040, w = 0.22933.
    Winners: 25 + 69.4514 / 16.1381 * 0.14040 = 25.6042; loser: 24.3958; sigma: 8.0749 for all.
    """
    skills = trueskill_value_choices([(["Honesty", "Fairness"], ["Loyalty"])])
    assert skills["Honesty"].mu == pytest.approx(25.60423, abs=1e-4)
    assert skills["Fairness"].mu == pytest.approx(25.60423, abs=1e-4)
    assert skills["Loyalty"].mu == pytest.approx(24.39577, abs=1e-4)
    assert skills["Loyalty"].sigma == pytest.approx(8.07491, abs=1e-4)


def test_choices_update_dilemma_by_dilemma_and_shared_values_sit_out():
    """Three dilemmas in order; the closed form is applied to each with the ratings the earlier ones left.

    1. {Honesty, Fairness} beat {Loyalty}.
    2. {Loyalty} beats {Honesty}: Fairness does not play.
    3. {Safety, Honesty} beat {Honesty, Freedom}: with `keep_shared=False` (the `sit_out` option)
       Honesty is on both sides, so it sits out and the match is {Safety} against {Freedom}.
    """
    skills = trueskill_value_choices(
        [
            (["Honesty", "Fairness"], ["Loyalty"]),
            (["Loyalty"], ["Honesty"]),
            (["Safety", "Honesty"], ["Honesty", "Freedom"]),
        ],
        keep_shared=False,
    )
    prior = (MU, SIGMA)
    r = two_team_update({"Honesty": prior, "Fairness": prior}, {"Loyalty": prior})
    r.update(two_team_update({"Loyalty": r["Loyalty"]}, {"Honesty": r["Honesty"]}))
    r.update(two_team_update({"Safety": prior}, {"Freedom": prior}))
    assert set(skills) == {"Honesty", "Fairness", "Loyalty", "Safety", "Freedom"}
    for value, (mu, sigma) in r.items():
        assert skills[value].mu == pytest.approx(mu, abs=1e-6), value
        assert skills[value].sigma == pytest.approx(sigma, abs=1e-6), value
    # Loyalty won its second match against Honesty's higher rating
    assert skills["Loyalty"].mu > MU > skills["Honesty"].mu
    assert skills["Fairness"].mu == pytest.approx(r["Fairness"][0])


def test_a_value_of_both_actions_plays_on_both_sides_by_default():
    """{Safety, Honesty} beat {Honesty, Freedom}, all at the prior (the paper keeps Honesty in both teams).

    Four players, so c^2 = 4 (beta^2 + s2) and the draw margin grows with sqrt(4): the closed form
    (`two_team_update`) with Honesty's two copies as players "Honesty+" (won) and "Honesty-" (lost).
    The copies move by +s2/c*v and -s2/c*v and shrink alike, so Honesty's mean rating keeps mu = 25
    and takes the copies' sigma. By hand: s2 = 69.4514, c = sqrt(4 * 86.8125) = 18.6346,
    eps = 0.12566 * 2 * 4.1667 = 1.0472, t = 0, e = 0.05620, v = pdf(-0.0562) / cdf(-0.0562) = 0.8340:
    Safety 25 + 69.4514 / 18.6346 * 0.8340 = 28.108, Freedom 21.892. Sitting out, the match has two players
    (c = 13.1767, same e and v): Safety 25 + 69.4514 / 13.1767 * 0.8340 = 29.396; keeping Honesty makes the
    match less telling for Safety.
    """
    skills = trueskill_value_choices([(["Safety", "Honesty"], ["Honesty", "Freedom"])])
    prior = (MU, SIGMA)
    r = two_team_update({"Safety": prior, "Honesty+": prior}, {"Honesty-": prior, "Freedom": prior})
    assert skills["Safety"].mu == pytest.approx(r["Safety"][0], abs=1e-6)
    assert skills["Safety"].mu == pytest.approx(28.108, abs=1e-3)
    assert skills["Freedom"].mu == pytest.approx(21.892, abs=1e-3)
    assert skills["Honesty"].mu == pytest.approx(MU, abs=1e-9)
    assert skills["Honesty"].sigma == pytest.approx(r["Honesty+"][1], abs=1e-6) and skills["Honesty"].sigma < SIGMA
    sat_out = trueskill_value_choices([(["Safety", "Honesty"], ["Honesty", "Freedom"])], keep_shared=False)
    assert sat_out["Honesty"] == (MU, SIGMA)
    assert sat_out["Safety"].mu == pytest.approx(29.396, abs=1e-3)


def test_position_preferences_by_hand():
    """Two answers.

    Answer 1 (4 arguments): [Honesty], [Loyalty, Honesty], [], [Fairness]:
      Honesty first at 1 -> 1/4; Loyalty at 2 -> 2/4; Fairness at 4 -> 4/4.
    Answer 2 (2 arguments): [Fairness], [Honesty]: Fairness 1/2, Honesty 2/2.
    Means: Honesty (1/4 + 1) / 2 = 0.625, Loyalty 0.5 (one answer), Fairness (1 + 1/2) / 2 = 0.75.
    Negated: Honesty -0.625, Loyalty -0.5, Fairness -0.75.
    """
    prefs = position_preferences_answers(
        [
            [["Honesty"], ["Loyalty", "Honesty"], [], ["Fairness"]],
            [["Fairness"], ["Honesty"]],
            [],
        ]
    )
    assert prefs == pytest.approx({"Honesty": -0.625, "Loyalty": -0.5, "Fairness": -0.75})


def test_compression_ratio_known_sizes():
    """gzip of one byte is 21 bytes: a 10-byte header, a fixed-Huffman block of 3 bits of header,
    8 bits for the literal 'a' and 7 for end-of-block (18 bits: 3 bytes), and an 8-byte trailer
    (CRC-32 and size). So 'a' has ratio 1/21. 'a', 'a' joined by a newline is 3 literals:
    3 + 24 + 7 = 34 bits, 5 bytes, 23 in all: ratio 3/23. Nothing compresses to the bare 20 bytes
    of header, empty block and trailer: ratio 0.
    """
    assert compression_ratio_texts(["a"]) == pytest.approx(1 / 21)
    assert compression_ratio_texts(["a", "a"]) == pytest.approx(3 / 23)
    assert compression_ratio_texts([]) == 0


def test_repeated_arguments_compress_more_than_varied_ones():
    same = ["Honesty builds trust between colleagues."] * 6
    varied = [
        "Honesty builds trust.",
        "A lie would hurt her later.",
        "My manager relies on accurate reports.",
        "Rules protect the whole team.",
        "I would want to be told.",
        "Silence makes me complicit.",
    ]
    assert compression_ratio_texts(same) > 2 * compression_ratio_texts(varied)
    by_value = compression_by_value_arguments(
        [(["Honesty"], t) for t in same] + [(["Duty"], t) for t in varied] + [(["Tradition"], "only once")]
    )
    assert set(by_value) == {"Honesty", "Duty"}  # a value needs two arguments
    assert by_value["Honesty"] > by_value["Duty"]


def test_correlations_by_hand():
    """x = (1, 2, 3, 4), y = (2, 4, 5, 4) over a, b, c, d.

    Pearson: mean x 2.5, mean y 3.75; deviations x (-1.5, -0.5, 0.5, 1.5), y (-1.75, 0.25, 1.25, 0.25);
    sum xy = 2.625 - 0.125 + 0.625 + 0.375 = 3.5; sum x^2 = 5; sum y^2 = 3.0625 + 0.0625 + 1.5625 + 0.0625 = 4.75;
    r = 3.5 / sqrt(23.75) = 0.71818.
    Spearman: ranks x (1, 2, 3, 4), y (1, 2.5, 4, 2.5); Pearson of the ranks: deviations y (-1.5, 0, 1.5, 0),
    sum = 2.25 + 0 + 0.75 + 0 = 3, sum y^2 = 4.5; rho = 3 / sqrt(5 * 4.5) = 0.63246.
    """
    first = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "only_first": 9.0}
    second = {"a": 2.0, "b": 4.0, "c": 5.0, "d": 4.0}
    result = correlation_preferences(first, second)
    assert result.n == 4
    assert result.pearson == pytest.approx(3.5 / math.sqrt(23.75))
    assert result.spearman == pytest.approx(3 / math.sqrt(22.5))
    assert correlation_preferences({"a": 1, "b": 2}, {"a": 1, "b": 2}).spearman is None  # too few shared values
    assert correlation_preferences({"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 2, "c": 3}).pearson is None  # constant


def test_mean_pairwise_spearman():
    """Samples s1 = (1, 2, 3), s2 = (1, 2, 3), s3 = (3, 2, 1) over a, b, c: pairs rho 1, -1, -1; mean -1/3."""
    s1 = {"a": 1, "b": 2, "c": 3}
    s3 = {"a": 3, "b": 2, "c": 1}
    assert mean_pairwise_spearman_preferences([s1, dict(s1), s3]) == pytest.approx(-1 / 3)
    assert mean_pairwise_spearman_preferences([s1]) is None


def test_group_and_value_means():
    groups = {"Honesty": "honesty", "Trust": "honesty", "Safety": "security"}
    assert group_means_preferences(
        {"Honesty": -0.2, "Trust": -0.6, "Safety": -0.5, "Zeal": -1.0}, groups
    ) == pytest.approx({"honesty": -0.4, "security": -0.5, "other": -1.0})
    assert mean_by_value_arguments([(["Honesty", "Trust"], 2), (["Honesty"], 1), (["Honesty"], 3)]) == {
        "Honesty": 2.0,
        "Trust": 2.0,
    }


def test_same_decision_share_by_hand():
    """Implicit run: d1 action 1, d2 action 2, d3 action 1, d4 action 1; explicit run: d1 action 1, d2 action 1,
    d3 action 1, d5 action 2. In both: d1, d2, d3; the same decision on d1 and d3, so 2 of 3."""
    implicit = {("d1", 0, "c"): "Action 1", ("d2", 0, "c"): "Action 2", ("d3", 0, "c"): "Action 1"}
    implicit[("d4", 0, "c")] = "Action 1"
    explicit = {("d1", 0, "c"): "Action 1", ("d2", 0, "c"): "Action 1", ("d3", 0, "c"): "Action 1"}
    explicit[("d5", 0, "c")] = "Action 2"
    found = same_decision_share(implicit, explicit)
    assert found.as_dict() == {"dilemmas": 3, "same": 2, "share": pytest.approx(2 / 3)}
    assert same_decision_share(implicit, {}).as_dict() == {"dilemmas": 0, "same": 0, "share": None}


def test_attributes_are_taken_per_k_and_per_sample_then_averaged():
    """k=5, two samples; ratings by hand.

    Sample 0: one answer, arguments [Care] rated 4 and [Care, Duty] rated 2: Care (4 + 2) / 2 = 3, Duty 2.
    Sample 1: one answer, argument [Care] rated 5: Care 5.
    k=5: Care (3 + 5) / 2 = 4 (pooled over samples it would be 11 / 3), Duty 2.
    Diversity: only sample 0 has two arguments of Care, so k=5's Care is that sample's compression ratio.
    k=10 has one answer whose argument was not rated: no specificity, and no diversity from one argument.
    """
    answers = [
        LongAnswer("c1", "d1", 0, "arguer_5", "5", [Argument("Care first.", ("Care",), None, 4)]),
        LongAnswer("c1", "d1", 0, "arguer_5", "5", [Argument("Care and duty.", ("Care", "Duty"), None, 2)]),
        LongAnswer("c2", "d1", 1, "arguer_5", "5", [Argument("Care again.", ("Care",), None, 5)]),
        LongAnswer("c2", "d1", 1, "arguer_10", "10", [Argument("Duty.", ("Duty",), 1, None)]),
    ]
    diversity, specificity = attributes_per_k(answers, ["5", "10"], "judge")
    assert specificity["k=5"] == {
        "by_sample": {"0": {"Care": 3.0, "Duty": 2.0}, "1": {"Care": 5.0}},
        "mean": {"Care": 4.0, "Duty": 2.0},
    }
    assert specificity["k=10"] == {"by_sample": {"1": {}}, "mean": {}}
    ratio = compression_ratio_texts(["Care first.", "Care and duty."])
    assert diversity["k=5"] == {"by_sample": {"0": {"Care": ratio}, "1": {}}, "mean": {"Care": ratio}}
    _, depths = attributes_per_k(answers, ["5", "10"], "claim_tree")
    assert depths["k=10"]["mean"] == {"Duty": 1.0} and depths["k=5"]["mean"] == {}


def test_mean_over_samples_by_hand():
    """A: (2 + 4) / 2 = 3; B is in one sample only: 4."""
    assert mean_over_samples([{"A": 2.0, "B": 4.0}, {"A": 4.0}]) == {"A": 3.0, "B": 4.0}
