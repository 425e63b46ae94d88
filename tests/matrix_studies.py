"""Scripted and simulated studies whose models are stated once, in a spec's `matrix`, with known per-arm truths.

Each study here is a spec (a dict, written as YAML by `write_study`) whose matrix compares scripted
models (`scripted:NAME` replies registered by `register_responders`) or simulated ones, and the
scenarios it runs. The end-to-end tests (tests/studies) run them through `moot run` and `moot analyze`;
`benchmarks/compare_tables.py` runs them to print each study's comparison table. The models are
scripted: what they show is the machinery, never a finding about a model.

Cooperation: three targets whose value orders differ (`ORDERS`). Each concedes exactly when the
counterpart's value comes before its own in its order, so with every pair of values met both ways
its revealed ranking is its order (the hand-computed cross-model figures are in
tests/analysis/test_cooperation_models.py).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import yaml

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.protocols.outputs.likert import LIKERT_SCORES
from moot.protocols.values.schwartz import SCHWARTZ_VALUES

V = list(SCHWARTZ_VALUES)
ORDERS = {"first": V, "reversed": V[::-1], "swapped": [V[1], V[0], *V[2:]]}
"""Each cooperation target model's value order, by its name in the matrix."""


# --- cooperation -------------------------------------------------------------------------------------------------


def target(order: list[str]) -> Any:
    """A target that holds until it has heard the counterpart's value, then concedes when that value comes first."""

    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        own = _found(r"what matters most to you is ([A-Za-z-]+)", messages[0]["content"])
        heard = re.findall(r"I stand for ([A-Za-z-]+)", " ".join(m["content"] for m in messages[1:]))
        if heard and order.index(heard[-1]) < order.index(own):
            return "I concede: we do it your way."
        return f"I hold to {own}."

    return respond


def counterpart(messages: list[dict[str, str]], context: CallContext) -> str:
    """A counterpart that states its own value and never yields."""
    own = _found(r"what matters most to you is ([A-Za-z-]+)", messages[0]["content"])
    return f"I stand for {own}."


def concession_judge(messages: list[dict[str, str]], context: CallContext) -> str:
    """A concession judge that reads the target's last word: conceded when it is "I concede"."""
    said = re.findall(r"I concede|I hold", " ".join(m["content"] for m in messages))
    return json.dumps({"conceded": bool(said) and said[-1] == "I concede", "reason": "read the target"})


def chooser(order: list[str]) -> Any:
    """A stated-preference chooser that picks the option whose value comes first in its order."""

    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        text = messages[0]["content"]
        a = _found(r"Option A \(([A-Za-z-]+)\)", text)
        b = _found(r"Option B \(([A-Za-z-]+)\)", text)
        return json.dumps({"choice": "A" if order.index(a) < order.index(b) else "B", "reason": "by order"})

    return respond


def all_pairs_scenarios(path: Path) -> Path:
    """Every pair of the ten values once (45 base scenarios, each run both ways), types in turn."""
    types = ("reciprocal", "coopetitive", "altruistic")
    rows = [
        {
            "id": f"pair-{k:02d}",
            "background": "Two colleagues planning a shared task.",
            "cooperation_type": types[k % 3],
            "values": [a, b],
            "text": f"You and a colleague must choose how to run a shared task ({a} or {b}).",
            "options": {a: f"Do it the {a} way.", b: f"Do it the {b} way."},
        }
        for k, (a, b) in enumerate(itertools.combinations(V, 2))
    ]
    path.write_text(yaml.safe_dump({"format": "cooperation", "scenarios": rows}), encoding="utf-8")
    return path


