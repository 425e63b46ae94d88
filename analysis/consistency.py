"""Measures of the consistency study: value preferences from short choices and from long answers, and how they agree.

- Short form: each choice between two actions is a TrueSkill match between the chosen action's
  values and the other action's (`trueskill_value_choices`; paper sec. 2.2 and app. A.1); a value's
  preference is its mu. A value of both actions plays on both sides, as in the paper.
- Long form: a value's preference is minus the mean, over the answers that carry it, of the
  first position of an argument carrying it divided by the number of arguments
  (`position_preferences_answers`).
- Agreement: Pearson and Spearman correlations over the values two preference maps share
  (`correlation_preferences`), and the mean pairwise Spearman of several samples
  (`mean_pairwise_spearman_preferences`).
- Implicit vs explicit values: the share of dilemmas on which two short runs take the same decision
  (`same_decision_share`; paper app. B.4).
- Diversity of a value's arguments: the gzip compression ratio of their concatenation
  (`compression_ratio_texts`; paper sec. 3.2): a higher ratio means more repetition, so less diversity.
  Like specificity, it is taken per k and per sample, and a k's figure is the mean over its samples
  (`mean_over_samples`).

Every function takes plain data; reading it from traces is `moot.analysis.study_consistency`'s job.
"""

from __future__ import annotations

import gzip
import itertools
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import stats

from moot.analysis.ratings import DEFAULT_MU, DEFAULT_SIGMA, Skill, trueskill_team_matches

K = TypeVar("K", bound=Hashable)

MIN_SHARED_VALUES = 3
"""Fewer values in common than this, and a correlation is not computed."""


def trueskill_value_choices(
    choices: Iterable[tuple[Sequence[str], Sequence[str]]],
    mu: float = DEFAULT_MU,
    sigma: float = DEFAULT_SIGMA,
    *,
    keep_shared: bool = True,
) -> dict[str, Skill]:
    """TrueSkill ratings of values from choices, applied in order (dilemma by dilemma).

    Each choice is (values of the chosen action, values of the other action): a match the
    chosen team won. Every value starts at (mu, sigma) = (25, 25/3). A value on both sides plays
    on both (the paper's teams are the actions' value sets as given), which leaves its mu where
    it was; with `keep_shared=False` it sits the match out (`trueskill_team_matches`).
    """
    return trueskill_team_matches(
        ((tuple(won), tuple(lost)) for won, lost in choices), mu=mu, sigma=sigma, keep_shared=keep_shared
    )


def position_preferences_answers(answers: Iterable[Sequence[Iterable[str]]]) -> dict[str, float]:
    """Long-form preference of each value: minus the mean, over answers, of (first position carrying it) / (arguments).

    Each answer is its arguments in order, each argument the values it carries. Positions count
    from 1, so a value carried by the first of 4 arguments scores 1/4 in that answer. A value is
    averaged over the answers that carry it; answers without arguments are skipped. A higher
    (less negative) preference means the value comes earlier.
    """
    scores: dict[str, list[float]] = defaultdict(list)
    for arguments in answers:
        arguments = [set(values) for values in arguments]
        if not arguments:
            continue
        first: dict[str, int] = {}
        for position, values in enumerate(arguments, start=1):
            for value in values:
                first.setdefault(value, position)
        for value, position in first.items():
            scores[value].append(position / len(arguments))
    return {value: -float(np.mean(parts)) for value, parts in sorted(scores.items())}


