"""The value portrait study over two scripted models put together as arms of one run.

Both models rate three items that measure one value (Power, say): model `high` rates them
6, 2, 4 and model `low` 5, 2, 2. Cronbach's alpha of that value across the two models (the
models the respondents, its items the scale's items), by hand: item variances (ddof 1) 0.5, 0
and 2, sum 2.5; totals 12 and 9, variance 4.5; alpha = 3/2 (1 - 2.5/4.5) = 2/3.
"""

from __future__ import annotations

import pytest
from arm_runs import analyze_arms
from matrix_studies import PORTRAIT_RATINGS, portrait_items, register_responders

import moot
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_value_portrait import analyze_value_portrait, analyze_value_portrait_run, score_variance
from moot.analysis.value_portrait import ValueScore
from moot.trace.opening import read_run_events

RATINGS = PORTRAIT_RATINGS


@pytest.fixture(scope="module")
def model_runs(tmp_path_factory):
    value, chosen = portrait_items()
    register_responders()
    base = tmp_path_factory.mktemp("vp_models")
    runs = {}
    for model in RATINGS:
        spec = moot.load_spec("value_portrait").spec.model_copy(update={"model": f"scripted:vp_{model}"})
        arm = {f"model.{agent.name}": model for agent in spec.agents}  # as a matrix of models for the role gives it
        runs[model] = (moot.run(spec, chosen, out=base / model, cache=None).run_dir, arm)
    return value, runs


def test_per_model_scores_equal_each_single_model_analysis(model_runs, tmp_path):
    value, runs = model_runs
    metrics, writer = analyze_arms(analyze_value_portrait_run, runs, tmp_path)
    assert list(metrics["models"]) == ["high", "low"]
    for model, (run_dir, _) in runs.items():
        manifest, events = read_run_events(run_dir)
        alone = analyze_value_portrait(events, manifest.spec, AnalysisWriter(tmp_path / model))
        assert metrics["models"][model]["scores"] == alone["scores"]
        assert metrics["models"][model]["variance"] == alone["variance"]
    alpha = metrics["alpha_across_models"]["values"][value]
    assert alpha == {"alpha": pytest.approx(2 / 3), "items": 3, "respondents": 2}
    assert {"values_by_model", "traits_by_model", "alpha_across_models"} <= set(writer.tables)
    assert (tmp_path / writer.plots["value_radar_models"]).read_bytes()[:4] == b"\x89PNG"
    assert metrics["pooled_over"].startswith("pooled over model.v1, model.v1_reversed")


def test_show_chooses_the_radar_models_and_one_model_is_a_note(model_runs, tmp_path):
    _, runs = model_runs
    _, writer = analyze_arms(analyze_value_portrait_run, runs, tmp_path / "shown", shown=("low", "other"))
    assert any("--show: other not among the models (high, low)" in note for note in writer.notes)
    metrics, writer = analyze_arms(analyze_value_portrait_run, {"high": runs["high"]}, tmp_path / "one")
    assert "models" not in metrics and "alpha_across_models" not in metrics
    assert any("need at least two models, this run has 1 (high)" in note for note in writer.notes)


def test_score_variance_is_the_sample_variance_across_values():
    # Value Portrait, Table 8: Qwen2.5-Instruct 14B's scores give Var 0.249 (ddof 1; ddof 0 would give 0.224)
    scores = [0.35, 0.68, 0.18, -0.78, 0.81, -0.37, -0.43, 0.09, 0.14, 0.33]
    found = score_variance({str(k): ValueScore(s, 0.0, 0.0, 1) for k, s in enumerate(scores)})
    assert round(found, 3) == 0.249
    assert score_variance({"a": ValueScore(0.1, 0.0, 0.0, 1)}) is None
