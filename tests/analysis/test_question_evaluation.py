"""Value vectors from TrueSkill group updates per question and value, and the evaluation protocol end to end."""

from __future__ import annotations

import json

import pytest

import moot
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.study_question_evaluation import value_games_answers, value_vectors_games


def test_games_rank_the_models_that_express_a_value_first():
    answers = {"q1": {"a": {"Security"}, "b": set()}, "q2": {"a": {"Power"}}}
    games = value_games_answers(answers, ["Security", "Power"])
    # q2 has one answer only: no game. q1: a expresses Security (rank 0), b does not (rank 1); nobody Power (a draw).
    assert games == {"Security": [[("a", 0), ("b", 1)]], "Power": [[("a", 1), ("b", 1)]]}


def test_one_win_gives_the_known_trueskill_update_and_win_rate():
    """One game, a beats b, from the defaults (mu 25, sigma 25/3, beta 25/6, draw probability 0.1).

    The trueskill reference update of a 1-vs-1 win is a: mu 29.396, sigma 7.171; b: mu 20.604,
    sigma 7.171. Win rate of a over b: Phi((29.396 - 20.604) / sqrt(2 * (25/6)^2 + 2 * 7.171^2))
    = Phi(8.792 / 11.729) = Phi(0.7496) = 0.773. A draw leaves both at mu 25: win rate 0.5.
    """
    vectors = value_vectors_games({"Security": [[("a", 0), ("b", 1)]], "Power": [[("a", 1), ("b", 1)]], "Hedonism": []})
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
    assert "value_vectors" in index.plots and (folder / index.plots["value_vectors"]).is_file()
