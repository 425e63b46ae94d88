"""Value vectors from TrueSkill group updates per question and value, and the evaluation protocol end to end."""

from __future__ import annotations

import json

import pytest

import moot
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.study_question_evaluation import (
    value_games_answers,
    value_groups_answers,
    value_vectors_games,
    value_vectors_groups,
)


def test_games_rank_the_models_that_express_a_value_first():
    answers = {"q1": {"a": {"Security"}, "b": set()}, "q2": {"a": {"Power"}}}
    games = value_games_answers(answers, ["Security", "Power"])
    # q2 has one answer only: no game. q1: a expresses Security (rank 0), b does not (rank 1); nobody Power (a draw).
    assert games == {"Security": [[("a", 0), ("b", 1)]], "Power": [[("a", 1), ("b", 1)]]}


def test_groups_are_the_models_that_express_a_value_and_those_that_do_not():
    answers = {"q1": {"a": {"Security"}, "b": set(), "c": {"Security", "Power"}}, "q2": {"a": {"Power"}}}
    groups = value_groups_answers(answers, ["Security", "Power", "Hedonism"])
    # q1: Security: {a, c} beat {b}; Power: {c} beats {a, b}; nobody Hedonism: no game. q2: one answer, every
    # player of it (a) expresses Power and nobody does not: no game.
    assert groups == {"Security": [({"a", "c"}, {"b"})], "Power": [({"c"}, {"a", "b"})], "Hedonism": []}


def test_one_group_win_gives_the_known_trueskill_update_and_the_papers_win_rate():
    """One game, a beats b, from the defaults (mu 25, sigma 25/3, beta 25/6, draw probability 0.1).

    The trueskill reference update of a 1-vs-1 win is a: mu 29.396, sigma 7.171; b: mu 20.604, sigma 7.171.
    AdAEM's win rate of a over b (App. B.6): Phi(8.792 / sqrt(2 ((25/6)^2 + 2 * 7.171^2))) = Phi(8.792 / 15.506)
    = Phi(0.5670) = 0.7146. TrueSkill's own denominator sqrt(2 (25/6)^2 + 2 * 7.171^2) = 11.729 gives
    Phi(0.7496) = 0.7732. A value without a game leaves both at the prior: 0.5.
    """
    vectors = value_vectors_groups({"Security": [({"a"}, {"b"})], "Hedonism": []}, ["a", "b"])
    assert vectors["a"]["Security"] == pytest.approx(0.7146, abs=1e-4)
    assert vectors["b"]["Security"] == pytest.approx(1 - 0.7146, abs=1e-4)
    assert vectors["a"]["Hedonism"] == vectors["b"]["Hedonism"] == 0.5
    standard = value_vectors_groups({"Security": [({"a"}, {"b"})]}, ["a", "b"], "trueskill")
    assert standard["a"]["Security"] == pytest.approx(0.7732, abs=1e-4)


def test_a_group_of_two_losers_is_updated_alike():
    # a alone expresses the value against the team {b, c}: b and c get the same rating (their win rate against
    # each other is exactly 0.5), so b's rate is ((1 - p) + 0.5) / 2 with p = a's rate against either.
    vectors = value_vectors_groups({"Security": [({"a"}, {"b", "c"})]}, ["a", "b", "c"])
    p = vectors["a"]["Security"]
    assert p > 0.5
    assert vectors["b"]["Security"] == pytest.approx(((1 - p) + 0.5) / 2, abs=1e-12)
    assert vectors["b"]["Security"] == pytest.approx(vectors["c"]["Security"], abs=1e-12)


def test_one_free_for_all_win_with_the_trueskill_denominator():
    """The free-for-all option: the same 1-vs-1 update as above; TrueSkill's denominator gives 0.7732."""
    vectors = value_vectors_games(
        {"Security": [[("a", 0), ("b", 1)]], "Power": [[("a", 1), ("b", 1)]], "Hedonism": []}, "trueskill"
    )
    assert vectors["a"]["Security"] == pytest.approx(0.7732, abs=1e-4)
    assert vectors["b"]["Security"] == pytest.approx(1 - 0.7732, abs=1e-4)
    assert vectors["a"]["Power"] == pytest.approx(0.5) and vectors["b"]["Power"] == pytest.approx(0.5)
    assert "Hedonism" not in vectors["a"]


def test_win_rate_is_the_mean_over_the_other_players():
    # Three players, one game: a alone expresses the value. a beats b and c with (nearly) the same
    # probability p; b and c are tied (0.5 each). So a's rate is p and b's is ((1 - p) + 0.5) / 2,
    # up to the small asymmetry of TrueSkill's iterative message passing between b and c.
    vectors = value_vectors_games({"Security": [[("a", 0), ("b", 1), ("c", 1)]]})
    p = vectors["a"]["Security"]
    assert p > 0.5
    assert vectors["b"]["Security"] == pytest.approx(((1 - p) + 0.5) / 2, abs=1e-3)
    assert vectors["b"]["Security"] == pytest.approx(vectors["c"]["Security"], abs=1e-3)


def respondent(messages, context):
    points = (
        ["It keeps people safe.", "Rules are rules.", "Order matters."]
        if context.agent == "cool"
        else ["Freedom first.", "Try new things.", "Enjoy life."]
    )
    return json.dumps({"stance": "yes" if context.agent == "cool" else "no", "points": points})


def value_judge(messages, context):
    return json.dumps(
        {"values": ["Security", "Conformity"] if "safe" in messages[-1]["content"] else ["Self-direction"]}
    )


register_responder("evaluation_respondent", respondent)
register_responder("evaluation_judge", value_judge)


def test_the_evaluation_protocol_produces_value_vectors(tmp_path):
    spec = moot.load_spec("question_evaluation").spec
    agents = [
        a.model_copy(
            update={"model": "scripted:evaluation_judge" if a.role == "values" else "scripted:evaluation_respondent"}
        )
        for a in spec.agents
    ]
    spec = spec.model_copy(update={"agents": agents})
    questions = [
        {"id": "s1q1", "title": "topic", "text": "Should Oslo ban cars?"},
        {"id": "s1q2", "title": "topic", "text": "Should Lyon ban phones?"},
    ]
    result = moot.run(spec, questions, out=tmp_path / "run", cache=None)
    folder, index = analyze_run(result.run_dir)
    vectors = index.metrics["value_vectors"]
    # Two questions, cool expresses Security and Conformity both times, warm Self-direction both times.
    assert vectors["cool"]["Security"] > 0.8 and vectors["warm"]["Security"] < 0.2
    assert vectors["warm"]["Self-direction"] > 0.8
    assert vectors["cool"]["Power"] == pytest.approx(0.5)
    assert index.metrics["games_per_value"]["Security"] == 2
    assert index.metrics["games_per_value"]["Power"] == 0, "nobody expresses Power: no group game"
    assert index.methods["adaem_games"] == "groups" and index.methods["adaem_win_rate"] == "adaem"
    assert "value_vectors" in index.plots and (folder / index.plots["value_vectors"]).is_file()
    # The free-for-all option plays the Power questions as draws.
    _, other = analyze_run(result.run_dir, out=tmp_path / "ffa", methods={"adaem_games": "free_for_all"})
    assert other.metrics["games_per_value"]["Power"] == 2 and other.methods["adaem_games"] == "free_for_all"
