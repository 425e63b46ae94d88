"""Scenario generation jobs, collecting generated scenarios from a trace, and the filter's decisions."""

from __future__ import annotations

import json
import re

import pytest

import moot
from moot.agents.providers.scripted import register_responder
from moot.errors import UserError
from moot.judges.scenario_generation import (
    JOBS_FILE,
    Reply,
    Thresholds,
    collect_generated,
    cooperation_scenarios_of,
    cooperation_yaml,
    drop_reasons,
    filter_decisions,
    filter_rows,
    generation_jobs,
    jobs_scenario_set,
    save_jobs,
)
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import BUILTIN_OUTPUTS
from moot.protocols.templates import render, resolve_template
from moot.protocols.values.schwartz import SCHWARTZ_VALUES, VALUE_PAIRS, goal_of
from moot.scenarios import Scenario, load_scenarios, resolve_scenario_source
from moot.scenarios.cooperation import COOPERATION_TYPES, CooperationScenario

BACKGROUNDS = [Scenario(id=f"bg{i}", text=f"Background number {i}: two people share a task.") for i in range(3)]


def _scenario(id_: str, values=("Power", "Benevolence"), kind="reciprocal", text=None) -> CooperationScenario:
    return CooperationScenario(
        id=id_,
        background="Two neighbours share a garden.",
        cooperation_type=kind,
        values=list(values),
        text=text or f"You and your neighbour must decide about case {id_} before the market opens on Saturday.",
        options={values[0]: "Take charge of the stall.", values[1]: "Let your neighbour choose."},
    )


def _scores(values=("Power", "Benevolence"), kind="reciprocal", realism=4, specificity=4, conflict=4) -> Reply:
    parsed = {
        "realism": realism,
        "specificity": specificity,
        "conflict": conflict,
        "recovered_values": list(values),
        "recovered_type": kind,
        "reason": "fine",
    }
    return Reply("x", parsed)


# --- jobs ---------------------------------------------------------------------------------------


def test_jobs_are_deterministic_and_cover_every_requested_type_and_pair():
    """3 backgrounds x 3 types x 5 pairs = 45 jobs: exactly the 45 value pairs, each once."""
    jobs = generation_jobs(BACKGROUNDS, list(COOPERATION_TYPES), VALUE_PAIRS, 5, seed=7)
    assert jobs == generation_jobs(BACKGROUNDS, list(COOPERATION_TYPES), VALUE_PAIRS, 5, seed=7)
    assert [j.id for j in jobs] != [
        j.id for j in generation_jobs(BACKGROUNDS, list(COOPERATION_TYPES), VALUE_PAIRS, 5, seed=8)
    ]
    assert len(jobs) == 45 and len({j.id for j in jobs}) == 45
    pairs = [frozenset((j.metadata["value_a"], j.metadata["value_b"])) for j in jobs]
    assert set(pairs) == {frozenset(p) for p in VALUE_PAIRS} and len(set(pairs)) == 45
    cells = {(j.metadata["background_id"], j.metadata["cooperation_type"]) for j in jobs}
    assert cells == {(b.id, t) for b in BACKGROUNDS for t in COOPERATION_TYPES}
    first = jobs[0].metadata
    assert jobs[0].text == BACKGROUNDS[0].text == first["background"]
    assert first["type_definition"] == COOPERATION_TYPES[first["cooperation_type"]]
    assert first["goals"] == {first["value_a"]: goal_of(first["value_a"]), first["value_b"]: goal_of(first["value_b"])}


def test_jobs_of_a_subset_use_only_the_requested_types_and_pairs():
    pairs = [("Power", "Universalism"), ("Hedonism", "Tradition")]
    jobs = generation_jobs(BACKGROUNDS[:2], ["altruistic"], pairs, 2, seed=0)
    assert len(jobs) == 4
    assert {j.metadata["cooperation_type"] for j in jobs} == {"altruistic"}
    for background in ("bg0", "bg1"):
        cell = {
            frozenset((j.metadata["value_a"], j.metadata["value_b"]))
            for j in jobs
            if j.metadata["background_id"] == background
        }
        assert cell == {frozenset(p) for p in pairs}


