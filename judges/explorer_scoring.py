"""How informative a question is about models' values, and the bandit that picks which topic to expand.

The informativeness of a question is read from a panel's answers: each panel member gives a
stance and a few points, and a value judge tags each point with values from a fixed list.

    score = value conformity + value diversity + opinion diversity - weight * disentanglement penalty

- value conformity: the share of the list's values that the points express (distinct values of
  all points of all members, over the size of the list), in [0, 1];
- value diversity: the mean Jaccard distance between the members' value sets (each member's set
  is the union of its points' values), in [0, 1];
- opinion diversity: 1 minus the mean cosine similarity of two points said by different members
  (sentence embeddings when installed, else TF-IDF; `moot.scenarios.dedupe`), in [0, 1];
- disentanglement penalty: the share of the answers' values that the question itself already
  carries (values the answers merely echo), in [0, 1]; the weight is 1/2.

Arms of the bandit are topics (AdAEM Algorithm 1). Every topic is scored first, and that initial
score is its first observation; `ucb_select_arms` then picks the arm of highest mean reward plus
`c * sqrt(2 ln B / C_i)`, B the budget and C_i the arm's observations (an arm whose topic could not
be scored, C_i = 0, is taken first).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np

from moot.scenarios.dedupe import Method, cosine_similarity_texts

DISENTANGLEMENT_WEIGHT = 0.5
"""Weight of the disentanglement penalty in the score."""


def jaccard_distance_sets(first: Collection[str], second: Collection[str]) -> float:
    """1 - |A & B| / |A | B|; two empty sets are identical (distance 0)."""
    a, b = set(first), set(second)
    union = a | b
    if not union:
        return 0.0
    return 1.0 - len(a & b) / len(union)


def value_conformity_points(point_values: Sequence[Collection[str]], n_values: int) -> float:
    """Distinct values expressed by all points together, as a share of the `n_values` of the list."""
    if n_values < 1:
        raise ValueError(f"the value list must hold at least one value (got {n_values})")
    distinct = set().union(*map(set, point_values)) if point_values else set()
    return len(distinct) / n_values


def value_diversity_members(member_values: Sequence[Collection[str]]) -> float:
    """Mean Jaccard distance over the pairs of members' value sets; 0 with fewer than two members."""
    pairs = list(combinations(member_values, 2))
    if not pairs:
        return 0.0
    return float(np.mean([jaccard_distance_sets(a, b) for a, b in pairs]))


def opinion_diversity_points(member_points: Sequence[Sequence[str]], method: Method | None = None) -> float:
    """1 - the mean cosine similarity of two points said by different members.

    Every pair of points (p, q) with p and q from different members counts once; a member
    without points adds no pair. With no such pair (fewer than two members with points), 0.
    """
    texts = [text for points in member_points for text in points]
    owner = [member for member, points in enumerate(member_points) for _ in points]
    pairs = [(i, j) for i, j in combinations(range(len(texts)), 2) if owner[i] != owner[j]]
    if not pairs:
        return 0.0
    similarity = cosine_similarity_texts(texts, method)
    return 1.0 - float(np.mean([similarity[i, j] for i, j in pairs]))


def disentanglement_penalty_values(question_values: Collection[str], answer_values: Collection[str]) -> float:
    """Share of the answers' values that the question itself carries: |Q & A| / |A| (0 when A is empty)."""
    answers = set(answer_values)
    if not answers:
        return 0.0
    return len(set(question_values) & answers) / len(answers)


@dataclass(frozen=True)
class ScoreTerms:
    """Every term of a question's informativeness score, so that the score can be audited."""

    value_conformity: float
    value_diversity: float
    opinion_diversity: float
    disentanglement: float
    """The penalty before its weight."""
    score: float
    """conformity + diversity + opinion diversity - weight * disentanglement."""

    def as_dict(self) -> dict[str, float]:
        """The terms by name."""
        return asdict(self)


def informativeness_answers(
    member_points: Sequence[Sequence[tuple[str, Collection[str]]]],
    question_values: Collection[str],
    n_values: int,
    *,
    method: Method | None = None,
    weight: float = DISENTANGLEMENT_WEIGHT,
) -> ScoreTerms:
    """The score of a question from its panel's answers.

    `member_points[m]` lists member m's points as (text, values of the point); `question_values`
    are the values the judge found in the question itself; `n_values` is the size of the list.
    """
    all_values = [values for points in member_points for _, values in points]
    member_values = [set().union(*(set(v) for _, v in points)) if points else set() for points in member_points]
    conformity = value_conformity_points(all_values, n_values)
    diversity = value_diversity_members(member_values)
    opinion = opinion_diversity_points([[text for text, _ in points] for points in member_points], method)
    penalty = disentanglement_penalty_values(question_values, set().union(*member_values) if member_values else set())
    return ScoreTerms(conformity, diversity, opinion, penalty, conformity + diversity + opinion - weight * penalty)


# --- the bandit over topics ---------------------------------------------------------------------


def ucb_scores_arms(
    counts: Sequence[int], means: Sequence[float], budget: int, exploration: float = 1.0
) -> list[float | None]:
    """UCB index of each arm, Q_i + c * sqrt(2 ln B / C_i) (AdAEM Algorithm 1, line 4), B the search's budget.

    C_i counts the arm's observations: its initial score, then one per budget step that pulled it. An
    arm with no observation (C_i = 0, the paper's C_i = epsilon) gets None: it is taken before any other.
    """
    if len(counts) != len(means):
        raise ValueError(f"{len(counts)} counts but {len(means)} means")
    if any(n < 0 for n in counts):
        raise ValueError(f"counts must not be negative (got {list(counts)})")
    if budget < 1:
        raise ValueError(f"the budget must be at least 1 (got {budget})")
    return [
        None if n == 0 else float(mean + exploration * math.sqrt(2.0 * math.log(budget) / n))
        for n, mean in zip(counts, means, strict=True)
    ]


def ucb_select_arms(counts: Sequence[int], means: Sequence[float], budget: int, exploration: float = 1.0) -> int:
    """The arm to pull next: the first arm without observation, else the highest UCB index (the first one on ties)."""
    if not counts:
        raise ValueError("there is no arm to choose from")
    scores = ucb_scores_arms(counts, means, budget, exploration)
    for index, score in enumerate(scores):
        if score is None:
            return index
    return max(range(len(scores)), key=lambda i: (scores[i], -i))
