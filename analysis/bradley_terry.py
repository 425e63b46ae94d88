"""Bradley-Terry strengths from pairwise comparisons, with bootstrap intervals.

The model says item i beats item j with probability p_i / (p_i + p_j). Strengths are fitted by
maximum likelihood with Hunter's MM algorithm (Hunter 2004, "MM algorithms for generalized
Bradley-Terry models") on the aggregated win matrix, so the cost of a fit does not grow with the
number of comparisons once they are counted.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

QuantileMethod = Literal["linear", "inverted_cdf"]
"""The numpy quantile methods used: interpolated for log-strengths, an observed value for ranks."""


class ConvergenceError(RuntimeError):
    """An iterative fit did not converge within its iteration limit."""


class NoFiniteEstimate(ValueError):
    """The comparisons have no finite, unique maximum-likelihood strengths."""


@dataclass(frozen=True)
class BradleyTerryFit:
    """Fitted Bradley-Terry strengths.

    `log_strengths[k]` belongs to `items[k]`; the log-strengths of the compared items are
    centred to mean 0, and an item with no comparisons has log-strength nan and is left out of
    `ranking`.
    """

    items: tuple[str, ...]
    log_strengths: tuple[float, ...]
    ranking: tuple[str, ...]
    """Compared items, strongest first (ties keep the order of `items`)."""
    iterations: int
    """MM iterations until the largest change of a log-strength fell below the tolerance."""
    wins: np.ndarray
    """`wins[i, j]`: times `items[i]` beat `items[j]` in the data, without the prior."""

    def log_strength(self, item: str) -> float:
        """The centred log-strength of one item."""
        return self.log_strengths[self.items.index(item)]

    def rank(self, item: str) -> int:
        """Rank of an item, 1 = strongest."""
        return self.ranking.index(item) + 1

    def probability(self, winner: str, loser: str) -> float:
        """Fitted probability that `winner` beats `loser`."""
        diff = self.log_strength(loser) - self.log_strength(winner)
        return float(1.0 / (1.0 + np.exp(diff)))

    def as_dict(self) -> dict[str, float]:
        """Item name -> centred log-strength."""
        return dict(zip(self.items, self.log_strengths, strict=True))


@dataclass(frozen=True)
class BradleyTerryBootstrap:
    """Percentile bootstrap intervals of Bradley-Terry log-strengths and ranks.

    Arrays are aligned with `fit.items`. `log_strength_samples[b, k]` and `rank_samples[b, k]`
    hold resample b (nan where item k had no comparison in that resample, and in the whole row
    of a failed resample; nan entries are left out of the intervals).
    """

    fit: BradleyTerryFit
    """The fit on the full data."""
    level: float
    log_strength_low: np.ndarray
    log_strength_high: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    log_strength_samples: np.ndarray
    rank_samples: np.ndarray
    failed: int
    """Resamples with no finite estimate (see `bootstrap_bradley_terry`)."""

    def interval(self, item: str) -> tuple[float, float]:
        """The log-strength interval of one item."""
        k = self.fit.items.index(item)
        return float(self.log_strength_low[k]), float(self.log_strength_high[k])

    def rank_interval(self, item: str) -> tuple[float, float]:
        """The rank interval of one item (1 = strongest)."""
        k = self.fit.items.index(item)
        return float(self.rank_low[k]), float(self.rank_high[k])


def _item_order(winners: Sequence[str], losers: Sequence[str], items: Sequence[str] | None) -> tuple[str, ...]:
    if items is not None:
        order = tuple(items)
        if len(set(order)) != len(order):
            raise ValueError("items: an item is listed twice")
        return order
    return tuple(sorted(set(winners) | set(losers)))


def _codes(names: Sequence[str], index: dict[str, int], what: str) -> np.ndarray:
    try:
        return np.fromiter((index[name] for name in names), dtype=np.int64, count=len(names))
    except KeyError as exc:
        raise ValueError(f"{what}: {exc.args[0]!r} is not among the items") from None


def win_matrix_comparisons(
    winners: Sequence[str], losers: Sequence[str], items: Sequence[str] | None = None
) -> tuple[tuple[str, ...], np.ndarray]:
    """Count the comparisons: returns the items and `wins[i, j]`, times item i beat item j.

    Items are `items` in that order, or else every name seen, sorted.
    """
    if len(winners) != len(losers):
        raise ValueError(f"winners and losers differ in length ({len(winners)} vs {len(losers)})")
    order = _item_order(winners, losers, items)
    index = {name: k for k, name in enumerate(order)}
    win = _codes(winners, index, "winners")
    lose = _codes(losers, index, "losers")
    same = np.flatnonzero(win == lose)
    if same.size:
        raise ValueError(f"comparison {same[0]} has {order[win[same[0]]]!r} as winner and loser")
    n = len(order)
    counts = np.bincount(win * n + lose, minlength=n * n).reshape(n, n)
    return order, counts.astype(float)


def _components(adjacency: np.ndarray) -> list[np.ndarray]:
    """Strongly connected components of a small directed graph, by transitive closure.

    Closure by repeated boolean squaring costs O(n^3 log n), which for the few dozen items of a
    ranking is far cheaper than building a sparse graph for every bootstrap resample.
    """
    reach = adjacency | np.eye(len(adjacency), dtype=bool)
    while True:
        step = reach.astype(float)
        wider = (step @ step) > 0
        if np.array_equal(wider, reach):
            break
        reach = wider
    mutual = reach & reach.T
    seen = np.zeros(len(adjacency), dtype=bool)
    groups = []
    for k in range(len(adjacency)):
        if not seen[k]:
            members = np.flatnonzero(mutual[k])
            seen[members] = True
            groups.append(members)
    return groups


def _format_groups(names: list[str], groups: list[np.ndarray]) -> str:
    return " ".join("{" + ", ".join(names[k] for k in group) + "}" for group in groups)


def _check_finite_mle(items: tuple[str, ...], wins: np.ndarray, active: np.ndarray) -> None:
    """Raise ValueError unless the wins among `active` items form a strongly connected graph.

    Ford (1957): the maximum-likelihood strengths are finite and unique exactly when, for every
    split of the items into two groups, some item of each group beats some item of the other.
    """
    sub = wins[np.ix_(active, active)]
    names = [items[k] for k in np.flatnonzero(active)]
    groups = _components(sub > 0)
    if len(groups) <= 1:
        return
    never_won = [name for name, won in zip(names, sub.sum(axis=1), strict=True) if won == 0]
    never_lost = [name for name, lost in zip(names, sub.sum(axis=0), strict=True) if lost == 0]
    if never_won or never_lost:
        detail = "; ".join(
            part
            for part in (
                f"never won: {', '.join(never_won)}" if never_won else "",
                f"never lost: {', '.join(never_lost)}" if never_lost else "",
            )
            if part
        )
    else:
        detail = f"some groups never beat the others: {_format_groups(names, groups)}"
    raise NoFiniteEstimate(f"no finite Bradley-Terry strengths ({detail}); use prior > 0")


def _check_connected(items: tuple[str, ...], compared: np.ndarray, active: np.ndarray) -> None:
    groups = _components(compared[np.ix_(active, active)])
    if len(groups) > 1:
        names = [items[k] for k in np.flatnonzero(active)]
        raise NoFiniteEstimate(
            "Bradley-Terry strengths are not comparable across groups never compared: " + _format_groups(names, groups)
        )


def _mm_fit(wins: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, int]:
    """Hunter's MM iteration on a win matrix whose MLE exists; returns centred log-strengths."""
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    games = wins + wins.T
    total_wins = wins.sum(axis=1)
    log_p = np.zeros(len(wins))
    for iteration in range(1, max_iter + 1):
        p = np.exp(log_p)
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.log(total_wins) - np.log(denom)
        new -= new.mean()
        change = np.max(np.abs(new - log_p))
        log_p = new
        if change < tol:
            return log_p, iteration
    raise ConvergenceError(f"Bradley-Terry MM fit did not converge in {max_iter} iterations (last change {change:.3g})")


