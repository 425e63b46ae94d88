"""`moot judge`: the value judge over a finished run, appended to the same trace."""

from __future__ import annotations

import json

import moot
from helpers import SCENARIOS, debate_spec, events_of, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.judges.posthoc import judge_run
from moot.trace.manifest import RunManifest
from moot.trace.store import event_hash


def two_values(messages: list[dict[str, str]], context: CallContext) -> str:
    (judged,) = context.visible
    return json.dumps(
        {"values": ["Empathy and understanding"] if judged["agent"] == "alice" else ["Child welfare", "Accessibility"]}
    )


def finished_run(tmp_path):
    register_responder("two_values", two_values)
    spec = debate_spec(
        {"alice": [verdict("NTA"), verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}, study="deliberation"
    )
    return moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=None).run_dir


def test_judging_appends_decisions_and_keeps_the_chain(tmp_path):
    run_dir = finished_run(tmp_path)
    before = len(events_of(run_dir))
    report = judge_run(run_dir, "values", model="scripted:two_values")
    assert (report.judged, report.skipped, report.unparsed, report.failed) == (
        8,
        0,
        0,
        0,
    )  # 2 scenarios x 2 rounds x 2 debaters
    events = events_of(run_dir)
    decisions = [e for e in events if e.event == "judge_decision"]
    assert len(decisions) == 8 and all(d.agent == "values_judge" and d.about for d in decisions)
    assert {d.about: d.decision["values"] for d in decisions if d.conversation_id == decisions[0].conversation_id}[
        "r1:alice"
    ] == ["Empathy and understanding"]
    assert len(events) > before
    manifest = RunManifest.read(run_dir)
    assert manifest.events == len(events) and manifest.final_hash is not None
    assert manifest.usage.by_agent["values_judge"].calls == 8
    # the judged trace is still sequenced and chained, and the judge was shown exactly the message it judged
    previous = None
    for seq, event in enumerate(events, 1):
        assert (event.seq, event.prev_hash) == (seq, previous)
        previous = event_hash(event)
    turns = [e for e in events if e.event == "turn_started" and e.agent == "values_judge"]
    assert sorted(t.visible[0] for t in turns if t.conversation_id == decisions[0].conversation_id) == [
        "r1:alice",
        "r1:bob",
        "r2:alice",
        "r2:bob",
    ]
    assert all(len(t.visible) == 1 for t in turns)


def test_judging_again_skips_what_was_judged(tmp_path):
    run_dir = finished_run(tmp_path)
    judge_run(run_dir, "values", model="scripted:two_values")
    again = judge_run(run_dir, "values", model="scripted:two_values")
    assert (again.judged, again.skipped) == (0, 8)


def test_then_the_values_are_analysed(tmp_path, capsys):
    run_dir = finished_run(tmp_path)
    assert main(["judge", str(run_dir), "--model", "scripted:two_values", "--no-cache"]) == 0
    printed = capsys.readouterr()
    assert "judged 8 messages" in printed.out
    progress = [line for line in printed.err.splitlines() if line.startswith("moot: progress: ")]
    assert progress and progress[-1].startswith("moot: progress: conversations 2/2 (100%)"), printed.err
    # the calls count the run's, as its run.json does: the 8 of the debate and the 8 of the judge
    assert progress[-1].endswith(", done") and " 16 model calls " in progress[-1], "a judging pass shows progress too"
    assert main(["analyze", str(run_dir), "--boot", "20"]) == 0
    metrics = json.loads((run_dir / "analysis" / "metrics.json").read_text())
    assert metrics["metrics"]["values"]["occurrence"]["bob"] == {"Child welfare": 4, "Accessibility": 4}


def test_unknown_judge_is_one_line(tmp_path, capsys):
    run_dir = finished_run(tmp_path)
    assert main(["judge", str(run_dir), "--judge", "valeus"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'values'" in err and err.count("\n") == 1


def other_values(messages: list[dict[str, str]], context: CallContext) -> str:
    """A second values judge: alice's messages get one more value; bob's one value in round 1, both in round 2."""
    (judged,) = context.visible
    if judged["agent"] == "alice":
        return json.dumps({"values": ["Empathy and understanding", "Child welfare"]})
    return json.dumps({"values": ["Child welfare"] if judged["round"] == 1 else ["Child welfare", "Accessibility"]})


def test_two_values_judges_under_two_names_and_their_jaccard(tmp_path, capsys):
    """Eight messages both judged. Jaccard: alice's 4 messages {E} vs {E, C}: 1/2; bob's 2 of round 1 {C, A} vs {C}:
    1/2; bob's 2 of round 2: 1. Mean (4 * 1/2 + 2 * 1/2 + 2 * 1) / 8 = 5/8; the same set on 2 of 8."""
    register_responder("other_values", other_values)
    run_dir = finished_run(tmp_path)
    judge_run(run_dir, "values", model="scripted:two_values")
    second = moot.judge(run_dir, "values", model="scripted:other_values", name="values_b", cache=None)
    assert (second.judge, second.judged, second.skipped) == ("values_b", 8, 0)
    _, index = moot.open_run(run_dir).analyze(tmp_path / "default", n_boot=20)
    (row,) = index.metrics["judges"]["agreement"]
    assert (row["judges"], row["field"], row["items"]) == (["values_judge", "values_b"], "values", 8)
    assert (row["jaccard"], row["percent_agreement"]) == (5 / 8, 2 / 8)
    assert any("8 shared items (fewer than 10)" in note for note in index.notes)
    assert index.metrics["values"]["occurrence"]["bob"] == {"Child welfare": 4, "Accessibility": 4}
    _, chosen = moot.open_run(run_dir).analyze(tmp_path / "chosen", judge="values_b", n_boot=20)
    assert chosen.metrics["values"]["occurrence"]["bob"] == {"Child welfare": 4, "Accessibility": 2}
    assert chosen.metrics["values"]["occurrence"]["alice"] == {"Empathy and understanding": 4, "Child welfare": 4}
