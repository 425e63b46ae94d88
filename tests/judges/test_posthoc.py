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
    assert "judged 8 messages" in capsys.readouterr().out
    assert main(["analyze", str(run_dir), "--boot", "20"]) == 0
    metrics = json.loads((run_dir / "analysis" / "metrics.json").read_text())
    assert metrics["metrics"]["values"]["occurrence"]["bob"] == {"Child welfare": 4, "Accessibility": 4}


def test_unknown_judge_is_one_line(tmp_path, capsys):
    run_dir = finished_run(tmp_path)
    assert main(["judge", str(run_dir), "--judge", "valeus"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'values'" in err and err.count("\n") == 1
