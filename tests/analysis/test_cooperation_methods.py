"""The cooperation study's method options on hand-built conversations (CoopValue sec. 3.3 and 4.3)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from moot.analysis.concession import ConcessionMethods, ConcessionOutcome
from moot.analysis.methods import MethodOptions
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_cooperation import cooperation_methods
from moot.analysis.value_rankings import bootstrap_ranking
from moot.errors import UserError

A, B = "Security", "Hedonism"


def _outcome(k: int, target: str, counterpart: str, conceded: bool) -> ConcessionOutcome:
    return ConcessionOutcome(f"c{k}", "reciprocal", target, counterpart, conceded=conceded, rounds=2)


OUTCOMES = [
    _outcome(0, B, A, True),  # Hedonism conceded to Security: Security wins
    _outcome(1, B, A, True),
    _outcome(2, A, B, True),  # Security conceded to Hedonism: Hedonism wins
    _outcome(3, A, B, False),  # Security held out three times
    _outcome(4, A, B, False),
    _outcome(5, A, B, False),
]


def _ranking(methods: ConcessionMethods, tmp_path: Path) -> dict:
    winners, losers = methods.comparisons(OUTCOMES)
    found = bootstrap_ranking(
        winners, losers, [f"s{k}" for k in range(len(winners))], 20, 0, AnalysisWriter(tmp_path), "t", prior=0.0
    )
    assert found is not None
    return found


def test_bradley_terry_counts_concessions_only_by_default(tmp_path: Path) -> None:
    """Concessions only: Security beat Hedonism twice and lost once, so p_S / (p_S + p_H) = 2/3 and the centred
    log-strengths are +-ln(2)/2; the held-out conversations are no evidence. The eight values in no comparison
    are unranked."""
    found = _ranking(ConcessionMethods(), tmp_path)
    assert found["comparisons"] == 3 and found["ranking"] == [A, B]
    assert found["values"][A]["log_strength"] == pytest.approx(math.log(2) / 2)
    assert found["values"][B]["log_strength"] == pytest.approx(-math.log(2) / 2)
    assert len(found["unranked"]) == 8 and A not in found["unranked"]


def test_holdouts_win_is_an_option(tmp_path: Path) -> None:
    """Held-out conversations as wins of the target's value: Security 2 + 3 = 5 wins, Hedonism 1: diff ln(5)."""
    found = _ranking(ConcessionMethods(bradley_terry="holdouts_win"), tmp_path)
    assert found["comparisons"] == 6
    assert found["values"][A]["log_strength"] - found["values"][B]["log_strength"] == pytest.approx(math.log(5))


def test_no_finite_strengths_without_pseudo_wins_is_a_note(tmp_path: Path) -> None:
    """Security only ever wins: plain Bradley-Terry has no finite estimate, and the note names the option."""
    writer = AnalysisWriter(tmp_path)
    winners, losers = ConcessionMethods().comparisons(OUTCOMES[:2])
    assert bootstrap_ranking(winners, losers, ["s0", "s1"], 10, 0, writer, "revealed ranking", prior=0.0) is None
    (note,) = writer.notes
    assert note.startswith("revealed ranking: not ranked: no finite Bradley-Terry strengths (never won: Hedonism")
    assert note.endswith("(--method bradley_terry_prior=0.5)")
    # 0.5 pseudo-wins: wins 2.5 against 0.5, log-strength difference ln 5
    found = bootstrap_ranking(winners, losers, ["s0", "s1"], 10, 0, writer, "revealed ranking", prior=0.5)
    assert found is not None
    assert found["values"][A]["log_strength"] - found["values"][B]["log_strength"] == pytest.approx(math.log(5))


def test_the_options_and_their_defaults() -> None:
    options = MethodOptions()
    assert cooperation_methods(options) == ConcessionMethods("concessions", 0.0)
    assert options.in_force == {"bradley_terry": "concessions", "bradley_terry_prior": "0"}
    chosen = cooperation_methods(MethodOptions({"bradley_terry": "holdouts_win", "bradley_terry_prior": "0.5"}))
    assert chosen == ConcessionMethods("holdouts_win", 0.5)
    with pytest.raises(UserError, match="bradley_terry=wins"):
        cooperation_methods(MethodOptions({"bradley_terry": "wins"}))