def bradley_terry_wins(
    items: Sequence[str],
    wins: np.ndarray,
    prior: float = 0.0,
    max_iter: int = 10_000,
    tol: float = 1e-10,
) -> BradleyTerryFit:
    """Fit Bradley-Terry strengths to a win matrix (`wins[i, j]`: times item i beat item j).

    See `bradley_terry_comparisons` for `prior`, the errors raised and the result.
    """
    items = tuple(items)
    wins = np.asarray(wins, dtype=float)
    if wins.shape != (len(items), len(items)):
        raise ValueError(f"wins has shape {wins.shape}, expected {(len(items), len(items))}")
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    compared = (wins + wins.T) > 0
    active = compared.any(axis=1)
    if active.sum() < 2:
        raise ValueError("Bradley-Terry needs comparisons between at least two items")
    _check_connected(items, compared, active)
    fitted = wins + prior * compared
    if prior == 0:
        _check_finite_mle(items, fitted, active)
    log_active, iterations = _mm_fit(fitted[np.ix_(active, active)], max_iter, tol)
    log_p = np.full(len(items), np.nan)
    log_p[active] = log_active
    order = np.flatnonzero(active)[np.argsort(-log_active, kind="stable")]
    return BradleyTerryFit(
        items=items,
        log_strengths=tuple(float(x) for x in log_p),
        ranking=tuple(items[k] for k in order),
        iterations=iterations,
        wins=wins,
    )


