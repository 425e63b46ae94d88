"""Cluster bootstrap intervals: known cases, coverage, and the vectorised mean against the generic one."""

from __future__ import annotations

import math
import time
from statistics import mean

import numpy as np
import pytest

from moot.analysis.bootstrap import BootstrapCI, bootstrap_ci, bootstrap_mean_ci


def test_interval_of_a_constant_is_the_constant():
    groups = [[2.0, 2.0], [2.0], [2.0, 2.0, 2.0]]
    assert bootstrap_ci(groups, mean, n_boot=200) == BootstrapCI(2.0, 2.0, 2.0, 3)
    assert bootstrap_mean_ci(groups, n_boot=200) == BootstrapCI(2.0, 2.0, 2.0, 3)


def test_two_groups_by_hand():
    # Groups [1] and [3]: a resample is {1,1}, {1,3}, {3,1} or {3,3}, with means 1, 2, 2, 3 and
    # probabilities 1/4, 1/2, 1/4. Each extreme holds about 25% of 1000 resamples, well over the
    # 2.5% tails, so the 95% interval is exactly [1, 3] around the estimate 2.
    ci = bootstrap_ci([[1.0], [3.0]], mean, n_boot=1000, seed=0)
    assert (ci.estimate, ci.low, ci.high, ci.n) == (2.0, 1.0, 3.0, 2)


def test_vectorised_mean_equals_generic():
    rng = np.random.default_rng(7)
    groups = [list(rng.normal(size=rng.integers(0, 5))) for _ in range(40)]
    generic = bootstrap_ci(groups, lambda xs: float(np.mean(xs)) if xs else math.nan, n_boot=300, seed=11)
    fast = bootstrap_mean_ci(groups, n_boot=300, seed=11)
    assert fast.n == generic.n == 40
    for field in ("estimate", "low", "high"):
        assert getattr(fast, field) == pytest.approx(getattr(generic, field), abs=1e-12)
    # A different seed gives a different interval.
    assert bootstrap_mean_ci(groups, n_boot=300, seed=12).low != fast.low


def test_coverage_of_a_known_mean():
    # 200 data sets of 30 groups, 1 to 3 values each, drawn from N(1, 1). A 90% interval should
    # hold the true mean 1 in about 90% of data sets (binomial sd ~2%); the seeds are fixed.
    rng = np.random.default_rng(2024)
    hits = 0
    for trial in range(200):
        groups = [rng.normal(1.0, 1.0, size=rng.integers(1, 4)) for _ in range(30)]
        ci = bootstrap_mean_ci(groups, n_boot=400, seed=trial, level=0.90)
        hits += ci.low <= 1.0 <= ci.high
    assert 0.84 <= hits / 200 <= 0.96


def test_nan_resamples_are_left_out():
    # Only group 0 has values: resamples without it have no mean and are dropped.
    ci = bootstrap_mean_ci([[5.0], [], []], n_boot=200, seed=0)
    assert (ci.estimate, ci.low, ci.high) == (5.0, 5.0, 5.0)
    none = bootstrap_mean_ci([[], []], n_boot=50)
    assert math.isnan(none.estimate) and math.isnan(none.low) and math.isnan(none.high)


def test_vectorised_mean_is_fast_on_ten_thousand_groups():
    rng = np.random.default_rng(0)
    groups = [rng.normal(size=3) for _ in range(10_000)]
    start = time.process_time()
    ci = bootstrap_mean_ci(groups, n_boot=1000, seed=0)
    elapsed = time.process_time() - start
    assert ci.low < ci.estimate < ci.high
    assert elapsed < 2.0, f"1000 resamples of 10,000 groups took {elapsed:.2f} s of CPU"


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one group"):
        bootstrap_mean_ci([])
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([[1.0]], mean, level=95)
