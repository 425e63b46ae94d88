"""Rates with bootstrap intervals over conversations: notes for degenerate ones, and coverage on simulated runs.

The coverage check simulates runs whose true rate is known, with observations correlated within
a conversation (each conversation draws its own rate), and counts how often the 95% interval
holds the true rate.
"""

from __future__ import annotations

import numpy as np
import pytest

from moot.analysis.protocol_rates import MIN_CONVERSATIONS, Intervals


def test_a_rate_is_the_pooled_mean_with_an_interval_around_it():
    per_conversation = [[1.0, 0.0], [0.0], [1.0, 1.0, 0.0], [0.0, 0.0], [1.0], [0.0, 1.0]]
    intervals = Intervals(n_boot=200, run_conversations=6)
    rate = intervals.rate("x", per_conversation)
    assert rate["rate"] == pytest.approx(5 / 11)  # 5 ones among 11 observations
    assert rate["conversations"] == 6 and rate["observations"] == 11
    low, high = rate["ci"]
    assert 0.0 <= low < 5 / 11 < high <= 1.0
    assert intervals.notes == []


def test_no_observation_is_a_note_not_a_silent_gap():
    intervals = Intervals(run_conversations=10)
    assert intervals.rate("change rate of ana", [[], []]) == {
        "rate": None,
        "ci": None,
        "conversations": 0,
        "observations": 0,
    }
    assert intervals.notes == ["change rate of ana: no observation, so no rate"]


def test_too_few_conversations_give_no_interval_and_say_so():
    intervals = Intervals(run_conversations=20)
    rate = intervals.rate("agreement in round 4", [[1.0], [0.0], [1.0]])
    assert rate["rate"] == pytest.approx(2 / 3) and rate["ci"] is None
    assert intervals.notes == [
        f"agreement in round 4: observed in 3 conversation(s), too few for an interval (needs {MIN_CONVERSATIONS})"
    ]


def test_a_run_too_small_for_intervals_says_it_once():
    intervals = Intervals(run_conversations=2)
    intervals.rate("a", [[1.0], [0.0]])
    intervals.rate("b", [[1.0], [1.0]])
    assert intervals.notes == []  # not one note per measurement...
    assert intervals.run_note() == (
        "2 conversation(s): too few for bootstrap intervals (they need 5); every rate is given without one"
    )  # ...but one for the run


def test_a_zero_width_interval_is_a_note():
    intervals = Intervals(n_boot=50, run_conversations=6)
    rate = intervals.rate("share stopped by 'max rounds'", [[1.0]] * 6)
    assert rate["ci"] == [1.0, 1.0]
    assert intervals.notes == [
        "share stopped by 'max rounds': the interval has zero width (every resample gives 1); "
        "the conversations do not vary on it"
    ]


def test_an_undefined_statistic_is_a_note_with_its_reason():
    intervals = Intervals(run_conversations=6)
    result = intervals.statistic("kappa", [[1.0]] * 6, lambda items: float("nan"), "undefined, as nothing varies")
    assert result == {"estimate": None, "ci": None, "conversations": 6}
    assert intervals.notes == ["kappa: undefined, as nothing varies"]


def simulated_coverage(draw, truth: float, conversations: int, runs: int, n_boot: int, seed: int = 1) -> float:
    """Share of simulated runs whose 95% interval holds the true rate."""
    rng = np.random.default_rng(seed)
    held = 0
    for run in range(runs):
        rate = Intervals(n_boot=n_boot, seed=run, run_conversations=conversations).rate("x", draw(rng, conversations))
        low, high = rate["ci"]
        held += low <= truth <= high
    return held / runs


def correlated_changes(rng: np.random.Generator, conversations: int) -> list[list[float]]:
    """Change indicators of 4 agents over 2 round pairs; each conversation's rate is Beta(2.4, 5.6) (mean 0.3)."""
    rates = rng.beta(0.3 * 8, 0.7 * 8, size=conversations)
    return [list((rng.random(8) < rate).astype(float)) for rate in rates]


def one_stop_each(rng: np.random.Generator, conversations: int) -> list[list[float]]:
    """Whether each conversation stopped for a reason whose true share is 0.2."""
    return [[float(rng.random() < 0.2)] for _ in range(conversations)]


@pytest.mark.parametrize(
    ("draw", "truth"), [(correlated_changes, 0.3), (one_stop_each, 0.2)], ids=["change_rate", "stop_share"]
)
def test_intervals_hold_the_true_rate_about_95_percent_of_the_time(draw, truth):
    # 400 simulated runs of 40 conversations: the coverage's standard error is about 0.011, so a
    # 95% interval should hold the truth in 0.90 to 0.98 of them (the percentile bootstrap runs a
    # little short of 95% with 40 clusters).
    coverage = simulated_coverage(draw, truth, conversations=40, runs=400, n_boot=400)
    assert 0.90 <= coverage <= 0.98
