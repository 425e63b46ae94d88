"""Bradley-Terry fits against cases whose answers are known in closed form or by direct maximisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from moot.analysis.bradley_terry import (
    ConvergenceError,
    NoFiniteEstimate,
    bootstrap_bradley_terry,
    bradley_terry_comparisons,
    bradley_terry_ranking,
    win_matrix_comparisons,
)


def comparisons(counts: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    """Expand {(winner, loser): times} into parallel winner and loser lists."""
    winners, losers = [], []
    for (winner, loser), times in counts.items():
        winners += [winner] * times
        losers += [loser] * times
    return winners, losers


def test_two_items_log_ratio_is_log_of_win_ratio():
    # With two items the likelihood is p^w (1-p)^l in p = P(A beats B), maximised at p = w/(w+l),
    # so log(pA/pB) = log(w/l) = log(3/1); centred, A gets +log(3)/2 and B -log(3)/2.
    winners, losers = comparisons({("A", "B"): 3, ("B", "A"): 1})
    fit = bradley_terry_comparisons(winners, losers)
    assert fit.items == ("A", "B")
    assert fit.log_strength("A") - fit.log_strength("B") == pytest.approx(math.log(3), abs=1e-9)
    assert fit.log_strength("A") == pytest.approx(math.log(3) / 2, abs=1e-9)
    assert fit.probability("A", "B") == pytest.approx(0.75, abs=1e-9)
    assert fit.ranking == ("A", "B")
    assert fit.rank("B") == 2
    assert fit.iterations >= 1


def test_three_items_match_direct_maximisation_of_the_log_likelihood():
    counts = {("A", "B"): 7, ("B", "A"): 3, ("B", "C"): 6, ("C", "B"): 4, ("A", "C"): 2, ("C", "A"): 5}
    winners, losers = comparisons(counts)
    fit = bradley_terry_comparisons(winners, losers)

    index = {"A": 0, "B": 1, "C": 2}

    def negative_log_likelihood(free: np.ndarray) -> float:
        # theta_C = -(theta_A + theta_B) keeps the log-strengths centred.
        theta = np.array([free[0], free[1], -free[0] - free[1]])
        total = 0.0
        for (winner, loser), times in counts.items():
            a, b = theta[index[winner]], theta[index[loser]]
            total += times * (a - np.logaddexp(a, b))
        return -total

    best = optimize.minimize(negative_log_likelihood, x0=[0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    expected = [best.x[0], best.x[1], -best.x[0] - best.x[1]]
    assert list(fit.log_strengths) == pytest.approx(expected, abs=1e-6)
    assert sum(fit.log_strengths) == pytest.approx(0.0, abs=1e-12)


def test_order_of_comparisons_does_not_matter():
    winners, losers = comparisons(
        {("A", "B"): 5, ("B", "A"): 2, ("B", "C"): 4, ("C", "B"): 3, ("C", "A"): 1, ("A", "C"): 1}
    )
    shuffled = np.random.default_rng(3).permutation(len(winners))
    first = bradley_terry_comparisons(winners, losers)
    second = bradley_terry_comparisons([winners[k] for k in shuffled], [losers[k] for k in shuffled])
    assert first.log_strengths == second.log_strengths
    assert first.ranking == second.ranking == ("A", "B", "C")


def test_undefeated_item_has_no_mle_without_prior_and_a_finite_one_with_it():
    winners, losers = comparisons({("A", "B"): 3, ("B", "C"): 1, ("C", "B"): 1})
    with pytest.raises(NoFiniteEstimate, match=r"never lost: A\b"):
        bradley_terry_comparisons(winners, losers)
    # prior=1 with two items: A has 3 + 1 wins, B has 0 + 1, so log(pA/pB) = log(4).
    fit = bradley_terry_comparisons(["A"] * 3, ["B"] * 3, prior=1.0)
    assert fit.log_strength("A") - fit.log_strength("B") == pytest.approx(math.log(4), abs=1e-9)


def test_item_that_never_wins_is_named():
    with pytest.raises(ValueError, match=r"never won: C"):
        bradley_terry_comparisons(["A", "B", "A", "B"], ["B", "A", "C", "C"])


def test_group_that_never_beats_the_other_group_is_named():
    # Everyone wins and loses, but {C, D} never beats {A, B}: the MLE sends them to -infinity.
    with pytest.raises(ValueError, match=r"never beat the others: \{A, B\} \{C, D\}"):
        bradley_terry_comparisons(["A", "B", "C", "D", "A"], ["B", "A", "D", "C", "C"])


def test_groups_never_compared_are_rejected_even_with_a_prior():
    with pytest.raises(ValueError, match=r"\{A, B\} \{C, D\}"):
        bradley_terry_comparisons(["A", "B", "C", "D"], ["B", "A", "D", "C"], prior=1.0)


def test_items_fix_the_order_and_uncompared_items_are_nan_and_unranked():
    fit = bradley_terry_comparisons(["B", "A", "B"], ["A", "B", "A"], items=["C", "B", "A"])
    assert fit.items == ("C", "B", "A")
    assert math.isnan(fit.log_strength("C"))
    assert fit.ranking == ("B", "A")
    assert fit.log_strength("B") == pytest.approx(math.log(2) / 2, abs=1e-9)
    assert fit.wins[1, 2] == 2 and fit.wins[2, 1] == 1


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="'Z' is not among the items"):
        bradley_terry_comparisons(["A", "Z"], ["B", "A"], items=["A", "B"])
    with pytest.raises(ValueError, match="winner and loser"):
        bradley_terry_comparisons(["A"], ["A"])
    with pytest.raises(ValueError, match="differ in length"):
        bradley_terry_comparisons(["A", "B"], ["B"])


def test_non_convergence_names_the_iteration_count():
    winners, losers = comparisons(
        {("A", "B"): 5, ("B", "A"): 2, ("B", "C"): 4, ("C", "B"): 3, ("C", "A"): 1, ("A", "C"): 1}
    )
    with pytest.raises(ConvergenceError, match="3 iterations"):
        bradley_terry_comparisons(winners, losers, max_iter=3)


def test_win_matrix_counts():
    items, wins = win_matrix_comparisons(["A", "A", "B"], ["B", "C", "C"])
    assert items == ("A", "B", "C")
    assert wins.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]


def test_a_million_comparisons_recover_the_generating_strengths():
    rng = np.random.default_rng(7)
    names = [f"v{k}" for k in range(10)]
    truth = np.linspace(-1.5, 1.5, 10)
    truth -= truth.mean()
    size = 1_000_000
    first = rng.integers(10, size=size)
    second = (first + rng.integers(1, 10, size=size)) % 10
    first_wins = rng.random(size) < 1 / (1 + np.exp(truth[second] - truth[first]))
    win = np.where(first_wins, first, second)
    lose = np.where(first_wins, second, first)
    table = np.array(names)
    fit = bradley_terry_comparisons(table[win].tolist(), table[lose].tolist(), items=names)
    assert np.max(np.abs(np.array(fit.log_strengths) - truth)) < 0.02
    assert fit.ranking == tuple(reversed(names))
    assert bradley_terry_ranking(["v1", "v0", "v1"], ["v0", "v1", "v0"]) == ["v1", "v0"]


def test_bootstrap_of_identical_groups_has_zero_width_intervals():
    # Every scenario holds the same comparisons, so every group resample is the data scaled
    # by the number of groups, whose fit is the fit of the data: intervals collapse onto it.
    one = {("A", "B"): 2, ("B", "A"): 1, ("B", "C"): 2, ("C", "B"): 1, ("C", "A"): 1, ("A", "C"): 2}
    winners, losers = comparisons(one)
    groups = [g for g in range(5) for _ in winners]
    result = bootstrap_bradley_terry(winners * 5, losers * 5, groups=groups, n_boot=20, seed=1)
    point = np.array(result.fit.log_strengths)
    assert result.log_strength_low == pytest.approx(point, abs=1e-8)
    assert result.log_strength_high == pytest.approx(point, abs=1e-8)
    assert result.rank_low.tolist() == result.rank_high.tolist() == [1.0, 2.0, 3.0]
    assert result.log_strength_samples.shape == (20, 3)


def test_bootstrap_of_two_items_follows_the_binomial():
    # A beats B 60 times of 100. Resampling comparisons draws A's wins k ~ Binomial(100, 0.6),
    # and A's centred log-strength is log(k / (100 - k)) / 2. The binomial 2.5% and 97.5%
    # quantiles are 50 and 69 (scipy.stats.binom.ppf); allow one count either way.
    winners, losers = comparisons({("A", "B"): 60, ("B", "A"): 40})
    result = bootstrap_bradley_terry(winners, losers, n_boot=4000, seed=0)
    low, high = result.interval("A")

    def wins_of_a(log_strength: float) -> float:
        # Inverts log_strength = log(k / (100 - k)) / 2.
        return 100 / (1 + math.exp(-2 * log_strength))

    assert 49 - 1e-6 <= wins_of_a(low) <= 51 + 1e-6
    assert 68 - 1e-6 <= wins_of_a(high) <= 70 + 1e-6
    assert result.level == 0.95
    again = bootstrap_bradley_terry(winners, losers, n_boot=50, seed=0)
    assert (
        again.log_strength_samples.tolist()
        == bootstrap_bradley_terry(winners, losers, n_boot=50, seed=0).log_strength_samples.tolist()
    )


def test_bootstrap_leaves_out_and_counts_resamples_without_an_estimate():
    # Scenario 1: A beats B; scenario 2: B beats A. Drawing two scenarios, the same one twice
    # (probability 1/2) has an undefeated item and fails; the other draws are the data again,
    # with log-strengths 0 for both.
    result = bootstrap_bradley_terry(["A", "B"], ["B", "A"], groups=["s1", "s2"], n_boot=40, seed=2)
    failed_rows = np.isnan(result.log_strength_samples).all(axis=1)
    assert result.failed == int(failed_rows.sum())
    assert 0 < result.failed < 40
    assert result.interval("A") == pytest.approx((0.0, 0.0), abs=1e-12)
