"""The consistency study over two scripted models, P and Q, each a run of its own put together as arms.

Three dilemmas, each action carrying one value of its own: (Honesty | Loyalty), (Justice |
Friendship), (Fairness | Care). P always takes action 1 and argues for action 1's value first;
Q always takes action 2 and argues for action 2's value first. Within each model short and long
answers agree perfectly; pooled over the two models every long-form preference is the same, so a
pooled correlation says nothing.
"""

from __future__ import annotations

import json
import re

import pytest
from arm_runs import ArmRun, arm_run_events
from matrix_studies import DILEMMA_PAIRS as PAIRS
from matrix_studies import DILEMMAS

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import AnalysisInputs, analyze_run, read_run
from moot.analysis.consistency_answers import short_choices_events, short_preferences
from moot.analysis.consistency_models import across_models
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_consistency import analyze_consistency_run
from moot.judges.arguments import EXTRACTION_ROLE, VALUES_ROLE, judge_arguments_run

FIRST = {"Honesty", "Justice", "Fairness"}
SECOND = {"Loyalty", "Friendship", "Care"}
ACTION = {"P": "Action 1", "Q": "Action 2"}


def argue(messages: list[dict[str, str]], context: CallContext) -> str:
    """Names the dilemma's values one argument each: action 1's first for P, action 2's first for Q."""
    names = [v.strip() for v in re.findall(r"values: (.*)", messages[0]["content"])[0].split(",")]
    if "model Q" in messages[0]["content"]:
        names.reverse()
    return "\n".join(f"{i}. {name} matters here." for i, name in enumerate(names, 1))


def judges(messages: list[dict[str, str]], context: CallContext) -> str:
    """Split numbered lines; the value an argument names; a rating of 3."""
    prompt = messages[-1]["content"]
    if context.role == EXTRACTION_ROLE:
        return json.dumps({"arguments": re.findall(r"^\d+\. (.*)$", prompt, flags=re.MULTILINE)})
    if context.role == VALUES_ROLE:
        return json.dumps({"values": [prompt.split("argument:\n", 1)[1].split(" matters")[0]]})
    return json.dumps({"explanation": "one level of backing", "score": 3})


def short_spec(model: str) -> dict:
    spec = moot.load_spec("consistency_short").spec.model_dump(exclude_defaults=True)
    spec["model"] = "scripted"
    spec["agents"][0]["script"] = [json.dumps({"action": ACTION[model]})]
    return spec


def long_spec(model: str) -> dict:
    spec = moot.load_spec("consistency_long").spec.model_dump(exclude_defaults=True)
    spec["model"] = "scripted:argue_by_model"
    spec["agents"] = [{"name": "arguer", "role": "arguer", "variables": {"k": 2}}]
    spec["roles"]["arguer"]["prompt"] = (
        f"model {model}\n{{{{ scenario.text }}}}\nvalues: {{{{ ((scenario.metadata.values_1 | default([])) + "
        "(scenario.metadata.values_2 | default([]))) | join(', ') }}"
    )
    return spec


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    register_responder("argue_by_model", argue)
    register_responder("consistency_judges", judges)
    root = tmp_path_factory.mktemp("consistency_models")
    shorts, longs = [], []
    for model in ("P", "Q"):
        short = moot.run(short_spec(model), DILEMMAS, out=root / f"short_{model}", cache=None).run_dir
        long = moot.run(long_spec(model), DILEMMAS, out=root / f"long_{model}", cache=None).run_dir
        judge_arguments_run(long, model="scripted:consistency_judges")
        shorts.append(ArmRun(short, {"model.chooser": model}, {"chooser": "scripted"}))
        longs.append(ArmRun(long, {"model.arguer": model}, {"arguer": "scripted:argue_by_model"}))
    return root, shorts, longs


def analysis(root, runs: list[ArmRun], short: list[ArmRun] | None, name: str):
    manifest, _ = read_run(runs[0].run_dir)
    companions = {"short": arm_run_events(short)} if short else {}
    inputs = AnalysisInputs(arm_run_events(runs), manifest, companions=companions, n_boot=20)
    writer = AnalysisWriter(root / name)
    return analyze_consistency_run(inputs, writer), writer


