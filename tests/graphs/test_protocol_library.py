"""The test protocol library (`tests/protocol_library/`): each protocol validates, compiles, is drawn, runs on its
scripted models to the stop its scripts lead to, and passes the conformance check."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

import moot
from helpers import events_of
from moot.cli import main
from moot.graphs.compiler import CompiledProtocol, compile_protocol
from moot.graphs.conformance import check_conformance, check_trace
from moot.graphs.drawing import (
    VisibilityRow,
    protocol_dot,
    protocol_mermaid,
    protocol_svg,
    protocol_text,
    speaker_edges,
    speaking_order,
    visibility_table,
)
from moot.trace.events import JudgeDecision, MessageAdded, RoundEnded, Stopped

LIBRARY = Path(__file__).parents[1] / "protocol_library"
DRAWINGS = Path(__file__).parent / "drawings"
NAMES = sorted(path.stem for path in LIBRARY.glob("*.yaml"))

RUNS: dict[str, tuple[str, int, int]] = {
    "synth_moderator": ("moderator decided settled = True", 2, 2),
    "sync_five_last_round": ("consensus on verdict (NTA)", 3, 2),
    "mixed_personas": ("max rounds (3)", 3, 8),
    "free_text_claims": ("consensus on stance (agree)", 2, 2),
    "numeric_estimates": ("consensus on estimate after at least 2 rounds (120.0)", 3, 2),
    "judge_per_message": ("consensus on verdict (NTA)", 2, 2),
    "nested_stops": ("all of ref1, ref2 decided settled = True", 2, 2),
    "majority_vote": ("majority on option (park: 3 of 5)", 2, 2),
    "judge_panel_any": ("any of strict, lenient decided verdict = accept (lenient)", 2, 2),
}
"""For each protocol: the stop reason of every conversation, the rounds each took, and the conversations run."""

STEPS: dict[str, list[list[str]]] = {
    "synth_moderator": [["pro", "con"], ["synth"]],
    "sync_five_last_round": [["a1", "a2", "a3", "a4", "a5"]],
    "mixed_personas": [["ana"], ["ben"], ["cleo"], ["dax"]],
    "free_text_claims": [["ivy"], ["jon"]],
    "numeric_estimates": [["e1", "e2", "e3"]],
    "judge_per_message": [["kai"], ["lea"], ["max"]],
    "nested_stops": [["d1", "d2", "d3"]],
    "majority_vote": [["v1"], ["v2"], ["v3"], ["v4"], ["v5"]],
    "judge_panel_any": [["proposer"], ["critic"]],
}


def _compiled(name: str) -> CompiledProtocol:
    return compile_protocol(moot.load_spec(LIBRARY / f"{name}.yaml").spec)


def test_the_library_holds_every_protocol_the_tests_expect_and_its_readme_lists_them():
    assert NAMES == sorted(RUNS) == sorted(STEPS)
    readme = (LIBRARY / "README.md").read_text()
    for name in NAMES:
        assert f"`{name}.yaml`" in readme
        assert moot.load_spec(LIBRARY / f"{name}.yaml").spec.study is None


@pytest.mark.parametrize("name", NAMES)
def test_validates_cleanly(name, capsys):
    assert main(["validate", str(LIBRARY / f"{name}.yaml")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"ok: {name}:") and err == ""


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["txt", "mmd"])
def test_drawing_matches_snapshot(name, form):
    compiled = _compiled(name)
    drawn = protocol_text(compiled) if form == "txt" else protocol_mermaid(compiled)
    snapshot = DRAWINGS / f"{name}.{form}"
    if os.environ.get("MOOT_UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(drawn)
        if not os.environ.get("MOOT_UPDATE_SNAPSHOTS"):
            pytest.fail(f"snapshot {snapshot.name} was missing and has been written; run again")
    assert drawn == snapshot.read_text()


@pytest.mark.parametrize("name", NAMES)
def test_speaking_order_in_steps_and_edges_only_between_ordered_speakers(name):
    compiled = _compiled(name)
    steps = speaking_order(compiled)
    assert steps == STEPS[name]
    step_of = {agent: index for index, step in enumerate(steps) for agent in step}
    for before, after in speaker_edges(compiled):
        assert step_of[before] < step_of[after], "an edge always leads to a later step"
    parallel = [step for step in steps if len(step) > 1]
    for step in parallel:
        assert not any(a in step and b in step for a, b in speaker_edges(compiled))


@pytest.mark.parametrize("name", NAMES)
def test_svg_is_self_contained_and_draws_every_agent(name):
    compiled = _compiled(name)
    svg = protocol_svg(compiled)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    drawn = {g.get("data-agent") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-agent")}
    assert drawn == {row.agent for row in visibility_table(compiled)}
    assert "<script" not in svg and "href" not in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert root.find(".//{http://www.w3.org/2000/svg}path[@class='loop']") is not None


@pytest.mark.parametrize("name", NAMES)
def test_dot_names_every_agent_and_the_loop(name):
    compiled = _compiled(name)
    dot = protocol_dot(compiled)
    assert dot.startswith(f'digraph "{name}" {{') and dot.rstrip().endswith("}")
    for row in visibility_table(compiled):
        assert f"agent_{row.agent} [label=" in dot
    assert 'stop_check -> round_start [label="no: next round"' in dot


def test_visibility_table_of_the_custom_graph():
    assert visibility_table(_compiled("synth_moderator")) == [
        VisibilityRow("pro", "advocate", "speaker", ["synthesizer"], "last_round"),
        VisibilityRow("con", "advocate", "speaker", ["synthesizer"], "last_round"),
        VisibilityRow("synth", "synthesizer", "speaker", ["advocate"], "none"),
        VisibilityRow("moderator", "moderator", "judge", ["synthesizer"], "none"),
    ]
    # a role without `sees` sees every speaker role
    rows = visibility_table(_compiled("judge_panel_any"))
    assert [(row.agent, row.sees) for row in rows] == [
        ("proposer", ["proposer", "critic"]),
        ("critic", ["proposer"]),
        ("strict", ["proposer"]),
        ("lenient", ["proposer", "critic"]),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_runs_on_scripted_models_to_the_expected_stop_and_conforms(name, tmp_path):
    spec_path = LIBRARY / f"{name}.yaml"
    result = moot.run(spec_path, out=tmp_path / "run", cache=None)
    events = events_of(result.run_dir)
    stops = [e for e in events if isinstance(e, Stopped)]
    reason, rounds, conversations = RUNS[name]
    assert len(stops) == conversations
    assert {(s.status, s.reason, s.rounds) for s in stops} == {("completed", reason, rounds)}
    # every round records what the stop rule compared; the trace holds exactly the designed visibility
    assert all(e.outcome for e in events if isinstance(e, RoundEnded))
    check_trace(moot.load_spec(spec_path).spec, events)


def test_the_run_of_the_free_text_protocol_reads_the_labelled_lines(tmp_path):
    result = moot.run(LIBRARY / "free_text_claims.yaml", out=tmp_path / "run", cache=None)
    parsed = [(e.round, e.agent, e.parsed) for e in events_of(result.run_dir, "message_added")]
    assert (1, "jon", {"stance": "disagree", "claim": "Parking keeps the shops alive."}) in parsed
    assert (2, "jon", {"stance": "agree", "claim": "Safety outweighs parking."}) in parsed


def test_the_run_of_the_per_message_judge_decides_about_each_message(tmp_path):
    result = moot.run(LIBRARY / "judge_per_message.yaml", out=tmp_path / "run", cache=None)
    decisions = [e for e in events_of(result.run_dir) if isinstance(e, JudgeDecision)]
    assert Counter((d.round, d.decision["tone"]) for d in decisions) == {(1, "heated"): 6, (2, "civil"): 6}


def test_the_synthesizer_answers_in_free_text(tmp_path):
    result = moot.run(LIBRARY / "synth_moderator.yaml", out=tmp_path / "run", cache=None)
    synth = [e for e in events_of(result.run_dir) if isinstance(e, MessageAdded) and e.agent == "synth"]
    assert synth and all(e.parsed is None for e in synth)
    assert synth[0].content.startswith("Both sides have a point")


@pytest.mark.parametrize("name", NAMES)
def test_conformance_check(name, tmp_path):
    report = check_conformance(moot.load_spec(LIBRARY / f"{name}.yaml").spec, workdir=tmp_path)
    orders = 4 if name == "mixed_personas" else 1  # every rotation of four speakers
    assert report.conversations == 3 * orders
    assert report.turns > 0
