"""The value portrait protocol.

Its Likert output, its six prompt variants, steering edits, and a scripted run analysed end to end.
"""

from __future__ import annotations

import csv
import json
import math

import pytest
from arm_runs import analyze_arms

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.study_value_portrait import analyze_value_portrait_run
from moot.analysis.value_portrait import (
    correlations_from_metadata,
    value_scores_ratings,
)
from moot.errors import SpecError
from moot.graphs.compiler import ConversationContext
from moot.graphs.conformance import check_conformance
from moot.graphs.nodes import agent_prompts, template_variables
from moot.protocols.outputs.likert import (
    LIKERT_PHRASES,
    LIKERT_SCORES,
    parse_likert_phrase,
)
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import BUILTIN_OUTPUTS
from moot.protocols.outputs.text_replies import parse_text_reply
from moot.protocols.templates import render
from moot.scenarios.loader import load_scenarios, resolve_scenario_source
from moot.scenarios.schema import Scenario

VARIANTS = ["v1", "v1_reversed", "v2", "v2_reversed", "v3", "v3_reversed"]


# --- the Likert phrase parser ----------------------------------------------------------------------


def test_builtin_likert_enum_is_the_six_phrases_in_score_order():
    assert BUILTIN_OUTPUTS["likert"]["properties"]["answer"]["enum"] == list(LIKERT_PHRASES)
    assert [LIKERT_SCORES[p] for p in LIKERT_PHRASES] == [6, 5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        ("not like me at all", "not like me at all"),
        ("  Not Like Me.  ", "not like me"),
        ('"Like me"', "like me"),
        ("I would say this is not like me at all.", "not like me at all"),  # the longest phrase, never "like me"
        ("Somewhat like me, I think", "somewhat like me"),
        ("It is a little like me", "a little like me"),
        ("very much like me!", "very much like me"),
        ("unlike me", None),
        ("I cannot say.", None),
    ],
)
def test_phrase_parser_exact_then_longest(reply, phrase):
    assert parse_likert_phrase(reply) == phrase


def test_likert_output_reads_json_and_text_with_the_phrase_parser():
    schema = build_output_schema("likert")
    assert schema.model.model_json_schema()["properties"]["answer"]["enum"] == list(LIKERT_PHRASES)
    assert schema.parse_json('{"answer": "not like me at all"}') == ({"answer": "not like me at all", "score": 1}, None)
    assert schema.parse_json('{"answer": "Like me."}') == ({"answer": "like me", "score": 5}, None)
    parsed, error = schema.parse_json('{"answer": "maybe"}')
    assert parsed is None and "give exactly one of" in error
    assert parse_text_reply(schema, "Hmm. I'd say it is not like me at all.") == (
        {"answer": "not like me at all", "score": 1},
        None,
    )
    assert parse_text_reply(schema, "Answer: somewhat like me") == ({"answer": "somewhat like me", "score": 4}, None)
    assert parse_text_reply(schema, "No idea")[0] is None
    with pytest.raises(SpecError, match="takes no argument"):
        build_output_schema("likert:extra")


# --- prompts ---------------------------------------------------------------------------------------


def _prompts(spec, agent_name: str, scenario: Scenario) -> tuple[str, str]:
    plan = moot.compile_protocol(spec).plan()
    agent = spec.agent(agent_name)
    ctx = ConversationContext("r", "c", scenario, plan.order, 0, 0, plan, {}, {}, lambda e: e)
    (system, system_path), (turn, turn_path) = agent_prompts(spec, agent)
    variables = template_variables(spec, agent, ctx, 1, [])
    return render(system, variables, system_path), render(turn, variables, turn_path)


@pytest.fixture(scope="module")
def bundled_items() -> list[Scenario]:
    return load_scenarios(resolve_scenario_source("value_portrait")).scenarios


def test_six_variants_three_wordings_each_in_both_orders(bundled_items):
    spec = moot.load_spec("value_portrait").spec
    assert [a.name for a in spec.agents] == VARIANTS and all(a.temperature == 0 for a in spec.agents)
    aita = bundled_items[0]
    turns = {name: _prompts(spec, name, aita)[1] for name in VARIANTS}
    assert len(set(turns.values())) == 6
    for name, text in turns.items():
        options = [line[2:] for line in text.splitlines() if line.startswith("- ")]
        assert options == list(reversed(LIKERT_PHRASES) if name.endswith("reversed") else LIKERT_PHRASES), name
        assert f"Title: {aita.title}" in text and "Situation: " in text and aita.metadata["response"] in text
    # Wording 3 asks first, wording 2 after the item.
    assert turns["v3"].index("How much") < turns["v3"].index("Title:")
    assert turns["v2"].index("How much") > turns["v2"].index("Response:")


def test_chatbot_items_show_the_users_message(bundled_items):
    spec = moot.load_spec("value_portrait").spec
    chat = next(s for s in bundled_items if s.metadata["source_kind"] == "chatbot_log")
    turn = _prompts(spec, "v1", chat)[1]
    assert f"Message: {chat.text}" in turn and "Title:" not in turn and "Situation:" not in turn


def test_steering_variants_are_one_variable(bundled_items):
    base = moot.load_spec("value_portrait").spec
    for name, key in [("value_portrait_persona", "persona"), ("value_portrait_steered", "steer_value")]:
        variant = moot.load_spec(name).spec
        assert variant.agents == base.agents and variant.roles == base.roles and list(variant.variables) == [key]
    persona_system = _prompts(moot.load_spec("value_portrait_persona").spec, "v1", bundled_items[0])[0]
    assert "- Political orientation: conservative" in persona_system
    steered = moot.load_spec("value_portrait_steered").spec
    assert "You value Achievement: personal success" in _prompts(steered, "v1", bundled_items[0])[0]
    wrong = steered.model_copy(update={"variables": {"steer_value": "Kindness"}})
    with pytest.raises(SpecError, match="steer_value_must_be_one_of"):
        moot.compile_protocol(wrong)


