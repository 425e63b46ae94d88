"""Agreement between rankings (Kendall's tau and W) and between labellers (Cohen's kappa, F1).

A ranking is given either as a sequence of item names, first = top, or as a mapping from item
name to a number that orders the items, smaller first (a rank: 1 = top). Equal numbers are ties.
A mapping of scores where larger is better orders the items the other way round: negate the
scores, or pass both rankings in the same form, since only their relative order matters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Ranking = Sequence[str] | Mapping[str, float]


@dataclass(frozen=True)
class KendallTau:
    """Kendall's tau-b between two rankings and its two-sided p-value."""

    tau: float
    p_value: float
    n: int
    """Items ranked."""


@dataclass(frozen=True)
class KendallW:
    """Kendall's coefficient of concordance with its chi-square test."""

    w: float
    chi_square: float
    """m (n - 1) W, chi-square with n - 1 degrees of freedom when there is no concordance."""
    df: int
    p_value: float
    raters: int
    items: int


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision, recall and F1 of predicted labels for one positive label.

    Precision is nan when nothing was predicted positive, recall when nothing is truly
    positive; F1 = 2 TP / (2 TP + FP + FN) is nan only when both are.
    """

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def rank_map(ranking: Ranking) -> dict[str, float]:
    """Item name -> rank number (smaller first) for a sequence of names or a mapping."""
    if isinstance(ranking, Mapping):
        return {name: float(value) for name, value in ranking.items()}
    if isinstance(ranking, str):
        raise ValueError("a ranking is a sequence of item names, not one string")
    names = list(ranking)
    if len(set(names)) != len(names):
        twice = sorted(name for name, c in Counter(names).items() if c > 1)
        raise ValueError(f"ranking lists {', '.join(map(str, twice))} more than once")
    return {name: float(k) for k, name in enumerate(names, start=1)}


def _same_items(first: dict[str, float], other: dict[str, float], which: str) -> None:
    if set(first) != set(other):
        missing = sorted(set(first) ^ set(other), key=str)
        raise ValueError(f"{which} ranks different items; not in both: {', '.join(map(str, missing))}")


def kendall_tau_rankings(rank_a: Ranking, rank_b: Ranking) -> KendallTau:
    """Kendall's tau-b (ties allowed) between two rankings of the same items, by scipy.

    Both rankings must cover exactly the same items (ValueError naming the others). A ranking
    that ties every item gives nan.
    """
    a, b = rank_map(rank_a), rank_map(rank_b)
    _same_items(a, b, "rank_b")
    if len(a) < 2:
        raise ValueError("Kendall's tau needs at least two items")
    names = list(a)
    result = stats.kendalltau([a[k] for k in names], [b[k] for k in names])
    return KendallTau(tau=float(result.statistic), p_value=float(result.pvalue), n=len(names))


def kendall_w_rankings(rankings: Sequence[Ranking]) -> KendallW:
    """Kendall's W for m raters ranking the same n items, corrected for ties.

    Each rating is turned into ranks 1..n (tied items share the mean of their ranks). With R_i
    the rank sum of item i, S = sum_i (R_i - m (n + 1) / 2)^2 and, for rater j, T_j = sum over
    groups of t tied items of t^3 - t,
        W = 12 S / (m^2 (n^3 - n) - m sum_j T_j),
    and m (n - 1) W is compared to chi-square with n - 1 degrees of freedom. W is nan when every
    rater ties every item.
    """
    maps = [rank_map(r) for r in rankings]
    if len(maps) < 2:
        raise ValueError("Kendall's W needs at least two rankings")
    for j, other in enumerate(maps[1:], start=2):
        _same_items(maps[0], other, f"ranking {j}")
    names = list(maps[0])
    m, n = len(maps), len(names)
    if n < 2:
        raise ValueError("Kendall's W needs at least two items")
    ranks = np.array([stats.rankdata([r[k] for k in names]) for r in maps])
    sums = ranks.sum(axis=0)
    s = float(((sums - m * (n + 1) / 2) ** 2).sum())
    ties = 0.0
    for r in maps:
        sizes = np.array(list(Counter(r.values()).values()), dtype=float)
        ties += float((sizes**3 - sizes).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    w = 12 * s / denominator if denominator > 0 else float("nan")
    chi_square = m * (n - 1) * w
    return KendallW(
        w=w,
        chi_square=chi_square,
        df=n - 1,
        p_value=float(stats.chi2.sf(chi_square, n - 1)),
        raters=m,
        items=n,
    )


def _paired(a: Sequence[Hashable], b: Sequence[Hashable], names: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{names} differ in length ({len(a)} vs {len(b)})")
    if not a:
        raise ValueError(f"{names} are empty")


def cohen_kappa_labels(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa between two labellers of the same items: (p_o - p_e) / (1 - p_e).

    p_o is the share of items given the same label, p_e the agreement expected by chance,
    sum over labels of the product of the two labellers' shares of that label. Kappa is nan
    when p_e = 1 (both labellers give one and the same label to everything).
    """
    _paired(a, b, "label lists")
    total = len(a)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / total
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / total**2
    if expected == 1:
        return float("nan")
    return (observed - expected) / (1 - expected)


def f1_labels(true: Sequence[Hashable], pred: Sequence[Hashable], positive: Hashable = True) -> PrecisionRecall:
    """Precision, recall and F1 of `pred` against `true`, counting `positive` as the positive label."""
    _paired(true, pred, "true and predicted labels")
    tp = sum(1 for t, p in zip(true, pred, strict=True) if t == positive and p == positive)
    fp = sum(1 for t, p in zip(true, pred, strict=True) if t != positive and p == positive)
    fn = sum(1 for t, p in zip(true, pred, strict=True) if t == positive and p != positive)
    nan = float("nan")
    return PrecisionRecall(
        precision=tp / (tp + fp) if tp + fp else nan,
        recall=tp / (tp + fn) if tp + fn else nan,
        f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else nan,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def fleiss_kappa_labels(items: Sequence[Sequence[Hashable]]) -> float:
    """Fleiss' kappa of several labellers over items: (P - P_e) / (1 - P_e).

    `items` holds, per item, the labels its labellers gave (one label per labeller; items may
    have different numbers of labellers, and an item with fewer than two labels is left out).
    For an item with n labels, n_j of them label j, its agreement is
    P_i = (sum_j n_j^2 - n) / (n (n - 1)); P is the mean of P_i over items, and P_e the sum over
    labels of the squared share of all labels that are that label. With the same number of
    labellers for every item this is Fleiss' kappa. Kappa is nan when no item has two labels,
    or when P_e = 1 (every label given is one and the same).
    """
    rated = [list(labels) for labels in items if len(labels) >= 2]
    if not rated:
        return float("nan")
    agreements = []
    totals: Counter[Hashable] = Counter()
    for labels in rated:
        counts = Counter(labels)
        n = len(labels)
        agreements.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
        totals.update(counts)
    given = sum(totals.values())
    expected = sum((c / given) ** 2 for c in totals.values())
    if expected >= 1.0:
        return float("nan")
    observed = sum(agreements) / len(agreements)
    return (observed - expected) / (1 - expected)
