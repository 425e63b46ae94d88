"""The value-action gap (CoopValue sec. 4.6): the target's binary choice after each round against the judge's
concession decision, by hand and through the bundled `cooperation_value_action` spec on scripted models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.value_action import RoundChoice, value_action_by_type, value_action_gap
from moot.scenarios import CooperationScenario, expand_role_swaps

HIKE = CooperationScenario(
    id="hike",
    background="Two friends planning a hike.",
    cooperation_type="reciprocal",
    values=["Stimulation", "Security"],
    text="You and a friend must choose the route of your hike.",
    options={"Stimulation": "Take the unmarked ridge.", "Security": "Take the marked hut circuit."},
)


def test_agreement_by_hand() -> None:
    """Four rounds: (conceded, chose the counterpart's course) = (F, F) agree, (F, T) disagree, (T, T) agree,
    (T, F) disagree, and one altruistic (F, F) agree: agreement 3/5, gap 2/5; reciprocal 2/4, altruistic 1/1."""
    rounds = [
        RoundChoice("c1", 1, "reciprocal", False, False),
        RoundChoice("c1", 2, "reciprocal", False, True),
        RoundChoice("c1", 3, "reciprocal", True, True),
        RoundChoice("c2", 1, "reciprocal", True, False),
        RoundChoice("c3", 1, "altruistic", False, False),
    ]
    found = value_action_by_type(rounds)
    assert (found["rounds"], found["agreement"], found["gap"]) == (5, pytest.approx(0.6), pytest.approx(0.4))
    assert found["confusion"] == {
        "conceded_chose_counterpart": 1,
        "conceded_chose_own": 1,
        "held_chose_counterpart": 1,
        "held_chose_own": 2,
    }
    assert found["by_type"]["reciprocal"]["agreement"] == 0.5 and found["by_type"]["altruistic"]["agreement"] == 1
    assert value_action_gap([])["agreement"] is None


def counterpart_chooser(messages: list[dict[str, str]], context: CallContext) -> str:
    """Always picks the option of the partner's value (the values are named: explicit_values)."""
    text = messages[0]["content"]
    own = re.findall(r"what mattered most to you was ([A-Za-z-]+)", text)[0]
    letters = dict(re.findall(r"Option ([AB]) \(([A-Za-z-]+)\)", text))
    return json.dumps({"choice": next(k for k, v in letters.items() if v != own), "reason": "go along"})


def test_the_bundled_value_action_spec_end_to_end(tmp_path: Path) -> None:
    """The target holds in round 1 and concedes in round 2 (the judge says so); the choice is the partner's course
    in both rounds: round 1 disagrees, round 2 agrees, in both role swaps (option A is Stimulation's in both, so
    the partner's letter is B in swap a and A in swap b): 4 rounds, agreement 1/2."""
    register_responder("counterpart_chooser", counterpart_chooser)
    data = yaml.safe_load(moot.bundled_specs()["cooperation_value_action"].read_text(encoding="utf-8"))
    data["model"] = "scripted"
    data["variables"] = {"explicit_values": True}
    scripts = {
        "target": ["I want the ridge.", "Fine, the huts."],
        "counterpart": ["The huts.", "The huts."],
        "judge": [json.dumps({"conceded": c, "reason": "r"}) for c in (False, True)],
    }
    for agent in data["agents"]:
        if agent["name"] == "target_choice":
            agent["model"] = "scripted:counterpart_chooser"
        else:
            agent["script"] = scripts[agent["name"]]
    run_dir = moot.run(data, expand_role_swaps([HIKE]), out=tmp_path / "run").run_dir
    choices = [e for e in events_of(run_dir, "judge_decision") if e.role == "target_choice"]
    assert sorted((e.scenario_id, e.round, e.decision["choice"]) for e in choices) == [
        ("hike:a", 1, "B"),
        ("hike:a", 2, "B"),
        ("hike:b", 1, "A"),
        ("hike:b", 2, "A"),
    ]
    _, index = analyze_run(run_dir, tmp_path / "analysis", n_boot=10)
    found = index.metrics["value_action"]
    assert (found["rounds"], found["agreement"]) == (4, 0.5)
    assert found["confusion"]["conceded_chose_counterpart"] == 2 and found["confusion"]["held_chose_counterpart"] == 2
    assert index.metrics["conceded"] == 2 and "value_action" in index.methods
