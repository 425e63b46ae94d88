"""The explorer's bandit exploits a topic whose initial score is planted high (AdAEM Algorithm 1).

Three topics; the scripted panels answer every question about phones with two points that share
neither a word nor a value ("family ties", Benevolence; "nature counts", Universalism), and every
other question with the same point twice ("safety first", Security). Every topic is scored first
(its initial score), so with a budget of 3 the bandit must pull the phones topic three times
instead of walking the topics in file order.

Scores (lexical similarity, no value in the questions; see tests/judges/test_explorer_scoring.py):
- phones: conformity 1 + 1, value diversity 2/1 both orders = 4, opinion diversity 1, disentanglement
  1 + 1: 2 + 4 + 1 - 0.5 * 2 = 6;
- the others: conformity 2, value diversity 1/1 both orders = 2, opinion diversity 0, disentanglement 2:
  2 + 2 + 0 - 1 = 3.
UCB, c = 1, B = 3: bonus sqrt(2 ln 3 / C) = 1.482 at C = 1, 1.048 at C = 2, 0.856 at C = 3.
Step 1: phones 6 + 1.482 = 7.482, others 3 + 1.482 = 4.482 -> phones (C = 2, mean 6).
Step 2: 6 + 1.048 = 7.048 > 4.482 -> phones. Step 3: 6 + 0.856 = 6.856 > 4.482 -> phones.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import pytest

import moot
from helpers import events_of
from moot.agents.providers.scripted import register_responder

TOPICS = "Should cities ban cars?\nShould schools ban phones?\nShould towns plant trees?\n"
KEYWORDS = {"safety": "Security", "family": "Benevolence", "nature": "Universalism"}
PLACES = itertools.count(1)


def _after(label: str, text: str) -> str:
    return re.search(re.escape(label) + r"\s*(.+)", text).group(1).strip()


def generator(messages, context):
    topic = _after("General topic:", messages[-1]["content"])
    return json.dumps({"questions": [f"{topic[:-1]} in district {next(PLACES)}?"]})


def panelist(messages, context):
    question = _after("The question to answer:", messages[-1]["content"])
    if "phones" in question:
        point = "family ties" if context.agent in ("elder", "cool") else "nature counts"
        return json.dumps({"stance": "yes", "points": [point]})
    return json.dumps({"stance": "neutral", "points": ["safety first"]})


def judge(messages, context):
    """One value at a time: yes when the reason holds a keyword of that value (questions reflect none)."""
    prompt = messages[-1]["content"]
    if "reason for their answer:" not in prompt:
        return json.dumps({"label": "no"})
    text = prompt.split("reason for their answer:")[-1].split("The value:")[0]
    value = _after("The value:", prompt).split(" (")[0]
    return json.dumps({"label": "yes" if any(word in text and KEYWORDS[word] == value for word in KEYWORDS) else "no"})


for name, responder in {"gen": generator, "panel": panelist, "judge": judge}.items():
    register_responder(f"bandit_{name}", responder)


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bandit")
    (tmp_path / "topics.txt").write_text(TOPICS)
    data = {
        "kind": "question_generation",
        "name": "planted_topic",
        "topics": str(tmp_path / "topics.txt"),
        "budget": 3,
        "questions_per_step": 1,
        "k_points": 1,
        "max_refinements": 0,
        "similarity": "lexical",
        "generators": [{"name": "writer", "model": "scripted:bandit_gen", "top_p": 0.95}],
        "panel": [
            {"name": "cool", "model": "scripted:bandit_panel"},
            {"name": "warm", "model": "scripted:bandit_panel"},
        ],
        "final_panel": [
            {"name": "elder", "model": "scripted:bandit_panel"},
            {"name": "student", "model": "scripted:bandit_panel"},
        ],
        "judge": {"name": "value_judge", "model": "scripted:bandit_judge", "temperature": 0.0},
        "refiner": {"name": "refiner", "model": "scripted:bandit_gen"},
    }
    return moot.run(data, out=tmp_path / "run", cache=None)


def test_every_topic_is_scored_first(explored):
    initial = [e for e in events_of(explored.run_dir, "question_scored") if e.stage == "initial"]
    assert [(e.question_id, e.text) for e in initial] == [
        ("s0q1", "Should cities ban cars?"),
        ("s0q2", "Should schools ban phones?"),
        ("s0q3", "Should towns plant trees?"),
    ]
    assert [e.score for e in initial] == pytest.approx([3.0, 6.0, 3.0])
    assert [answer["stance"] for answer in initial[0].answers] == ["neutral", "neutral"], "a stance may be neutral"
    updated = [e for e in events_of(explored.run_dir, "arm_updated") if e.step == 0]
    assert [(e.arm, e.count, round(e.reward, 9)) for e in updated] == [("t1", 1, 3.0), ("t2", 1, 6.0), ("t3", 1, 3.0)]


def test_the_bandit_exploits_the_planted_topic(explored):
    selected = events_of(explored.run_dir, "arm_selected")
    assert [(e.step, e.arm, e.rule) for e in selected] == [(1, "t2", "ucb"), (2, "t2", "ucb"), (3, "t2", "ucb")]
    first = selected[0]
    assert first.budget == 3 and first.counts == {"t1": 1, "t2": 1, "t3": 1}
    assert first.ucb["t2"] == pytest.approx(6.0 + (2 * math.log(3)) ** 0.5)
    assert first.ucb["t1"] == pytest.approx(3.0 + (2 * math.log(3)) ** 0.5)
    assert selected[2].counts["t2"] == 3 and selected[2].means["t2"] == pytest.approx(6.0)
    assert selected[2].ucb["t2"] == pytest.approx(6.0 + (2 * math.log(3) / 3) ** 0.5)


def test_every_conversation_of_the_search_completes(explored):
    # s0 and its three topics, three steps with one question each.
    assert explored.manifest.status == "completed"
    assert explored.manifest.conversations.completed == explored.manifest.conversations.planned == 1 + 3 + 3 * 2


def test_the_generator_is_shown_the_best_questions_of_its_topic_with_their_scores(explored):
    """Step 1 shows nothing (no question kept yet); step 3 shows the two questions kept in steps 1 and 2, each
    with its final score 6.00 (ties in the order they were kept)."""
    prompts = [
        e.messages[-1].content
        for e in events_of(explored.run_dir, "model_call")
        if e.role == "generator" and e.conversation_id in ("s1", "s3")
    ]
    assert "already grown" not in prompts[0]
    assert "1. Should schools ban phones in district 1? [score: 6.00]" in prompts[1]
    assert "2. Should schools ban phones in district 2? [score: 6.00]" in prompts[1]


def test_top_p_is_sent_only_where_the_spec_sets_it(explored):
    calls = events_of(explored.run_dir, "model_call")
    assert {e.params.get("top_p") for e in calls if e.role == "generator"} == {0.95}
    assert all("top_p" not in e.params for e in calls if e.role != "generator")
