"""Each term of the informativeness score and the UCB bandit, on cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from moot.judges.explorer_scoring import (
    disentanglement_penalty_values,
    informativeness_answers,
    jaccard_distance_sets,
    opinion_diversity_points,
    ucb_scores_arms,
    ucb_select_arms,
    value_conformity_points,
    value_diversity_members,
)


def test_jaccard_distance():
    # {a, b} vs {b, c}: intersection {b} (1), union {a, b, c} (3): 1 - 1/3 = 2/3.
    assert jaccard_distance_sets({"a", "b"}, {"b", "c"}) == pytest.approx(2 / 3)
    assert jaccard_distance_sets(set(), set()) == 0.0
    assert jaccard_distance_sets({"a"}, set()) == 1.0


def test_value_conformity_counts_distinct_values_over_the_list():
    # Points tagged {Security}, {Security, Power}, {}: distinct {Security, Power} = 2 of 10 values.
    assert value_conformity_points([{"Security"}, {"Security", "Power"}, set()], 10) == pytest.approx(0.2)
    assert value_conformity_points([], 10) == 0.0
    with pytest.raises(ValueError, match="at least one value"):
        value_conformity_points([{"Security"}], 0)


def test_value_diversity_is_the_mean_pairwise_jaccard_distance():
    # Members {A, B}, {B, C}, {A, B}: pairs (1,2) 2/3, (1,3) 0, (2,3) 2/3; mean 4/9.
    assert value_diversity_members([{"A", "B"}, {"B", "C"}, {"A", "B"}]) == pytest.approx(4 / 9)
    assert value_diversity_members([{"A"}]) == 0.0


def test_opinion_diversity_uses_only_pairs_of_points_by_different_members():
    # Member 1 says "cars pollute" twice, member 2 "cars pollute" and "buses help".
    # Cross-member pairs (2 x 2 = 4): (p1, q1) = 1 (same text), (p1, q2) = 0 (no shared word),
    # (p2, q1) = 1, (p2, q2) = 0 -> mean 0.5 -> opinion diversity 1 - 0.5 = 0.5.
    # The pair of member 1's own two identical points is not counted (it would raise the mean).
    points = [["cars pollute", "cars pollute"], ["cars pollute", "buses help"]]
    assert opinion_diversity_points(points, method="lexical") == pytest.approx(0.5)
    assert opinion_diversity_points([["same words"], ["same words"]], method="lexical") == pytest.approx(0.0)
    assert opinion_diversity_points([["alpha beta"], ["gamma delta"]], method="lexical") == pytest.approx(1.0)
    assert opinion_diversity_points([["only one member"], []], method="lexical") == 0.0


def test_disentanglement_penalty_is_the_share_of_answer_values_the_question_carries():
    # Question {Security, Tradition}; answers {Security, Power, Benevolence}: echoed {Security}: 1/3.
    assert disentanglement_penalty_values(
        {"Security", "Tradition"}, {"Security", "Power", "Benevolence"}
    ) == pytest.approx(1 / 3)
    assert disentanglement_penalty_values({"Security"}, set()) == 0.0


def test_score_sums_the_terms_minus_half_the_penalty():
    # Member 1: "safety first" {Security}; member 2: "freedom matters" {Self-direction, Security}.
    # conformity 2/10 = 0.2; diversity 1 - 1/2 = 0.5; opinion 1 - 0 = 1 (no shared word);
    # penalty: question {Security} over answer values {Security, Self-direction} = 0.5.
    # score = 0.2 + 0.5 + 1 - 0.5 * 0.5 = 1.45.
    terms = informativeness_answers(
        [[("safety first", {"Security"})], [("freedom matters", {"Self-direction", "Security"})]],
        {"Security"},
        10,
        method="lexical",
    )
    assert terms.as_dict() == pytest.approx(
        {
            "value_conformity": 0.2,
            "value_diversity": 0.5,
            "opinion_diversity": 1.0,
            "disentanglement": 0.5,
            "score": 1.45,
        }
    )
    assert informativeness_answers(
        [[("x", set())], [("y", set())]], set(), 10, method="lexical", weight=1.0
    ).score == pytest.approx(1.0)


def test_ucb_scores_by_hand():
    # counts (2, 1), means (0.5, 0.2), c = 1, budget B = 3: bonus sqrt(2 ln 3 / C_i) (Algorithm 1, line 4).
    scores = ucb_scores_arms([2, 1, 0], [0.5, 0.2, 0.0], budget=3)
    assert scores[0] == pytest.approx(0.5 + math.sqrt(2 * math.log(3) / 2))
    assert scores[1] == pytest.approx(0.2 + math.sqrt(2 * math.log(3) / 1))
    assert scores[2] is None
    # The bonus depends on the budget, not on the pulls so far: B = 1 gives no bonus at all.
    assert ucb_scores_arms([1, 4], [0.5, 0.2], budget=1) == [0.5, 0.2]


def test_ucb_selection_from_initial_scores_on_a_fixed_reward_sequence():
    """Three arms whose initial scores and rewards are 0.9, 0.5, 0.1 every time, c = 0.5, budget B = 5.

    Every arm starts with one observation (its initial score): C = (1, 1, 1). The bonus is
    0.5 * sqrt(2 ln 5 / C) = 0.5 * sqrt(3.2189 / C): 0.897 at C = 1, 0.634 at 2, 0.518 at 3, 0.449 at 4.
    Pull 1: 0.9 + 0.897 = 1.797; 1.397; 0.997 -> arm 0.
    Pull 2: C = (2, 1, 1): 0.9 + 0.634 = 1.534; 1.397 -> arm 0.
    Pull 3: C = (3, 1, 1): 0.9 + 0.518 = 1.418; 1.397 -> arm 0.
    Pull 4: C = (4, 1, 1): 0.9 + 0.449 = 1.349; 1.397 -> arm 1.
    Pull 5: C = (4, 2, 1): 1.349; 0.5 + 0.634 = 1.134; 0.997 -> arm 0.
    """
    rewards = [0.9, 0.5, 0.1]
    counts, sums, picks = [1, 1, 1], list(rewards), []
    for _ in range(5):
        means = [s / n for s, n in zip(sums, counts, strict=True)]
        arm = ucb_select_arms(counts, means, budget=5, exploration=0.5)
        picks.append(arm)
        counts[arm] += 1
        sums[arm] += rewards[arm]
    assert picks == [0, 0, 0, 1, 0]


def test_ucb_ties_go_to_the_first_arm_and_no_arm_is_an_error():
    assert ucb_select_arms([1, 1], [0.5, 0.5], budget=2) == 0
    assert ucb_select_arms([1, 0, 0], [9.0, 0.0, 0.0], budget=2) == 1
    with pytest.raises(ValueError, match="no arm"):
        ucb_select_arms([], [], budget=1)
    with pytest.raises(ValueError, match="2 counts but 1 means"):
        ucb_scores_arms([1, 1], [0.5], budget=1)
    with pytest.raises(ValueError, match="budget must be at least 1"):
        ucb_scores_arms([1], [0.5], budget=0)
