"""Question evaluation over two scripted models put together as arms: value vectors per model, side by side."""

from __future__ import annotations

import pytest
from arm_runs import analyze_arms
from matrix_studies import QUESTIONS, register_responders

import moot
from moot.analysis.study_question_evaluation import analyze_question_evaluation_run


@pytest.fixture(scope="module")
def model_runs(tmp_path_factory):
    register_responders()
    base = tmp_path_factory.mktemp("qe_models")
    runs = {}
    for model in ("careful", "free"):
        spec = moot.load_spec("question_evaluation").spec
        agents = [
            a.model_copy(update={"model": "scripted:qe_judge" if a.role == "values" else f"scripted:qe_{model}"})
            for a in spec.agents
        ]
        run = moot.run(spec.model_copy(update={"agents": agents}), QUESTIONS, out=base / model, cache=None)
        runs[model] = (run.run_dir, {"model.cool": model, "model.warm": model})
    return runs


def test_value_vectors_per_model_side_by_side(model_runs, tmp_path):
    metrics, writer = analyze_arms(analyze_question_evaluation_run, model_runs, tmp_path)
    # each arm gives its two agents one model: the players are `model / agent`, playing every question together
    assert metrics["players"] == ["careful / cool", "careful / warm", "free / cool", "free / warm"]
    assert metrics["player_models"]["free / warm"] == "free"
    vectors, by_model = metrics["value_vectors"], metrics["value_vectors_by_model"]
    for model in ("careful", "free"):
        for value, rate in by_model[model].items():
            assert rate == pytest.approx((vectors[f"{model} / cool"][value] + vectors[f"{model} / warm"][value]) / 2)
    # the careful model always expresses Security and the free model Self-direction: mirror images
    assert by_model["careful"]["Security"] > 0.5 > by_model["free"]["Security"]
    assert by_model["careful"]["Security"] == pytest.approx(by_model["free"]["Self-direction"])
    assert by_model["careful"]["Power"] == pytest.approx(0.5)
    assert metrics["games_per_value"]["Security"] == 2
    assert (tmp_path / writer.plots["value_vectors_by_model"]).read_bytes()[:4] == b"\x89PNG"


def test_one_model_is_a_note(model_runs, tmp_path):
    metrics, writer = analyze_arms(analyze_question_evaluation_run, {"free": model_runs["free"]}, tmp_path)
    assert metrics["players"] == ["cool", "warm"] and "value_vectors_by_model" not in metrics
    assert any("need at least two models, this run has 1 (free)" in note for note in writer.notes)
