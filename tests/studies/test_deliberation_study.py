"""The bundled deliberation specs run end to end on scripted models, then `moot analyze` with a solo baseline: every
measurement the deliberation paper reports is in metrics.json, with how it was computed.

`aita_synchronous_2` and `aita_solo` are run as bundled (their prompts, goal, temperatures, value judge); only the
models are replaced by scripted ones, and the scenarios by six made-up posts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.cli import main

E, H, P = "Empathy and understanding", "Honest communication", "Personal autonomy"
SCENARIOS = [{"id": f"p{i}", "title": f"AITA case {i}", "text": f"Situation number {i}."} for i in range(6)]
PLAN = {
    0: {"alice": ["NTA"], "bob": ["NTA"]},  # agree at once
    1: {"alice": ["NTA", "NTA"], "bob": ["YTA", "NTA"]},  # bob comes round in round 2
    2: {"alice": ["NTA"] * 4, "bob": ["YTA", "ESH", "YTA", "YTA"]},  # never agree; bob changes on the way
}
"""Verdicts per scenario index (mod 3), debater and round."""


def debater(messages: list[dict[str, str]], context: CallContext) -> str:
    """The planned verdict (alone, in the solo spec, always NTA)."""
    plan = PLAN[int(context.scenario_id[1:]) % 3].get(context.agent, ["NTA"])
    return json.dumps({"verdict": plan[min(context.round, len(plan)) - 1], "explanation": "Because."})


def value_judge(messages: list[dict[str, str]], context: CallContext) -> str:
    """Alice speaks of empathy and honesty; bob of autonomy while he disagrees with her, then as she does."""
    (judged,) = context.visible
    verdict = judged["parsed"]["verdict"]
    return json.dumps({"values": [E, H] if judged["agent"] != "bob" or verdict == "NTA" else [P, H]})


def bundled(name: str, **update: Any) -> dict[str, Any]:
    """A bundled spec as data, its agents on the scripted models above."""
    spec = yaml.safe_load(moot.bundled_specs()[name].read_text(encoding="utf-8"))
    for agent in spec["agents"]:
        agent["model"] = "scripted:delib_judge" if agent["role"] == "values" else "scripted:delib_debater"
    return spec | update


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    register_responder("delib_debater", debater)
    register_responder("delib_judge", value_judge)
    root = tmp_path_factory.mktemp("deliberation_study")
    solo = moot.run(bundled("aita_solo", repeats=2), SCENARIOS, out=root / "solo", cache=None).run_dir
    debate = moot.run(bundled("aita_synchronous_2"), SCENARIOS, out=root / "debate", cache=None).run_dir
    argv = ["analyze", str(debate), "--baseline", str(solo), "--boot", "20", "--method", "elo_k=16"]
    assert main(argv) == 0
    written = json.loads((debate / "analysis" / "metrics.json").read_text(encoding="utf-8"))
    return written["metrics"] | {"methods": written["methods"]}


def test_the_bundled_debaters_ran_at_the_papers_temperature() -> None:
    spec = moot.load_spec("aita_synchronous_2").spec
    assert {a.temperature for a in spec.agents if a.role == "debater"} == {1.0}


def test_change_of_verdict_within_debates_without_consensus(metrics: dict[str, Any]) -> None:
    # p2 and p5 never agree; bob changes (YTA -> ESH) in both, alice in neither
    within = metrics["verdict_changes_no_consensus"]["by_agent"]
    assert within == {
        "alice": {"rate": 0.0, "count": 0, "total": 2},
        "bob": {"rate": 1.0, "count": 2, "total": 2},
    }


def test_solo_agreement_per_solo_repeat(metrics: dict[str, Any]) -> None:
    # Alone the model always says NTA. Round 1 of the debates: alice NTA in all 6, bob NTA only in p0, p3 -> the
    # 12 round-1 verdicts agree with the solo one 8 times, in each of the 2 solo repeats.
    found = metrics["solo_agreement_round_1"]["scripted:delib_debater"]["vs scripted:delib_debater"]
    assert found["by_repeat"] == {
        "0": {"rate": pytest.approx(8 / 12), "count": 8, "total": 12},
        "1": {"rate": pytest.approx(8 / 12), "count": 8, "total": 12},
    }
    assert found["across_repeats"] == {"mean": pytest.approx(8 / 12), "sd": 0.0, "n": 2}


def test_value_shares_with_their_differences(metrics: dict[str, Any]) -> None:
    # Messages: alice 1 + 2 + 4 per two scenarios -> 14; bob the same. Bob says P in round 1 of p1, p4 and in his
    # non-NTA rounds of p2, p5 (4 each) -> 2 + 8 = 10 of 14; alice never.
    shares = metrics["values"]["shares"]["alice vs bob"]
    assert shares["messages"] == {"alice": 14, "bob": 14}
    assert shares["shares"]["bob"][P] == {"rate": pytest.approx(10 / 14), "count": 10, "total": 14}
    autonomy = next(d for d in shares["differences"] if d["value"] == P)
    assert autonomy["difference"] == pytest.approx(-10 / 14) and autonomy["p"] < 0.001


def test_similarity_test_and_levels(metrics: dict[str, Any]) -> None:
    jaccard = metrics["values"]["similarity"]["jaccard"]
    # agreement: {E,H} vs {E,H} -> 1 (p0, p3 round 1, p1, p4 round 2); disagreement: {E,H} vs {P,H} -> 1/3
    assert jaccard["agreement"]["mean"] == pytest.approx(1.0)
    assert jaccard["disagreement"]["mean"] == pytest.approx(1 / 3)
    test = jaccard["agreement_vs_disagreement"]
    assert test["n_agreement"] == 4 and test["n_disagreement"] == 10 and test["u"] == 40.0 and test["p"] < 0.01
    reached = jaccard["levels"]["consensus_after_disagreement"]
    assert reached["round_1"]["mean"] == pytest.approx(1 / 3) and reached["last_round"]["mean"] == pytest.approx(1.0)
    assert reached["percent_change"] == pytest.approx(200.0)
    assert jaccard["levels"]["never_consensus"]["percent_change"] == pytest.approx(0.0)


def test_elo_takes_the_k_given_and_every_method_is_recorded(metrics: dict[str, Any]) -> None:
    assert metrics["ratings"]["elo"]["k"] == 16 and metrics["methods"]["elo_k"] == "16"
    for quantity in (
        "value_shares",
        "value_similarity",
        "solo_agreement_round_1",
        "elo",
        "verdict_changes_no_consensus",
    ):
        assert quantity in metrics["methods"], quantity
