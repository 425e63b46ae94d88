"""The question set and arm statistics, rebuilt from hand-made explorer events."""

from __future__ import annotations

import math

import pytest

from moot.analysis.study_question_generation import (
    arm_statistics_events,
    bleu_tokens,
    budget_curve_questions,
    distinct_n_texts,
    initial_versus_final,
    question_set_diversity,
    question_set_events,
    self_bleu_texts,
)
from moot.trace.events import ArmSelected, ArmUpdated, QuestionKept, QuestionProposed, QuestionRefined, QuestionScored

IDS = {"run_id": "r", "conversation_id": "c", "scenario_id": "s"}


def _scored(question: str, stage: str, version: int, score: float) -> QuestionScored:
    return QuestionScored(
        **IDS,
        question_id=question,
        version=version,
        stage=stage,
        text=f"{question} v{version}",
        question_values=[],
        answers=[],
        value_conformity=0.1,
        value_diversity=0.2,
        opinion_diversity=0.3,
        disentanglement=0.0,
        penalty_weight=0.5,
        score=score,
        similarity="lexical",
    )


def _kept(question: str, arm: str, final: float) -> QuestionKept:
    return QuestionKept(
        **IDS,
        question_id=question,
        step=1,
        arm=arm,
        topic=f"topic {arm}",
        generator="g",
        text=f"{question} v1",
        version=1,
        chain=[0, 1],
        refinements_tried=1,
        panel_score=0.6,
        final_score=final,
    )


def test_question_set_joins_final_terms_chain_and_proposal_best_first():
    events = [
        QuestionProposed(**IDS, question_id="q1", step=1, arm="t1", text="q1 v0", generator="g"),
        _scored("q1", "panel", 0, 0.4),
        QuestionRefined(
            **IDS,
            question_id="q1",
            version=1,
            from_version=0,
            previous_text="q1 v0",
            suggestion="be concrete",
            text="q1 v1",
            score_before=0.4,
            score_after=0.6,
            improvement=0.2,
            threshold=0.1,
            kept=True,
        ),
        _scored("q1", "panel", 1, 0.6),
        _scored("q1", "final", 1, 0.5),
        _kept("q1", "t1", 0.5),
        _scored("q2", "final", 1, 0.9),
        _kept("q2", "t2", 0.9),
    ]
    questions = question_set_events(events)
    assert [q["id"] for q in questions] == ["q2", "q1"]
    q1 = questions[1]
    assert q1["proposed_text"] == "q1 v0" and q1["text"] == "q1 v1" and q1["chain"] == [0, 1]
    assert q1["final_terms"] == {
        "value_conformity": 0.1,
        "value_diversity": 0.2,
        "opinion_diversity": 0.3,
        "disentanglement": 0.0,
        "score": 0.5,
    }
    assert q1["refinements"][0]["suggestion"] == "be concrete" and q1["refinements"][0]["kept"] is True


def test_arm_statistics_average_the_rewards_of_each_arm():
    # t1 pulled twice with rewards 0.4 and 0.8 (mean 0.6), t2 once with 0.7: t2 first.
    events = [
        ArmSelected(**IDS, step=1, arm="t1", topic="one", rule="untried", exploration=1.0, counts={}, means={}, ucb={}),
        ArmUpdated(**IDS, step=1, arm="t1", reward=0.4, questions=[], count=1, mean=0.4),
        ArmSelected(**IDS, step=2, arm="t2", topic="two", rule="untried", exploration=1.0, counts={}, means={}, ucb={}),
        ArmUpdated(**IDS, step=2, arm="t2", reward=0.7, questions=[], count=1, mean=0.7),
        ArmUpdated(**IDS, step=3, arm="t1", reward=0.8, questions=[], count=2, mean=0.6),
    ]
    arms = arm_statistics_events(events)
    assert [(a["arm"], a["topic"], a["pulls"]) for a in arms] == [("t2", "two", 1), ("t1", "one", 2)]
    assert arms[1]["mean_reward"] == pytest.approx(0.6)


