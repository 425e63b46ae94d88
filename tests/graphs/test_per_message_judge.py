"""A judge of each message: one decision per speaker message, shown that message alone."""

from __future__ import annotations

import json

import moot
from helpers import SCENARIOS, debate_spec, events_of, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.graphs.conformance import check_conformance

VALUES_BY_AGENT = {
    "alice": ["Empathy and understanding", "honest communication"],
    "bob": ["Personal autonomy", "Not a value"],
}


def tag_values(messages: list[dict[str, str]], context: CallContext) -> str:
    """Tag each judged message with its author's values (the judged message is the one visible)."""
    (judged,) = context.visible
    return json.dumps({"values": VALUES_BY_AGENT[judged["agent"]]})


def judged_spec(**fields):
    register_responder("tag_values", tag_values)
    spec = debate_spec({"alice": [verdict("NTA"), verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]}, **fields)
    spec["agents"].append({"name": "tagger", "role": "values", "model": "scripted:tag_values"})
    spec["roles"]["values"] = {
        "kind": "judge",
        "per": "message",
        "prompt": "value_judge",
        "turn": "value_judge_turn",
        "output": "values",
        "sees": ["debater"],
    }
    return spec


def test_each_message_gets_one_decision_about_it(tmp_path):
    result = moot.run(judged_spec(), SCENARIOS[:1], out=tmp_path / "run", cache=None)
    decisions = events_of(result.run_dir, "judge_decision")
    assert sorted((d.round, d.about) for d in decisions) == [
        (1, "r1:alice"),
        (1, "r1:bob"),
        (2, "r2:alice"),
        (2, "r2:bob"),
    ]
    by_about = {d.about: d.decision for d in decisions}
    # names are matched case-insensitively; unknown names are dropped and kept aside
    assert by_about["r1:alice"] == {
        "values": ["Empathy and understanding", "Honest communication"],
        "dropped_values": [],
    }
    assert by_about["r1:bob"] == {"values": ["Personal autonomy"], "dropped_values": ["Not a value"]}
    turns = [t for t in events_of(result.run_dir, "turn_started") if t.agent == "tagger"]
    assert [t.visible for t in turns] == [["r1:alice"], ["r1:bob"], ["r2:alice"], ["r2:bob"]]
    # the judge's prompt shows the explanation and the list, never the other debater's message
    calls = [c for c in events_of(result.run_dir, "model_call") if c.agent == "tagger"]
    assert "Empathy and understanding" in calls[0].messages[0].content
    assert calls[0].output_schema["properties"]["values"]["maxItems"] == 5


def test_debaters_never_see_judge_decisions(tmp_path):
    result = moot.run(judged_spec(), SCENARIOS[:1], out=tmp_path / "run", cache=None)
    for turn in events_of(result.run_dir, "turn_started"):
        if turn.agent != "tagger":
            assert all("tagger" not in message_id for message_id in turn.visible)


def test_conformance_holds_for_bundled_judged_debates(tmp_path):
    spec = moot.load_spec("aita_round_robin_3").spec
    report = check_conformance(spec, workdir=tmp_path)
    assert report.turns > 0
