"""Bundled specs: they validate, variants are one-line edits, and their graphs match snapshots."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
import yaml

import moot
from moot.api import compile_loaded
from moot.protocols.spec import GOALS
from moot.safe_load import load_yaml, read_text

SNAPSHOTS = Path(__file__).parent / "snapshots"
needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")


def _changed_lines(a: str, b: str) -> list[str]:
    left = [line for line in (moot.bundled_specs()[a]).read_text().splitlines() if not line.startswith("#")]
    right = [line for line in (moot.bundled_specs()[b]).read_text().splitlines() if not line.startswith("#")]
    return [
        d
        for d in difflib.unified_diff(left, right, lineterm="", n=0)
        if d[:1] in "+-" and not d.startswith(("+++", "---"))
    ]


def test_every_bundled_spec_compiles():
    names = set(moot.bundled_specs())
    assert {
        "aita_solo",
        "aita_synchronous_2",
        "aita_synchronous_3",
        "aita_round_robin_2",
        "aita_round_robin_3",
    } <= names
    for name in names:
        compile_loaded(moot.load_spec(name))


def test_a_third_debater_is_one_more_line():
    changes = _changed_lines("aita_round_robin_2", "aita_round_robin_3")
    added = [c for c in changes if c.startswith("+") and "name: aita" not in c and "description" not in c]
    removed = [c for c in changes if c.startswith("-") and "name: aita" not in c and "description" not in c]
    assert added == ["+  - {name: carol, role: debater, temperature: 1.0}"] and removed == []


@pytest.mark.parametrize("name", [n for n in sorted(moot.bundled_specs()) if n.startswith("aita_")])
def test_aita_debaters_sample_at_the_papers_temperature(name):
    # The deliberation paper runs every debater at temperature 1 (its appendix G), the solo baseline included
    # (appendix C keeps every parameter of the debates); the value judge stays at 0.
    spec = moot.load_spec(name).spec
    debaters = [a for a in spec.agents if a.role == "debater"]
    assert debaters and {a.temperature for a in debaters} == {1.0}
    assert {a.temperature for a in spec.agents if a.role == "values"} == {0.0}


def test_synchronous_and_round_robin_differ_by_one_word():
    changes = [
        c
        for c in _changed_lines("aita_round_robin_2", "aita_synchronous_2")
        if "name: aita" not in c and "description" not in c
    ]
    assert changes == ["-turns: round_robin", "+turns: synchronous"]


def _debater_prompt(spec_name: str, **update: object) -> str:
    """The system prompt of the spec's first debater, in round 1 of the sample scenario, with spec fields `update`d."""
    from moot.graphs.compiler import SAMPLE_SCENARIO, ConversationContext
    from moot.graphs.nodes import agent_prompts, template_variables
    from moot.protocols.templates import render

    variant = moot.load_spec(spec_name).spec.model_copy(update=update)
    plan = moot.compile_protocol(variant).plan()
    ctx = ConversationContext("r", "c", SAMPLE_SCENARIO, plan.order, 0, 0, plan, {}, {}, lambda e: e)
    (system, path), _ = agent_prompts(variant, variant.agents[0])
    return render(system, template_variables(variant, variant.agents[0], ctx, 1, []), path)


def test_goal_variant_is_one_field_that_changes_the_prompt():
    prompts = {goal: _debater_prompt("aita_round_robin_2", goal=goal) for goal in GOALS}
    assert len(set(prompts.values())) == 4
    assert "convince the others" in prompts["adversarial"]
    assert "common ground" in prompts["balanced"]


@pytest.mark.parametrize("name", ["aita_synchronous_2", "aita_round_robin_3", "aita_solo"])
def test_goal_none_leaves_out_the_goal_section_and_nothing_else(name):
    # The paper's ablation (sec. 4.5) removes the goals section of the system prompt: the prompt under
    # `goal: none` is the prompt under any goal with that goal's paragraph taken out, and no goal's words remain.
    without = _debater_prompt(name, goal="none")
    for goal in ("correctness", "balanced", "adversarial"):
        with_goal = _debater_prompt(name, goal=goal)
        paragraphs = with_goal.split("\n\n")
        goal_paragraph = paragraphs[-1]
        assert "aim" in goal_paragraph or "matters as much" in goal_paragraph
        assert goal_paragraph not in without
        assert without == "\n\n".join(paragraphs[:-1])
    for words in ("aim", "convince", "common ground", "agree just to agree", "win"):
        assert words not in without


def test_debater_prompt_names_the_five_verdicts():
    text = (Path(moot.protocols.loader.PROTOCOLS_DIR) / "prompts" / "debater.j2").read_text()
    for code in ("NTA", "YTA", "NAH", "ESH", "INFO"):
        assert f"- {code} (" in text


@pytest.mark.parametrize("name", sorted(moot.bundled_specs()))
def test_compiled_graph_matches_snapshot(name):
    protocol = compile_loaded(moot.load_spec(name))
    drawn = protocol.mermaid() + "\norder: " + " -> ".join(protocol.plan().order) + "\n"
    snapshot = SNAPSHOTS / f"{name}.mmd"
    if os.environ.get("MOOT_UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(drawn)
        if not os.environ.get("MOOT_UPDATE_SNAPSHOTS"):
            pytest.fail(f"snapshot {snapshot.name} was missing and has been written; run again")
    assert drawn == snapshot.read_text()


@needs_libyaml
@pytest.mark.parametrize("name", sorted(moot.bundled_specs()))
def test_libyaml_reads_each_bundled_spec_as_the_bounded_loader_does(name):
    # The bundled specs are read with libyaml (`moot specs` reads them all); it must give the very values,
    # types and order of keys included, that the bounded loader gives any other spec file.
    path = moot.bundled_specs()[name]
    text = read_text(path)
    assert repr(yaml.load(text, Loader=yaml.CSafeLoader)) == repr(load_yaml(text, str(path)))


@needs_libyaml
def test_only_the_bundled_specs_skip_the_bounded_loader(tmp_path, monkeypatch):
    bounded = []
    monkeypatch.setattr(
        "moot.protocols.loader.load_yaml", lambda text, name: bounded.append(name) or load_yaml(text, name)
    )
    assert moot.load_spec("aita_solo").spec.name == "aita_solo" and bounded == []
    copy = tmp_path / "aita_solo.yaml"
    copy.write_text(moot.bundled_specs()["aita_solo"].read_text(encoding="utf-8"), encoding="utf-8")
    assert moot.load_spec(str(copy)).spec == moot.load_spec("aita_solo").spec
    assert bounded == [str(copy)]


def test_moot_specs_lists_each_bundled_spec_with_its_validated_description():
    # `moot specs` reads the descriptions without the spec models; they must be what validation gives.
    listed = moot.protocols.bundled_descriptions()
    assert list(listed) == sorted(moot.bundled_specs())
    assert listed == {name: moot.load_spec(name).spec.description for name in moot.bundled_specs()}
    assert any(listed.values())
