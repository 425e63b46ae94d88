"""The cooperation study over three scripted target models whose value orders differ.

Each model concedes exactly when the counterpart's value comes before its own in its order, so
with every pair of values met both ways its revealed ranking is its order. The three orders:

    first:    V0 V1 V2 ... V9        (V = SCHWARTZ_VALUES)
    reversed: V9 V8 ... V0
    swapped:  V1 V0 V2 ... V9        (the first two of `first` swapped)

By hand, the rank sums over the three models are 13 (V0), 12 (V1) and i + 12 for Vi, i >= 2;
their mean is m (n + 1) / 2 = 16.5, S = sum of squared deviations = 82.5, and Kendall's W =
12 S / (m^2 (n^3 - n)) = 990 / 8910 = 1/9. V0's ranks are 1, 10, 2: mean 13/3, sample sd
sqrt(((1 - 13/3)^2 + (10 - 13/3)^2 + (2 - 13/3)^2) / 2) = sqrt(73/3) = 4.933.
Groups near = {first, swapped}, far = {reversed}: W within near has rank sums 3, 3, 2 (i + 1),
mean 11, S = 328, W = 12 * 328 / (4 * 990) = 0.99394; tau between near's mean ranks (V0 and V1
tied at 1.5, then 3 ... 10) and far's (10 ... 1): no concordant pair, 44 discordant, one pair
tied in near only, tau-b = -44 / sqrt(44 * 45) = -0.98883. `far` has one model: its W is a note.

A scripted order is perfectly separated (the top value is never conceded, the bottom one never conceded to), so
plain Bradley-Terry, the paper's fit, has no finite strengths: the rankings here add 0.5 pseudo-wins
(`bradley_terry_prior=0.5`), which keep each order.
"""

from __future__ import annotations

import itertools
import math

import pytest
from arm_runs import analyze_arms, arm_events
from matrix_studies import ORDERS, V, all_pairs_scenarios, register_responders, spec_of

import moot
from moot.analysis.analyze import analyze_run
from moot.analysis.arms import conversation_arms
from moot.analysis.concession import ConcessionMethods, ConcessionOutcome
from moot.analysis.cooperation_models import cooperation_by_model
from moot.analysis.cross_model import ModelGroups
from moot.analysis.methods import MethodOptions
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_cooperation import CooperationRecord, analyze_cooperation_run, analyze_stated_run

PSEUDO_WINS = {"bradley_terry_prior": "0.5"}
"""The method option that gives a perfectly separated order finite strengths."""


def pseudo_wins() -> MethodOptions:
    """Method options with 0.5 pseudo-wins (a fresh object per analysis: it records what was read)."""
    return MethodOptions(dict(PSEUDO_WINS))


@pytest.fixture(scope="module")
def model_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("coop_models")
    scenarios = all_pairs_scenarios(base / "pairs.yaml")
    register_responders()
    revealed, stated = {}, {}
    for name in ORDERS:
        models = {
            "target": f"scripted:target_{name}",
            "counterpart": "scripted:stands",
            "judge": "scripted:reads_target",
        }
        run = moot.run(
            spec_of("cooperation", models, rounds=2, repeats=2),
            scenarios=scenarios,
            out=base / f"revealed_{name}",
            cache=None,
            concurrency=8,
        )
        revealed[name] = (run.run_dir, {"model.target": name})
        stated_spec = spec_of("cooperation_stated", {"chooser": f"scripted:chooser_{name}"})
        stated_spec["variables"] = {**stated_spec["variables"], "explicit_values": True}
        run = moot.run(stated_spec, scenarios=scenarios, out=base / f"stated_{name}", cache=None, concurrency=8)
        stated[name] = (run.run_dir, {"model.chooser": name})
    return revealed, stated


