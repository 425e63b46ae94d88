"""The deliberation study over three simulated models in every pairing and both speaking orders.

The models' parameters plant who gives way (utilities so far apart that every draw is certain):

- X is stubborn: its baseline utility for NTA (400) beats anything others can add, so it never moves;
- Y (YTA, 200) and Z (ESH, 200) keep their verdict when they speak first and follow when second:
  in round 1 the second speaker sees the first's verdict of the same round (+160 < 200: it keeps
  its own); in round 2 the first speaker sees the second's round-1 verdict (+100 < 200: keeps),
  and the second sees the first's verdict from round 1 and round 2 (+100 + 160 = 260 > 200: follows).

So a debate ends in consensus in round 2 on the first speaker's verdict, except when X speaks
second: then nobody moves and the debate runs out of rounds. Each line-up runs 2 scenarios in
both orders, 2 repeats: 8 debates per line-up, 4 per order.
"""

from __future__ import annotations

import pytest
from arm_runs import ArmRun, arm_run_events
from matrix_studies import AITA_CASES as SCENARIOS
from matrix_studies import SIMULATED_MODELS as MODELS

import moot
from moot.analysis.analyze import AnalysisInputs, analyze_run, read_run
from moot.analysis.arms import conversation_arms
from moot.analysis.debates import debate_records_events
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.ratings import elo_matches
from moot.analysis.study_deliberation import analyze_deliberation_run

LINE_UPS = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
SIMULATED = {"a": "simulated", "b": "simulated"}


