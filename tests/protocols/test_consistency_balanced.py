"""The order-balanced short form of the consistency study: one chooser sees the actions as given, one swapped."""

from __future__ import annotations

import json
import re

import pytest

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.consistency import trueskill_value_choices
from moot.analysis.consistency_answers import dilemma_action, short_choices_events, swapped_agents
from moot.graphs.context import ConversationContext
from moot.graphs.nodes import agent_prompts, template_variables
from moot.protocols.templates import render
from moot.scenarios import Scenario

DILEMMAS = [
    {
        "id": "d1",
        "text": "You found a wallet. Do you return it?",
        "metadata": {
            "action_1": "Return it.",
            "action_2": "Keep it.",
            "values_1": ["Honesty", "Fairness"],
            "values_2": ["Loyalty"],
        },
    },
    {
        "id": "d2",
        "text": "Your friend cheats. Do you tell?",
        "metadata": {
            "action_1": "Tell.",
            "action_2": "Keep quiet.",
            "values_1": ["Justice"],
            "values_2": ["Friendship", "Loyalty"],
        },
    },
]
PREFERRED = ("Return it.", "Keep quiet.")
"""What the hand-made chooser takes, wherever it is shown: action 1 of d1, action 2 of d2."""


def balanced_spec(model: str = "scripted", **variables) -> dict:
    """The bundled balanced spec on a scripted model, with extra spec variables.

    On plain `scripted` both choosers always answer "Action 1".
    """
    spec = moot.load_spec("consistency_short_balanced").spec.model_dump(exclude_defaults=True)
    spec["model"] = model
    spec["variables"] = {**spec.get("variables", {}), **variables}
    if model == "scripted":
        for agent in spec["agents"]:
            agent["script"] = [json.dumps({"action": "Action 1"})]
    return spec


def rendered_prompts(spec: dict, scenario: dict) -> dict[str, str]:
    """The system prompt each agent of a spec gets for one scenario."""
    compiled = moot.compile_protocol(moot.ProtocolSpec.model_validate(spec))
    plan = compiled.plan()
    ctx = ConversationContext("r", "c", Scenario.model_validate(scenario), plan.order, 0, 0, plan, {}, {}, lambda e: e)
    prompts = {}
    for agent in compiled.spec.agents:
        (system, path), _ = agent_prompts(compiled.spec, agent)
        prompts[agent.name] = render(system, template_variables(compiled.spec, agent, ctx, 1, []), path)
    return prompts


def takes_preferred(messages: list[dict[str, str]], context: CallContext) -> str:
    """Answers the position at which one of `PREFERRED` is shown."""
    shown = dict(re.findall(r"^(Action [12]): (.*?)(?: \(values:.*)?$", messages[0]["content"], flags=re.MULTILINE))
    return json.dumps({"action": next(position for position, text in shown.items() if text in PREFERRED)})


def test_the_swapped_chooser_reads_the_actions_in_the_other_order():
    prompts = rendered_prompts(balanced_spec(), DILEMMAS[0])
    assert "Action 1: Return it.\nAction 2: Keep it." in prompts["chooser_given"]
    assert "Action 1: Keep it.\nAction 2: Return it." in prompts["chooser_swapped"]
    assert "Honesty" not in prompts["chooser_swapped"]
    explicit = rendered_prompts(balanced_spec(explicit_values=True), DILEMMAS[0])
    assert (
        "Action 1: Return it. (values: Honesty, Fairness)\nAction 2: Keep it. (values: Loyalty)"
        in explicit["chooser_given"]
    )
    assert (
        "Action 1: Keep it. (values: Loyalty)\nAction 2: Return it. (values: Honesty, Fairness)"
        in explicit["chooser_swapped"]
    )


def test_swapped_agents_and_mapping():
    spec = balanced_spec()
    assert swapped_agents(spec) == {"chooser_swapped"}
    assert swapped_agents({**spec, "variables": {"swap_actions": True}}) == {"chooser_given", "chooser_swapped"}
    assert (
        swapped_agents(
            {"agents": [{"name": "a", "variables": {"swap_actions": False}}], "variables": {"swap_actions": True}}
        )
        == frozenset()
    )
    assert [dilemma_action(a, True) for a in ("Action 1", "Action 2", None)] == ["Action 2", "Action 1", None]
    assert dilemma_action("Action 1", False) == "Action 1"


def test_always_action_1_in_both_orders_gives_each_action_one_win(tmp_path):
    spec = balanced_spec()
    run = moot.run(spec, DILEMMAS, out=tmp_path / "run", cache=None).run_dir
    choices = short_choices_events(events_of(run), swapped=swapped_agents(spec))
    for dilemma in ("d1", "d2"):
        assert sorted(c.action for c in choices if c.scenario == dilemma) == ["Action 1", "Action 2"]
    _, index = analyze_run(run)
    metrics = index.metrics
    assert (metrics["parsed"], metrics["action_1_share"], metrics["dilemma_action_1_share"]) == (4, 1.0, 0.5)
    bias = metrics["position_bias"]
    assert bias["choosers"] == {
        "chooser_given": {"swapped": False, "answers": 2, "action_1_share": 1.0},
        "chooser_swapped": {"swapped": True, "answers": 2, "action_1_share": 1.0},
    }
    assert bias["order_agreement"] == {"pairs": 2, "same_action": 0, "share": 0.0}
    assert "position_bias" in index.tables and "position_bias" in index.plots


def test_mapped_back_choices_by_hand(tmp_path):
    """The chooser takes "Return it." (d1's action 1) and "Keep quiet." (d2's action 2) wherever they are shown.

    Given order: d1 -> "Action 1", d2 -> "Action 2". Swapped: d1 -> "Action 2", d2 -> "Action 1".
    Mapped back, both orders choose d1's action 1 and d2's action 2: the matches are
    {Honesty, Fairness} over {Loyalty} twice, then {Friendship, Loyalty} over {Justice} twice.
    """
    register_responder("takes_preferred", takes_preferred)
    spec = balanced_spec("scripted:takes_preferred")
    run = moot.run(spec, DILEMMAS, out=tmp_path / "run", cache=None).run_dir
    choices = short_choices_events(events_of(run), swapped=swapped_agents(spec))
    assert {(c.scenario, c.agent): (c.answer, c.action) for c in choices} == {
        ("d1", "chooser_given"): ("Action 1", "Action 1"),
        ("d1", "chooser_swapped"): ("Action 2", "Action 1"),
        ("d2", "chooser_given"): ("Action 2", "Action 2"),
        ("d2", "chooser_swapped"): ("Action 1", "Action 2"),
    }
    _, index = analyze_run(run, companions={"short": run})
    metrics = index.metrics
    assert metrics["position_bias"]["order_agreement"] == {"pairs": 2, "same_action": 2, "share": 1.0}
    assert {a: r["action_1_share"] for a, r in metrics["position_bias"]["choosers"].items()} == {
        "chooser_given": 0.5,
        "chooser_swapped": 0.5,
    }
    expected = trueskill_value_choices(
        [(["Honesty", "Fairness"], ["Loyalty"])] * 2 + [(["Friendship", "Loyalty"], ["Justice"])] * 2
    )
    assert {v: r["mu"] for v, r in metrics["trueskill"].items()} == pytest.approx(
        {v: s.mu for v, s in expected.items()}
    )
    # the companion (the same run) is mapped back with its own spec too: the two agree exactly
    assert metrics["mu_correlation_versus_companion"]["pearson"] == pytest.approx(1.0)
