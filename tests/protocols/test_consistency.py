"""The consistency study on scripted models: short and long form runs, the argument judges, and `moot analyze`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.analysis.consistency import compression_ratio_texts
from moot.cli import main
from moot.errors import UserError
from moot.judges.arguments import (
    CLAIM_TREE_ROLE,
    EXTRACTION_ROLE,
    RATING_ROLE,
    VALUES_ROLE,
    argument_list_output,
    argument_values_output,
    judge_arguments_run,
)

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


def long_answer(messages: list[dict[str, str]], context: CallContext) -> str:
    """Names the situation's values in order (action 1's, then action 2's), one argument each, up to k."""
    k = int(context.agent.rsplit("_", 1)[1])
    values = re.findall(r"values: (.*)", messages[0]["content"])
    names = [v.strip() for v in values[0].split(",")] if values else []
    return "I choose Action 1.\n" + "\n".join(f"{i}. {name} matters here." for i, name in enumerate(names[:k], 1))


def judge(messages: list[dict[str, str]], context: CallContext) -> str:
    """The argument judges.

    They split numbered lines, name the value an argument names, rate an argument about Honesty 5 and any other 3,
    and give a claim tree of depth 2 with a repeat and a bad edge.
    """
    prompt = messages[-1]["content"]
    if context.role == EXTRACTION_ROLE:
        return json.dumps({"arguments": re.findall(r"^\d+\. (.*)$", prompt, flags=re.MULTILINE)})
    argument = prompt.split("argument:\n", 1)[1]
    if context.role == VALUES_ROLE:
        return json.dumps({"values": [argument.split(" matters")[0], "Not a listed value"]})
    if context.role == RATING_ROLE:
        return json.dumps({"explanation": "as deep as it goes", "score": 5 if argument.startswith("Honesty") else 3})
    assert context.role == CLAIM_TREE_ROLE
    claims = [
        {"claim": "thesis"},
        {"claim": "reason", "supports": 1},
        {"claim": "detail", "supports": 2},
        {"claim": "Reason!", "supports": 1},
        {"claim": "example", "supports": 5},
    ]
    return json.dumps({"claims": claims})


def long_spec() -> dict:
    """Two arguers (k = 2 and 3) whose prompt shows the values, so the scripted answers can name them in order."""
    spec = moot.load_spec("consistency_long").spec.model_dump(exclude_defaults=True)
    spec["model"] = "scripted:long_answer"
    spec["repeats"] = 2
    spec["agents"] = [
        {"name": "arguer_2", "role": "arguer", "variables": {"k": 2}},
        {"name": "arguer_3", "role": "arguer", "variables": {"k": 3}},
    ]
    spec["roles"]["arguer"]["prompt"] = (
        "{{ scenario.text }}\nvalues: {{ ((scenario.metadata.values_1 | default([])) + "
        "(scenario.metadata.values_2 | default([]))) | join(', ') }}"
    )
    return spec