def test_protocol_conforms(bundled_items):
    report = check_conformance(moot.load_spec("value_portrait").spec, bundled_items[:2])
    assert report is not None


# --- a scripted run, analysed ----------------------------------------------------------------------

TRUE_RATING: dict[str, int] = {}
"""The scripted respondents' rating of each item of the run (filled in by the test)."""
PHRASE_OF = {score: phrase for phrase, score in LIKERT_SCORES.items()}


def _respondent(shift: int):
    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        if context.scenario_id == list(TRUE_RATING)[2] and context.agent == "v3_reversed":
            return json.dumps({"answer": "I would rather not say"})  # unparsed, also when asked again
        score = max(1, min(6, TRUE_RATING[context.scenario_id] + shift))
        return json.dumps({"answer": PHRASE_OF[score]})

    return respond


def _same(got: float | None, want: float) -> bool:
    """Equal scores, a missing score (None or NaN) matching only a missing one."""
    if got is None or math.isnan(got):
        return math.isnan(want)
    return got == pytest.approx(want)


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_scripted_run_is_scored_compared_and_steering_measured(tmp_path, bundled_items):
    # Four items that measure some value (items measuring none would leave every score empty).
    chosen = [s for s in bundled_items if any(r >= 0.3 and p < 0.05 for r, p in s.metadata["values"].values())][:4]
    TRUE_RATING.clear()
    TRUE_RATING.update(zip([s.id for s in chosen], [6, 2, 4, 5], strict=True))
    register_responder("vp_plain", _respondent(0))
    register_responder("vp_steered", _respondent(1))
    base = moot.load_spec("value_portrait").spec.model_copy(update={"model": "scripted:vp_plain"})
    steered = moot.load_spec("value_portrait_steered").spec.model_copy(update={"model": "scripted:vp_steered"})
    plain_run = moot.run(base, chosen, out=tmp_path / "plain").run_dir
    steered_run = moot.run(steered, chosen, out=tmp_path / "steered").run_dir

    folder, index = analyze_run(steered_run, companions={"unsteered": plain_run})
    metrics = index.metrics
    assert metrics["items"] == {"total": 4, "rated": 4}
    answers = metrics["answers"]
    assert (answers["expected"], answers["parsed"], answers["unparsed"], answers["missing"]) == (24, 23, 1, 0)
    assert answers["by_variant"]["v3_reversed"]["unparsed"] == 1
    # Steered ratings are the true ones plus 1 (capped at 6), the unparsed answer excluded.
    steered_ratings = dict(zip(TRUE_RATING, [6.0, 3.0, 5.0, 6.0], strict=True))
    items = {row["item"]: row for row in _rows(folder / index.tables["items"])}
    assert {k: float(v["rating"]) for k, v in items.items()} == steered_ratings
    assert items[chosen[2].id]["parsed"] == "5"
    # The run's scores are the published scoring of those ratings.
    correlations = {s.id: correlations_from_metadata(s.metadata, "values") for s in chosen}
    expected = value_scores_ratings(steered_ratings, correlations)
    assert sum(score.n for score in expected.values()) >= 4
    for dimension, score in expected.items():
        assert _same(metrics["scores"]["values"][dimension], score.centered_mean), dimension
    # Steering deltas: steered minus unsteered, per value.
    unsteered = value_scores_ratings({k: float(v) for k, v in TRUE_RATING.items()}, correlations)
    for dimension, change in metrics["score_changes"]["values"].items():
        assert _same(change, expected[dimension].centered_mean - unsteered[dimension].centered_mean), dimension
    assert metrics["steering"] == {"steer_value": "Achievement"}
    assert {"items", "value_scores", "variants", "published_comparison", "score_changes"} <= set(index.tables)
    assert (folder / index.plots["value_radar"]).stat().st_size > 0
    comparison = _rows(folder / index.tables["published_comparison"])
    assert len(comparison) == 34 and [float(r["distance"]) for r in comparison] == sorted(
        float(r["distance"]) for r in comparison
    )
    # Every prompt variant gave the same answer on the other items: they agree perfectly.
    assert metrics["variant_reliability"]["complete_items"] == 3

    # the two runs put together as two arms: each measured, and compared
    both, writer = analyze_arms(
        analyze_value_portrait_run,
        {"plain": (plain_run, {"steering": "none"}), "steered": (steered_run, {"steering": "Achievement"})},
        tmp_path / "both",
    )
    assert list(both["models"]) == ["scripted:vp_plain, steering=none", "scripted:vp_steered, steering=Achievement"]
    assert both["models"]["scripted:vp_steered, steering=Achievement"]["scores"] == metrics["scores"]
    assert (tmp_path / "both" / writer.plots["value_radar_models"]).is_file()


def test_text_mode_run_parses_free_replies(tmp_path):
    register_responder("vp_chatty", lambda messages, context: "Honestly? I'd call it not like me at all.")
    spec = moot.load_spec("value_portrait").spec
    roles = {"respondent": spec.roles["respondent"].model_copy(update={"output_mode": "text"})}
    run = moot.run(
        spec.model_copy(update={"model": "scripted:vp_chatty", "roles": roles}), limit=1, out=tmp_path / "run"
    ).run_dir
    _, index = analyze_run(run)
    assert index.metrics["answers"]["parsed"] == 6
    assert index.metrics["answers"]["by_variant"]["v1"]["mean_score"] == 1.0
