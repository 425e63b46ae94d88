"""Value portrait scoring: the published scores from the published ratings, and hand-worked cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from moot.analysis.study_value_portrait import load_published_profiles
from moot.analysis.value_portrait import (
    correlations_from_metadata,
    cronbach_alpha_ratings,
    item_means_ratings,
    item_validity_correlations,
    nearest_profiles_scores,
    qualifying_items_correlations,
    score_changes_scores,
    value_alphas_ratings,
    value_scores_ratings,
)
from moot.scenarios.loader import load_scenarios, resolve_scenario_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "value_portrait"
MODEL = "gpt-4o-mini-2024-07-18"
VARIANTS = ("v1", "v1_reversed", "v2", "v2_reversed", "v3", "v3_reversed")


@pytest.fixture(scope="module")
def items():
    """The 520 bundled items."""
    return load_scenarios(resolve_scenario_source("value_portrait")).scenarios


@pytest.fixture(scope="module")
def published_ratings() -> dict[str, dict[str, float]]:
    """gpt-4o-mini's published ratings: item -> the six variants and their mean."""
    return json.loads((FIXTURES / f"{MODEL}_ratings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def published_scores() -> dict[str, dict[str, dict[str, float]]]:
    """gpt-4o-mini's published score file (threshold 0.3, positive correlations, centred)."""
    return json.loads(
        (FIXTURES / f"{MODEL}_averaged_results_0.3_pos_centered_scores.json").read_text(encoding="utf-8")
    )["scores"]


# --- the published numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "published_key"), [("values", "pvq"), ("traits", "bfi")])
def test_published_scores_are_reproduced_exactly(items, published_ratings, published_scores, family, published_key):
    ratings = {item: row["numeric_response"] for item, row in published_ratings.items()}
    correlations = {s.id: correlations_from_metadata(s.metadata, family) for s in items}
    scores = value_scores_ratings(ratings, correlations)
    expected = published_scores[published_key]
    assert set(scores) == set(expected)
    for dimension, published in expected.items():
        score = scores[dimension]
        # Equal as floats, to the last printed digit.
        assert (score.n, score.centered_mean, score.original_mean, score.std_dev) == (
            published["n"],
            published["centered_mean"],
            published["original_mean"],
            published["std_dev"],
        ), dimension


def test_the_two_named_pairs_are_left_out_by_significance(items):
    correlations = {s.id: correlations_from_metadata(s.metadata, "values") for s in items}
    kept = qualifying_items_correlations(correlations)
    assert ("vp-3902-4", 1) not in kept["Achievement"] and ("vp-1901-1", 1) not in kept["Universalism"]
    # Both correlate at least 0.3, but with p >= 0.05; without the p-value check they would count.
    loose = qualifying_items_correlations(correlations, alpha=None)
    assert ("vp-3902-4", 1) in loose["Achievement"] and ("vp-1901-1", 1) in loose["Universalism"]
    assert sum(len(v) for v in loose.values()) - sum(len(v) for v in kept.values()) == 2


def test_item_rating_is_the_mean_of_the_six_variants(published_ratings):
    means = item_means_ratings({item: [row[v] for v in VARIANTS] for item, row in published_ratings.items()})
    assert means == {item: row["numeric_response"] for item, row in published_ratings.items()}


def test_bundled_profiles_hold_the_published_scores(published_scores):
    profiles = load_published_profiles()
    assert len(profiles) == 34
    assert profiles[MODEL]["values"] == {d: s["centered_mean"] for d, s in published_scores["pvq"].items()}
    assert profiles[MODEL]["traits"] == {d: s["centered_mean"] for d, s in published_scores["bfi"].items()}


# --- hand-worked cases -----------------------------------------------------------------------------

# Four items rated a=6, b=3, c=2, d=5, correlated with two values X and Y as (rho, p):
#   a: X (0.5, 0.01)   Y (-0.4, 0.01)
#   b: X (0.35, 0.04)  Y (0.1, 0.5)
#   c: X (0.31, 0.06)  Y (0.3, 0.001)     X not significant
#   d: X (0.2, 0.2)    Y (0.0, 1.0)       measures nothing
HAND_RATINGS = {"a": 6.0, "b": 3.0, "c": 2.0, "d": 5.0}
HAND_CORRELATIONS = {
    "a": {"X": (0.5, 0.01), "Y": (-0.4, 0.01)},
    "b": {"X": (0.35, 0.04), "Y": (0.1, 0.5)},
    "c": {"X": (0.31, 0.06), "Y": (0.3, 0.001)},
    "d": {"X": (0.2, 0.2), "Y": (0.0, 1.0)},
}


def test_value_scores_hand_case_positive():
    # X: a, b -> mean 4.5, population std 1.5; Y: c -> 2, std 0.
    # Centre: items measuring anything (a, b, c): (6 + 3 + 2) / 3 = 11/3.
    scores = value_scores_ratings(HAND_RATINGS, HAND_CORRELATIONS)
    assert scores["X"].n == 2 and scores["X"].original_mean == 4.5 and scores["X"].std_dev == 1.5
    assert scores["X"].centered_mean == pytest.approx(4.5 - 11 / 3)
    assert scores["Y"].n == 1 and scores["Y"].original_mean == 2.0 and scores["Y"].std_dev == 0.0
    assert scores["Y"].centered_mean == pytest.approx(2 - 11 / 3)


def test_value_scores_hand_case_absolute_reverses_negative_items():
    # Y now also takes a (rho -0.4) with its rating reversed: 7 - 6 = 1. Y: (1 + 2) / 2 = 1.5, std 0.5.
    # The centre is unchanged (a, b, c measure something either way): 11/3.
    scores = value_scores_ratings(HAND_RATINGS, HAND_CORRELATIONS, absolute=True)
    assert scores["Y"].n == 2 and scores["Y"].original_mean == 1.5 and scores["Y"].std_dev == 0.5
    assert scores["Y"].centered_mean == pytest.approx(1.5 - 11 / 3)
    assert scores["X"].original_mean == 4.5


def test_value_scores_hand_case_without_significance_and_with_a_missing_rating():
    # Without the p-value check c measures X too: X = (6 + 3 + 2) / 3 = 11/3 = the centre.
    assert value_scores_ratings(HAND_RATINGS, HAND_CORRELATIONS, alpha=None)["X"].centered_mean == pytest.approx(0.0)
    # b unrated (unparsed): X = a alone = 6; centre over a and c = 4; Y = 2 - 4.
    scores = value_scores_ratings({**HAND_RATINGS, "b": None}, HAND_CORRELATIONS)
    assert (scores["X"].n, scores["X"].centered_mean, scores["Y"].centered_mean) == (1, 2.0, -2.0)
    # A value no rated item measures has no score.
    empty = value_scores_ratings({"a": None, "b": None, "c": None, "d": 5.0}, HAND_CORRELATIONS)
    assert empty["X"].n == 0 and math.isnan(empty["X"].centered_mean)


def test_cronbach_alpha_hand_case():
    # Respondents x items [[1, 2], [2, 3], [3, 5]] (ddof 1):
    # item variances 1 and 7/3; totals 3, 5, 8 have variance 19/3.
    # alpha = 2/1 * (1 - (1 + 7/3) / (19/3)) = 2 * 9/19 = 18/19.
    assert cronbach_alpha_ratings([[1, 2], [2, 3], [3, 5]]) == pytest.approx(18 / 19)
    # A row with a missing rating is left out.
    assert cronbach_alpha_ratings([[1, 2], [2, 3], [3, 5], [4, np.nan]]) == pytest.approx(18 / 19)
    # Perfectly parallel items: alpha = 2 * (1 - 2/4) = 1.
    assert cronbach_alpha_ratings([[1, 1], [2, 2], [3, 3]]) == pytest.approx(1.0)
    assert math.isnan(cronbach_alpha_ratings([[1], [2], [3]]))
    assert math.isnan(cronbach_alpha_ratings([[2, 2], [2, 2]]))


def test_item_validity_hand_case():
    """|rho| > 0.3 and p < 0.05: a counts for Power (0.4, p 0.01) and, negatively, Security (-0.35, p 0.02); b for
    Power (0.31, p unknown: counted on its size); not a's Hedonism (0.3 is not above 0.3) nor b's Security (p 0.05).
    Significant 3 (Power 2, Security 1, Hedonism 0), positive (rho >= 0.3) 2, items 2."""
    found = item_validity_correlations(
        {
            "a": {"Power": (0.4, 0.01), "Security": (-0.35, 0.02), "Hedonism": (0.3, 0.001)},
            "b": {"Power": 0.31, "Security": (0.5, 0.05)},
        }
    )
    assert (found.significant, found.positive, found.items) == (3, 2, 2)
    assert found.by_dimension == {"Power": 2, "Security": 1, "Hedonism": 0}


def test_item_validity_of_the_bundled_items_is_the_papers(items):
    """Value Portrait sec. 3.2: 836 significant correlations over the 520 items, 549 with values, 287 with traits."""
    counts = {
        family: item_validity_correlations({s.id: correlations_from_metadata(s.metadata, family) for s in items})
        for family in ("values", "traits")
    }
    assert (counts["values"].significant, counts["traits"].significant) == (549, 287)


def test_value_alphas_use_each_values_items_across_respondents():
    # X's items are a and b (c fails p < 0.05): the matrix is the respondents' (a, b) ratings,
    # [[1, 2], [2, 3], [3, 5]] -> 18/19 as above. Y has one item (c): no alpha.
    ratings = {"m1": {"a": 1, "b": 2, "c": 4}, "m2": {"a": 2, "b": 3, "c": 1}, "m3": {"a": 3, "b": 5, "c": 6}}
    alphas = value_alphas_ratings(ratings, HAND_CORRELATIONS)
    assert (
        alphas["X"]["alpha"] == pytest.approx(18 / 19) and alphas["X"]["items"] == 2 and alphas["X"]["respondents"] == 3
    )
    assert alphas["Y"]["items"] == 1 and math.isnan(alphas["Y"]["alpha"])


def test_nearest_profiles_by_distance_with_correlation():
    # m1 equals the profile (distance 0, r 1); m3 shares A and B: distance sqrt(1 + 1), r of (1, 0) vs (2, 1) = 1;
    # m2 is the mirror image: distance sqrt(4 + 0 + 4), r -1.
    profile = {"A": 1.0, "B": 0.0, "C": -1.0}
    published = {"m2": {"A": -1.0, "B": 0.0, "C": 1.0}, "m1": dict(profile), "m3": {"A": 2.0, "B": 1.0}}
    matches = nearest_profiles_scores(profile, published)
    assert [m.model for m in matches] == ["m1", "m3", "m2"]
    assert [m.distance for m in matches] == pytest.approx([0.0, math.sqrt(2), math.sqrt(8)])
    assert [m.correlation for m in matches] == pytest.approx([1.0, 1.0, -1.0])
    assert [m.shared for m in matches] == [3, 2, 3]


def test_score_changes_against_the_unsteered_run():
    changes = score_changes_scores({"A": 0.5, "B": -0.25, "C": 1.0}, {"A": 0.25, "B": 0.25, "D": 0.0})
    assert changes["A"] == 0.25 and changes["B"] == -0.5
    assert math.isnan(changes["C"]) and math.isnan(changes["D"])