def test_each_model_ranking_recovered_and_compared(model_runs, tmp_path):
    revealed, _ = model_runs
    groups = ModelGroups.parse("near=first,swapped;far=reversed")
    metrics, writer = analyze_arms(
        analyze_cooperation_run, revealed, tmp_path, n_boot=20, methods=pseudo_wins(), groups=groups
    )
    assert metrics["conversations"] == 3 * 90 * 2
    models = metrics["models"]
    for name, order in ORDERS.items():
        assert models[name]["ranking"]["ranking"] == order
        # a conceding target concedes in round 2, having heard the counterpart in round 1
        assert models[name]["rounds_to_concession"]["mean"] == 2
        assert models[name]["conceded"]["share"] == 0.5
        # both repeats rank the same: rank sd across repeats 0, W across repeats and counterpart x repeats 1
        assert models[name]["rank_across_repeats"][order[0]] == {"mean": 1.0, "sd": 0.0, "n": 2}
        assert models[name]["agreement"]["repeats"]["w"] == pytest.approx(1.0)
        assert models[name]["agreement"]["counterpart_models_repeats"]["w"] == pytest.approx(1.0)
    across = metrics["across_models"]
    assert across["concordance"]["w"] == pytest.approx(1 / 9)
    assert across["rank"][V[0]]["mean"] == pytest.approx(13 / 3)
    assert across["rank"][V[0]]["sd"] == pytest.approx(math.sqrt(73 / 3))
    assert across["ranked_first"] == {**dict.fromkeys(V, 0), V[0]: 1, V[9]: 1, V[1]: 1}
    assert across["ranked_last"][V[9]] == 2 and across["ranked_last"][V[0]] == 1
    near = across["groups"]["within"]["near"]
    assert near["w"] == pytest.approx(12 * 328 / (4 * 990))
    assert near["by_repeat"]["mean"] == pytest.approx(near["w"]) and near["by_repeat"]["sd"] == pytest.approx(0)
    assert across["groups"]["within"]["far"]["w"] is None
    (between,) = across["groups"]["between"]
    assert between["tau"] == pytest.approx(-44 / math.sqrt(44 * 45))
    assert any("within group 'far'" in note for note in writer.notes)
    assert metrics["pooled_over"] == "pooled over model.target, repeat"
    assert metrics["models_pooled_over"] == "pooled over repeat"
    assert metrics["models"] and {"revealed_ranking_by_model", "revealed_ranking_across_models"} <= set(writer.tables)
    assert (tmp_path / writer.plots["revealed_ranking_across_models"]).read_bytes()[:4] == b"\x89PNG"


def test_stated_per_model_and_stated_vs_revealed(model_runs, tmp_path):
    revealed, stated = model_runs
    metrics, _ = analyze_arms(analyze_stated_run, stated, tmp_path / "stated", n_boot=20, methods=pseudo_wins())
    for name, order in ORDERS.items():
        assert metrics["models"][name]["ranking"]["ranking"] == order
    assert metrics["across_models"]["concordance"]["w"] == pytest.approx(1 / 9)

    _, stated_events = arm_events(stated)
    metrics, _ = analyze_arms(
        analyze_cooperation_run,
        revealed,
        tmp_path / "both",
        n_boot=20,
        methods=pseudo_wins(),
        companions={"stated": stated_events},
    )
    assert conversation_arms(stated_events).dimensions() == ["model.chooser"]
    for name in ORDERS:
        assert metrics["models"][name]["stated_vs_revealed"]["tau"] == pytest.approx(1.0)


def test_one_model_gets_notes_and_unchanged_outputs(model_runs, tmp_path):
    revealed, _ = model_runs
    metrics, writer = analyze_arms(
        analyze_cooperation_run, {"first": revealed["first"]}, tmp_path, n_boot=20, methods=pseudo_wins()
    )
    assert "models" not in metrics and "across_models" not in metrics
    assert metrics["revealed"]["ranking"] == ORDERS["first"]
    assert any("need at least two target models, this run has 1 (first)" in note for note in writer.notes)
    assert metrics["pooled_over"] == "pooled over repeat"


def _records(model_holds: bool) -> list[CooperationRecord]:
    """Every pair of values met both ways; the target always holds (or always concedes)."""
    records = []
    for k, (a, b) in enumerate(itertools.permutations(V, 2)):
        outcome = ConcessionOutcome(f"c{k}", "reciprocal", a, b, conceded=not model_holds, rounds=2)
        records.append(CooperationRecord(outcome, f"c{k}", f"s{k}", 0, "", "k1", ""))
    return records


