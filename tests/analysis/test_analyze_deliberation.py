"""`moot analyze` on a scripted deliberation run.

Every measurement of the study is present and consistent with the trace.
"""

from __future__ import annotations

import json
import re

import pytest

import moot
from helpers import debate_spec, events_of, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.cli import main

# Verdicts per scenario index and round for three debaters; most debates converge, one does not.
PLAN = {
    0: [("NTA", "YTA", "NTA"), ("NTA", "NTA", "NTA")],
    1: [("YTA", "YTA", "YTA")],
    2: [("NAH", "ESH", "YTA"), ("NAH", "NAH", "YTA"), ("NAH", "NAH", "NAH")],
    3: [("INFO", "NTA", "YTA"), ("NTA", "NTA", "YTA"), ("NTA", "YTA", "YTA"), ("ESH", "YTA", "NTA")],
}
AGENTS = ("alice", "bob", "carol")
VALUES = [
    "Empathy and understanding",
    "Honest communication",
    "Personal autonomy",
    "Family bonds and cohesion",
    "Respect and dignity",
]
SCENARIOS = [{"id": f"p{i}", "title": f"AITA case {i}", "text": f"Situation number {i}."} for i in range(24)]


def planned_verdict(messages: list[dict[str, str]], context: CallContext) -> str:
    index = int(context.scenario_id[1:]) % len(PLAN)
    rounds = PLAN[index]
    verdicts = rounds[min(context.round, len(rounds)) - 1]
    return json.dumps(
        {"verdict": verdicts[AGENTS.index(context.agent)], "explanation": f"{context.agent} in round {context.round}."}
    )


def planned_values(messages: list[dict[str, str]], context: CallContext) -> str:
    (judged,) = context.visible
    offset = AGENTS.index(judged["agent"]) + judged["round"]
    return json.dumps({"values": [VALUES[offset % 5], VALUES[(offset + 1) % 5]]})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    register_responder("planned_verdict", planned_verdict)
    register_responder("planned_values", planned_values)
    spec = debate_spec(
        {a: [] for a in AGENTS}, name="planned_debate", study="deliberation", model="scripted:planned_verdict"
    )
    for agent in spec["agents"]:
        agent.pop("script")
    spec["agents"].append({"name": "tagger", "role": "values", "model": "scripted:planned_values"})
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    out = tmp_path_factory.mktemp("runs") / "debate"
    moot.run(spec, SCENARIOS, out=out, cache=None, concurrency=4)
    return out


