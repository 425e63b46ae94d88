"""Stop conditions compose and give their reason."""

from __future__ import annotations

from pathlib import Path

import moot
from moot.graphs.state import TranscriptMessage
from moot.graphs.stop import (
    AllOf,
    AnyOf,
    Consensus,
    Decision,
    Majority,
    MaxRounds,
    MinRounds,
    RoundView,
    StopCondition,
    stop_rule,
)

LIBRARY = Path(__file__).parents[1] / "protocol_library"


def _msg(agent: str, parsed: dict | None, kind: str = "speaker") -> TranscriptMessage:
    return TranscriptMessage(round=2, agent=agent, role="r", kind=kind, position=0, content="x", parsed=parsed)


def _view(*messages: TranscriptMessage, speakers=("a", "b")) -> RoundView:
    return RoundView(round=2, speakers=speakers, messages=messages)


def test_consensus_needs_every_speaker_parsed_and_equal():
    rule = Consensus("verdict")
    assert (
        rule.check(_view(_msg("a", {"verdict": "NTA"}), _msg("b", {"verdict": "NTA"}))) == "consensus on verdict (NTA)"
    )
    assert rule.check(_view(_msg("a", {"verdict": "NTA"}), _msg("b", {"verdict": "YTA"}))) is None
    assert rule.check(_view(_msg("a", {"verdict": "NTA"}), _msg("b", None))) is None, (
        "unparsed never counts as agreement"
    )
    assert rule.check(_view(_msg("a", {"verdict": "NTA"}), speakers=("a",))) is None, "one voice is not a consensus"


def test_or_flattens_and_first_reason_wins():
    rule = Consensus("verdict") | Decision("judge", "conceded") | MaxRounds(2)
    assert isinstance(rule, AnyOf) and len(rule.conditions) == 3
    agreeing = _view(_msg("a", {"verdict": "NAH"}), _msg("b", {"verdict": "NAH"}))
    assert rule.check(agreeing) == "consensus on verdict (NAH)"
    assert (
        rule.check(_view(_msg("a", None), _msg("judge", {"conceded": True}, "judge")))
        == "judge decided conceded = True"
    )
    assert rule.check(_view(_msg("a", None))) == "max rounds (2)"
    assert MaxRounds(3).check(_view()) is None


def test_outcome_records_what_was_compared():
    rule = Consensus("verdict") | Decision("judge", "conceded")
    view = _view(_msg("a", {"verdict": "NTA"}), _msg("b", None), _msg("judge", {"conceded": False}, "judge"))
    assert rule.outcome(view) == {"verdict": {"a": "NTA", "b": None}, "judge.conceded": False}


def _speakers_view(round_: int, **values) -> RoundView:
    messages = tuple(_msg(agent, None if value is None else {"option": value}) for agent, value in values.items())
    return RoundView(round=round_, speakers=tuple(values), messages=messages)


def test_majority_counts_every_speaker_and_names_the_value():
    rule = Majority("option", 0.6)
    assert rule.check(_speakers_view(1, a="park", b="pool", c="park", d="library", e="pool")) is None
    assert rule.check(_speakers_view(1, a="park", b="park", c="park", d="pool", e="pool")) == (
        "majority on option (park: 3 of 5)"
    )
    # an unparsed answer counts against the majority: 2 of 3 is not 3 of 4
    assert Majority("option", 0.75).check(_speakers_view(1, a="x", b="x", c="x", d=None)) == (
        "majority on option (x: 3 of 4)"
    )
    assert Majority("option", 0.75).check(_speakers_view(1, a="x", b="x", c=None, d="y")) is None


def test_min_rounds_holds_back_the_rule_beside_it():
    rule = AllOf((MinRounds(2), Consensus("verdict")))
    agreeing = (_msg("a", {"verdict": "NTA"}), _msg("b", {"verdict": "NTA"}))
    assert rule.check(RoundView(round=1, speakers=("a", "b"), messages=agreeing)) is None
    assert rule.check(RoundView(round=2, speakers=("a", "b"), messages=agreeing)) == (
        "consensus on verdict after at least 2 rounds (NTA)"
    )
    assert rule.outcome(RoundView(round=1, speakers=("a", "b"), messages=agreeing)) == {
        "min_rounds": {"required": 2, "round": 1},
        "verdict": {"a": "NTA", "b": "NTA"},
    }


def test_decision_of_several_judges_any_or_all():
    view = _view(_msg("j1", {"ok": True}, "judge"), _msg("j2", {"ok": False}, "judge"))
    assert Decision(("j1", "j2"), "ok", True, "all").check(view) is None
    assert Decision(("j1", "j2"), "ok", True, "any").check(view) == "any of j1, j2 decided ok = True (j1)"
    both = _view(_msg("j1", {"ok": True}, "judge"), _msg("j2", {"ok": True}, "judge"))
    assert Decision(("j1", "j2"), "ok", True, "all").check(both) == "all of j1, j2 decided ok = True"
    assert Decision(("j1", "j2"), "ok").outcome(view) == {"j1.ok": True, "j2.ok": False}


def test_a_boolean_decision_is_not_met_by_a_number():
    assert Decision("j", "score", True).check(_view(_msg("j", {"score": 1}, "judge"))) is None
    assert Decision("j", "score", 1).check(_view(_msg("j", {"score": 1}, "judge"))) == "j decided score = 1"


def test_all_of_nested_in_any_gives_the_first_firing_reason():
    rule = AnyOf((AllOf((Consensus("verdict"), Decision("j", "ok"))), MaxRounds(3)))
    agree_not_ok = _view(_msg("a", {"verdict": "NTA"}), _msg("b", {"verdict": "NTA"}), _msg("j", {"ok": False}))
    assert rule.check(agree_not_ok) is None
    agree_ok = _view(_msg("a", {"verdict": "NTA"}), _msg("b", {"verdict": "NTA"}), _msg("j", {"ok": True}))
    assert rule.check(agree_ok) == "consensus on verdict and j decided ok = True (NTA)"
    assert rule.kinds() == ["consensus on verdict and j decided ok = True", "max rounds"]


def _library_rule(name: str) -> StopCondition:
    return stop_rule(moot.load_spec(LIBRARY / f"{name}.yaml").spec)


def test_spec_rules_become_conditions_with_their_possible_reasons():
    assert _library_rule("numeric_estimates").kinds() == [
        "consensus on estimate after at least 2 rounds",
        "max rounds",
    ]
    assert _library_rule("nested_stops").kinds() == [
        "consensus on verdict after at least 2 rounds",
        "all of ref1, ref2 decided settled = True",
        "max rounds",
    ]
    assert _library_rule("majority_vote").kinds() == ["majority on option", "max rounds"]
    assert _library_rule("judge_panel_any").describe() == (
        "any of strict, lenient decide verdict = accept or 4 rounds reached"
    )
    assert _library_rule("nested_stops").describe() == (
        "((at least 2 rounds and every speaker gives the same verdict) or all of ref1, ref2 decide settled = True)"
        " or 4 rounds reached"
    )
