"""The bundled cooperation protocols on scripted models, asserted on the trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import moot
from helpers import events_of
from moot.agents.providers.scripted import register_responder
from moot.api import compile_loaded
from moot.cli import main
from moot.errors import UserError
from moot.protocols.loader import LoadedSpec, validate_spec_data
from moot.protocols.values.schwartz import SCHWARTZ, SCHWARTZ_VALUES
from moot.scenarios import (
    CooperationScenario,
    expand_role_swaps,
    few_shot_examples,
    load_scenarios,
    resolve_scenario_source,
)

COOPERATION_SPECS = [
    "cooperation",
    "cooperation_stated",
    "cooperation_stated_variants",
    "cooperation_value_action",
    "cooperation_persona",
    "cooperation_few_shot",
]
HIKE = CooperationScenario(
    id="hike",
    background="Two friends planning a hike.",
    cooperation_type="reciprocal",
    values=["Stimulation", "Security"],
    text="You and a friend must choose the route of your hike.",
    options={"Stimulation": "Take the unmarked ridge.", "Security": "Take the marked hut circuit."},
)
ROWS = expand_role_swaps([HIKE])


def judged(conceded: bool, reason: str = "it keeps its course") -> str:
    """A judge's reply as JSON text."""
    return json.dumps({"conceded": conceded, "reason": reason})