def short_spec() -> dict:
    spec = moot.load_spec("consistency_short").spec.model_dump(exclude_defaults=True)
    spec["model"] = "scripted"
    spec["agents"][0]["script"] = [json.dumps({"action": "Action 1"})]
    return spec


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A short-form and a long-form run, made once for the module."""
    register_responder("long_answer", long_answer)
    register_responder("argument_judges", judge)
    base = tmp_path_factory.mktemp("consistency")
    short = moot.run(short_spec(), DILEMMAS, out=base / "short", cache=None).run_dir
    long = moot.run(long_spec(), DILEMMAS, out=base / "long", cache=None).run_dir
    return short, long


@pytest.fixture
def runs(finished, tmp_path):
    """Private copies of the two runs (judging appends to a run's trace)."""
    return tuple(Path(shutil.copytree(run, tmp_path / run.name)) for run in finished)


def test_long_answers_are_split_and_judged_into_the_trace(runs):
    _, long = runs
    report = judge_arguments_run(long, model="scripted:argument_judges", specificity="both")
    # 2 dilemmas x 2 repeats x (k=2, k=3): 8 answers; d1 has 3 values, d2 has 3: 2 + 3 arguments per answer pair;
    # each argument meets the value judge, the rating judge and the claim tree judge
    assert (report.answers, report.arguments, report.unparsed, report.failed) == (8, 20, 0, 0)
    assert report.judged == 8 + 3 * 20
    decisions = [e for e in events_of(long, "judge_decision")]
    values = {(d.conversation_id, d.about): d.decision for d in decisions if d.role == VALUES_ROLE}
    some = next(cid for cid, about in values if about == "r1:arguer_3#3")
    assert values[(some, "r1:arguer_3#1")]["values"] in (["Honesty"], ["Justice"])
    assert values[(some, "r1:arguer_3#1")]["dropped_values"] == ["Not a listed value"]
    # the run's vocabulary has six values, so the judge owes five: one known name leaves four missing
    assert values[(some, "r1:arguer_3#1")]["missing_values"] == 4
    ratings = {(d.conversation_id, d.about): d.decision["score"] for d in decisions if d.role == RATING_ROLE}
    assert ratings[(some, "r1:arguer_3#1")] in (5, 3) and len(ratings) == 20
    trees = [d.decision for d in decisions if d.role == CLAIM_TREE_ROLE]
    # claim 4 repeats claim 2 and is merged into it; claim 5 names itself as what it supports
    assert all(
        t["depth"] == 2
        and t["claims"] == ["thesis", "reason", "detail", "example"]
        and t["dropped_edges"] == 1
        and t["repeated_claims"] == 1
        for t in trees
    )
    turns = [e for e in events_of(long, "turn_started") if e.role == VALUES_ROLE]
    assert all(len(t.visible) == 1 and "#" in t.visible[0] for t in turns)
    again = judge_arguments_run(long, model="scripted:argument_judges", specificity="both")
    assert (again.judged, again.reused, again.answers) == (0, 68, 8)
    assert main(["verify", str(long)]) == 0


def test_analyze_long_with_the_short_run(runs, capsys):
    """Position preferences by hand.

    k=2 answers name the first two values, k=3 answers all three; both repeats answer alike.
    d1 (Honesty, Fairness, Loyalty): k=2 -> Honesty 1/2, Fairness 2/2; k=3 -> 1/3, 2/3, 3/3.
    d2 (Justice, Friendship, Loyalty): k=2 -> Justice 1/2, Friendship 1; k=3 -> 1/3, 2/3, 1.
    k=3 preferences: Honesty = Justice = -1/3, Fairness = Friendship = -2/3, Loyalty = -1.
    All k: Honesty -(1/2 + 1/3) / 2 = -5/12, Fairness -(1 + 2/3) / 2 = -5/6, Loyalty -1 (k=3 only).
    """
    short, long = runs
    judge_arguments_run(long, model="scripted:argument_judges")
    assert main(["analyze", str(long), "--short", str(short)]) == 0
    index = json.loads((long / "analysis" / "metrics.json").read_text())
    metrics = index["metrics"]
    prefs = metrics["position_preferences"]
    assert prefs["k=3"] == pytest.approx(
        {"Honesty": -1 / 3, "Justice": -1 / 3, "Fairness": -2 / 3, "Friendship": -2 / 3, "Loyalty": -1.0}
    )
    assert prefs["overall"]["Honesty"] == pytest.approx(-5 / 12)
    assert prefs["overall"]["Fairness"] == pytest.approx(-5 / 6)
    assert prefs["overall"]["Loyalty"] == pytest.approx(-1.0)
    assert metrics["arguments_per_answer"] == {"2": 2.0, "3": 3.0}
    # identical repeats agree perfectly; k=2 and k=3 share 4 values
    assert metrics["sampling_consistency"]["k=3"]["mean_pairwise_spearman"] == pytest.approx(1.0)
    assert metrics["between_k"]["k=2 vs k=3"]["n"] == 4
    # the short run always chose action 1: Honesty, Fairness and Justice won, Loyalty and Friendship lost
    short_vs_long = metrics["short_versus_long"]["short vs long k=3"]
    assert short_vs_long["n"] == 5 and short_vs_long["spearman"] > 0.5
    # the rating judge (the default) gives Honesty's arguments 5, the others 3, in each k and each sample
    assert metrics["specificity"]["k=3"]["by_sample"]["1"] == {
        "Honesty": 5.0,
        "Fairness": 3.0,
        "Loyalty": 3.0,
        "Justice": 3.0,
        "Friendship": 3.0,
    }
    assert metrics["specificity"]["k=2"]["mean"] == {"Honesty": 5.0, "Fairness": 3.0, "Justice": 3.0, "Friendship": 3.0}
    assert index["methods"]["consistency_specificity"] == "judge"
    assert "per k" in index["methods"]["specificity"] and "per k" in index["methods"]["compression_ratio"]
    # every quantity says how it was computed, with the paper's section
    for quantity, section in {
        "position_preferences": "sec. 2.3",
        "sampling_consistency": "sec. 4.2",
        "between_k": "sec. 4.3",
        "short_versus_long": "sec. 4.1",
        "compression_ratio": "sec. 3.2",
        "specificity": "sec. 3.1",
    }.items():
        assert section in index["methods"][quantity], quantity
    # diversity needs two arguments of a value in one sample: only Loyalty (argument 3 of d1 and of d2, k=3) has them
    loyalty = compression_ratio_texts(["Loyalty matters here.", "Loyalty matters here."])
    assert metrics["diversity"]["k=3"] == {
        "by_sample": {"0": {"Loyalty": loyalty}, "1": {"Loyalty": loyalty}},
        "mean": {"Loyalty": loyalty},
    }
    assert metrics["diversity"]["k=2"]["mean"] == {}
    assert metrics["specificity_versus_preference"]["k=3: mean specificity vs long preference"]["n"] == 5
    assert {
        "long_preferences",
        "between_k",
        "short_versus_long",
        "value_arguments",
        "diversity_specificity_correlations",
    } <= set(index["tables"])
    assert {"long_preferences", "short_versus_long", "between_k", "diversity", "specificity", "long_groups"} <= set(
        index["plots"]
    )
    # groups: Honesty is honesty; Justice and Fairness fairness; Friendship and Loyalty care
    assert metrics["groups"]["long k=3"] == pytest.approx({"honesty": -1 / 3, "fairness": -0.5, "care": -5 / 6})


def test_the_claim_tree_stays_an_option(runs):
    """`--judge arguments_claim_tree` runs the claim tree judge instead of the rating; its depth (2 for every
    argument) is read under `--method consistency_specificity=claim_tree`, and the default method says the
    arguments were not rated."""
    _, long = runs
    assert main(["judge", str(long), "--judge", "arguments_claim_tree", "--model", "scripted:argument_judges"]) == 0
    assert not [e for e in events_of(long, "judge_decision") if e.role == RATING_ROLE]
    _, index = analyze_run(long, methods={"consistency_specificity": "claim_tree"})
    assert index.metrics["specificity"]["k=3"]["mean"]["Honesty"] == 2.0
    assert index.methods["consistency_specificity"] == "claim_tree" and "claim tree" in index.methods["specificity"]
    _, rated = analyze_run(long)
    assert any("--judge arguments` first" in note for note in rated.notes)


def test_analyze_short(runs):
    short, _ = runs
    folder, index = analyze_run(short, companions={"short": short})
    metrics = index.metrics
    assert (metrics["form"], metrics["choices"], metrics["parsed"], metrics["action_1_share"]) == ("short", 2, 2, 1.0)
    mu = {v: r["mu"] for v, r in metrics["trueskill"].items()}
    assert mu["Honesty"] > 25 > mu["Loyalty"]
    assert metrics["mu_correlation_versus_companion"]["spearman"] == pytest.approx(1.0)
    assert "short_preferences" in index.plots and "short_groups" in index.plots
    assert metrics["same_decision_versus_companion"] == {"dilemmas": 2, "same": 2, "share": 1.0}
    assert index.methods["consistency_shared_values"] == "keep"
    assert "app. A.1" in index.methods["trueskill"] and "both sides" in index.methods["trueskill"]
    _, sat_out = analyze_run(short, methods={"consistency_shared_values": "sit_out"})
    assert sat_out.methods["consistency_shared_values"] == "sit_out"
    # no value is on both sides of these dilemmas, so both ways give the same map
    assert sat_out.metrics["trueskill"] == metrics["trueskill"]


def test_implicit_vs_explicit_is_the_share_of_dilemmas_with_the_same_decision(runs, tmp_path):
    """The implicit run takes action 1 on d1 and d2; an explicit run that takes action 2 on d1 (the wallet) and
    action 1 on d2 keeps the decision on one dilemma of two: 1/2."""
    short, _ = runs

    def keeps_the_wallet(messages: list[dict[str, str]], context: CallContext) -> str:
        wallet = any("wallet" in m["content"] for m in messages)
        return json.dumps({"action": "Action 2" if wallet else "Action 1"})

    register_responder("keeps_the_wallet", keeps_the_wallet)
    spec = moot.load_spec("consistency_short_explicit").spec.model_dump(exclude_defaults=True)
    spec["model"] = "scripted:keeps_the_wallet"
    explicit = moot.run(spec, DILEMMAS, out=tmp_path / "explicit", cache=None).run_dir
    _, index = analyze_run(explicit, companions={"short": short})
    assert index.metrics["same_decision_versus_companion"] == {"dilemmas": 2, "same": 1, "share": 0.5}
    assert "share of dilemmas with the same decision" in index.methods["same_decision_versus_companion"]
    assert "second figure" in index.methods["mu_correlation_versus_companion"]


def test_unjudged_long_run_says_what_to_do(runs):
    _, long = runs
    _, index = analyze_run(long)
    assert any("moot judge RUN_DIR --judge arguments" in note for note in index.notes)


def test_judging_a_short_run_is_one_line(runs, capsys):
    short, _ = runs
    with pytest.raises(UserError, match="no free-text answers"):
        judge_arguments_run(short, model="scripted:argument_judges")


def test_judge_outputs_are_lenient():
    arguments, _ = argument_list_output().parse_json('{"arguments": ["1. First.", "  ", "2) Second  one."]}')
    assert arguments == {"arguments": ["First.", "Second one."]}
    capped, _ = argument_list_output(1).parse_json('{"arguments": ["First.", "Second."]}')
    assert (
        capped == {"arguments": ["First."]}
        and argument_list_output(1).json_schema["properties"]["arguments"]["maxItems"] == 1
    )
    # a vocabulary of two: the judge names both; one known name of the two is one missing
    two = argument_values_output(["Honesty", "Family bonds"])
    assert (
        two.json_schema["properties"]["values"]["minItems"] == two.json_schema["properties"]["values"]["maxItems"] == 2
    )
    values, _ = two.parse_json('{"values": ["family BONDS", "Zeal"]}')
    assert values == {"values": ["Family bonds"], "dropped_values": ["Zeal"], "missing_values": 1}
    # exactly five of a larger vocabulary: a sixth name is surplus, a repeat counts once
    names = ["Care", "Duty", "Fairness", "Honesty", "Justice", "Loyalty", "Respect"]
    five = argument_values_output(names)
    assert (
        five.json_schema["properties"]["values"]["minItems"]
        == 5
        == five.json_schema["properties"]["values"]["maxItems"]
    )
    values, _ = five.parse_json('{"values": ["Care", "Duty", "care", "Fairness", "Honesty", "Justice", "Loyalty"]}')
    assert values == {
        "values": ["Care", "Duty", "Fairness", "Honesty", "Justice"],
        "dropped_values": ["Loyalty"],
        "missing_values": 0,
    }
    with pytest.raises(UserError):
        argument_values_output([])


def rendered_system_prompt(spec_name: str, scenario: dict, agent_index: int = 0) -> str:
    """The system prompt an agent of a bundled spec gets for one scenario."""
    from moot.graphs.context import ConversationContext
    from moot.graphs.nodes import agent_prompts, template_variables
    from moot.protocols.templates import render
    from moot.scenarios import Scenario

    spec = moot.load_spec(spec_name).spec
    agent = spec.agents[agent_index]
    plan = moot.compile_protocol(spec).plan()
    ctx = ConversationContext("r", "c", Scenario.model_validate(scenario), plan.order, 0, 0, plan, {}, {}, lambda e: e)
    (system, path), _ = agent_prompts(spec, agent)
    return render(system, template_variables(spec, agent, ctx, 1, []), path)


def test_short_form_reveals_values_only_in_the_explicit_variant():
    implicit = rendered_system_prompt("consistency_short", DILEMMAS[0])
    explicit = rendered_system_prompt("consistency_short_explicit", DILEMMAS[0])
    assert "Action 1: Return it." in implicit and "Honesty" not in implicit
    assert "Action 1: Return it. (values: Honesty, Fairness)" in explicit and "(values: Loyalty)" in explicit
    assert 'Answer with "Action 1" or "Action 2" only.' in implicit


def test_long_form_asks_each_arguer_for_its_k():
    """The paper's long form (sec. 2.3, fig. 9): k detailed arguments, the agreed action's first, in the order of the
    model's values, counter-arguments allowed; ten samples at temperature 0.9 (sec. 4.2)."""
    spec = moot.load_spec("consistency_long").spec
    assert [a.variables["k"] for a in spec.agents] == [5, 10, 20] and spec.repeats == 10
    assert all(a.temperature == 0.9 for a in spec.agents)
    for index, k in enumerate((5, 10, 20)):
        prompt = rendered_system_prompt("consistency_long", DILEMMAS[0], index)
        assert f"exactly {k} arguments, numbered 1 to {k}" in prompt and "detailed" in prompt
        assert "arguments for the action you agree with first" in prompt and "value you hold more dear" in prompt
        assert "arguments for the other action" in prompt and "one sentence" not in prompt
    opinion = rendered_system_prompt("consistency_opinion", {"id": "q", "text": "Should we?"}, 1)
    assert "Should we?" in opinion and "exactly 10 arguments" in opinion and "Action 1" not in opinion
    assert moot.load_spec("consistency_opinion").spec.repeats == 10


def test_extracted_arguments_are_not_cut():
    """A 600-character argument is copied whole: the extractor's schema has no length cap."""
    long_argument = "Returning the wallet keeps faith with a stranger. " * 12
    schema = argument_list_output()
    assert "maxLength" not in schema.json_schema["properties"]["arguments"]["items"]
    parsed, _ = schema.parse_json(json.dumps({"arguments": [long_argument]}))
    assert parsed == {"arguments": [long_argument.strip()]} and len(parsed["arguments"][0]) > 590