def test_bad_job_arguments_are_user_errors():
    with pytest.raises(UserError, match="cooperation type 'reciprocl' is unknown; did you mean 'reciprocal'"):
        generation_jobs(BACKGROUNDS, ["reciprocl"], VALUE_PAIRS, 1)
    with pytest.raises(UserError, match="between 1 and 45"):
        generation_jobs(BACKGROUNDS, ["reciprocal"], VALUE_PAIRS, 46)
    with pytest.raises(UserError, match="two different values"):
        generation_jobs(BACKGROUNDS, ["reciprocal"], [("Power", "power")], 1)


def test_bundled_backgrounds_load_as_scenarios():
    backgrounds = load_scenarios(resolve_scenario_source("cooperation_backgrounds")).scenarios
    assert len(backgrounds) >= 12
    for background in backgrounds:
        assert 1 <= len(re.findall(r"[.!?](\s|$)", background.text)) <= 2, background.text


def test_builtin_schemas_name_the_ten_values_and_three_types():
    scores = BUILTIN_OUTPUTS["scenario_scores"]["properties"]
    assert scores["recovered_values"]["items"]["enum"] == list(SCHWARTZ_VALUES)
    assert scores["recovered_type"]["enum"] == list(COOPERATION_TYPES)
    for name in ("cooperation_scenario", "scenario_scores"):
        schema = build_output_schema(name)
        assert schema.json_schema["required"] == schema.fields
        strings = [p for p in schema.json_schema["properties"].values() if p["type"] == "string" and "enum" not in p]
        assert strings and all("maxLength" in p for p in strings)
    assert (
        build_output_schema("scenario_scores").validate_data({**_scores().parsed, "recovered_values": ["Power"]})[0]
        is None
    )


# --- generation run and collection ------------------------------------------------------------------


def _writer(messages, context):
    """A scripted writer: a valid scenario, except an unparsable reply for bg1 and a third-person text for bg2."""
    prompt = messages[-1]["content"]
    values = re.findall(r"^- ([A-Z][a-z-]+): ", prompt, flags=re.M)[:2]
    if context.scenario_id.startswith("bg1"):
        return "I would rather not."
    person = "They" if context.scenario_id.startswith("bg2") else "You"
    return json.dumps(
        {
            "title": "A choice",
            "text": f"{person} must choose ({context.scenario_id}).",
            "option_a": f"Follow {values[0]}.",
            "option_b": f"Follow {values[1]}.",
        }
    )


def test_generated_scenarios_round_trip_through_the_trace_and_a_cooperation_file(tmp_path):
    register_responder("generation_test_writer", _writer)
    spec = moot.load_spec("scenario_generate").spec
    spec = spec.model_copy(update={"model": "scripted:generation_test_writer"})
    jobs = generation_jobs(BACKGROUNDS, ["reciprocal"], VALUE_PAIRS, 1, seed=3)
    run_dir = tmp_path / "run"
    moot.run(spec, jobs_scenario_set(jobs, run_dir), out=run_dir, cache=None)
    save_jobs(jobs, run_dir)

    generated = collect_generated(run_dir)
    assert [s.id for s in generated.scenarios] == [jobs[0].id]
    scenario, job = generated.scenarios[0], jobs[0].metadata
    assert scenario.values == [job["value_a"], job["value_b"]] and scenario.cooperation_type == "reciprocal"
    assert scenario.options == {
        job["value_a"]: f"Follow {job['value_a']}.",
        job["value_b"]: f"Follow {job['value_b']}.",
    }
    assert scenario.background == BACKGROUNDS[0].text
    assert generated.skipped[jobs[1].id].startswith("unparsed: ")
    assert generated.skipped[jobs[2].id].startswith("invalid: ") and "second person" in generated.skipped[jobs[2].id]

    path = tmp_path / "out.yaml"
    path.write_text(cooperation_yaml(generated.scenarios, ["made in a test"]))
    assert path.read_text().startswith("# made in a test\nformat: cooperation\n")
    assert cooperation_scenarios_of(load_scenarios(path)) == generated.scenarios

    (run_dir / JOBS_FILE).write_text((run_dir / JOBS_FILE).read_text().replace("bg0", "bgX"))
    with pytest.raises(UserError, match="jobs file was changed"):
        collect_generated(run_dir)


