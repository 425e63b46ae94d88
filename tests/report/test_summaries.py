"""Conversation summaries, list queries and facets on hand-made events whose answers are worked out by hand."""

from __future__ import annotations

import pytest

from moot.errors import UserError
from moot.report.query import ListQuery, facets_summaries, page_summaries
from moot.report.summaries import (
    NO_MAJORITY,
    UNPARSED,
    ConversationSummary,
    SummaryBuilder,
    label_of_parsed,
    majority_label,
)


def started(cid: str, scenario: str, order: list[str], title: str = "", text: str = "") -> dict:
    """A conversation_started event body."""
    return {
        "event": "conversation_started",
        "conversation_id": cid,
        "scenario_id": scenario,
        "order": order,
        "repeat": 0,
        "scenario": {"id": scenario, "title": title, "text": text},
    }


def message(cid: str, round_: int, agent: str, verdict: str | None, why: str = "") -> dict:
    """A message_added event body; no verdict makes it unparsed."""
    parsed = {"verdict": verdict, "explanation": why} if verdict else None
    return {
        "event": "message_added",
        "conversation_id": cid,
        "round": round_,
        "agent": agent,
        "content": why or "garbled",
        "parsed": parsed,
    }


def stopped(cid: str, rounds: int, reason: str, status: str = "completed") -> dict:
    """A stopped event body."""
    return {"event": "stopped", "conversation_id": cid, "rounds": rounds, "reason": reason, "status": status}


def test_label_of_parsed_reads_the_categorical_answer():
    assert label_of_parsed({"explanation": "long text", "verdict": "NTA"}) == "NTA"
    assert label_of_parsed({"conceded": True, "reason": "gave way"}) == "conceded"
    assert label_of_parsed({"conceded": False, "reason": "held on"}) == "held"
    assert label_of_parsed({"choice": "B", "reason": "r"}) == "B"
    assert label_of_parsed({"agrees": False}) == "not agrees"
    assert label_of_parsed({"score": 4, "reason": "r"}) == "4"
    assert label_of_parsed({"values": ["a", "b"]}) is None
    assert label_of_parsed(None) is None


def test_majority_label_needs_more_than_half_of_the_votes():
    assert majority_label(["NTA", "NTA", "YTA"]) == "NTA"  # 2 of 3 > 1.5
    assert majority_label(["NTA", "YTA"]) == NO_MAJORITY  # 1 of 2 is not more than half
    assert majority_label(["NTA", None, None]) == NO_MAJORITY  # an unparsed verdict votes for nobody: 1 of 3
    assert majority_label([None, None]) == UNPARSED
    assert majority_label([]) is None


def test_summary_builder_derives_outcome_consensus_rounds_and_errors():
    builder = SummaryBuilder()
    events = [
        started("c1", "s1", ["a", "b", "c"], "AITA for the umbrella?", "It rained in the lighthouse."),
        started("c2", "s2", ["b", "a"]),
        message("c1", 1, "a", "NTA"),
        message("c1", 1, "b", "YTA"),
        message("c1", 1, "c", "NTA"),
        message("c2", 1, "b", "YTA", "because honesty"),
        message("c2", 1, "a", None, "I cannot decide"),
        message("c1", 2, "a", "YTA"),
        message("c1", 2, "b", "YTA"),
        message("c1", 2, "c", "YTA"),
        {
            "event": "judge_decision",
            "conversation_id": "c1",
            "round": 2,
            "about": "r2:a",
            "decision": {"values": ["Loyalty", "Fairness"]},
        },
        stopped("c1", 2, "consensus on verdict (YTA)"),
        {"event": "error", "conversation_id": "c2", "message": "agent 'b' round 2: timeout"},
        stopped("c2", 2, "agent 'b' round 2: timeout", status="failed"),
        started("c3", "s1", ["a", "b", "c"], "AITA for the umbrella?"),
        message("c3", 1, "a", "NTA"),
    ]
    for event in events:
        builder.add(event)
    c1, c2, c3 = builder.summaries()
    # c1: the last round (2) is YTA three times -> YTA; the stop reason starts with "consensus"
    assert (c1.outcome, c1.consensus, c1.rounds, c1.errors, c1.status) == ("YTA", True, 2, 0, "completed")
    assert "loyalty" in c1.search and "umbrella" in c1.search and c1.order_key == "a → b → c"
    # c2 failed: no outcome stands, one error, rounds from the stop event
    assert (c2.outcome, c2.consensus, c2.rounds, c2.errors, c2.status) == ("", False, 2, 1, "failed")
    assert "because honesty" in c2.search and "timeout" in c2.search
    # c3 is still running: one message so far, round 1, outcome of that round alone
    assert (c3.status, c3.rounds, c3.outcome) == ("running", 1, "NTA")
    assert "lighthouse" in builder.scenario_texts["s1"]


