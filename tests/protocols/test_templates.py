"""Prompt templates: the `shuffled` filter, the value judge listing its values in it, bundled prompts as they were."""

from __future__ import annotations

from collections import Counter

import jinja2
import pytest

from moot.api import compile_loaded
from moot.graphs.compiler import SAMPLE_MESSAGE, SAMPLE_SCENARIO
from moot.graphs.context import ConversationContext
from moot.graphs.nodes import agent_prompts, template_variables
from moot.graphs.turns import plan_round
from moot.judges.explorer import sample_variables
from moot.protocols.explorer import ExplorerSpec
from moot.protocols.loader import bundled_specs, load_spec
from moot.protocols.templates import _IDENTIFIER, ENVIRONMENT_OPTIONS, PROMPTS_DIR, render, resolve_template, shuffled
from moot.scenarios import Scenario, load_scenarios, resolve_scenario_source

VALUES = [f"Value {i:02d}" for i in range(20)]


def test_shuffled_is_a_permutation_fixed_by_its_key():
    assert shuffled(VALUES, "argument one") == shuffled(VALUES, "argument one")
    assert sorted(shuffled(VALUES, "argument one")) == VALUES
    assert shuffled(VALUES, "argument one") != shuffled(VALUES, "argument two")
    assert shuffled((), "anything") == [] and [f"Value {i:02d}" for i in range(20)] == VALUES


def test_each_value_leads_the_list_about_as_often():
    """Over 2,000 keys each of 20 values comes first about 100 times (a fixed order would put one first every time)."""
    firsts = Counter(shuffled(VALUES, f"argument {n}")[0] for n in range(2000))
    assert set(firsts) == set(VALUES)
    assert max(firsts.values()) < 160 and min(firsts.values()) > 50


def test_value_judge_lists_the_vocabulary_in_an_order_drawn_from_the_argument():
    template = resolve_template("consistency_values", ("prompt",))
    schema = {"properties": {"values": {"items": {"enum": VALUES}, "maxItems": 5}}}

    def listed(argument: str) -> list[str]:
        text = render(template, {"schema": schema, "message": {"content": argument}}, ("prompt",))
        return [line[2:] for line in text.splitlines() if line.startswith("- ")]

    first, second = listed("Honesty matters most."), listed("Family comes first.")
    assert sorted(first) == sorted(second) == VALUES
    assert first != second and first == listed("Honesty matters most.")


def _source(ref: str) -> str:
    return (PROMPTS_DIR / f"{ref}.j2").read_text(encoding="utf-8") if _IDENTIFIER.match(ref) else ref


def _scenarios_of(loaded) -> list[Scenario]:
    """The first scenarios of the spec's own sample (their metadata reach more template branches), or the sample."""
    if getattr(loaded.spec, "scenarios", None) is None:
        return [SAMPLE_SCENARIO]
    return load_scenarios(resolve_scenario_source(loaded.spec.scenarios, loaded.base_dir)).scenarios[:3]


def _renders_of(name: str):
    """Each (template, path, source, variables) a bundled spec renders: every agent, round 1 and a later round."""
    loaded = load_spec(name)
    compiled = compile_loaded(loaded)
    if isinstance(loaded.spec, ExplorerSpec):
        spec, schemas = compiled.roster, compiled.schemas
        cases = [
            (agent, agent.model_copy(update={"variables": extra}), 1, [])
            for agent in spec.agents
            for extra in sample_variables(agent.role, loaded.spec.value_classification == "per_value")
        ]
    else:
        spec, schemas = compiled.spec, compiled.schemas
        other = {"round": 2, "agent": "other", "parsed": {"verdict": "NTA", "explanation": "Fine."}}
        later = [SAMPLE_MESSAGE, SAMPLE_MESSAGE.model_copy(update=other)]
        rounds = ((1, []), (spec.rounds, later))
        cases = [(agent, agent, round_, transcript) for agent in spec.agents for round_, transcript in rounds]
    plan = plan_round(spec, tuple(agent.name for agent in spec.speakers()))
    for scenario in _scenarios_of(loaded):
        ctx = ConversationContext("r", "c", scenario, plan.order, 0, 0, plan, {}, {}, lambda event: event)
        for agent, with_variables, round_, transcript in cases:
            role = spec.roles[agent.role]
            message = SAMPLE_MESSAGE if role.kind == "judge" and role.per == "message" else None
            schema = schemas.get(agent.role)
            variables = template_variables(
                spec, with_variables, ctx, round_, transcript, message=message, schema=schema
            )
            (system, system_path), (turn, turn_path) = agent_prompts(spec, agent)
            yield system, system_path, _source(agent.system or role.prompt), variables
            yield turn, turn_path, _source(role.turn), variables


@pytest.mark.parametrize("name", sorted(bundled_specs()))
def test_bundled_prompts_render_in_the_sandbox_as_in_a_plain_environment(name: str) -> None:
    """The sandbox changes nothing a bundled prompt prints: byte for byte what a plain Jinja environment prints."""
    plain = jinja2.Environment(**ENVIRONMENT_OPTIONS, loader=jinja2.FileSystemLoader(PROMPTS_DIR))
    plain.filters["shuffled"] = shuffled
    count = 0
    for template, path, source, variables in _renders_of(name):
        assert render(template, variables, path) == plain.from_string(source).render(**variables).strip(), (name, path)
        count += 1
    assert count >= 4
