"""The cooperation study's method options on hand-built conversations (CoopValue sec. 3.3 and 4.3)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from moot.analysis.concession import ConcessionMethods, ConcessionOutcome
from moot.analysis.cooperation_models import rounds_by_type
from moot.analysis.methods import MethodOptions
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.study_cooperation import CooperationRecord, cooperation_methods
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
    assert options.in_force == {
        "bradley_terry": "concessions",
        "bradley_terry_prior": "0",
        "cooperation_rounds_never_conceded": "rounds_played",
    }
    chosen = cooperation_methods(MethodOptions({"bradley_terry": "holdouts_win", "bradley_terry_prior": "0.5"}))
    assert chosen == ConcessionMethods("holdouts_win", 0.5)
    with pytest.raises(UserError, match="bradley_terry=wins"):
        cooperation_methods(MethodOptions({"bradley_terry": "wins"}))


def _record(k: int, repeat: int, kind: str, conceded: bool, rounds: int) -> CooperationRecord:
    outcome = ConcessionOutcome(f"c{k}", kind, A, B, conceded=conceded, rounds=rounds)
    return CooperationRecord(outcome, f"c{k}", f"s{k}", repeat, "m", "k", "")


# One model, 3-round conversations, two repeats: (type, conceded, rounds)
ROUNDS = [
    _record(0, 0, "reciprocal", True, 1),
    _record(1, 0, "reciprocal", False, 3),
    _record(2, 0, "altruistic", True, 2),
    _record(3, 1, "reciprocal", True, 3),
    _record(4, 1, "altruistic", False, 3),
    _record(5, 1, "altruistic", True, 1),
]


def test_rounds_to_concession_per_model_and_type_with_sd() -> None:
    """Never-conceded conversations count the 3 rounds they ran (the paper's way). Counts 1, 3, 2 | 3, 3, 1: mean
    13/6; squared deviations (in 36ths) 49, 25, 1, 25, 25, 49 = 174/36, sd sqrt(174/36/5) = sqrt(29/30). Per
    repeat: means 2 and 7/3, mean 13/6, sd (1/3)/sqrt(2). Reciprocal: 1, 3 | 3: mean 7/3, repeat means 2 and 3 (sd
    sqrt(1/2)); altruistic: 2 | 3, 1: mean 2, repeat means 2 and 2 (sd 0)."""
    found = rounds_by_type(ROUNDS)
    assert found["mean"] == pytest.approx(13 / 6) and found["sd"] == pytest.approx(math.sqrt(29 / 30))
    assert (found["count"], found["conceded"]) == (6, 4)
    assert found["by_repeat"]["mean"] == pytest.approx(13 / 6) and found["by_repeat"]["n"] == 2
    assert found["by_repeat"]["sd"] == pytest.approx(1 / 3 / math.sqrt(2))
    reciprocal, altruistic = found["by_type"]["reciprocal"], found["by_type"]["altruistic"]
    assert reciprocal["mean"] == pytest.approx(7 / 3) and reciprocal["by_repeat"]["sd"] == pytest.approx(math.sqrt(0.5))
    assert altruistic["mean"] == pytest.approx(2) and altruistic["by_repeat"]["sd"] == pytest.approx(0)


def test_rounds_to_concession_of_conceded_conversations_only() -> None:
    """The option `excluded`: conceded conversations 1, 2 | 3, 1: mean 7/4; reciprocal 1 | 3, mean 2."""
    found = rounds_by_type(ROUNDS, "excluded")
    assert found["mean"] == pytest.approx(7 / 4) and found["count"] == 4
    assert found["by_type"]["reciprocal"]["mean"] == pytest.approx(2)