def test_a_model_that_never_concedes_has_no_comparisons(tmp_path):
    """Concessions only (the paper's default): a target that always holds gives no comparison, hence no ranking."""
    writer = AnalysisWriter(tmp_path)
    found = cooperation_by_model({"holds": _records(True)}, writer, n_boot=10, seed=0, max_rounds=2)
    assert found["models"]["holds"]["ranking"] is None and found["models"]["holds"]["comparisons"] == 0
    assert "revealed ranking of holds: no comparisons" in writer.notes


def test_a_model_whose_values_all_tie_gets_a_note(tmp_path):
    writer = AnalysisWriter(tmp_path)
    found = cooperation_by_model(
        {"holds": _records(True), "yields": _records(False)},
        writer,
        n_boot=10,
        seed=0,
        max_rounds=2,
        methods=ConcessionMethods(bradley_terry="holdouts_win"),
    )
    # with held-out conversations counted as wins, holding out and conceding both ways give every value 9 wins and
    # 9 losses: one tie of all ten values
    assert found["models"]["holds"]["ties"] == [found["models"]["holds"]["ranking"]["ranking"]]
    assert any(note.startswith("revealed ranking of holds: ") and "tie in strength" in note for note in writer.notes)
    assert found["models"]["holds"]["conceded"]["share"] == 0.0 and found["models"]["yields"]["conceded"]["share"] == 1
    assert found["models"]["yields"]["rounds_to_concession"]["mean"] == 2
    # one repeat: its sd is unknown, not 0
    assert found["models"]["yields"]["rounds_to_concession"]["by_repeat"] == {"mean": 2.0, "sd": None, "n": 1}


def test_several_choosers_of_one_run_are_kept_apart(model_runs, tmp_path):
    """Two choosers in one stated run, one choosing by `first`, one by `reversed`: opposite rankings, whose W is 0
    (every value's rank sum is 11)."""
    base = tmp_path / "run"
    spec = spec_of("cooperation_stated", {"chooser": "scripted:chooser_first"})
    spec["agents"].append({**spec["agents"][0], "name": "contrarian", "model": "scripted:chooser_reversed"})
    spec["variables"] = {**spec["variables"], "explicit_values": True}
    run = moot.run(spec, scenarios=all_pairs_scenarios(tmp_path / "pairs.yaml"), out=base, cache=None, concurrency=8)
    _, index = analyze_run(run.run_dir, tmp_path / "analysis", n_boot=10, methods=PSEUDO_WINS)
    metrics = index.metrics
    by_chooser = metrics["by_chooser"]
    assert by_chooser["scripted:chooser_first / chooser"] == ORDERS["first"]
    assert by_chooser["scripted:chooser_reversed / contrarian"] == ORDERS["reversed"]
    assert metrics["agreement_choosers"]["w"] == pytest.approx(0.0)
    assert metrics["pooled_over"] == "choosers"
    # two chooser models: each its own ranking, compared
    assert metrics["models"]["scripted:chooser_first"]["ranking"]["ranking"] == ORDERS["first"]


def test_counterpart_models_are_read_from_the_arms(model_runs, tmp_path):
    """One target model against two counterpart models (the arm dimension `model.counterpart`), two repeats each:
    W across counterpart models, and W over the 2 x 2 counterpart x repeat rankings (CoopValue, Table 18), all equal
    rankings: 1."""
    revealed, _ = model_runs
    run_dir, _ = revealed["first"]
    runs = {"k1": (run_dir, {"model.counterpart": "k1"}), "k2": (run_dir, {"model.counterpart": "k2"})}
    metrics, _ = analyze_arms(analyze_cooperation_run, runs, tmp_path, n_boot=10, methods=pseudo_wins())
    agreement = metrics["agreement"]
    assert agreement["counterpart_models"]["groups"] == ["k1", "k2"]
    assert agreement["counterpart_models"]["w"] == pytest.approx(1.0)
    found = agreement["counterpart_models_repeats"]
    assert found["raters"] == 4 and found["w"] == pytest.approx(1.0)
    assert sorted(found["rankings"]) == ["k1, repeat 0", "k1, repeat 1", "k2, repeat 0", "k2, repeat 1"]
    assert metrics["pooled_over"] == "pooled over model.counterpart, repeat"
