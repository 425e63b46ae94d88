"""Each term of the informativeness score (AdAEM App. B.4) and the UCB bandit, on cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moot.judges.explorer_scoring import (
    bertscore_f1_tokens,
    coherence_texts,
    disentanglement_members,
    informativeness_answers,
    opinion_diversity_points,
    set_ratio_sets,
    top_k_duplicates,
    ucb_scores_arms,
    ucb_select_arms,
    value_conformity_member,
    value_conformity_members,
    value_diversity_members,
)


def test_set_ratio_is_union_over_intersection_at_least_one():
    # {a, b} vs {b, c}: union 3, intersection 1: 3 / 1 = 3. Disjoint {a} vs {c}: 2 / max(1, 0) = 2.
    assert set_ratio_sets({"a", "b"}, {"b", "c"}) == pytest.approx(3.0)
    assert set_ratio_sets({"a"}, {"c"}) == pytest.approx(2.0)
    # {a, b, c} vs {a, b}: union 3, intersection 2: 1.5. Two empty sets: 0 / 1 = 0.
    assert set_ratio_sets({"a", "b", "c"}, {"a", "b"}) == pytest.approx(1.5)
    assert set_ratio_sets(set(), set()) == 0.0


def test_value_conformity_per_member_then_summed():
    # Points {Security}, {Security, Power}, {}: union 2, intersection {} -> 2 / max(1, 0) = 2.
    assert value_conformity_member([{"Security"}, {"Security", "Power"}, set()]) == pytest.approx(2.0)
    # Points {A, B}, {A, B, C}: union 3, intersection 2 -> 1.5. One point {A}: 1 / 1 = 1. No point: 0.
    assert value_conformity_member([{"A", "B"}, {"A", "B", "C"}]) == pytest.approx(1.5)
    assert value_conformity_member([]) == 0.0
    # A panel of the three members above: 2 + 1.5 + 1 = 4.5.
    panel = [[{"Security"}, {"Security", "Power"}, set()], [{"A", "B"}, {"A", "B", "C"}], [{"A"}]]
    assert value_conformity_members(panel) == pytest.approx(4.5)


def test_value_diversity_sums_the_ratio_over_ordered_pairs():
    # Members {A, B}, {B, C}, {A, B}: ratios (1,2) 3/1 = 3, (1,3) 2/2 = 1, (2,3) 3/1 = 3; each ordered pair twice:
    # 2 * (3 + 1 + 3) = 14.
    assert value_diversity_members([{"A", "B"}, {"B", "C"}, {"A", "B"}]) == pytest.approx(14.0)
    assert value_diversity_members([{"A"}]) == 0.0


def test_opinion_diversity_is_the_mean_over_pairs_of_members():
    """Lexical similarity: identical texts 1, texts without a shared word 0.

    Members 1 ["cars pollute", "cars pollute"], 2 ["cars pollute", "buses help"], 3 ["buses help"].
    Pair (1, 2): similarities 1, 0, 1, 0 -> mean 0.5 -> 0.5. Pair (1, 3): 0, 0 -> 1.
    Pair (2, 3): 0, 1 -> mean 0.5 -> 0.5. Mean over the three pairs: (0.5 + 1 + 0.5) / 3 = 2/3.
    Member 1's own two identical points are never compared.
    """
    points = [["cars pollute", "cars pollute"], ["cars pollute", "buses help"], ["buses help"]]
    assert opinion_diversity_points(points, method="lexical") == pytest.approx(2 / 3)
    assert opinion_diversity_points([["same words"], ["same words"]], method="lexical") == pytest.approx(0.0)
    assert opinion_diversity_points([["alpha beta"], ["gamma delta"]], method="lexical") == pytest.approx(1.0)
    assert opinion_diversity_points([["only one member"], []], method="lexical") == 0.0


def test_bertscore_f1_by_greedy_matching():
    """First text: tokens e1, e2; second: e1, (e1 + e2) / sqrt(2).

    Cosines: e1.e1 = 1, e1.f2 = 0.7071, e2.e1 = 0, e2.f2 = 0.7071. Recall (first's best matches): (1 + 0.7071) / 2
    = 0.8536; precision (second's best): (1 + 0.7071) / 2 = 0.8536; F1 = 0.8536.
    """
    first = np.array([[1.0, 0.0], [0.0, 1.0]])
    second = np.array([[1.0, 0.0], [1 / math.sqrt(2), 1 / math.sqrt(2)]])
    assert bertscore_f1_tokens(first, second) == pytest.approx((1 + 1 / math.sqrt(2)) / 2)
    assert bertscore_f1_tokens(first, first) == pytest.approx(1.0)
    assert bertscore_f1_tokens(first, np.zeros((0, 2))) == 0.0


def test_disentanglement_sums_the_values_on_which_each_member_and_the_question_differ():
    # Question {Security, Tradition}; member 1 {Security, Power}: differ on Tradition, Power (2);
    # member 2 {}: differ on Security, Tradition (2); member 3 {Security, Tradition}: 0. Sum 4.
    members = [{"Security", "Power"}, set(), {"Security", "Tradition"}]
    assert disentanglement_members({"Security", "Tradition"}, members) == pytest.approx(4.0)


def test_coherence_is_the_mean_similarity_to_the_anchor():
    # "cars pollute" vs itself 1, vs "buses help" 0: mean 0.5. No text: None.
    assert coherence_texts("cars pollute", ["cars pollute", "buses help"], method="lexical") == pytest.approx(0.5)
    assert coherence_texts("cars pollute", [], method="lexical") is None


def test_score_is_the_papers_final_reward():
    """Member 1: "safety first" {Security}; member 2: "freedom matters" {Self-direction, Security}; question {Security}.

    conformity: 1/1 + 2/2 = 2; diversity: {S} vs {S, SD}: 2 / 1 = 2, both orders: 4;
    opinion: 1 - 0 = 1 (no shared word); disentanglement: |{S} ^ {S}| + |{S, SD} ^ {S}| = 0 + 1 = 1.
    score = 2 + 4 + 1 - 0.5 * 1 = 6.5. Semantic coherence to "safety first?": 1 and 0 -> 0.5.
    """
    terms = informativeness_answers(
        [[("safety first", {"Security"})], [("freedom matters", {"Self-direction", "Security"})]],
        {"Security"},
        question="safety first?",
        method="lexical",
    )
    assert terms.as_dict() == pytest.approx(
        {
            "value_conformity": 2.0,
            "value_diversity": 4.0,
            "opinion_diversity": 1.0,
            "disentanglement": 1.0,
            "score": 6.5,
            "semantic_coherence": 0.5,
            "context_coherence": None,
        }
    )
    # Context coherence: a rewrite compared to the points of the version it rewrites.
    rewritten = informativeness_answers(
        [[("x", set())], [("y", set())]], set(), question="safety first?", previous_points=["safety first"]
    )
    assert rewritten.context_coherence == pytest.approx(1.0)
    assert informativeness_answers(
        [[("x", set())], [("y", set())]], set(), method="lexical", weight=1.0
    ).score == pytest.approx(1.0)


def test_a_new_question_is_dropped_when_the_mean_of_its_top_k_similarities_exceeds_the_threshold():
    """Lexical similarity: identical texts 1, texts without a shared word 0; threshold 0.85.

    Pool "cars pollute", "cars pollute", "buses help". New "cars pollute": similarities 1, 1, 0.
    k = 3: mean 2/3 = 0.667, not above 0.85: kept. k = 2: mean 1: dropped, most similar: pool 0.
    New "trains run": similarities 0, 0, 0: kept whatever k.
    """
    pool = ["cars pollute", "cars pollute", "buses help"]
    assert top_k_duplicates(pool, ["cars pollute", "trains run"], 0.85, 3, "lexical") == []
    dropped = top_k_duplicates(pool, ["cars pollute", "trains run"], 0.85, 2, "lexical")
    assert [(d.index, d.of, d.similarity) for d in dropped] == [(0, 0, pytest.approx(1.0))]
    # New questions join the pool as they are kept: the second "x y" repeats the first (pool index 0 + 0 = 0).
    dropped = top_k_duplicates([], ["x y", "x y"], 0.85, 3, "lexical")
    assert [(d.index, d.of) for d in dropped] == [(1, 0)]
    # Similarity exactly at the threshold is kept (the rule is "greater than").
    assert top_k_duplicates(["x y"], ["x y"], 1.0, 3, "lexical") == []


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