@dataclass(frozen=True)
class Correlation:
    """Pearson and Spearman correlations over the values two preference maps share."""

    n: int
    """Values in common."""
    pearson: float | None
    pearson_p: float | None
    spearman: float | None
    spearman_p: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        """The fields as a dict, for tables and metrics."""
        return {
            "n": self.n,
            "pearson": self.pearson,
            "pearson_p": self.pearson_p,
            "spearman": self.spearman,
            "spearman_p": self.spearman_p,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def correlation_preferences(first: Mapping[str, float], second: Mapping[str, float]) -> Correlation:
    """Pearson and Spearman correlations of two value -> preference maps over their shared values.

    With fewer than `MIN_SHARED_VALUES` shared values, or when either side is constant, the
    coefficients are None.
    """
    shared = sorted(set(first) & set(second))
    x = np.array([first[v] for v in shared], dtype=float)
    y = np.array([second[v] for v in shared], dtype=float)
    if len(shared) < MIN_SHARED_VALUES or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(len(shared), None, None, None, None)
    pearson = stats.pearsonr(x, y)
    spearman = stats.spearmanr(x, y)
    return Correlation(
        len(shared),
        _finite(pearson.statistic),
        _finite(pearson.pvalue),
        _finite(spearman.statistic),
        _finite(spearman.pvalue),
    )


def mean_pairwise_spearman_preferences(samples: Sequence[Mapping[str, float]]) -> float | None:
    """Mean Spearman correlation over every pair of samples' preference maps.

    Pairs that cannot be correlated are left out; None when fewer than two samples, or no pair can be correlated.
    """
    coefficients = [
        c.spearman
        for a, b in itertools.combinations(samples, 2)
        if (c := correlation_preferences(a, b)).spearman is not None
    ]
    return float(np.mean(coefficients)) if coefficients else None


@dataclass(frozen=True)
class SameDecision:
    """How often two sets of short answers to the same dilemmas take the same decision."""

    dilemmas: int
    """Answers found in both (the same dilemma, repeat and chooser), both parsed."""
    same: int
    """Of those, the ones that chose the same action of the dilemma."""

    @property
    def share(self) -> float | None:
        """`same / dilemmas`, None when no dilemma is in both."""
        return self.same / self.dilemmas if self.dilemmas else None

    def as_dict(self) -> dict[str, float | int | None]:
        """The counts and the share, for tables and metrics."""
        return {"dilemmas": self.dilemmas, "same": self.same, "share": self.share}


def same_decision_share(first: Mapping[K, str], second: Mapping[K, str]) -> SameDecision:
    """Over the keys (e.g. dilemma, repeat, chooser) both answer sets have, how many chose the same action.

    The paper's consistency of implicit and explicit values (app. B.4): the fraction of dilemmas whose
    decision stays the same when the prompt names the values each action serves.
    """
    shared = [key for key in first if key in second]
    return SameDecision(len(shared), sum(first[key] == second[key] for key in shared))


def compression_ratio_texts(texts: Iterable[str], separator: str = "\n") -> float:
    """Bytes of the texts joined by `separator` (UTF-8) divided by the bytes of their gzip compression.

    gzip runs at level 9 with a zero timestamp, so the ratio depends on the texts alone. A higher
    ratio means the texts repeat each other more: they are less diverse.
    """
    data = separator.join(texts).encode("utf-8")
    return len(data) / len(gzip.compress(data, compresslevel=9, mtime=0))


def group_means_preferences(
    preferences: Mapping[str, float], groups: Mapping[str, str], other: str = "other"
) -> dict[str, float]:
    """Mean preference of the values of each coarse group (values without a group fall in `other`), by group name."""
    members: dict[str, list[float]] = defaultdict(list)
    for value, preference in preferences.items():
        members[groups.get(value, other)].append(preference)
    return {group: float(np.mean(parts)) for group, parts in sorted(members.items())}


def mean_by_value_arguments(arguments: Iterable[tuple[Iterable[str], float]]) -> dict[str, float]:
    """Mean of a number attached to arguments (e.g. specificity depth), for each value the arguments carry."""
    members: dict[str, list[float]] = defaultdict(list)
    for values, number in arguments:
        for value in set(values):
            members[value].append(float(number))
    return {value: float(np.mean(parts)) for value, parts in sorted(members.items())}


def compression_by_value_arguments(
    arguments: Iterable[tuple[Iterable[str], str]], min_arguments: int = 2
) -> dict[str, float]:
    """Compression ratio of the concatenated texts of the arguments carrying each value.

    Only values with at least `min_arguments` arguments are given.
    """
    members: dict[str, list[str]] = defaultdict(list)
    for values, text in arguments:
        for value in sorted(set(values)):
            members[value].append(text)
    return {
        value: compression_ratio_texts(texts) for value, texts in sorted(members.items()) if len(texts) >= min_arguments
    }


def mean_over_samples(samples: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each value's mean over the samples' value -> figure maps that give it a figure (by value name)."""
    members: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        for value, figure in sample.items():
            members[value].append(float(figure))
    return {value: float(np.mean(parts)) for value, parts in sorted(members.items())}
