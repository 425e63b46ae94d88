"""The per-player inertia/conformity table of `moot analyze`, through real runs.

Simulated debaters with known, different parameters are recovered (each truth inside its
interval, estimates ordered as the truth); scripted debaters that always follow the others make
the fit separate, and the analysis says so.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

import moot
from helpers import debate_spec
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.cli import main

AGENTS = ("alice", "bob", "carol")
VERDICTS = ("NTA", "YTA", "NAH", "ESH", "INFO")
TRUTH = {
    "alice": {"inertia": 2.5, "conformity": 0.0, "conformity_within": 0.5, "baseline": {"NTA": 1.0}},
    "bob": {"inertia": 1.2, "conformity": 1.2, "conformity_within": 0.5, "baseline": {"YTA": 0.5}},
    "carol": {"inertia": 0.2, "conformity": 2.5, "conformity_within": 0.5, "baseline": {"NAH": 0.4}},
}


def simulated_spec() -> dict:
    """Three simulated debaters with different parameters, round-robin, every rotation of the speaking order."""
    return {
        "name": "simulated_players",
        "study": "deliberation",
        "model": "simulated",
        "turns": "round_robin",
        "orders": "rotations",
        "seed": 2,
        "rounds": 4,
        "stop": [{"consensus": "verdict"}],
        "agents": [
            {"name": name, "role": "debater", "variables": {"simulate": {**params, "dilemma_sd": 1.0}}}
            for name, params in TRUTH.items()
        ],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


@pytest.fixture(scope="module")
def simulated_analysis(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "simulated"
    scenarios = [{"id": f"s{i}", "text": f"Dilemma number {i}."} for i in range(90)]
    moot.run(simulated_spec(), scenarios, out=out, cache=None, concurrency=8)
    folder, index = analyze_run(out, n_boot=40, seed=1)
    return folder, json.loads((folder / "metrics.json").read_text())


def test_simulated_players_are_recovered_per_player(simulated_analysis):
    folder, metrics = simulated_analysis
    fitted = metrics["metrics"]["inertia_conformity"]
    assert fitted["fitted"] is True and fitted["players"] == list(AGENTS)
    assert "slopes per player" in fitted["method"] and "resamples of dilemmas" in fitted["method"]
    rows = {(r["parameter"], r["player"]): r for r in fitted["terms"]}
    for parameter in ("inertia", "conformity"):
        estimates = [rows[(parameter, agent)]["estimate"] for agent in AGENTS]
        truths = [TRUTH[agent][parameter] for agent in AGENTS]
        # The truths are ordered (descending inertia, ascending conformity); so must the estimates be.
        assert sorted(range(3), key=estimates.__getitem__) == sorted(range(3), key=truths.__getitem__), estimates
        for agent in AGENTS:
            row = rows[(parameter, agent)]
            assert row["ci_low"] < TRUTH[agent][parameter] < row["ci_high"], (parameter, agent, row)
    with (folder / "tables" / "inertia_conformity.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0])[:4] == ["term", "parameter", "player", "estimate"]
    assert Counter(r["parameter"] for r in table)["inertia"] == 3
    assert (folder / "plots" / "inertia_conformity.png").exists()


def test_the_pooled_fixed_effects_form_with_wald_intervals_is_one_option_away(simulated_analysis, tmp_path):
    folder, _ = simulated_analysis
    methods = {"inertia_slopes": "pooled", "inertia_dilemma_effects": "fixed", "inertia_intervals": "wald"}
    out, index = analyze_run(folder.parent, tmp_path / "pooled", n_boot=10, methods=methods)
    fitted = index.metrics["inertia_conformity"]
    assert fitted["players"] == list(AGENTS) and fitted["n_boot"] is None
    assert "slopes pooled over players" in fitted["method"] and "fixed prior sd 10" in fitted["method"]
    assert "Wald intervals" in fitted["method"]
    slopes = [r for r in fitted["terms"] if r["parameter"] == r["term"]]
    assert [(r["parameter"], r["player"]) for r in slopes] == [
        (p, "all") for p in ("inertia", "conformity", "conformity_within")
    ]
    assert all(r["ci_low"] < r["estimate"] < r["ci_high"] for r in slopes)
    assert {k: index.methods[k] for k in methods} == methods
    with pytest.raises(moot.UserError, match="--method inertia_slopes=each: value 'each' is unknown"):
        analyze_run(folder.parent, tmp_path / "bad", n_boot=10, methods={"inertia_slopes": "each"})


def follow_the_others(messages: list[dict[str, str]], context: CallContext) -> str:
    """Round 1: a verdict of one's own; later: the verdict most of the others last gave (ties: the first agent's)."""
    if context.round == 1:
        verdict = VERDICTS[(int(context.scenario_id[1:]) + AGENTS.index(context.agent)) % len(VERDICTS)]
    else:
        latest: dict[str, str] = {}
        for message in sorted(context.visible, key=lambda m: m["round"]):
            if message["agent"] != context.agent and message["round"] < context.round and message.get("parsed"):
                latest[message["agent"]] = message["parsed"]["verdict"]
        counts = Counter(latest[agent] for agent in sorted(latest))
        verdict = max(
            counts, key=lambda v: (counts[v], -sorted(latest).index(next(a for a in latest if latest[a] == v)))
        )
    return json.dumps({"verdict": verdict, "explanation": f"{context.agent} follows."})


def test_a_separable_scripted_run_gives_the_separation_note(tmp_path, capsys):
    register_responder("follow_the_others", follow_the_others)
    spec = debate_spec(
        {a: [] for a in AGENTS}, study="deliberation", model="scripted:follow_the_others", turns="synchronous"
    )
    for agent in spec["agents"]:
        agent.pop("script")
    scenarios = [{"id": f"s{i}", "text": f"Situation {i}."} for i in range(24)]
    moot.run(spec, scenarios, out=tmp_path / "run", cache=None, concurrency=4)
    assert main(["analyze", str(tmp_path / "run"), "--out", str(tmp_path / "analysis")]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "analysis" / "metrics.json").read_text())
    notes = metrics["notes"]
    separation = [n for n in notes if n.startswith("inertia and conformity: conformity[") and "separation" in n]
    assert separation, notes
    assert separation[0] in printed
    rows = metrics["metrics"]["inertia_conformity"]["terms"]
    assert any("separation" in r["note"] for r in rows if r["parameter"] == "conformity")
