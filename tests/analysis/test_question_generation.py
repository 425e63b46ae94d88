"""The question set and arm statistics, rebuilt from hand-made explorer events."""

from __future__ import annotations

import pytest

from moot.analysis.study_question_generation import arm_statistics_events, question_set_events
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
