"""Kendall's tau and W, Cohen's and Fleiss' kappa and F1 against hand-computed cases."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from moot.analysis.agreement import (
    cohen_kappa_labels,
    f1_labels,
    fleiss_kappa_labels,
    kendall_tau_rankings,
    kendall_w_rankings,
)


def test_tau_with_one_swapped_pair():
    # 4 items, 6 pairs; only (B, C) is ordered differently: tau = (5 - 1) / 6 = 2/3.
    # Exact two-sided p: permutations of 4 with at most 1 inversion are 1 + 3 = 4 of 24,
    # so p = 2 * 4 / 24 = 1/3.
    result = kendall_tau_rankings(["A", "B", "C", "D"], ["A", "C", "B", "D"])
    assert result.tau == pytest.approx(2 / 3)
    assert result.p_value == pytest.approx(1 / 3)
    assert result.n == 4


def test_tau_b_with_a_tie_given_as_a_mapping():
    # a = {A: 1, B: 2, C: 2, D: 3}, b = A < B < C < D. Of the 6 pairs, 5 are concordant and
    # (B, C) is tied in a only: tau_b = 5 / sqrt((6 - 1) * (6 - 0)) = 5 / sqrt(30).
    result = kendall_tau_rankings({"A": 1, "B": 2, "C": 2, "D": 3}, ["A", "B", "C", "D"])
    assert result.tau == pytest.approx(5 / math.sqrt(30))


def test_tau_of_reversed_ranking_is_minus_one():
    assert kendall_tau_rankings(["A", "B", "C"], {"A": 3, "B": 2, "C": 1}).tau == pytest.approx(-1.0)


def test_tau_rejects_different_items():
    with pytest.raises(ValueError, match="not in both: C, D"):
        kendall_tau_rankings(["A", "B", "C"], ["A", "B", "D"])
    with pytest.raises(ValueError, match="more than once"):
        kendall_tau_rankings(["A", "A"], ["A", "B"])


def test_w_perfect_agreement():
    # W = 1 and chi-square = m (n - 1) = 3 * 3 = 9 with 3 degrees of freedom.
    result = kendall_w_rankings([["A", "B", "C", "D"]] * 3)
    assert result.w == pytest.approx(1.0)
    assert result.chi_square == pytest.approx(9.0)
    assert result.df == 3
    assert result.p_value == pytest.approx(stats.chi2.sf(9.0, 3))


def test_w_textbook_case():
    # m = 3 raters, n = 4 items:
    #   rater 1: A 1, B 2, C 3, D 4
    #   rater 2: A 2, B 1, C 4, D 3
    #   rater 3: A 1, B 3, C 2, D 4
    # Rank sums A 4, B 6, C 9, D 11; their mean m (n + 1) / 2 = 7.5.
    # S = 3.5^2 + 1.5^2 + 1.5^2 + 3.5^2 = 29.
    # W = 12 S / (m^2 (n^3 - n)) = 348 / 540 = 29 / 45; chi-square = m (n - 1) W = 5.8.
    result = kendall_w_rankings([["A", "B", "C", "D"], {"A": 2, "B": 1, "C": 4, "D": 3}, ["A", "C", "B", "D"]])
    assert result.w == pytest.approx(29 / 45)
    assert result.chi_square == pytest.approx(5.8)
    assert result.p_value == pytest.approx(stats.chi2.sf(5.8, 3))
    assert (result.raters, result.items) == (3, 4)


def test_w_with_ties():
    # m = 2, n = 3. Rater 1: A 1, B 2, C 3. Rater 2 ties A and B: midranks A 1.5, B 1.5, C 3.
    # Rank sums A 2.5, B 3.5, C 6; mean 2 * 4 / 2 = 4; S = 1.5^2 + 0.5^2 + 2^2 = 6.5.
    # Ties: rater 2 has one group of t = 2, T = 2^3 - 2 = 6.
    # W = 12 * 6.5 / (2^2 * (27 - 3) - 2 * 6) = 78 / 84 = 13/14; chi-square = 2 * 2 * 13/14 = 26/7.
    result = kendall_w_rankings([{"A": 1, "B": 2, "C": 3}, {"A": 1, "B": 1, "C": 2}])
    assert result.w == pytest.approx(13 / 14)
    assert result.chi_square == pytest.approx(26 / 7)


def test_w_rejects_mismatched_rankings():
    with pytest.raises(ValueError, match="ranking 2"):
        kendall_w_rankings([["A", "B"], ["A", "C"]])


# The 2 x 2 table used below (a = first labeller or truth, b = second labeller or prediction):
#                b yes   b no
#     a yes        4       1
#     a no         2       3
A_LABELS = [True] * 4 + [True] + [False] * 2 + [False] * 3
B_LABELS = [True] * 4 + [False] + [True] * 2 + [False] * 3


def test_cohen_kappa_of_a_two_by_two_table():
    # p_o = (4 + 3) / 10 = 0.7; a says yes 5/10, b 6/10: p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5.
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    assert cohen_kappa_labels(A_LABELS, B_LABELS) == pytest.approx(0.4)


def test_cohen_kappa_extremes():
    assert cohen_kappa_labels(["x", "y", "z"], ["x", "y", "z"]) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa_labels(["x", "x"], ["x", "x"]))


def test_f1_of_a_two_by_two_table():
    # TP = 4, FP = 2, FN = 1: precision 4/6, recall 4/5, F1 = 2*4 / (2*4 + 2 + 1) = 8/11.
    result = f1_labels(A_LABELS, B_LABELS)
    assert (result.true_positives, result.false_positives, result.false_negatives) == (4, 2, 1)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(0.8)
    assert result.f1 == pytest.approx(8 / 11)


def test_f1_with_another_positive_label_and_no_predicted_positives():
    result = f1_labels(["yes", "no"], ["no", "no"], positive="yes")
    assert math.isnan(result.precision)
    assert result.recall == 0.0
    assert result.f1 == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        f1_labels([True], [True, False])


def test_fleiss_kappa_of_three_raters():
    # Item agreements: (9 - 3) / 6 = 1, (1 + 4 - 3) / 6 = 1/3, 1; mean 7/9. Labels: 4 a and 5 b of 9,
    # so P_e = (16 + 25) / 81 = 41/81 and kappa = (7/9 - 41/81) / (1 - 41/81) = 22/40.
    items = [["a", "a", "a"], ["a", "b", "b"], ["b", "b", "b"]]
    assert fleiss_kappa_labels(items) == pytest.approx(0.55)


def test_fleiss_kappa_with_items_rated_by_different_numbers_of_raters():
    # Agreements 1 and 1/3 (mean 2/3); 3 a and 2 b of 5 give P_e = 13/25: kappa = (2/3 - 13/25) / (12/25) = 11/36.
    # The item with one rating is left out.
    assert fleiss_kappa_labels([["a", "a"], ["a", "b", "b"], ["b"]]) == pytest.approx(11 / 36)


def test_fleiss_kappa_agrees_with_cohen_for_two_raters_with_equal_shares():
    # With two raters whose label shares are equal, Fleiss' and Cohen's kappa coincide.
    first, second = ["x", "x", "y", "y", "x", "y"], ["x", "y", "y", "x", "x", "y"]
    assert fleiss_kappa_labels(list(zip(first, second, strict=True))) == pytest.approx(
        cohen_kappa_labels(first, second)
    )


def test_fleiss_kappa_is_nan_without_chance_agreement_to_correct_or_without_items():
    assert math.isnan(fleiss_kappa_labels([["a", "a"], ["a", "a", "a"]]))  # one label given throughout
    assert math.isnan(fleiss_kappa_labels([["a"], []]))  # no item has two ratings
    assert fleiss_kappa_labels([["a", "b"], ["b", "a"]]) == pytest.approx(-1.0)  # never agreeing