def test_round_decisions_give_the_outcome_of_a_judged_protocol():
    builder = SummaryBuilder()
    builder.add(started("c", "coop", ["target", "counterpart"]))
    builder.add(
        {
            "event": "judge_decision",
            "conversation_id": "c",
            "round": 1,
            "about": None,
            "decision": {"conceded": False, "reason": "no"},
        }
    )
    (summary,) = builder.summaries()
    assert summary.outcome == "held"
    builder.add(
        {
            "event": "judge_decision",
            "conversation_id": "c",
            "round": 2,
            "about": None,
            "decision": {"conceded": True, "reason": "yes"},
        }
    )
    builder.add(stopped("c", 2, "judge decided conceded = True"))
    (summary,) = builder.summaries()
    assert (summary.outcome, summary.consensus, summary.rounds) == ("conceded", False, 2)


def summaries() -> list[ConversationSummary]:
    """Four conversations: (id, scenario, order, outcome, rounds, consensus, errors)."""
    rows = [
        ("c1", "s1", ["a", "b"], "NTA", 2, True, 0),
        ("c2", "s1", ["b", "a"], "YTA", 1, True, 0),
        ("c3", "s2", ["a", "b"], "no majority", 4, False, 0),
        ("c4", "s2", ["a", "b"], "", 2, False, 1),
    ]
    out = []
    for cid, scenario, order, outcome, rounds, consensus, errors in rows:
        out.append(
            ConversationSummary(
                id=cid,
                scenario=scenario,
                title=f"title of {scenario}",
                order=order,
                outcome=outcome,
                rounds=rounds,
                errors=errors,
                status="failed" if errors else "completed",
                reason="consensus on verdict" if consensus else "max rounds (4)",
                search=f"{cid} words for {outcome or 'nothing'}".lower(),
            )
        )
    return out


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["c1", "c2", "c3", "c4"]),
        ({"scenario": "s2"}, ["c3", "c4"]),
        ({"order": "b → a"}, ["c2"]),
        ({"outcome": "NTA"}, ["c1"]),
        ({"outcome": "-"}, ["c4"]),
        ({"consensus": "yes"}, ["c1", "c2"]),
        ({"consensus": "no", "rounds": "2"}, ["c4"]),
        ({"errors": "yes"}, ["c4"]),
        ({"errors": "no", "scenario": "s2"}, ["c3"]),
        ({"q": "WORDS ytа"}, []),  # the second word has a Cyrillic 'а': no match
        ({"q": "words yta"}, ["c2"]),
        ({"q": "kite"}, ["c3", "c4"]),  # found in the scenario text of s2
    ],
)
def test_list_query_filters(params, expected):
    query = ListQuery.from_params(params)
    page = page_summaries(summaries(), query, {"s1": "the umbrella", "s2": "the kite"})
    assert [item["id"] for item in page["items"]] == expected
    assert (page["total"], page["matched"]) == (4, len(expected))


def test_list_query_pages():
    page = page_summaries(summaries(), ListQuery.from_params({"offset": "1", "limit": "2"}))
    assert [item["id"] for item in page["items"]] == ["c2", "c3"] and page["matched"] == 4
    assert page_summaries(summaries(), ListQuery(offset=8))["items"] == []


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"rounds": "two"}, "rounds"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"consensus": "maybe"}, "consensus"),
        ({"errors": "1"}, "errors"),
    ],
)
def test_bad_list_parameters_are_one_line_errors(params, word):
    with pytest.raises(UserError, match=f"parameter '{word}'"):
        ListQuery.from_params(params)


def test_facets_count_each_filter_value():
    facets = facets_summaries(summaries())
    assert facets["total"] == 4
    assert facets["scenarios"] == [["s1", "title of s1", 2], ["s2", "title of s2", 2]]
    assert facets["orders"] == [["a → b", 3], ["b → a", 1]]
    assert sorted(facets["outcomes"]) == [["-", 1], ["NTA", 1], ["YTA", 1], ["no majority", 1]]
    assert facets["rounds"] == [[1, 1], [2, 2], [4, 1]]
    assert facets["consensus"] == [["yes", 2], ["no", 2]]
    assert facets["errors"] == [["yes", 1], ["no", 3]]