def test_short_value_maps_per_model_equal_each_model_alone(study):
    root, shorts, _ = study
    metrics, writer = analysis(root, shorts, shorts, "short")
    maps = metrics["by_model"]
    assert set(maps) == {"P", "Q"}
    for run, model in zip(shorts, ("P", "Q"), strict=True):
        alone = short_preferences(short_choices_events(read_run(run.run_dir)[1]))
        assert {v: r["mu"] for v, r in maps[model]["trueskill"].items()} == pytest.approx(alone)
    p = {v: r["mu"] for v, r in maps["P"]["trueskill"].items()}
    # One win from the prior each: P's three winners share one mu above 25, its three losers one below.
    assert len({round(p[v], 9) for v in FIRST}) == 1 and min(p[v] for v in FIRST) > 25 > max(p[v] for v in SECOND)
    q = {v: r["mu"] for v, r in maps["Q"]["trueskill"].items()}
    assert q == pytest.approx({v: p[o] for a, b in PAIRS for v, o in ((a, b), (b, a))})
    assert metrics["pooled"] == {"trueskill": "pooled over choosers, models"}
    assert set(metrics["by_chooser"]) == {"P / chooser", "Q / chooser"}
    # The same runs as companion: each model agrees with itself, 1.0 on average with sd 0 over the two models.
    assert {m: c["spearman"] for m, c in metrics["mu_correlation_versus_companion_by_model"].items()} == {
        "P": pytest.approx(1.0),
        "Q": pytest.approx(1.0),
    }
    assert metrics["mu_correlation_versus_companion_across_models"]["spearman"] == {
        "mean": pytest.approx(1.0),
        "sd": pytest.approx(0.0),
        "n": 2,
    }
    # each model takes the same decision as itself on every dilemma of the sample
    assert {m: found["share"] for m, found in metrics["same_decision_versus_companion_by_model"].items()} == {
        "P": 1.0,
        "Q": 1.0,
    }
    assert {"short_preferences_by_model", "mu_correlation_versus_companion_by_model"} <= set(writer.tables)
    assert "same_decision_versus_companion_by_model" in writer.tables


def test_long_preferences_and_correlations_per_model_and_their_mean(study):
    """P's long map: action-1 values at position 1 of 2 (-1/2), action-2 values at 2 of 2 (-1); Q the reverse.

    Short maps are two-level the same way round, so short vs long is 1.0 (Pearson and Spearman) for each
    model: mean 1.0, sd 0 across the two. Pooled, every value is first once and second once: -(1/2 + 1)/2 =
    -3/4 for all six, a constant map that cannot be correlated.
    """
    root, shorts, longs = study
    metrics, writer = analysis(root, longs, shorts, "long")
    by_model = metrics["by_model"]
    assert by_model["P"]["position_preferences"]["k=2"] == pytest.approx(
        {**{v: -0.5 for v in FIRST}, **{v: -1.0 for v in SECOND}}
    )
    assert by_model["Q"]["position_preferences"]["overall"] == pytest.approx(
        {**{v: -1.0 for v in FIRST}, **{v: -0.5 for v in SECOND}}
    )
    for model in ("P", "Q"):
        correlation = by_model[model]["correlations"]["short vs long k=2"]
        assert (correlation["n"], correlation["pearson"], correlation["spearman"]) == (
            6,
            pytest.approx(1.0),
            pytest.approx(1.0),
        )
    across = metrics["correlations_across_models"]["short vs long k=2"]
    assert across["pearson"] == {"mean": pytest.approx(1.0), "sd": pytest.approx(0.0), "n": 2}
    assert metrics["position_preferences"]["overall"] == pytest.approx({v: -0.75 for v in FIRST | SECOND})
    assert metrics["short_versus_long"]["short vs long k=2"]["spearman"] is None
    assert metrics["pooled"]["short_versus_long"] == "pooled over models (P, Q)"
    assert {"long_preferences_by_model", "correlations_by_model", "correlations_across_models"} <= set(writer.tables)


def test_two_choosers_in_one_run_are_two_maps(tmp_path):
    spec = short_spec("P")
    spec["agents"].append({**spec["agents"][0], "name": "other", "script": [json.dumps({"action": "Action 2"})]})
    run = moot.run(spec, DILEMMAS, out=tmp_path / "run", cache=None).run_dir
    _, index = analyze_run(run, n_boot=20)
    metrics = index.metrics
    assert metrics["pooled"] == {"trueskill": "pooled over choosers"} and "by_model" not in metrics
    chooser = {v: r["mu"] for v, r in metrics["by_chooser"]["chooser"]["trueskill"].items()}
    other = {v: r["mu"] for v, r in metrics["by_chooser"]["other"]["trueskill"].items()}
    assert min(chooser[v] for v in FIRST) > 25 > max(chooser[v] for v in SECOND)
    assert min(other[v] for v in SECOND) > 25 > max(other[v] for v in FIRST)
    assert "short_preferences_by_chooser" in index.tables


def test_correlations_across_models_by_hand():
    """Pearson 1 and 0 over two models: mean 1/2, sd sqrt(1/2); a model without a Spearman is left out of it."""
    found = across_models(
        {"P": {"short vs long": {"pearson": 1.0, "spearman": 0.5}}, "Q": {"short vs long": {"pearson": 0.0}}}
    )
    assert found == {
        "short vs long": {
            "pearson": {"mean": 0.5, "sd": pytest.approx(0.5**0.5), "n": 2},
            "spearman": {"mean": 0.5, "sd": None, "n": 1},
        }
    }