def test_a_plain_scenario_file_is_not_a_cooperation_file(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("- {id: a, text: hello}\n")
    with pytest.raises(UserError, match="not a cooperation scenario file"):
        cooperation_scenarios_of(load_scenarios(path))


# --- filtering ----------------------------------------------------------------------------------


def test_filter_prompt_is_blind_to_the_true_values_and_type():
    """Two scenarios differing only in their true values and type get the very same prompt."""
    first = _scenario("same", values=("Power", "Benevolence"), kind="reciprocal")
    second = _scenario("same", values=("Tradition", "Stimulation"), kind="altruistic")
    template = resolve_template("scenario_filter", ())
    prompts = [render(template, {"scenario": row.model_dump()}, ()) for row in filter_rows([first, second])]
    assert prompts[0] == prompts[1]
    assert "Take charge of the stall." in prompts[0] and "Let your neighbour choose." in prompts[0]
    assert all(f"- {value}: " in prompts[0] for value in SCHWARTZ_VALUES)
    assert all(f"- {kind}: " in prompts[0] for kind in COOPERATION_TYPES)


def test_drop_reasons_name_every_failed_check():
    scenario = _scenario("s")
    thresholds = Thresholds()
    assert drop_reasons(scenario, _scores(values=("Benevolence", "Power")), thresholds) == []
    assert drop_reasons(scenario, _scores(realism=2, conflict=1), thresholds) == ["realism 2 < 3", "conflict 1 < 3"]
    assert drop_reasons(scenario, _scores(specificity=3), Thresholds(specificity=4)) == ["specificity 3 < 4"]
    assert drop_reasons(scenario, _scores(values=("Power", "Security")), thresholds) == [
        "wrong values: Power, Security (true: Power, Benevolence)"
    ]
    assert drop_reasons(scenario, _scores(values=("Power", "Power")), thresholds)[0].startswith("wrong values")
    assert drop_reasons(scenario, _scores(kind="altruistic"), thresholds) == [
        "wrong type: altruistic (true: reciprocal)"
    ]
    assert drop_reasons(scenario, Reply("s", None, "unparsed: no JSON object in the reply"), thresholds) == [
        "unparsed: no JSON object in the reply"
    ]
    assert drop_reasons(scenario, None, thresholds) == ["unparsed: no rating"]


def test_filter_decisions_then_drop_near_duplicates_of_kept_scenarios():
    copy_text = "You and your neighbour must decide who runs the stall at the Saturday market this week."
    scenarios = [
        _scenario("good", text=copy_text),
        _scenario("low", values=("Hedonism", "Security")),
        _scenario("copy", text=copy_text),
        _scenario("copy_of_dropped", text=_scenario("low").text),
        _scenario("unrated"),
    ]
    replies = {
        "good": [_scores()],
        "low": [_scores(values=("Hedonism", "Security"), realism=1)],
        "copy": [_scores(values=("Benevolence", "Power"))],
        "copy_of_dropped": [_scores()],
    }
    report = filter_decisions(scenarios, replies, Thresholds(), 0.9, "lexical", source="f.yaml", run_dir="r")
    assert report.kept_ids == ["good", "copy_of_dropped"]
    reasons = {entry.id: entry.reasons for entry in report.entries}
    assert reasons["low"] == ["realism 1 < 3"]
    assert reasons["copy"] == ["near-duplicate of good at similarity 1.000"]
    assert reasons["unrated"] == ["unparsed: no rating"]
    assert report.similarity == "lexical" and report.thresholds == {"realism": 3, "specificity": 3, "conflict": 3}


@pytest.mark.parametrize("bad", [0, 6, 2.5])
def test_thresholds_outside_one_to_five_are_user_errors(bad):
    with pytest.raises(UserError, match=r"--min-conflict must be an integer from 1 to 5"):
        Thresholds(conflict=bad)