def spec_of(name: str, models: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A bundled spec as a dict, each agent given its model from `models`, and `fields` set."""
    spec = moot.load_spec(name).spec.model_dump(mode="json")
    for agent in spec["agents"]:
        agent["model"] = models[agent["name"]]
    return {**spec, **fields}


def cooperation_matrix(repeats: int = 2) -> dict[str, Any]:
    """The cooperation spec whose matrix gives the target each of the three ordered models (named by `ORDERS`);
    the counterpart and the judge keep their scripted models. 2 rounds: a conceding target concedes in round 2."""
    spec = moot.load_spec("cooperation").spec.model_dump(mode="json", exclude_defaults=True)
    spec.pop("scenarios", None)
    models = {"counterpart": "scripted:stands", "judge": "scripted:reads_target"}
    for agent in spec["agents"]:
        agent.pop("model", None)
        if agent["name"] in models:
            agent["model"] = models[agent["name"]]
    entries = [{"model": f"scripted:target_{name}", "name": name} for name in ORDERS]
    matrix = {"models": {"agents": ["target"], "from": entries}}
    return spec | {"name": "cooperation_three_orders", "rounds": 2, "repeats": repeats, "matrix": matrix}


def stated_matrix() -> dict[str, Any]:
    """The stated-preference spec (values named in the options) whose matrix gives the chooser each ordered model:
    each chooses the option whose value comes first in its order."""
    spec = moot.load_spec("cooperation_stated").spec.model_dump(mode="json", exclude_defaults=True)
    spec.pop("scenarios", None)
    spec["variables"] = {**spec.get("variables", {}), "explicit_values": True}
    entries = [{"model": f"scripted:chooser_{name}", "name": name} for name in ORDERS]
    return spec | {"name": "stated_three_orders", "matrix": {"models": {"agents": ["chooser"], "from": entries}}}


# --- value portrait ----------------------------------------------------------------------------------------------

PORTRAIT_RATINGS = {"high": [6, 2, 4], "low": [5, 2, 2]}
"""Each value-portrait model's Likert score for the three chosen items, in their order. Cronbach's alpha of
their value across the two models, by hand: item variances (ddof 1) 0.5, 0 and 2, sum 2.5; totals 12 and 9,
variance 4.5; alpha = 3/2 (1 - 2.5/4.5) = 2/3."""
THIRD_PORTRAIT_MODEL = ("mid", [4, 2, 3])
"""A third value-portrait model, run on its own (no matrix) to be compared with the two. Alpha across the three, by
hand: item variances 1, 0 and 1, sum 2; totals 12, 9 and 9, variance 3; alpha = 3/2 (1 - 2/3) = 1/2."""


def portrait_items() -> tuple[str, list[Any]]:
    """A value measured by three qualifying Value Portrait items, and those items (scenarios)."""
    from moot.analysis.value_portrait import qualifying_items_correlations
    from moot.scenarios.loader import load_scenarios, resolve_scenario_source

    items = load_scenarios(resolve_scenario_source("value_portrait")).scenarios
    correlations = {s.id: {d: tuple(p) for d, p in s.metadata["values"].items()} for s in items}
    qualifying = qualifying_items_correlations(correlations)
    value = next(v for v, found in qualifying.items() if len(found) >= 3)
    chosen_ids = [item for item, _ in qualifying[value][:3]]
    return value, [s for s in items if s.id in chosen_ids]


def portrait_responder(ratings: dict[str, int]) -> Any:
    """A respondent that gives each item (by scenario id) its rating, as a Likert phrase."""
    phrase_of = {score: phrase for phrase, score in LIKERT_SCORES.items()}

    def respond(messages: list[dict[str, str]], context: CallContext) -> str:
        return json.dumps({"answer": phrase_of[ratings[str(context.scenario_id)]]})

    return respond


def portrait_matrix(models: list[str] | None = None) -> dict[str, Any]:
    """The value portrait spec whose matrix gives every respondent each model of `PORTRAIT_RATINGS` in turn."""
    spec = moot.load_spec("value_portrait").spec.model_dump(mode="json", exclude_defaults=True)
    spec.pop("scenarios", None)
    entries = [{"model": f"scripted:vp_{name}", "name": name} for name in models or PORTRAIT_RATINGS]
    return spec | {"name": "portrait_two_models", "matrix": {"models": {"from": entries}}}


# --- consistency -------------------------------------------------------------------------------------------------

DILEMMA_PAIRS = [("Honesty", "Loyalty"), ("Justice", "Friendship"), ("Fairness", "Care")]
DILEMMAS = [
    {
        "id": f"d{i}",
        "text": f"Dilemma {i}.",
        "metadata": {"action_1": "One.", "action_2": "Two.", "values_1": [first], "values_2": [second]},
    }
    for i, (first, second) in enumerate(DILEMMA_PAIRS)
]
"""Three dilemmas, each action carrying one value of its own."""
ACTION_VALUES = {"P": {"Honesty", "Justice", "Fairness"}, "Q": {"Loyalty", "Friendship", "Care"}}
"""The values of the action each consistency model takes: P always action 1, Q always action 2."""


def consistency_short_matrix() -> dict[str, Any]:
    """The short-form consistency spec whose matrix gives the chooser two scripted models, P (always action 1) and
    Q (always action 2): named entries of the scripted provider, each with its own script."""
    spec = moot.load_spec("consistency_short").spec.model_dump(mode="json", exclude_defaults=True)
    spec.pop("scenarios", None)
    entries = [
        {"model": "scripted", "name": name, "script": [json.dumps({"action": f"Action {n}"})]}
        for n, name in ((1, "P"), (2, "Q"))
    ]
    return spec | {"name": "consistency_two_models", "matrix": {"models": {"from": entries}}}


# --- deliberation ------------------------------------------------------------------------------------------------

CONFORMING = {"conformity": 100.0, "conformity_within": 160.0}
SIMULATED_MODELS = {
    "X": {"baseline": {"NTA": 400.0}, **CONFORMING},
    "Y": {"baseline": {"YTA": 200.0}, **CONFORMING},
    "Z": {"baseline": {"ESH": 200.0}, **CONFORMING},
}
"""Three simulated debaters with a planted first-speaker effect (tests/analysis/test_deliberation_arms.py works it
out): X never moves; Y and Z keep their verdict when they speak first and follow the first speaker when second."""
AITA_CASES = [{"id": f"d{i}", "title": f"AITA case {i}", "text": f"Dilemma number {i}."} for i in range(2)]


def deliberation_matrix() -> dict[str, Any]:
    """Two debaters taking every pairing of the three simulated models (`lineup: combinations`) in both speaking
    orders, 2 repeats: 3 line-ups x 2 orders x 2 repeats per scenario."""
    entries = [
        {"model": "simulated", "name": name, "variables": {"simulate": p}} for name, p in SIMULATED_MODELS.items()
    ]
    return {
        "name": "simulated_pairings",
        "study": "deliberation",
        "model": "simulated",
        "turns": "round_robin",
        "rounds": 3,
        "repeats": 2,
        "orders": "permutations",
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "a", "role": "debater"}, {"name": "b", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
        "matrix": {"models": {"lineup": "combinations", "from": entries}},
    }


def solo_matrix() -> dict[str, Any]:
    """Each simulated model alone, one round, 2 repeats: the solo baseline of the deliberation study."""
    spec = deliberation_matrix() | {"name": "simulated_solo", "rounds": 1, "orders": "given"}
    spec["agents"] = [{"name": "solo", "role": "debater"}]
    spec["matrix"] = {"models": {"from": spec["matrix"]["models"]["from"]}}
    return spec


# --- question evaluation -----------------------------------------------------------------------------------------

QUESTIONS = [
    {"id": "q1", "title": "topic", "text": "Should Oslo ban cars?"},
    {"id": "q2", "title": "topic", "text": "Should Lyon ban phones?"},
]


def careful(messages: list[dict[str, str]], context: CallContext) -> str:
    """A respondent whose points speak of safety (the judge tags them Security)."""
    return json.dumps({"stance": "yes", "points": ["It keeps people safe.", "Rules are rules.", "Order matters."]})


def free(messages: list[dict[str, str]], context: CallContext) -> str:
    """A respondent whose points speak of freedom (the judge tags them Self-direction)."""
    return json.dumps({"stance": "no", "points": ["Freedom first.", "Try new things.", "Enjoy life."]})


def values_judge(messages: list[dict[str, str]], context: CallContext) -> str:
    """Security for an answer that speaks of safety, else Self-direction."""
    return json.dumps({"values": ["Security"] if "safe" in messages[-1]["content"] else ["Self-direction"]})


def question_evaluation_matrix() -> dict[str, Any]:
    """The question evaluation spec whose matrix gives both respondents the careful model, then the free one; the
    values judge keeps its scripted model."""
    spec = moot.load_spec("question_evaluation").spec.model_dump(mode="json", exclude_defaults=True)
    spec.pop("scenarios", None)
    for agent in spec["agents"]:
        if agent["role"] == "values":
            agent["model"] = "scripted:qe_judge"
    entries = [{"model": f"scripted:qe_{name}", "name": name} for name in ("careful", "free")]
    return spec | {"name": "questions_two_models", "matrix": {"models": {"agents": ["cool", "warm"], "from": entries}}}


# --- shared ------------------------------------------------------------------------------------------------------


def register_responders() -> str:
    """Register every scripted model of these studies; the value measured by the portrait's three items."""
    register_responder("stands", counterpart)
    register_responder("reads_target", concession_judge)
    for name, order in ORDERS.items():
        register_responder(f"target_{name}", target(order))
        register_responder(f"chooser_{name}", chooser(order))
    value, items = portrait_items()
    for name, ratings in [*PORTRAIT_RATINGS.items(), THIRD_PORTRAIT_MODEL]:
        register_responder(f"vp_{name}", portrait_responder(dict(zip([s.id for s in items], ratings, strict=True))))
    register_responder("qe_careful", careful)
    register_responder("qe_free", free)
    register_responder("qe_judge", values_judge)
    return value


def write_study(folder: Path, name: str, spec: dict[str, Any], scenarios: list[Any] | Path) -> tuple[Path, Path]:
    """Write a study's spec (`NAME.yaml`) and its scenarios (`NAME-scenarios.jsonl`, unless a file is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / f"{name}.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    if isinstance(scenarios, Path):
        return spec_path, scenarios
    rows = [s.model_dump(mode="json", exclude_defaults=True) if hasattr(s, "model_dump") else s for s in scenarios]
    scenario_path = folder / f"{name}-scenarios.jsonl"
    scenario_path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return spec_path, scenario_path


def _found(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text` (a scripted model reading its prompt; a miss is a broken test)."""
    match = re.search(pattern, text)
    assert match is not None, f"no {pattern!r} in the prompt"
    return match.group(1)
