"""Stop conditions compose and give their reason."""

from __future__ import annotations

from moot.graphs.state import TranscriptMessage
from moot.graphs.stop import AnyOf, Consensus, Decision, MaxRounds, RoundView


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
