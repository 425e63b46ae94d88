"""Jaccard and cluster-aware Jaccard on value sets worked out by hand."""

from __future__ import annotations

import math

import pytest

from moot.analysis.similarity import cluster_jaccard_sets, jaccard_sets

# x1..x3 share cluster X, y1 and y2 share Y, z is alone in Z, w has no cluster.
CLUSTER = {"x1": "X", "x2": "X", "x3": "X", "y1": "Y", "y2": "Y", "z": "Z"}


def test_jaccard_by_hand():
    # {a, b, c} and {b, c, d}: 2 shared of 4 in the union.
    assert jaccard_sets({"a", "b", "c"}, {"b", "c", "d"}) == 0.5
    assert jaccard_sets(["a", "a"], ["a"]) == 1.0
    assert jaccard_sets({"a"}, set()) == 0.0
    assert jaccard_sets({"a"}, {"b"}) == 0.0


def test_jaccard_of_two_empty_sets_is_nan():
    assert math.isnan(jaccard_sets(set(), set()))
    assert math.isnan(cluster_jaccard_sets(set(), set(), CLUSTER))


def test_cluster_jaccard_gives_partial_credit_within_a_cluster():
    # a = {x1, y1, z}, b = {x1, y2, w}. Exact: x1 -> 1. Left: a {y1 (Y), z (Z)}, b {y2 (Y), w (none)}.
    # One pair (y1, y2) in Y -> 0.5. credit 1.5; similarity 1.5 / (3 + 3 - 1.5) = 1/3.
    # Plain Jaccard would be 1 / 5.
    a, b = {"x1", "y1", "z"}, {"x1", "y2", "w"}
    assert cluster_jaccard_sets(a, b, CLUSTER) == pytest.approx(1 / 3, abs=1e-12)
    assert jaccard_sets(a, b) == pytest.approx(1 / 5)


def test_cluster_jaccard_pairs_each_value_once():
    # a = {x1}, b = {x2, x3}, all in X. A one-to-one matching pairs x1 with one of them only:
    # credit 0.5, similarity 0.5 / (1 + 2 - 0.5) = 0.2. Crediting every same-cluster pair
    # (x1-x2 and x1-x3) would give 1.0 / (3 - 1.0) = 0.5 instead.
    assert cluster_jaccard_sets({"x1"}, {"x2", "x3"}, CLUSTER) == pytest.approx(0.2, abs=1e-12)
    # Two on each side: a = {x1, y1}, b = {x2, x3}. Only one X pair is possible (y1 has no Y
    # partner): credit 0.5, similarity 0.5 / (4 - 0.5) = 1/7.
    assert cluster_jaccard_sets({"x1", "y1"}, {"x2", "x3"}, CLUSTER) == pytest.approx(1 / 7, abs=1e-12)


def test_cluster_jaccard_does_not_reuse_exact_matches():
    # a = {x1, x2}, b = {x2, x3}: x2 is exact (1); the leftovers x1 and x3 pair in X (0.5).
    # credit 1.5, similarity 1.5 / (4 - 1.5) = 0.6. x2 is not paired again with x1 or x3.
    assert cluster_jaccard_sets({"x1", "x2"}, {"x2", "x3"}, CLUSTER) == pytest.approx(0.6, abs=1e-12)


def test_cluster_jaccard_limits():
    a, b = {"x1", "y1", "z"}, {"x1", "y2", "w"}
    # partial 0 is plain Jaccard; partial 1 counts a same-cluster pair as a match.
    assert cluster_jaccard_sets(a, b, CLUSTER, partial=0.0) == pytest.approx(jaccard_sets(a, b))
    assert cluster_jaccard_sets({"x1"}, {"x2"}, CLUSTER, partial=1.0) == 1.0
    assert cluster_jaccard_sets(a, a, CLUSTER) == 1.0
    # Values without a cluster never pair.
    assert cluster_jaccard_sets({"w"}, {"v"}, CLUSTER) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        cluster_jaccard_sets(a, b, CLUSTER, partial=1.5)