def bradley_terry_comparisons(
    winners: Sequence[str],
    losers: Sequence[str],
    items: Sequence[str] | None = None,
    prior: float = 0.0,
    max_iter: int = 10_000,
    tol: float = 1e-10,
) -> BradleyTerryFit:
    """Maximum-likelihood Bradley-Terry strengths from comparisons `winners[k]` beat `losers[k]`.

    `items` fixes the order of the result and may include items with no comparisons (their
    log-strength is nan and they are not ranked); without it the items are the names seen,
    sorted. A name outside `items`, or an item compared with itself, raises ValueError.

    `prior` > 0 adds `prior` pseudo-wins of each item over every other item it was compared
    with, a simple regulariser that pulls strengths together and keeps them finite. With
    `prior` = 0, data in which some item (or group of items) never wins, or never loses, against
    the rest has no finite maximum-likelihood estimate: NoFiniteEstimate (a ValueError) names
    those items. Groups of items never compared with each other raise it whatever the prior,
    since nothing places one group's strengths against the other's.

    The fit stops when no log-strength changes by `tol` or more in an iteration; if that has
    not happened after `max_iter` iterations, ConvergenceError names the count.
    """
    order, wins = win_matrix_comparisons(winners, losers, items)
    return bradley_terry_wins(order, wins, prior=prior, max_iter=max_iter, tol=tol)


def bradley_terry_ranking(
    winners: Sequence[str],
    losers: Sequence[str],
    items: Sequence[str] | None = None,
    prior: float = 0.0,
) -> list[str]:
    """The compared items ranked by Bradley-Terry strength, strongest first."""
    return list(bradley_terry_comparisons(winners, losers, items=items, prior=prior).ranking)


def _ranks(log_p: np.ndarray) -> np.ndarray:
    """Rank 1 = strongest among the finite entries; nan stays nan."""
    ranks = np.full(len(log_p), np.nan)
    finite = np.flatnonzero(~np.isnan(log_p))
    order = finite[np.argsort(-log_p[finite], kind="stable")]
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def _group_win_matrices(
    order: tuple[str, ...],
    winners: Sequence[str],
    losers: Sequence[str],
    groups: Sequence[Hashable],
) -> np.ndarray:
    """`out[g]`: the win matrix of the comparisons of group g (groups in order of appearance)."""
    if len(groups) != len(winners):
        raise ValueError(f"groups has {len(groups)} entries for {len(winners)} comparisons")
    index = {name: k for k, name in enumerate(order)}
    group_index: dict[Hashable, int] = {}
    codes = np.fromiter((group_index.setdefault(g, len(group_index)) for g in groups), np.int64, len(groups))
    n = len(order)
    cells = _codes(winners, index, "winners") * n + _codes(losers, index, "losers")
    flat = np.bincount(codes * n * n + cells, minlength=len(group_index) * n * n)
    return flat.reshape(len(group_index), n, n).astype(float)


