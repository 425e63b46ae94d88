"""The judges of a run, whose decisions an analysis reads, and their agreement, on decisions made by hand."""

from __future__ import annotations

import math

import pytest

from moot.analysis.judge_agreement import jaccard, judge_agreement
from moot.analysis.judge_selection import Judge, JudgeRoster, select_judge
from moot.errors import UserError
from moot.trace.events import JudgeDecision, MessageAdded

CONCESSION_ROLE = {"kind": "judge", "output": "concession"}
VALUES_ROLE = {"kind": "judge", "per": "message", "output": "values"}


def decision(agent: str, conversation: str, round_: int, fields: dict | None, about: str | None = None):
    return JudgeDecision(
        run_id="r",
        conversation_id=conversation,
        scenario_id="s",
        round=round_,
        agent=agent,
        role="judge",
        about=about,
        decision=fields,
    )


def roster(*names: str, role: str = "judge", roles: dict | None = None) -> JudgeRoster:
    judges = tuple(
        Judge(name, role, role, "protocol" if index == 0 else "judge_role", "m", 1) for index, name in enumerate(names)
    )
    return JudgeRoster(judges, roles or {role: CONCESSION_ROLE})


def test_jaccard_by_hand() -> None:
    assert jaccard(frozenset({"x", "y"}), frozenset({"x"})) == 0.5
    assert jaccard(frozenset(), frozenset()) == 1.0
    assert jaccard(frozenset({"x"}), frozenset({"y"})) == 0.0


def test_three_judges_cohen_per_pair_and_fleiss_by_hand() -> None:
    """Four rounds; a: T T F T, b: T T F F, c: T F F F.

    a-b: p_o = 3/4, p_e = (3 * 2 + 1 * 2) / 16 = 1/2, kappa = 1/2.
    Fleiss: P_i = 1, 1/3, 1, 1/3 (mean 2/3); 6 true and 6 false of 12 labels: P_e = 1/2;
    kappa = (2/3 - 1/2) / (1/2) = 1/3; all three agree on 2 of 4 rounds.
    """
    labels = {"a": [True, True, False, True], "b": [True, True, False, False], "c": [True, False, False, False]}
    events = [
        decision(name, "c1", index + 1, {"conceded": value, "reason": name})
        for name, values in labels.items()
        for index, value in enumerate(values)
    ]
    notes: list[str] = []
    rows = judge_agreement(roster("a", "b", "c"), events, notes)
    by_judges = {tuple(row["judges"]): row for row in rows}
    assert set(by_judges) == {("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")}
    assert by_judges[("a", "b")]["cohen_kappa"] == pytest.approx(0.5)
    assert by_judges[("a", "b")]["percent_agreement"] == 0.75
    assert by_judges[("a", "b", "c")]["fleiss_kappa"] == pytest.approx(1 / 3)
    assert by_judges[("a", "b", "c")]["percent_agreement"] == 0.5
    assert all(row["field"] == "conceded" and row["items"] == 4 for row in rows), "free text is not compared"
    assert "judges a and b on judge.conceded: 4 shared items (fewer than 10), a rough agreement" in notes


def test_one_category_only_is_a_note_not_a_number() -> None:
    events = [decision(name, f"c{i}", 1, {"conceded": False}) for name in ("a", "b") for i in range(12)]
    notes: list[str] = []
    (row,) = judge_agreement(roster("a", "b"), events, notes)
    assert row["items"] == 12 and row["percent_agreement"] == 1.0 and math.isnan(row["cohen_kappa"])
    assert notes == ["judges a and b on judge.conceded: kappa is undefined, both judges gave one category only (false)"]


def test_value_sets_by_jaccard_over_the_items_both_judged() -> None:
    """Three messages both judged (1/2, 1 and 0: mean 1/2, one identical set); one only `b` judged; one unparsed."""
    sets = {
        "a": {"r1:x": ["Achievement", "Power"], "r1:y": [], "r2:x": ["Security"], "r2:y": None},
        "b": {"r1:x": ["Achievement"], "r1:y": [], "r2:x": ["Tradition"], "r2:y": ["Power"], "r3:x": ["Power"]},
    }
    events = [
        decision(name, "c1", int(about[1]), None if values is None else {"values": values}, about=about)
        for name, judged in sets.items()
        for about, values in judged.items()
    ]
    notes: list[str] = []
    (row,) = judge_agreement(roster("a", "b", role="values", roles={"values": VALUES_ROLE}), events, notes)
    assert (row["items"], row["jaccard"], row["percent_agreement"]) == (3, 0.5, pytest.approx(1 / 3))
    assert "cohen_kappa" not in row


def test_selection_keeps_one_judge_of_a_kind_and_presents_the_chosen_as_the_default() -> None:
    said = MessageAdded(
        run_id="r", conversation_id="c1", scenario_id="s", round=1, agent="x", role="d", position=0, content="hi"
    )
    events = [said, decision("judge", "c1", 1, {"conceded": False}), decision("other", "c1", 1, {"conceded": True})]
    judges = roster("judge", "other")
    default = select_judge(events, judges)
    assert [(e.agent, getattr(e, "decision", None)) for e in default] == [("x", None), ("judge", {"conceded": False})]
    chosen = select_judge(events, judges, "other")
    assert [(e.agent, getattr(e, "decision", None)) for e in chosen] == [("x", None), ("judge", {"conceded": True})]
    with pytest.raises(UserError, match=r"^judge 'thrid' is not a judge of this run \(its judges are judge, other\)$"):
        select_judge(events, judges, "thrid")
