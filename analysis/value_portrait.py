"""Value portrait scoring: centred value scores from Likert item ratings, reliability, and profile comparisons.

An item is a query-response pair rated from 1 ("not like me at all") to 6 ("very much like me").
Each item carries the Spearman correlation (and its p-value) between the human ratings of the
item and the raters' scores on each Schwartz value or Big Five trait. The published scoring
(`value_scores_ratings` with its defaults) works as follows:

- an item measures a dimension when its correlation with it is at least 0.3 and significant at
  the 0.05 level (this is what leaves out portrait 3902 response 4 for Achievement, p = 0.0505,
  and portrait 1901 response 1 for Universalism, p = 0.0539);
- a dimension's `original_mean` is the mean rating of its items, `std_dev` their population
  standard deviation, `n` their count;
- its `centered_mean` is that mean minus the mean rating of every item that measures at least
  one dimension of the same family (values, or traits), each item counted once.

Means are computed with `math.fsum`, so that the result does not depend on the order of items
and equals the published numbers to the last printed digit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

LIKERT_MAX = 6
"""The highest rating; a reversed rating is `LIKERT_MAX + 1 - rating`."""
PUBLISHED_THRESHOLD = 0.3
"""Smallest correlation for an item to measure a dimension, in the published scoring."""
PUBLISHED_ALPHA = 0.05
"""Significance level a correlation must reach, in the published scoring."""

CIRCUMPLEX = (
    "Self_Direction",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power",
    "Security",
    "Conformity",
    "Tradition",
    "Benevolence",
    "Universalism",
)
"""The ten values in the order of Schwartz's circle, the order of the radar plot's axes."""

Correlation = tuple[float, float | None]
"""A Spearman correlation and its p-value (None when unknown: then it is not checked)."""
ItemCorrelations = Mapping[str, Mapping[str, Correlation | float]]
"""Item id -> dimension -> correlation (a `(rho, p)` pair or a bare rho)."""


@dataclass(frozen=True)
class ValueScore:
    """The score of one value (or trait) from one respondent's item ratings."""

    centered_mean: float
    """Mean rating of the value's items minus the mean rating of all scored items (NaN when n is 0)."""
    original_mean: float
    """Mean rating of the value's items (NaN when n is 0)."""
    std_dev: float
    """Population standard deviation of those ratings (NaN when n is 0)."""
    n: int
    """Items that measured the value and had a rating."""


@dataclass(frozen=True)
class ProfileMatch:
    """How close a profile is to one published profile."""

    model: str
    distance: float
    """Euclidean distance between the two vectors of centred scores."""
    correlation: float
    """Pearson correlation between them (NaN when either is constant)."""
    shared: int
    """Dimensions both profiles score."""


def _split(correlation: Correlation | float | Sequence[float]) -> tuple[float, float | None]:
    if isinstance(correlation, (int, float)):
        return float(correlation), None
    rho, p = correlation[0], correlation[1] if len(correlation) > 1 else None
    return float(rho), (None if p is None else float(p))


def qualifying_items_correlations(
    correlations: ItemCorrelations,
    *,
    threshold: float = PUBLISHED_THRESHOLD,
    alpha: float | None = PUBLISHED_ALPHA,
    absolute: bool = False,
) -> dict[str, list[tuple[str, int]]]:
    """The items measuring each dimension, as `(item, sign)` pairs (sign -1: negative correlation, `absolute` only).

    An item measures a dimension when its correlation is at least `threshold` (its absolute value
    when `absolute`) and, if `alpha` is given and the p-value known, its p-value is below `alpha`.
    Dimensions appear in order of first appearance; items in the order of `correlations`.
    """
    found: dict[str, list[tuple[str, int]]] = {}
    for item, by_dimension in correlations.items():
        for dimension, correlation in by_dimension.items():
            rho, p = _split(correlation)
            strong = abs(rho) >= threshold if absolute else rho >= threshold
            significant = alpha is None or p is None or p < alpha
            if strong and significant:
                found.setdefault(dimension, []).append((item, -1 if rho < 0 else 1))
            else:
                found.setdefault(dimension, [])
    return found


