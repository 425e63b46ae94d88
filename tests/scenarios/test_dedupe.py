"""Near-duplicate detection: TF-IDF cosine on hand-worked cases, grouping, and the embedding path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moot.errors import UserError
from moot.scenarios import dedupe
from moot.scenarios.dedupe import (
    Duplicate,
    cosine_similarity_texts,
    drop_near_duplicates,
    embedding_available,
    near_duplicates,
    tfidf_vectors_texts,
    word_ngrams_text,
)

GARDEN = (
    "You and your neighbour run a community garden together. This spring you must decide whether to plant "
    "vegetables for the food bank or flowers for the summer fair, and the seed order is due on Friday."
)
GARDEN_REWORDED = (
    "You and your neighbour run a community garden together. This spring you must decide whether to plant "
    "vegetables for the food bank or flowers for the summer fair, and the seed order is due on Monday."
)
SAILING = "A storm is coming and the race committee asks every crew to decide before dawn whether to sail or to wait."


def test_word_ngrams_are_lowercased_unigrams_then_bigrams():
    assert word_ngrams_text("Red cat, red CAT!") == ["red", "cat", "red", "cat", "red cat", "cat red", "red cat"]


def test_tfidf_cosine_matches_the_hand_computation():
    """Texts "red cat", "cat red", "blue dog" (n = 3).

    df: red 2, cat 2, blue 1, dog 1, "red cat" 1, "cat red" 1, "blue dog" 1.
    idf = ln((1 + n) / (1 + df)) + 1: a = ln(4/3) + 1 for df 2, b = ln(2) + 1 for df 1.
    d1 = (red a, cat a, "red cat" b), d2 = (red a, cat a, "cat red" b), d3 shares nothing with them.
    cos(d1, d2) = 2a^2 / (2a^2 + b^2) = 3.316250 / 6.182997 = 0.536350; cos(d1, d3) = 0.
    """
    a, b = math.log(4 / 3) + 1, math.log(2) + 1
    expected = 2 * a * a / (2 * a * a + b * b)
    assert expected == pytest.approx(0.536350, abs=1e-6)
    similarity = cosine_similarity_texts(["red cat", "cat red", "blue dog"], method="lexical")
    assert similarity[0, 1] == pytest.approx(expected, abs=1e-12)
    assert similarity[0, 2] == 0.0 and similarity[1, 2] == 0.0
    assert np.allclose(np.diag(similarity), 1.0)
    assert np.linalg.norm(tfidf_vectors_texts(["red cat", "!!!"]), axis=1).tolist() == pytest.approx([1.0, 0.0])


def test_near_duplicates_finds_copies_and_rewordings_not_unrelated_texts():
    texts = [GARDEN, SAILING, GARDEN, GARDEN_REWORDED]
    pairs = near_duplicates(texts, 0.8, method="lexical")
    assert [(i, j) for i, j, _ in pairs] == [(0, 2), (0, 3), (2, 3)]
    assert pairs[0][2] == pytest.approx(1.0)
    assert 0.8 < pairs[1][2] < 1.0
    assert max(cosine_similarity_texts(texts, method="lexical")[1, [0, 2, 3]]) < 0.3


def test_drop_keeps_the_first_of_each_group_and_names_the_kept_one(monkeypatch):
    """Hand-set similarities: A~B 0.95, B~C 0.92, A~C 0.5, D alone.

    A is kept; B is dropped as a copy of A; C is similar only to the dropped B, so it is kept; D is kept.
    """
    matrix = np.array(
        [
            [1.0, 0.95, 0.5, 0.1],
            [0.95, 1.0, 0.92, 0.1],
            [0.5, 0.92, 1.0, 0.1],
            [0.1, 0.1, 0.1, 1.0],
        ]
    )
    monkeypatch.setattr(dedupe, "cosine_similarity_texts", lambda texts, method=None: matrix)
    kept, dropped = drop_near_duplicates(["A", "B", "C", "D"], 0.9)
    assert kept == ["A", "C", "D"]
    assert dropped == [Duplicate(index=1, of_index=0, similarity=0.95)]


def test_drop_on_real_texts_uses_the_text_of_each_item():
    items = [{"id": "x", "t": GARDEN}, {"id": "y", "t": SAILING}, {"id": "z", "t": GARDEN_REWORDED}]
    kept, dropped = drop_near_duplicates(items, 0.8, text=lambda item: item["t"], method="lexical")
    assert [item["id"] for item in kept] == ["x", "y"]
    assert [(d.index, d.of_index) for d in dropped] == [(2, 0)]


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5])
def test_a_threshold_outside_zero_to_one_is_a_user_error(threshold):
    with pytest.raises(UserError, match=r"threshold must be in \(0, 1\]"):
        near_duplicates(["a", "b"], threshold)
    with pytest.raises(UserError):
        drop_near_duplicates(["a", "b"], threshold)


def test_embedding_path_when_installed_else_a_clear_error():
    """With the `embeddings` extra, a rewording is closer than an unrelated text.

    Without it, one line names the extra.
    """
    texts = [GARDEN, GARDEN_REWORDED, SAILING]
    if embedding_available():
        assert dedupe.similarity_method() == "embedding"
        similarity = cosine_similarity_texts(texts, method="embedding")
        assert similarity[0, 1] > 0.9 > 0.5 > similarity[0, 2]
    else:
        assert dedupe.similarity_method() == "lexical"
        with pytest.raises(UserError, match=r"moot\[embeddings\]"):
            cosine_similarity_texts(texts, method="embedding")
