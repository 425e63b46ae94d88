"""Similarity of two value sets: plain Jaccard, and Jaccard with partial credit for related values."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping


def jaccard_sets(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """Return |a & b| / |a | b|; NaN when both sets are empty (callers skip such pairs).

    Two empty sets carry no evidence of agreement or disagreement, so they get no number rather
    than a conventional 1.0 that would inflate averages.
    """
    a, b = set(a), set(b)
    union = len(a | b)
    return len(a & b) / union if union else math.nan


def cluster_jaccard_sets(
    a: Iterable[str],
    b: Iterable[str],
    cluster: Mapping[str, str],
    partial: float = 0.5,
) -> float:
    """Jaccard similarity in which values sharing a parent cluster earn `partial` credit.

    Each value common to both sets earns 1. The values left over on each side are then paired
    one-to-one with a value of the other side that has the same cluster, as many pairs as
    possible (a maximum matching); each pair earns `partial`. A value can be in one pair only, and
    a value missing from `cluster` is never paired. The similarity is

        credit / (|a| + |b| - credit),

    which is the plain Jaccard index when `partial` is 0 and lies in [0, 1]. Because each value
    has one cluster, the maximum matching pairs min(#a left in c, #b left in c) values within
    each cluster c. Returns NaN when both sets are empty.
    """
    if not 0.0 <= partial <= 1.0:
        raise ValueError(f"partial credit must be between 0 and 1, got {partial}")
    a, b = set(a), set(b)
    if not a and not b:
        return math.nan
    exact = a & b
    left_a = Counter(cluster[v] for v in a - exact if v in cluster)
    left_b = Counter(cluster[v] for v in b - exact if v in cluster)
    pairs = sum(min(count, left_b[c]) for c, count in left_a.items())
    credit = len(exact) + partial * pairs
    return credit / (len(a) + len(b) - credit)