def bootstrap_bradley_terry(
    winners: Sequence[str],
    losers: Sequence[str],
    groups: Sequence[Hashable] | None = None,
    items: Sequence[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    prior: float = 0.0,
    level: float = 0.95,
    max_iter: int = 10_000,
    tol: float = 1e-10,
) -> BradleyTerryBootstrap:
    """Percentile bootstrap intervals of Bradley-Terry log-strengths and ranks.

    Each of `n_boot` resamples draws the comparisons with replacement, or, with `groups` (one
    label per comparison, e.g. the scenario), draws whole groups with replacement and keeps all
    their comparisons. The interval of level `level` runs from the (1 - level)/2 to the
    (1 + level)/2 quantile of the resampled values.

    The full data must have a finite estimate (else NoFiniteEstimate, a ValueError, as in
    `bradley_terry_comparisons`). A resample without one (an item that never wins in it, or
    groups of items it never compares) is left out and counted in `failed`; if every resample
    fails, NoFiniteEstimate is raised. Many failures make the intervals too narrow: use
    `prior` > 0 for sparse data.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    order, wins = win_matrix_comparisons(winners, losers, items)
    fit = bradley_terry_wins(order, wins, prior=prior, max_iter=max_iter, tol=tol)
    rng = np.random.default_rng(seed)
    n = len(order)
    if groups is None:
        total = int(wins.sum())
        cell_p = wins.ravel() / total
    else:
        per_group = _group_win_matrices(order, winners, losers, groups)
    log_samples = np.empty((n_boot, n))
    rank_samples = np.empty((n_boot, n))
    failed = 0
    for b in range(n_boot):
        if groups is None:
            resampled = rng.multinomial(total, cell_p).reshape(n, n).astype(float)
        else:
            drawn = np.bincount(rng.integers(len(per_group), size=len(per_group)), minlength=len(per_group))
            resampled = np.tensordot(drawn, per_group, axes=1)
        try:
            boot = bradley_terry_wins(order, resampled, prior=prior, max_iter=max_iter, tol=tol)
        except NoFiniteEstimate:
            log_samples[b] = rank_samples[b] = np.nan
            failed += 1
            continue
        log_samples[b] = boot.log_strengths
        rank_samples[b] = _ranks(np.asarray(boot.log_strengths))
    if failed == n_boot:
        raise NoFiniteEstimate(f"no bootstrap resample of {n_boot} has finite Bradley-Terry strengths; use prior > 0")
    tail = (1 - level) / 2
    return BradleyTerryBootstrap(
        fit=fit,
        level=level,
        log_strength_low=_nanquantile(log_samples, tail, "linear"),
        log_strength_high=_nanquantile(log_samples, 1 - tail, "linear"),
        rank_low=_nanquantile(rank_samples, tail, "inverted_cdf"),
        rank_high=_nanquantile(rank_samples, 1 - tail, "inverted_cdf"),
        log_strength_samples=log_samples,
        rank_samples=rank_samples,
        failed=failed,
    )


def _nanquantile(samples: np.ndarray, q: float, method: QuantileMethod) -> np.ndarray:
    """Column quantiles ignoring nan; an all-nan column gives nan."""
    out = np.full(samples.shape[1], np.nan)
    for k in range(samples.shape[1]):
        column = samples[:, k][~np.isnan(samples[:, k])]
        if column.size:
            out[k] = np.quantile(column, q, method=method)
    return out
