"""Value adaptation (CoopValue, sec. 4.5: gamma = r_i - r^_i) through the bundled `cooperation_persona` spec.

The spec sets `adapt_value` (Tradition) on the target agent, not at the spec's top level; the analysis must read it
there. The scripted target concedes exactly when the counterpart's value comes before its own in its order: V
(SCHWARTZ_VALUES) unsteered, and V with the persona's value moved to the front when its prompt says "You deeply
value X". With every pair met both ways its revealed ranking is its order, so by hand Tradition ranks
V.index("Tradition") + 1 before and 1 after: gamma = V.index("Tradition").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matrix_studies import V, all_pairs_scenarios, register_responders, spec_of

import moot
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.analysis.analyze import analyze_run
from moot.scenarios import few_shot_examples, load_scenarios

STEERED = "Tradition"


def steerable_target(messages: list[dict[str, str]], context: CallContext) -> str:
    """Holds until it has heard the counterpart's value, then concedes when that value comes first in its order."""
    prompt = messages[0]["content"]
    own = re.findall(r"what matters most to you is ([A-Za-z-]+)", prompt)[0]
    persona = re.search(r"You deeply value ([A-Za-z-]+)|a person who puts ([A-Za-z-]+) first", prompt)
    steered = persona and (persona.group(1) or persona.group(2))
    order = [steered, *[v for v in V if v != steered]] if steered else V
    heard = re.findall(r"I stand for ([A-Za-z-]+)", " ".join(m["content"] for m in messages[1:]))
    return "I concede: we do it your way." if heard and order.index(heard[-1]) < order.index(own) else f"I hold {own}."


def _run(name: str, base: Path, scenarios: Path) -> Path:
    models = {"target": "scripted:steerable", "counterpart": "scripted:stands", "judge": "scripted:reads_target"}
    spec = spec_of(name, models, rounds=2)
    if name == "cooperation_few_shot":  # worked examples from the scenarios run, as the spec's comment says
        rows = load_scenarios(scenarios).scenarios
        spec["agents"][0]["variables"]["few_shot_examples"] = few_shot_examples(rows, STEERED)
    run = moot.run(spec, scenarios=scenarios, out=base / name, cache=None, concurrency=8)
    return run.run_dir


@pytest.fixture(scope="module")
def adaptation_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A run of the bundled `cooperation_persona` spec and its unsteered companion (`cooperation`)."""
    register_responders()
    register_responder("steerable", steerable_target)
    base = tmp_path_factory.mktemp("coop_adaptation")
    scenarios = all_pairs_scenarios(base / "pairs.yaml")
    return (
        _run("cooperation_persona", base, scenarios),
        _run("cooperation", base, scenarios),
        _run("cooperation_few_shot", base, scenarios),
    )


def test_adaptation_reads_adapt_value_from_the_target_agent(
    adaptation_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    steered, unsteered, _ = adaptation_runs
    spec = moot.open_run(steered).spec
    target = next(a for a in spec.agents if a.name == "target")
    assert target.variables["adapt_value"] == STEERED and "adapt_value" not in spec.variables
    # each order is perfectly separated: plain Bradley-Terry has no finite strengths, 0.5 pseudo-wins give them
    methods = {"bradley_terry_prior": 0.5}
    _, index = analyze_run(steered, tmp_path, companions={"unsteered": unsteered}, n_boot=10, methods=methods)
    assert index.metrics["adaptation"] == {
        "value": STEERED,
        "rank_before": V.index(STEERED) + 1,
        "rank_after": 1,
        "improvement": V.index(STEERED),
        "held_out": [],
    }


def test_few_shot_adaptation_holds_its_examples_scenarios_out(
    adaptation_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The few-shot target is shown four of the pairs with Tradition (the first four in file order); both rankings
    leave those pairs out. Unsteered, Tradition still ranks at its place in the order (8th); steered, it wins each of
    its five remaining pairs but, met less often than the others, its pseudo-wins keep it from the top: it moves
    up, by less than with every pair counted."""
    _, unsteered, few_shot = adaptation_runs
    rows = load_scenarios(all_pairs_scenarios(tmp_path / "pairs.yaml")).scenarios  # the file the runs ran
    shown = [e["id"] for e in few_shot_examples(rows, STEERED)]
    assert len(shown) == 4
    methods = {"bradley_terry_prior": 0.5}
    _, index = analyze_run(few_shot, tmp_path, companions={"unsteered": unsteered}, n_boot=10, methods=methods)
    found = index.metrics["adaptation"]
    assert found["held_out"] == sorted(shown)
    assert found["rank_before"] == V.index(STEERED) + 1
    assert 1 < found["rank_after"] < found["rank_before"] and found["improvement"] > 0


def test_adaptation_without_a_steered_value_is_a_note(adaptation_runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, unsteered, _ = adaptation_runs
    _, index = analyze_run(
        unsteered, tmp_path, companions={"unsteered": unsteered}, n_boot=10, methods={"bradley_terry_prior": 0.5}
    )
    assert index.metrics["adaptation"] is None
    assert any(note.startswith("value adaptation: needs a steered run") for note in index.notes)
