"""The question explorer end to end with scripted generators, panels, judge and refiner.

The scripted world (every reply is decided from the prompt text, so the expected scores can be
worked out by hand; similarity is lexical TF-IDF, so identical points have similarity 1 and
points without a shared word similarity 0; the value list has 10 values):

- version 0 of a question: both cheap panel members say "safety first" (Security); the question
  itself carries no value. Conformity 1/1 + 1/1 = 2; value diversity {S} vs {S}: 1/1, both orders: 2;
  opinion diversity 1 - 1 = 0; disentanglement |{S} ^ {}| per member: 1 + 1 = 2.
  Score 2 + 2 + 0 - 0.5 * 2 = 3.
- rewrite 1 ("... r1"): one member says "safety first" (Security), the other "freedom matters"
  (Self-direction): conformity 2; value diversity 2/1, both orders: 4; opinion diversity 1 - 0 = 1;
  disentanglement 2: score 2 + 4 + 1 - 1 = 6; improvement 3 > threshold 0.5: kept.
- rewrite 2 ("... r2"): the same answers as rewrite 1: score 6, improvement 0: not kept, and
  refinement stops although max_refinements is 3. The kept chain is [0, 1].
- final panel: "family ties" (Benevolence) and "nature counts" (Universalism): 2 + 4 + 1 - 1 = 6;
  the topics themselves get the same answers from the final panel: initial scores 6.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import moot
from helpers import events_of
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.graphs.audit import verify_run
from moot.scenarios import load_scenarios

KEYWORDS = {
    "safety": "Security",
    "freedom": "Self-direction",
    "family": "Benevolence",
    "nature": "Universalism",
    "tradition": "Tradition",
}
TOPICS = "Should cities ban cars?\nShould schools ban phones?\n"


def _after(label: str, text: str) -> str:
    return re.search(re.escape(label) + r"\s*(.+)", text).group(1).strip()


def generator(messages, context):
    topic = _after("General topic:", messages[-1]["content"])
    base = "Should Oslo ban cars by 2030?" if "cars" in topic else "Should Lyon schools ban phones in class?"
    # The second question repeats the first: the dedupe step drops it.
    return json.dumps({"questions": [base, base]})


def panelist(messages, context):
    question = _after("The question to answer:", messages[-1]["content"])
    if context.agent in ("elder", "student"):
        point = "family ties" if context.agent == "elder" else "nature counts"
    elif question.endswith(("r1", "r2")) and context.agent == "warm":
        point = "freedom matters"
    else:
        point = "safety first"
    return json.dumps({"stance": "yes", "points": [point]})


def judge(messages, context):
    """Per value (`The value: V`): yes when the text holds a keyword of V; listing: every value with a keyword."""
    prompt = messages[-1]["content"]
    text = (
        prompt.split("reason for their answer:")[-1]
        if "reason for their answer:" in prompt
        else _after("put to several people:", prompt)
    )
    text = text.split("The value:")[0].split("Which values")[0]
    found = [value for word, value in KEYWORDS.items() if word in text]
    if "The value:" in prompt:
        return json.dumps({"label": "yes" if _after("The value:", prompt).split(" (")[0] in found else "no"})
    return json.dumps({"values": found})


def refiner(messages, context):
    return json.dumps({"suggestion": "Name the city council and the year of the vote."})


def rewriter(messages, context):
    question = _after("The current question:", messages[-1]["content"])
    return json.dumps({"question": question + (" r2" if question.endswith("r1") else " r1")})


for name, responder in {
    "gen": generator,
    "panel": panelist,
    "judge": judge,
    "refiner": refiner,
    "rewriter": rewriter,
}.items():
    register_responder(f"explorer_{name}", responder)


def explorer_data(tmp_path: Path, **fields) -> dict:
    """An explorer spec over two topics with scripted models (the rewriter shares the refiner's model,
    so the refiner's responder dispatches on the role)."""
    (tmp_path / "topics.txt").write_text(TOPICS)
    data = {
        "kind": "question_generation",
        "name": "scripted_explorer",
        "topics": str(tmp_path / "topics.txt"),
        "budget": 2,
        "questions_per_step": 2,
        "k_points": 1,
        "refine_threshold": 0.5,
        "max_refinements": 3,
        "dedupe_top_k": 1,  # an exact repeat is dropped whatever else the pool holds
        "similarity": "lexical",
        "generators": [{"name": "writer", "model": "scripted:explorer_gen"}],
        "panel": [
            {"name": "cool", "model": "scripted:explorer_panel"},
            {"name": "warm", "model": "scripted:explorer_panel"},
        ],
        "final_panel": [
            {"name": "elder", "model": "scripted:explorer_panel"},
            {"name": "student", "model": "scripted:explorer_panel"},
        ],
        "judge": {"name": "value_judge", "model": "scripted:explorer_judge", "temperature": 0.0},
        "refiner": {"name": "refiner", "model": "scripted:explorer_refine"},
    }
    data.update(fields)
    return data


def _refine_or_rewrite(messages, context):
    return rewriter(messages, context) if context.role == "rewriter" else refiner(messages, context)


register_responder("explorer_refine", _refine_or_rewrite)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("explorer")
    return moot.run(explorer_data(tmp_path), out=tmp_path / "run", cache=None)


def test_initial_scores_then_ucb(finished):
    """Both topics' initial scores are 6 (the final panel's answers); B = 2, bonus sqrt(2 ln 2 / C).

    Step 1: a tie (6 + 1.177 each) goes to t1. Step 2: t1 has C = 2 and mean 6: 6 + 0.833 = 6.833
    < t2's 7.177 -> t2.
    """
    selected = events_of(finished.run_dir, "arm_selected")
    assert [(e.step, e.arm, e.rule) for e in selected] == [(1, "t1", "ucb"), (2, "t2", "ucb")]
    assert selected[1].counts == {"t1": 2, "t2": 1}
    assert selected[1].means["t1"] == pytest.approx(6.0)
    updated = events_of(finished.run_dir, "arm_updated")
    assert [(e.step, e.arm, e.count, round(e.reward, 6)) for e in updated] == [
        (0, "t1", 1, 6.0),
        (0, "t2", 1, 6.0),
        (1, "t1", 2, 6.0),
        (2, "t2", 2, 6.0),
    ]


def test_near_duplicates_are_dropped(finished):
    dropped = events_of(finished.run_dir, "question_dropped")
    assert [(e.question_id, e.reason, e.duplicate_of) for e in dropped] == [
        ("s1q2", "near_duplicate", "s1q1"),
        ("s2q2", "near_duplicate", "s2q1"),
    ]
    assert dropped[0].similarity == pytest.approx(1.0)


def test_every_score_term_is_in_the_trace(finished):
    scored = [e for e in events_of(finished.run_dir, "question_scored") if e.question_id == "s1q1"]
    assert [(e.stage, e.version) for e in scored] == [("panel", 0), ("panel", 1), ("panel", 2), ("final", 1)]
    first = scored[0]
    assert (
        first.value_conformity,
        first.value_diversity,
        first.opinion_diversity,
        first.disentanglement,
    ) == pytest.approx((2.0, 2.0, 0.0, 2.0))
    assert first.score == pytest.approx(3.0) and first.context_coherence is None
    assert first.semantic_coherence == pytest.approx(0.0), "no word of 'safety first' is in the question"
    assert first.answers[0]["points"] == [{"text": "safety first", "values": ["Security"]}]
    assert scored[1].score == pytest.approx(6.0) and scored[1].value_diversity == pytest.approx(4.0)
    # The rewrite shares no word with version 0's points ("safety first").
    assert scored[1].context_coherence == pytest.approx(0.0)
    assert scored[3].score == pytest.approx(6.0) and scored[3].text == "Should Oslo ban cars by 2030? r1"


def test_a_rewrite_is_kept_only_while_it_improves_by_more_than_the_threshold(finished):
    refined = [e for e in events_of(finished.run_dir, "question_refined") if e.question_id == "s1q1"]
    assert [(e.version, e.from_version, e.kept) for e in refined] == [(1, 0, True), (2, 1, False)]
    assert refined[0].improvement == pytest.approx(3.0) and refined[1].improvement == pytest.approx(0.0)
    assert refined[0].suggestion.startswith("Name the city council") and refined[1].text.endswith("r1 r2")
    kept = [e for e in events_of(finished.run_dir, "question_kept") if e.question_id == "s1q1"][0]
    assert kept.chain == [0, 1] and kept.version == 1 and kept.refinements_tried == 2
    assert kept.panel_score == pytest.approx(6.0) and kept.final_score == pytest.approx(6.0)


def test_the_run_directory_verifies(finished):
    report = verify_run(finished.run_dir)
    assert report.ok, [p.line() for p in report.problems]
    assert finished.manifest.status == "completed"
    assert finished.manifest.conversations.completed == finished.manifest.conversations.planned == 4 + 3


def test_the_judge_is_asked_once_per_value_of_each_text(finished):
    """Version 0 of s1q1: the question and two points, ten yes/no calls each (AdAEM App. B.2)."""
    calls = [e for e in events_of(finished.run_dir, "model_call") if e.conversation_id == "s1q1" and e.round == 1]
    judged = [e for e in calls if e.role == "value_judge"]
    assert len(judged) == 3 * 10
    assert {e.parsed["label"] for e in judged} == {"yes", "no"}
    assert sum(e.parsed["label"] == "yes" for e in judged) == 2, "each point reflects Security, the question nothing"


def test_the_judge_may_name_the_values_in_one_call(tmp_path):
    data = explorer_data(tmp_path, budget=1, max_refinements=0, value_classification="list")
    result = moot.run(data, out=tmp_path / "run", cache=None)
    judged = [
        e for e in events_of(result.run_dir, "model_call") if e.conversation_id == "s1q1" and e.role == "value_judge"
    ]
    assert len(judged) == 3 * 2, "the question and the points of the cheap and the final panel, one call each"
    kept = events_of(result.run_dir, "question_kept")
    assert [(e.question_id, round(e.panel_score, 6), round(e.final_score, 6)) for e in kept] == [("s1q1", 3.0, 6.0)]


def test_no_refinement_when_max_refinements_is_zero(tmp_path):
    result = moot.run(explorer_data(tmp_path, budget=1, max_refinements=0), out=tmp_path / "run", cache=None)
    assert events_of(result.run_dir, "question_refined") == []
    kept = events_of(result.run_dir, "question_kept")
    assert [(e.question_id, e.version, e.chain) for e in kept] == [("s1q1", 0, [0])]


def test_the_analysis_rebuilds_the_question_set_from_the_trace(finished):
    folder, index = analyze_run(finished.run_dir)
    metrics = index.metrics
    assert metrics["questions_kept"] == 2 and metrics["questions_dropped"] == {"near_duplicate": 2}
    assert metrics["refinements"] == {"tried": 4, "kept": 2}
    assert metrics["mean_final_score"] == pytest.approx(6.0)
    assert metrics["initial_vs_final"] == {
        "topics_scored": 2,
        "mean_initial_score": pytest.approx(6.0),
        "mean_final_score": pytest.approx(6.0),
        "gain": pytest.approx(0.0),
    }
    assert [(row["budget"], row["questions"], row["topics_covered"]) for row in metrics["budget_curve"]] == [
        (1, 1, 1),
        (2, 2, 2),
    ]
    diversity = metrics["question_set_diversity"]
    assert diversity["questions"] == 2 and diversity["similarity"] == "lexical" and diversity["distinct_2"] is not None
    assert {"question_set_diversity", "initial_vs_final", "budget_curve"} <= set(index.methods)
    assert set(index.tables) >= {
        "questions",
        "refinements",
        "scores",
        "arms",
        "steps",
        "dropped",
        "initial_vs_final",
        "budget_curve",
    }
    assert {"final_scores", "score_terms", "arm_rewards"} <= set(index.plots)
    questions = json.loads((folder / "question_set.json").read_text())
    first = next(q for q in questions if q["id"] == "s1q1")
    assert (
        first["text"] == "Should Oslo ban cars by 2030? r1"
        and first["proposed_text"] == "Should Oslo ban cars by 2030?"
    )
    assert first["topic"] == "Should cities ban cars?" and first["arm"] == "t1" and first["chain"] == [0, 1]
    assert [r["kept"] for r in first["refinements"]] == [True, False]
    assert first["final_terms"]["value_diversity"] == pytest.approx(4.0)
    scenarios = load_scenarios(folder / "question_set.jsonl").scenarios
    assert [s.id for s in scenarios] == [q["id"] for q in questions]
    assert scenarios[0].metadata["final_score"] == pytest.approx(6.0)


def test_the_report_shows_the_scored_question_set(finished):
    from moot.report.html import write_report

    page = write_report(finished.run_dir).read_text(encoding="utf-8")
    assert "Should Oslo ban cars by 2030? r1" in page
    assert "refinements" in page and "final_score" in page