def test_bleu_by_hand():
    """ "a b c d" against "a b c e": clipped precisions 3/4, 2/3, 1/2 and 0/1 (smoothed to 0.1/1); equal lengths,
    no brevity penalty: (0.75 * 0.6667 * 0.5 * 0.1) ** (1/4) = 0.025 ** 0.25 = 0.39764."""
    assert bleu_tokens(["a", "b", "c", "d"], [["a", "b", "c", "e"]]) == pytest.approx(0.025**0.25)
    assert bleu_tokens(["a", "b", "c", "d"], [["a", "b", "c", "d"]]) == pytest.approx(1.0)
    # A shorter hypothesis is penalised: "a b c d" against "a b c d e f g h": every n-gram matches, brevity penalty
    # exp(1 - 8/4) = exp(-1).
    assert bleu_tokens(["a", "b", "c", "d"], [["a", "b", "c", "d", "e", "f", "g", "h"]]) == pytest.approx(math.exp(-1))
    assert bleu_tokens(["a", "b"], [["a", "b"]]) == 0.0, "no 3-gram in the hypothesis"


def test_question_set_diversity_by_hand():
    """Three questions: "cars pollute", "cars pollute", "buses help".

    Mean length 2 words. Self-BLEU: each is too short for a 3-gram: 0. Distinct-2: bigrams (cars pollute) twice and
    (buses help): 2 distinct of 3. Lexical similarity: pairs 1, 0, 0: mean 1/3.
    """
    texts = ["cars pollute", "cars pollute", "buses help"]
    measures = question_set_diversity(texts, "lexical")
    assert measures == {
        "questions": 3,
        "mean_length_words": 2.0,
        "self_bleu": 0.0,
        "distinct_2": pytest.approx(2 / 3),
        "mean_similarity": pytest.approx(1 / 3),
        "similarity": "lexical",
    }
    # Two identical four-word questions: each is the other's perfect reference, Self-BLEU 100.
    assert self_bleu_texts(["a b c d", "a b c d"]) == pytest.approx(100.0)
    assert self_bleu_texts(["only one"]) is None and distinct_n_texts(["one"]) is None
    assert question_set_diversity([], "lexical")["mean_similarity"] is None


def test_budget_curve_by_hand():
    """Kept: step 1 (2.0, t1), step 2 (4.0, t2) and (1.0, t1); the best two at each budget.

    b = 1: [2.0]: mean 2, one topic. b = 2: [4.0, 2.0]: mean 3, two topics. b = 3: the same.
    """
    questions = [
        {"step": 1, "final_score": 2.0, "arm": "t1"},
        {"step": 2, "final_score": 4.0, "arm": "t2"},
        {"step": 2, "final_score": 1.0, "arm": "t1"},
    ]
    assert budget_curve_questions(questions, 3, top=2) == [
        {"budget": 1, "questions": 1, "mean_final_score": 2.0, "topics_covered": 1},
        {"budget": 2, "questions": 2, "mean_final_score": 3.0, "topics_covered": 2},
        {"budget": 3, "questions": 2, "mean_final_score": 3.0, "topics_covered": 2},
    ]


def test_initial_scores_against_the_final_scores_by_hand():
    """Topics t1 (initial 1.0) and t2 (initial 3.0); kept questions 2.0 and 4.0 from t1, none from t2.

    Mean initial (1 + 3) / 2 = 2; mean final (2 + 4) / 2 = 3; gain 1.
    """
    events = [
        ArmUpdated(**IDS, step=0, arm="t1", reward=1.0, questions=[], count=1, mean=1.0),
        ArmUpdated(**IDS, step=0, arm="t2", reward=3.0, questions=[], count=1, mean=3.0),
        ArmUpdated(**IDS, step=1, arm="t1", reward=3.0, questions=["s1q1", "s1q2"], count=2, mean=2.0),
    ]
    questions = [{"arm": "t1", "final_score": 2.0}, {"arm": "t1", "final_score": 4.0}]
    rows, summary = initial_versus_final(events, questions)
    assert rows == [
        {"arm": "t1", "initial_score": 1.0, "questions": 2, "mean_final_score": 3.0, "best_final_score": 4.0},
        {"arm": "t2", "initial_score": 3.0, "questions": 0, "mean_final_score": None, "best_final_score": None},
    ]
    assert summary["mean_initial_score"] == 2.0 and summary["mean_final_score"] == 3.0 and summary["gain"] == 1.0