@dataclass(frozen=True)
class ItemValidity:
    """How many item-dimension correlations of one family are significant (Value Portrait sec. 3.2, footnote 6)."""

    significant: int
    """Item-dimension pairs with |rho| > 0.3 and p < 0.05 (the paper's 549 values / 287 traits over 520 items)."""
    positive: int
    """Those with rho >= 0.3: the pairs the scoring uses (an item measures a dimension it correlates with)."""
    items: int
    """Items with at least one significant correlation."""
    by_dimension: dict[str, int]
    """Significant correlations per dimension."""


def item_validity_correlations(
    correlations: ItemCorrelations, *, threshold: float = PUBLISHED_THRESHOLD, alpha: float = PUBLISHED_ALPHA
) -> ItemValidity:
    """Count the significant correlations of one family: |rho| > `threshold` and p < `alpha` (a correlation with
    an unknown p-value counts on its size alone)."""
    by_dimension: dict[str, int] = {}
    positive = 0
    items = set()
    for item, by_item in correlations.items():
        for dimension, correlation in by_item.items():
            rho, p = _split(correlation)
            by_dimension.setdefault(dimension, 0)
            if abs(rho) > threshold and (p is None or p < alpha):
                by_dimension[dimension] += 1
                positive += rho >= threshold
                items.add(item)
    return ItemValidity(sum(by_dimension.values()), positive, len(items), by_dimension)


def _rated(value: float | None) -> TypeGuard[float]:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _rated_only(ratings: Mapping[str, float | None]) -> dict[str, float]:
    """The rated items' ratings, as floats; unrated items (None or NaN) left out."""
    return {item: float(value) for item, value in ratings.items() if _rated(value)}


def value_scores_ratings(
    ratings: Mapping[str, float | None],
    correlations: ItemCorrelations,
    *,
    threshold: float = PUBLISHED_THRESHOLD,
    alpha: float | None = PUBLISHED_ALPHA,
    absolute: bool = False,
) -> dict[str, ValueScore]:
    """Score every dimension of `correlations` from item ratings (1 to 6; None or NaN for unrated items).

    With the defaults this is the published scoring (see the module docstring). `absolute=True`
    also lets negatively correlated items measure a dimension, with their rating reversed
    (`7 - rating`); the centre stays the mean raw rating of the items that measure something.
    """
    qualifying = qualifying_items_correlations(correlations, threshold=threshold, alpha=alpha, absolute=absolute)
    rated = _rated_only(ratings)
    scored = {item for pairs in qualifying.values() for item, _ in pairs if item in rated}
    centre = math.fsum(rated[item] for item in scored) / len(scored) if scored else math.nan
    scores = {}
    for dimension, pairs in qualifying.items():
        values = [rated[item] if sign > 0 else LIKERT_MAX + 1 - rated[item] for item, sign in pairs if item in rated]
        if not values:
            scores[dimension] = ValueScore(math.nan, math.nan, math.nan, 0)
            continue
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
        scores[dimension] = ValueScore(mean - centre, mean, std, len(values))
    return scores


def item_means_ratings(variant_ratings: Mapping[str, Sequence[float | None]]) -> dict[str, float | None]:
    """Each item's rating: the mean over its parsed variant ratings (None when none parsed)."""
    means: dict[str, float | None] = {}
    for item, values in variant_ratings.items():
        parsed = [float(v) for v in values if _rated(v)]
        means[item] = math.fsum(parsed) / len(parsed) if parsed else None
    return means