def debate(first: str, second: str) -> dict:
    """A round-robin debate of agents a (model `first`) and b (model `second`), both orders, 2 repeats."""
    return {
        "name": "simulated_line_up",
        "study": "deliberation",
        "model": "simulated",
        "turns": "round_robin",
        "rounds": 3,
        "repeats": 2,
        "orders": "permutations",
        "stop": [{"consensus": "verdict"}],
        "agents": [
            {"name": "a", "role": "debater", "variables": {"simulate": MODELS[first]}},
            {"name": "b", "role": "debater", "variables": {"simulate": MODELS[second]}},
        ],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def solo(model: str) -> dict:
    """The model alone, 2 repeats."""
    spec = debate(model, model) | {"name": "simulated_solo", "rounds": 1, "orders": "given"}
    spec["agents"] = [{"name": "solo", "role": "debater", "variables": {"simulate": MODELS[model]}}]
    return spec


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("line_ups")
    runs = []
    for first, second in LINE_UPS:
        out = root / f"{first}{second}"
        moot.run(debate(first, second), SCENARIOS, out=out, cache=None, concurrency=4)
        runs.append(ArmRun(out, {"model.a": first, "model.b": second}, SIMULATED))
    solos = []
    for model in MODELS:
        out = root / f"solo_{model}"
        moot.run(solo(model), SCENARIOS, out=out, cache=None, concurrency=4)
        solos.append(ArmRun(out, {"model.solo": model}, {"solo": "simulated"}))
    manifest, _ = read_run(runs[0].run_dir)
    inputs = AnalysisInputs(
        arm_run_events(runs), manifest, companions={"baseline": arm_run_events(solos)}, n_boot=20, companion_specs={}
    )
    writer = AnalysisWriter(root / "analysis")
    metrics = analyze_deliberation_run(inputs, writer)
    return runs, inputs, metrics, writer


def rate(found: dict) -> tuple[int, int]:
    """(count, total) of a rate."""
    return found["count"], found["total"]


def test_per_order_rates_are_recovered_not_averaged(study):
    _, _, metrics, _ = study
    changes = metrics["verdict_changes"]
    # Y > Z: Y keeps (0 of 4), Z follows (4 of 4); the other order the other way round.
    assert {p: rate(r) for p, r in changes["by_line_up"]["Y > Z"].items()} == {"Y": (0, 4), "Z": (4, 4)}
    assert {p: rate(r) for p, r in changes["by_line_up"]["Z > Y"].items()} == {"Y": (4, 4), "Z": (0, 4)}
    # Pooled over the two orders each is 50%, and says so.
    assert changes["by_arm"]["model.a=Y, model.b=Z"]["Z"]["rate"] == 0.5
    assert changes["pooled"]["by_arm"] == "pooled over order, repeat"
    # Per player and position: Y and Z follow whenever second, X never moves.
    assert {p: {k: rate(r) for k, r in v.items()} for p, v in changes["by_player_position"].items()} == {
        "X": {"1": (0, 8), "2": (0, 8)},
        "Y": {"1": (0, 8), "2": (8, 8)},
        "Z": {"1": (0, 8), "2": (8, 8)},
    }
    assert {p: rate(r) for p, r in changes["by_player"].items()} == {"X": (0, 16), "Y": (8, 16), "Z": (8, 16)}
    # Agent b is Y, Z, Z in the three arms and changes whenever second: 12 of 12 in order a>b; agent a is X, X, Y.
    assert {a: rate(r) for a, r in changes["by_order"]["a>b"].items()} == {"a": (0, 12), "b": (12, 12)}
    assert {a: rate(r) for a, r in changes["by_order"]["b>a"].items()} == {"a": (4, 12), "b": (0, 12)}
    assert rate(changes["by_agent"]["a"]) == (4, 24) and rate(changes["by_agent"]["b"]) == (12, 24)
    assert changes["pooled"]["by_agent"] == "pooled over order, model.a, model.b, repeat"
    assert changes["pooled"]["by_position"] == "pooled over agents, model.a, model.b, repeat"
    # Both repeats give the same rates: mean 0.5, sd 0 for Y.
    assert changes["across_repeats"]["Y"] == {"mean": 0.5, "sd": 0.0, "n": 2}


def test_consensus_per_line_up_and_first_player(study):
    _, _, metrics, _ = study
    consensus = metrics["consensus"]
    assert consensus["consensus"]["count"] == 16 and consensus["consensus"]["total"] == 24
    by_line_up = {k: v["consensus"]["rate"] for k, v in consensus["by_line_up"].items()}
    assert by_line_up == {"X > Y": 1.0, "Y > X": 0.0, "X > Z": 1.0, "Z > X": 0.0, "Y > Z": 1.0, "Z > Y": 1.0}
    assert {k: v["consensus"]["rate"] for k, v in consensus["by_first_player"].items()} == {
        "X": 1.0,
        "Y": 0.5,
        "Z": 0.5,
    }
    assert consensus["by_first_speaker"]["a"]["consensus"]["count"] == 12  # a first: X>Y, X>Z, Y>Z
    assert consensus["pooled"]["by_first_speaker"] == "pooled over model.a, model.b, repeat"
    assert consensus["across_repeats"] == {"mean": pytest.approx(16 / 24), "sd": 0.0, "n": 2}
    # The first speaker's verdict wins, except against X second: then no majority (NTA against YTA or ESH).
    final = {k: {v: c for v, c in counts.items() if c} for k, counts in metrics["verdicts"]["final_by_line_up"].items()}
    assert final == {
        "X > Y": {"NTA": 4},
        "X > Z": {"NTA": 4},
        "Y > X": {"none": 4},
        "Y > Z": {"YTA": 4},
        "Z > X": {"none": 4},
        "Z > Y": {"ESH": 4},
    }


def test_elo_and_trueskill_rate_each_model_once_over_every_arm(study):
    _, inputs, metrics, _ = study
    # The first speaker's verdict prevails (a win) on a consensus; with X second nobody moves (a draw).
    score = {"X > Y": 1.0, "Y > X": 0.5, "X > Z": 1.0, "Z > X": 0.5, "Y > Z": 1.0, "Z > Y": 1.0}
    arms = inputs.arms
    games = []
    for record in debate_records_events(inputs.events):
        players = arms[record.conversation].players()
        first, second = (players[agent] for agent in record.order)
        games.append((first, second, score[f"{first} > {second}"]))
    elo = metrics["ratings"]["elo"]
    assert elo["games"] == 24
    assert elo["ratings"] == pytest.approx(elo_matches(games))
    assert set(elo["ratings"]) == {"X", "Y", "Z"}
    assert elo["ratings"]["X"] > 1500 > min(elo["ratings"]["Y"], elo["ratings"]["Z"])
    skills = metrics["ratings"]["trueskill"]
    assert skills["games"] == 16 and set(skills["ratings"]) == {"X", "Y", "Z"}
    assert skills["ratings"]["X"]["mu"] > max(skills["ratings"]["Y"]["mu"], skills["ratings"]["Z"]["mu"])


def test_solo_baseline_per_model(study):
    _, _, metrics, writer = study
    solo = metrics["solo_by_model"]
    assert solo["X"]["verdicts"]["NTA"] == 4 and solo["Y"]["verdicts"]["YTA"] == 4 and solo["Z"]["verdicts"]["ESH"] == 4
    assert solo["Y"]["by_repeat"] == {
        "0": {"NTA": 0, "YTA": 2, "NAH": 0, "ESH": 0, "INFO": 0, "unparsed": 0},
        "1": {"NTA": 0, "YTA": 2, "NAH": 0, "ESH": 0, "INFO": 0, "unparsed": 0},
    }
    assert solo["Y"]["share_across_repeats"]["YTA"] == {"mean": 1.0, "sd": 0.0, "n": 2}
    assert metrics["round_1_by_model"]["X"] == {
        "vs Y": {"NTA": 8, "YTA": 0, "NAH": 0, "ESH": 0, "INFO": 0, "unparsed": 0},
        "vs Z": {"NTA": 8, "YTA": 0, "NAH": 0, "ESH": 0, "INFO": 0, "unparsed": 0},
    }
    agreement = metrics["agreement_with_solo"]
    # Round 1: everyone says its own model's solo verdict.
    assert agreement["round_1"]["overall"] == {"rate": 1.0, "count": 48, "total": 48}
    # Last round: X always keeps its own; Y keeps it when first (8 seats) and follows whenever second (8) -> 8 of 16.
    last = {m: (r["count"], r["total"]) for m, r in agreement["last_round"]["by_model"].items()}
    assert last == {"X": (16, 16), "Y": (8, 16), "Z": (8, 16)}
    assert agreement["last_round"]["pooled"]["by_model"] == "pooled over order, model.a, model.b, repeat"
    assert agreement["without_solo_run"] == [] and agreement["without_solo_verdict"] == 0
    assert "rate_breakdowns" in writer.tables and "solo_versus_round_1" in writer.tables
    # The paper's per-repeat agreement: X's 8 round-1 verdicts against Y are NTA, as is X alone in both solo repeats.
    assert metrics["solo_agreement_round_1"]["X"]["vs Y"] == {
        "by_repeat": {"0": {"rate": 1.0, "count": 8, "total": 8}, "1": {"rate": 1.0, "count": 8, "total": 8}},
        "across_repeats": {"mean": 1.0, "sd": 0.0, "n": 2},
    }
    assert "solo_agreement_round_1" in writer.tables and "solo_agreement_round_1" in writer.methods


def test_a_single_run_in_both_orders_gives_each_order_apart(study):
    runs, *_ = study
    folder, index = analyze_run(runs[2].run_dir, out=runs[2].run_dir.parent / "yz_analysis", n_boot=20)
    changes = index.metrics["verdict_changes"]
    # The case: 100% and 0% per order, 50% pooled -- both are given, the pooled one saying so.
    assert changes["by_order"] == {
        "a>b": {"a": {"rate": 0.0, "count": 0, "total": 4}, "b": {"rate": 1.0, "count": 4, "total": 4}},
        "b>a": {"a": {"rate": 1.0, "count": 4, "total": 4}, "b": {"rate": 0.0, "count": 0, "total": 4}},
    }
    assert changes["by_agent"]["a"]["rate"] == 0.5 and changes["pooled"]["by_agent"] == "pooled over order, repeat"
    assert changes["by_agent_position"]["a"] == {
        "1": {"rate": 0.0, "count": 0, "total": 4},
        "2": {"rate": 1.0, "count": 4, "total": 4},
    }
    assert "by_line_up" not in changes and not any("order effects" in n for n in index.notes)
    assert (folder / index.plots["verdict_change_by_position"]).is_file()


def test_one_order_is_a_note_and_the_single_run_outputs_stay(tmp_path):
    spec = debate("Y", "Z") | {"orders": "given", "repeats": 1}
    out = moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=None).run_dir
    _, index = analyze_run(out, n_boot=20)
    changes = index.metrics["verdict_changes"]
    assert changes["by_agent"] == {
        "a": {"rate": 0.0, "count": 0, "total": 2},
        "b": {"rate": 1.0, "count": 2, "total": 2},
    }
    assert (
        "by_order" not in changes
        and "across_repeats" not in changes
        and changes["pooled"] == {"by_position": "pooled over agents"}
    )
    assert any(n.startswith("order effects: every debate has the speaking order a > b") for n in index.notes)
    assert conversation_arms(read_run(out)[1]).compares() is False
