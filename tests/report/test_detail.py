"""The conversation view.

Rounds side by side, values tagged by the judge, decisions, and every call for the inspector.
"""

from __future__ import annotations

from helpers import events_of
from moot.report.detail import conversation_details


def details_by_scenario(run_dir) -> dict[str, dict]:
    """The view of every conversation of a run, by scenario id."""
    return {d["scenario"]: d for d in conversation_details(events_of(run_dir)).values()}


def test_a_debate_shows_each_round_with_verdicts_values_and_calls(debate_run):
    detail = details_by_scenario(debate_run)["p0"]
    # plan 0: round 1 NTA YTA NTA, round 2 all NTA -> consensus after 2 rounds
    assert (detail["outcome"], detail["consensus"], detail["rounds"], detail["status"]) == ("NTA", True, 2, "completed")
    assert [r["round"] for r in detail["rounds_detail"]] == [1, 2]
    first = detail["rounds_detail"][0]
    assert [m["agent"] for m in first["messages"]] == ["alice", "bob", "carol"]
    assert [m["parsed"]["verdict"] for m in first["messages"]] == ["NTA", "YTA", "NTA"]
    assert first["decisions"] == []  # per-message value judgements hang on their messages
    bob = first["messages"][1]
    # planned_values: offset = index of bob (1) + round (1) = 2 -> VALUES[2], VALUES[3]
    assert bob["values"] == ["Personal autonomy", "Family bonds and cohesion"]
    assert bob["visible"] == ["r1:alice"]  # round robin: bob saw alice's message of this round
    (call,) = bob["calls"]
    assert call["model"] == "scripted:report_planned_verdict" and call["raw"] == bob["content"]
    assert call["messages"][0]["role"] == "system" and "bob" in call["messages"][0]["content"]
    assert {"tokens_in", "tokens_out", "latency_s", "cache_hit", "retries"} <= set(call)
    (judgement,) = bob["judgements"]
    assert judgement["agent"] == "tagger" and judgement["calls"][0]["model"] == "scripted:report_planned_values"
    assert detail["scenario_detail"]["text"].startswith("Situation number 0")


def test_a_failed_turn_is_kept_with_its_call(debate_run):
    detail = details_by_scenario(debate_run)["p7"]
    assert (detail["status"], detail["outcome"], detail["errors"]) == ("failed", "", 1)
    second = detail["rounds_detail"][1]
    assert [m["agent"] for m in second["messages"]] == ["alice", "bob"]
    failed = second["messages"][1]
    assert failed["kind"] == "failed" and "fell over" in failed["error"]
    assert failed["calls"][0]["raw"] is None and "fell over" in failed["calls"][0]["error"]
    assert any("fell over" in e for e in detail["error_messages"])


def test_round_decisions_of_a_judge_are_listed_per_round(cooperation_run):
    details = details_by_scenario(cooperation_run)
    conceded = details["coop-02:a"]  # even digits: the judge sees a concession in round 2
    assert (conceded["outcome"], conceded["rounds"]) == ("conceded", 2)
    decisions = [r["decisions"] for r in conceded["rounds_detail"]]
    assert [[d["parsed"]["conceded"] for d in ds] for ds in decisions] == [[False], [True]]
    assert [m["agent"] for m in conceded["rounds_detail"][0]["messages"]] == ["target", "counterpart"]
    assert decisions[1][0]["calls"][0]["messages"]  # the judge's prompt is there for the inspector
    held = details["coop-01:a"]
    assert (held["outcome"], held["rounds"]) == ("held", 5)
