"""Cluster bootstrap confidence intervals: resample whole groups (e.g. conversations), not items.

Items of one conversation are not independent, so the unit that is resampled with replacement
is the group. Intervals are percentile intervals. Both functions draw the same resamples for
the same seed, so `bootstrap_mean_ci` gives what `bootstrap_ci` gives with the pooled mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_ROWS_PER_CHUNK = 64
"""Resamples drawn at once; bounds memory to 64 x (number of groups) indices."""


@dataclass(frozen=True)
class BootstrapCI:
    """A statistic on all the data and its bootstrap percentile interval."""

    estimate: float
    """The statistic computed on all groups."""
    low: float
    """Lower end of the interval (NaN if no resample gave a number)."""
    high: float
    """Upper end of the interval (NaN if no resample gave a number)."""
    n: int
    """Number of groups resampled."""


def _resample_indices(n_groups: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield blocks of resamples, each row `n_groups` group indices drawn with replacement."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, _ROWS_PER_CHUNK):
        rows = min(_ROWS_PER_CHUNK, n_boot - start)
        yield rng.integers(0, n_groups, size=(rows, n_groups))


def _interval(estimate: float, stats: np.ndarray, n: int, level: float) -> BootstrapCI:
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return BootstrapCI(estimate, math.nan, math.nan, n)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return BootstrapCI(estimate, float(low), float(high), n)


def _check(n_groups: int, n_boot: int, level: float) -> None:
    if n_groups == 0:
        raise ValueError("bootstrap needs at least one group")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")


def bootstrap_ci(
    groups: Sequence[Sequence[T]],
    statistic: Callable[[list[T]], float],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapCI:
    """Bootstrap `statistic` over groups resampled with replacement.

    Each resample draws len(groups) groups with replacement and applies `statistic` to the list
    of all their items, concatenated. Resamples where the statistic is NaN are left out of the
    interval (e.g. a similarity with no comparable pair in the resample).
    """
    _check(len(groups), n_boot, level)
    groups = [list(g) for g in groups]
    estimate = float(statistic([item for g in groups for item in g]))
    stats = [
        float(statistic([item for i in row for item in groups[i]]))
        for block in _resample_indices(len(groups), n_boot, seed)
        for row in block
    ]
    return _interval(estimate, np.asarray(stats, dtype=float), len(groups), level)


def bootstrap_mean_ci(
    values_per_group: Sequence[Sequence[float]],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapCI:
    """Bootstrap the pooled mean of all values, resampling groups; vectorised.

    Equal to `bootstrap_ci(values_per_group, mean, ...)` with the same seed. Groups may be
    empty; a resample of only empty groups has no mean and is left out.
    """
    _check(len(values_per_group), n_boot, level)
    sums = np.array([float(np.sum(g)) for g in values_per_group])
    counts = np.array([len(g) for g in values_per_group], dtype=float)
    total = counts.sum()
    estimate = float(sums.sum() / total) if total else math.nan
    stats = np.empty(n_boot)
    done = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for block in _resample_indices(len(values_per_group), n_boot, seed):
            stats[done : done + len(block)] = sums[block].sum(axis=1) / counts[block].sum(axis=1)
            done += len(block)
    return _interval(estimate, stats, len(values_per_group), level)