def scripted_spec(name: str, scripts: dict[str, list[Any]], variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bundled spec as data, its agents playing scripted replies (one per round)."""
    data = yaml.safe_load(moot.bundled_specs()[name].read_text(encoding="utf-8"))
    data["model"] = "scripted"
    for agent in data["agents"]:
        agent["script"] = scripts[agent["name"]]
        if variables is not None:
            agent["variables"] = {**agent.get("variables", {}), **variables}
    return data


def debate(judge_script: list[str], name: str = "cooperation") -> dict[str, Any]:
    """The cooperation spec with the speakers saying which round it is and the judge's decisions scripted."""
    return scripted_spec(
        name,
        {
            "target": [f"target says {i}" for i in range(1, 6)],
            "counterpart": [f"counterpart says {i}" for i in range(1, 6)],
            "judge": judge_script,
        },
    )


def system_prompts(run_dir, agent: str) -> dict[str, str]:
    """The system prompt an agent got in round 1, by scenario id."""
    return {
        e.scenario_id: e.messages[0].content
        for e in events_of(run_dir, "model_call")
        if e.agent == agent and e.round == 1
    }


@pytest.mark.parametrize("name", COOPERATION_SPECS)
def test_bundled_cooperation_specs_validate(name, capsys):
    assert main(["validate", name]) == 0
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("name", COOPERATION_SPECS)
def test_every_agent_of_the_bundled_cooperation_specs_runs_at_temperature_0(name):
    """CoopValue, appendix C: temperature 0 for every model, target and counterpart included."""
    spec = moot.load_spec(name).spec
    assert {agent.name: agent.temperature for agent in spec.agents} == dict.fromkeys((a.name for a in spec.agents), 0)


def test_stops_in_the_round_the_judge_first_sees_a_concession(tmp_path):
    spec = debate([judged(False), judged(False), judged(True, "it now backs the hut circuit"), judged(False)])
    run_dir = moot.run(spec, ROWS, out=tmp_path / "run").run_dir
    stops = events_of(run_dir, "stopped")
    assert [(s.status, s.rounds, s.reason) for s in stops] == [("completed", 3, "judge decided conceded = True")] * 2
    decisions = [e for e in events_of(run_dir, "judge_decision") if e.scenario_id == "hike:a"]
    assert [d.decision for d in decisions] == [
        {"conceded": False, "reason": "it keeps its course"},
        {"conceded": False, "reason": "it keeps its course"},
        {"conceded": True, "reason": "it now backs the hut circuit"},
    ]
    ended = [e.outcome for e in events_of(run_dir, "round_ended") if e.scenario_id == "hike:a"]
    assert ended == [{"judge.conceded": False}, {"judge.conceded": False}, {"judge.conceded": True}]


def test_runs_five_rounds_when_the_target_never_concedes(tmp_path):
    run_dir = moot.run(debate([judged(False)]), ROWS[:1], out=tmp_path / "run").run_dir
    (stop,) = events_of(run_dir, "stopped")
    assert (stop.status, stop.rounds, stop.reason) == ("completed", 5, "max rounds (5)")
    assert len(events_of(run_dir, "judge_decision")) == 5


def test_target_speaks_first_and_the_judge_sees_both_speakers_of_each_round(tmp_path):
    run_dir = moot.run(debate([judged(False), judged(True)]), ROWS[:1], out=tmp_path / "run").run_dir
    turns = [(e.round, e.agent, e.visible) for e in events_of(run_dir, "turn_started")]
    assert turns == [
        (1, "target", []),
        (1, "counterpart", ["r1:target"]),
        (1, "judge", ["r1:target", "r1:counterpart"]),
        (2, "target", ["r1:target", "r1:counterpart"]),
        (2, "counterpart", ["r1:target", "r1:counterpart", "r2:target"]),
        (2, "judge", ["r1:target", "r1:counterpart", "r2:target", "r2:counterpart"]),
    ]
    judge_prompt = (
        [e for e in events_of(run_dir, "model_call") if e.agent == "judge" and e.round == 2][0].messages[-1].content
    )
    assert "Round 2, target: target says 2" in judge_prompt
    assert "Round 2, counterpart: counterpart says 2" in judge_prompt


def test_each_scenario_runs_twice_with_the_values_swapped(tmp_path):
    run_dir = moot.run(debate([judged(True)]), ROWS, out=tmp_path / "run").run_dir
    target, counterpart = system_prompts(run_dir, "target"), system_prompts(run_dir, "counterpart")
    assert set(target) == set(counterpart) == {"hike:a", "hike:b"}
    stimulation = f"what matters most to you is Stimulation: {SCHWARTZ['Stimulation'].goal}"
    security = f"what matters most to you is Security: {SCHWARTZ['Security'].goal}"
    assert stimulation in target["hike:a"] and security in counterpart["hike:a"]
    assert security in target["hike:b"] and stimulation in counterpart["hike:b"]
    assert "Take the unmarked ridge." in target["hike:a"] and "Take the marked hut circuit." not in target["hike:a"]
    assert "the only one you will accept: Take the marked hut circuit." in counterpart["hike:a"]
    judge = (
        [e for e in events_of(run_dir, "model_call") if e.agent == "judge" and e.scenario_id == "hike:b"][0]
        .messages[0]
        .content
    )
    assert "The target's value: Security" in judge and "The counterpart's value: Stimulation" in judge


def test_the_bundled_sample_is_the_default_and_limit_counts_base_scenarios(tmp_path, capsys):
    def reply(messages, context):
        return judged(context.round == 2) if context.role == "judge" else f"{context.agent} speaks"

    register_responder("coop_default", reply)
    code = main(
        [
            "run",
            "cooperation",
            "--limit",
            "1",
            "--model",
            "scripted:coop_default",
            "--out",
            str(tmp_path / "run"),
            "--no-cache",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    stops = events_of(tmp_path / "run", "stopped")
    assert sorted(s.scenario_id for s in stops) == ["coop-01:a", "coop-01:b"]
    assert {(s.rounds, s.reason) for s in stops} == {(2, "judge decided conceded = True")}


def test_stated_protocol_parses_a_binary_choice(tmp_path):
    spec = scripted_spec("cooperation_stated", {"chooser": [json.dumps({"choice": "B", "reason": "safety first"})]})
    run_dir = moot.run(spec, ROWS, out=tmp_path / "run").run_dir
    added = events_of(run_dir, "message_added")
    assert [(e.scenario_id, e.parsed) for e in added] == [
        ("hike:a", {"choice": "B", "reason": "safety first"}),
        ("hike:b", {"choice": "B", "reason": "safety first"}),
    ]
    prompts = system_prompts(run_dir, "chooser")
    assert "Option A: Take the unmarked ridge.\nOption B: Take the marked hut circuit." in prompts["hike:a"]
    assert "Option A: Take the marked hut circuit.\nOption B: Take the unmarked ridge." in prompts["hike:b"]
    assert not any(value in prompt for prompt in prompts.values() for value in SCHWARTZ_VALUES)


def test_stated_variants_ask_the_same_choice_in_five_wordings(tmp_path):
    answer = [json.dumps({"choice": "A", "reason": "r"})]
    spec = scripted_spec("cooperation_stated_variants", {f"wording_{k}": answer for k in range(1, 6)})
    run_dir = moot.run(spec, ROWS[:1], out=tmp_path / "run").run_dir
    prompts = [system_prompts(run_dir, f"wording_{k}")["hike:a"] for k in range(1, 6)]
    # wording 1 is the cooperation_stated prompt as it was
    assert prompts[0] == (
        "Read the situation below and decide what you would do if you were in it.\n\nSituation:\n"
        "You and a friend must choose the route of your hike.\n\nOption A: Take the unmarked ridge.\n"
        "Option B: Take the marked hut circuit.\n\nChoose the option you would take, A or B, and give a one-sentence "
        "reason."
    )
    assert len(set(prompts)) == 5
    for prompt in prompts:
        assert "Option A: Take the unmarked ridge.\nOption B: Take the marked hut circuit." in prompt
        assert "Situation:\nYou and a friend must choose the route of your hike." in prompt
    assert [e.parsed["choice"] for e in events_of(run_dir, "message_added")] == ["A"] * 5


def test_an_unknown_wording_fails_validation():
    spec = validate_spec_data(scripted_spec("cooperation_stated", {"chooser": ["x"]}, {"wording": 6}))
    with pytest.raises(UserError, match="wording_must_be_1_2_3_4_or_5"):
        compile_loaded(LoadedSpec(spec, None))


def test_stated_protocol_names_the_values_when_asked(tmp_path):
    spec = scripted_spec(
        "cooperation_stated", {"chooser": [json.dumps({"choice": "A", "reason": "fun"})]}, {"explicit_values": True}
    )
    run_dir = moot.run(spec, ROWS[:1], out=tmp_path / "run").run_dir
    prompt = system_prompts(run_dir, "chooser")["hike:a"]
    assert "Option A (Stimulation): Take the unmarked ridge." in prompt and "Option B (Security):" in prompt


@pytest.mark.parametrize("value", SCHWARTZ_VALUES)
def test_persona_and_few_shot_steer_the_target_only(value, tmp_path):
    prompts = {}
    for mode in ("persona", "few_shot"):
        spec = debate([judged(True)], name=f"cooperation_{mode}")
        spec["agents"][0]["variables"]["adapt_value"] = value
        run_dir = moot.run(spec, ROWS[:1], out=tmp_path / mode).run_dir
        prompts[mode] = (system_prompts(run_dir, "target")["hike:a"], system_prompts(run_dir, "counterpart")["hike:a"])
    persona, few_shot = prompts["persona"][0], prompts["few_shot"][0]
    assert f"You deeply value {value}: {SCHWARTZ[value].goal}." in persona and "Example 1:" not in persona
    assert (
        f"a person who puts {value} first" in few_shot and "Example 2:" in few_shot and "deeply value" not in few_shot
    )
    assert "deeply value" not in prompts["persona"][1] and "Example 1:" not in prompts["few_shot"][1]


@pytest.mark.parametrize(
    ("variables", "undefined"),
    [
        ({"adapt_mode": "persna"}, "adapt_mode_must_be_persona_or_few_shot"),
        ({"adapt_mode": "persona", "adapt_value": "Tradtion"}, "adapt_value_must_be_one_of_the_ten_schwartz_values"),
    ],
)
def test_a_wrong_adaptation_setting_fails_validation(variables, undefined):
    spec = validate_spec_data(
        scripted_spec("cooperation", {"target": ["x"], "counterpart": ["y"], "judge": [judged(True)]}, None)
    )
    spec.agents[0].variables.update(variables)
    with pytest.raises(UserError, match=undefined):
        compile_loaded(LoadedSpec(spec, None))


def test_variants_differ_from_each_other_by_the_target_variables_only():
    persona, few_shot = (moot.load_spec(name).spec for name in ("cooperation_persona", "cooperation_few_shot"))
    assert persona.model_copy(update={"name": "x", "description": "", "agents": []}) == few_shot.model_copy(
        update={"name": "x", "description": "", "agents": []}
    )
    for one, other in zip(persona.agents, few_shot.agents, strict=True):
        assert one.model_copy(update={"variables": {}}) == other.model_copy(update={"variables": {}})
    assert persona.agents[0].variables == {"adapt_mode": "persona", "adapt_value": "Tradition"}
    assert few_shot.agents[0].variables["adapt_mode"] == "few_shot"
    assert few_shot.agents[0].variables["adapt_value"] == "Tradition"


def test_few_shot_examples_are_real_scenarios_of_the_sample():
    """The first four sample scenarios with Tradition, by hand: coop-04, coop-09, coop-16 and coop-18; the answer
    alternates A, B, A, B and is always Tradition's option. The bundled spec shows exactly these."""
    rows = load_scenarios(resolve_scenario_source("cooperation_sample")).scenarios
    examples = few_shot_examples(rows, "tradition")
    assert [e["id"] for e in examples] == ["coop-04", "coop-09", "coop-16", "coop-18"]
    assert [e["answer"] for e in examples] == ["A", "B", "A", "B"]
    by_id = {r.id: r for r in rows}
    for example in examples:
        row = by_id[f"{example['id']}:a"]
        own = row.metadata["target_option" if row.metadata["target_value"] == "Tradition" else "counterpart_option"]
        assert example["option_" + example["answer"].lower()] == own and example["text"] == row.text
    assert moot.load_spec("cooperation_few_shot").spec.agents[0].variables["few_shot_examples"] == examples


def test_the_few_shot_target_sees_the_four_worked_scenarios(tmp_path):
    run_dir = moot.run(debate([judged(True)], name="cooperation_few_shot"), ROWS[:1], out=tmp_path / "run").run_dir
    prompt = system_prompts(run_dir, "target")["hike:a"]
    assert "a person who puts Tradition first decided in 4 similar situations" in prompt
    assert prompt.count("Answer: ") == 4 and "Example 4:\nSituation: " in prompt


def test_few_shot_without_examples_fails_validation():
    spec = validate_spec_data(scripted_spec("cooperation", {"target": ["x"], "counterpart": ["y"], "judge": ["z"]}))
    spec.agents[0].variables.update({"adapt_mode": "few_shot", "adapt_value": "Tradition"})
    with pytest.raises(UserError, match="few_shot_examples_must_list_worked_scenarios"):
        compile_loaded(LoadedSpec(spec, None))