def cronbach_alpha_ratings(ratings: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Cronbach's alpha of a respondents x items matrix: `k/(k-1) * (1 - sum of item variances / variance of totals)`.

    Variances use `ddof=1`. Rows with a missing (NaN) rating are left out. NaN when fewer than
    two items or two complete rows remain, or when the totals do not vary.
    """
    matrix = np.asarray(ratings, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"expected a respondents x items matrix, got an array of {matrix.ndim} dimensions")
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    respondents, items = matrix.shape
    if items < 2 or respondents < 2:
        return math.nan
    total_variance = float(np.var(matrix.sum(axis=1), ddof=1))
    if total_variance == 0:
        return math.nan
    item_variances = float(np.var(matrix, axis=0, ddof=1).sum())
    return items / (items - 1) * (1 - item_variances / total_variance)


def value_alphas_ratings(
    ratings_by_respondent: Mapping[str, Mapping[str, float | None]],
    correlations: ItemCorrelations,
    *,
    threshold: float = PUBLISHED_THRESHOLD,
    alpha: float | None = PUBLISHED_ALPHA,
) -> dict[str, dict[str, float | int]]:
    """Cronbach's alpha of each dimension's items across respondents (e.g. models).

    Returns `{dimension: {alpha, items, respondents}}`.
    A dimension's items are those `value_scores_ratings` would use; items some respondent did not
    rate are left out.
    """
    respondents = list(ratings_by_respondent)
    rated = {r: _rated_only(ratings_by_respondent[r]) for r in respondents}
    result: dict[str, dict[str, float | int]] = {}
    for dimension, pairs in qualifying_items_correlations(correlations, threshold=threshold, alpha=alpha).items():
        items = [item for item, _ in pairs if all(item in rated[r] for r in respondents)]
        matrix = [[rated[r][item] for item in items] for r in respondents]
        value = cronbach_alpha_ratings(matrix) if items else math.nan
        result[dimension] = {"alpha": value, "items": len(items), "respondents": len(respondents)}
    return result


def nearest_profiles_scores(
    profile: Mapping[str, float], published: Mapping[str, Mapping[str, float]]
) -> list[ProfileMatch]:
    """Published profiles sorted from nearest to farthest (Euclidean distance over the dimensions both score)."""
    matches = []
    for model, other in published.items():
        shared = [d for d in profile if d in other and _rated(profile[d]) and _rated(other[d])]
        if not shared:
            continue
        a = np.array([profile[d] for d in shared], dtype=float)
        b = np.array([other[d] for d in shared], dtype=float)
        distance = float(np.linalg.norm(a - b))
        correlation = float(np.corrcoef(a, b)[0, 1]) if len(shared) > 1 and a.std() > 0 and b.std() > 0 else math.nan
        matches.append(ProfileMatch(model, distance, correlation, len(shared)))
    return sorted(matches, key=lambda m: (m.distance, m.model))


def score_changes_scores(steered: Mapping[str, float], unsteered: Mapping[str, float]) -> dict[str, float]:
    """Change of each centred score from the unsteered run to the steered one (NaN where either is missing)."""
    return {
        d: (steered[d] - unsteered[d]) if _rated(steered.get(d)) and _rated(unsteered.get(d)) else math.nan
        for d in dict.fromkeys([*steered, *unsteered])
    }


def plot_value_radar(
    profiles: Mapping[str, Mapping[str, float]], path: Path, *, title: str = "Value orientation"
) -> Path:
    """Draw the profiles (label -> dimension -> centred score) on one radar chart, side by side in colour.

    Missing scores are drawn at 0 (the dashed ring).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from moot.analysis.plot_style import colour_of, save_figure

    found = list(dict.fromkeys(d for profile in profiles.values() for d in profile))
    dimensions = sorted(
        found, key=lambda d: CIRCUMPLEX.index(d) if d in CIRCUMPLEX else len(CIRCUMPLEX) + found.index(d)
    )
    angles = np.linspace(0, 2 * np.pi, len(dimensions), endpoint=False).tolist()
    figure, axes = plt.subplots(figsize=(7, 7), subplot_kw={"polar": True})
    for label, profile in profiles.items():
        values = [float(profile[d]) if _rated(profile.get(d)) else 0.0 for d in dimensions]
        colour = colour_of(label)
        axes.plot(angles + angles[:1], values + values[:1], linewidth=1.5, label=label, color=colour)
        axes.fill(angles + angles[:1], values + values[:1], alpha=0.08, color=colour)
    # the centre: the mean item
    axes.plot(angles + angles[:1], [0.0] * (len(angles) + 1), color="black", linewidth=0.8, linestyle="--")
    axes.set_xticks(angles)
    axes.set_xticklabels([d.replace("_", "-") for d in dimensions], fontsize=9)
    axes.set_title(title)
    axes.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=8)
    return save_figure(figure, path)


def correlations_from_metadata(metadata: Mapping[str, Any], family: str) -> dict[str, Correlation]:
    """An item's correlations of one family (`values` or `traits`) from its scenario metadata.

    The metadata holds `{dimension: [rho, p]}` under the family's key.
    """
    return {dimension: _split(pair) for dimension, pair in (metadata.get(family) or {}).items()}