def test_every_measurement_is_present(run_dir):
    folder, index = analyze_run(run_dir, n_boot=100)
    metrics = index.metrics
    assert index.study == "deliberation" and index.final_hash
    # 24 debates: 6 of each plan; plans 0-2 agree (rounds 2, 1, 3), plan 3 runs out of rounds
    assert metrics["consensus"]["consensus"] == {"rate": pytest.approx(0.75), "count": 18, "total": 24}
    assert metrics["consensus"]["rounds_to_consensus"] == {"1": 6, "2": 6, "3": 6}
    # bob changes in plans 0, 2 and 3 (every conversation but plan 1's) -> 18 of 24
    assert metrics["verdict_changes"]["by_agent"]["bob"]["count"] == 18
    assert metrics["verdicts"]["final"]["NTA"] == 6 and metrics["verdicts"]["final"]["none"] == 6
    # plan 3's six debates end without consensus, and every debater changes in them (alice INFO -> NTA, bob NTA ->
    # YTA, carol YTA -> NTA)
    for agent in AGENTS:
        assert metrics["verdict_changes_no_consensus"]["by_agent"][agent] == {"rate": 1.0, "count": 6, "total": 6}
    assert metrics["values"]["messages_judged"] == len(events_of(run_dir, "message_added"))
    assert set(metrics["values"]["similarity"]) == {"jaccard", "cluster_jaccard"}
    # every message is judged: 6 debates of each plan, of 2, 1, 3 and 4 rounds -> 60 messages per debater
    shares = metrics["values"]["shares"]["alice vs bob vs carol"]
    assert shares["messages"] == {agent: 60 for agent in AGENTS}
    assert {(d["first"], d["second"]) for d in shares["differences"]} == {
        ("alice", "bob"),
        ("alice", "carol"),
        ("bob", "carol"),
    }
    assert all(0.0 <= d["p"] <= 1.0 for d in shares["differences"])
    assert metrics["values"]["similarity"]["jaccard"]["agreement"]["low"] is not None
    assert metrics["inertia_conformity"]["fitted"] is True
    terms = {row["term"] for row in metrics["inertia_conformity"]["terms"]}
    assert {"inertia", "conformity", "conformity_within"} <= terms
    assert set(metrics["ratings"]) == {"trueskill", "influence"}
    for name in (
        "conversations",
        "verdict_distributions",
        "value_similarity",
        "inertia_conformity",
        "trueskill",
        "influence",
    ):
        assert (folder / index.tables[name]).is_file(), name
    for name in ("rounds_to_consensus", "verdict_distributions", "value_occurrence", "influence_graph", "trueskill"):
        assert (folder / index.plots[name]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert json.loads((folder / "metrics.json").read_text())["run_id"] == index.run_id


def test_cli_analyze_and_report(run_dir, tmp_path, capsys):
    assert main(["analyze", str(run_dir), "--out", str(tmp_path / "analysis"), "--boot", "50"]) == 0
    assert "deliberation:" in capsys.readouterr().out
    assert main(["report", str(run_dir), "--out", str(tmp_path / "report.html")]) == 0
    page = (tmp_path / "report.html").read_text()
    embedded = json.loads(
        re.search(r'<script id="moot-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    assert len(embedded["summaries"]) == 24 and len(embedded["details"]) == 24
    assert "data:image/svg+xml;base64," in page and "Empathy and understanding" in page, "the plots are embedded as SVG"


def test_analyze_refuses_what_is_not_a_run(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run directory" in err


def test_every_study_a_spec_may_name_has_an_analysis():
    from moot.analysis.analyze import STUDY_ANALYSES, study_analysis
    from moot.protocols.spec import STUDIES

    assert set(STUDIES) == set(STUDY_ANALYSES)
    for study in STUDIES:
        assert callable(study_analysis(study))


def test_an_unknown_study_in_a_spec_is_one_line(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: s\nstudy: deliberaton\n"
        "agents: [{name: a, role: r, model: scripted, script: ['x']}]\nroles: {r: {prompt: hi}}\n"
    )
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'deliberation'" in err and err.count("\n") == 1


def test_a_judge_whose_every_value_is_dropped_gives_a_note(tmp_path):
    scripts = {"alice": [verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}
    spec = debate_spec(scripts, study="deliberation", rounds=2)
    spec["agents"].append({"name": "tagger", "role": "values", "script": ['{"values": ["Gardening", "Kites"]}']})
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    run_dir = moot.run(spec, SCENARIOS[:2], out=tmp_path / "run", cache=None).run_dir
    _, index = analyze_run(run_dir, n_boot=20)
    # 2 debates x 2 rounds x 2 messages judged, each naming two values off the list.
    assert index.metrics["values"] == {"messages_judged": 8, "dropped_unknown_values": 16}
    assert (
        "values: every value name the judge gave was dropped (16 dropped over 8 messages judged; none is on the "
        "value list), so there are no value measurements"
    ) in index.notes
    assert "value_occurrence" not in index.plots


def test_elo_k_is_a_method_option(tmp_path):
    # Two debates in which alice's round-1 NTA becomes the consensus and bob's YTA does not: alice wins both.
    # With K = 10: game 1, expected 0.5 -> alice 1505, bob 1495; game 2, alice's expected score is
    # 1 / (1 + 10 ** (-10 / 400)) = 0.514387, so she gains 10 * (1 - 0.514387) = 4.85613 -> 1509.856 and 1490.144.
    scripts = {"alice": [verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}
    run_dir = moot.run(
        debate_spec(scripts, study="deliberation", rounds=2), SCENARIOS[:2], out=tmp_path / "run"
    ).run_dir
    _, index = analyze_run(run_dir, n_boot=20, methods={"elo_k": "10"})
    elo = index.metrics["ratings"]["elo"]
    assert elo["k"] == 10 and elo["games"] == 2
    assert elo["ratings"] == {"alice": pytest.approx(1509.85613), "bob": pytest.approx(1490.14387)}
    assert index.methods["elo_k"] == "10" and index.methods["elo"].startswith("K = 10,")
    # by default K is 32: 1516, then 1516 + 32 * (1 - 1 / (1 + 10 ** (-32 / 400))) = 1516 + 14.5305 = 1530.5305
    _, default = analyze_run(run_dir, out=tmp_path / "default", n_boot=20)
    assert default.metrics["ratings"]["elo"]["ratings"]["alice"] == pytest.approx(1530.5305, abs=1e-3)
    assert default.methods["elo_k"] == "32"
