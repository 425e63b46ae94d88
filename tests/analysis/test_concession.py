"""Concession matrices, comparisons, rounds and resistance on a hand-built list of outcomes."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from matplotlib import image

from moot.analysis.concession import (
    ConcessionOutcome,
    comparisons_from_outcomes,
    concession_matrix_outcomes,
    plot_concession_heatmap,
    rank_improvement,
    resistance_ranking_outcomes,
    rounds_to_concession_outcomes,
)

VALUES = [
    "Self-direction",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power",
    "Security",
    "Conformity",
    "Tradition",
    "Benevolence",
    "Universalism",
]


def outcome(
    target: str, counterpart: str, conceded: bool | None, rounds: int, kind: str = "reciprocal"
) -> ConcessionOutcome:
    """One outcome; the scenario is named after the pair of values."""
    return ConcessionOutcome(f"{target}-{counterpart}", kind, target, counterpart, conceded, rounds)


OUTCOMES = [
    outcome("Power", "Benevolence", True, 2),
    outcome("Power", "Benevolence", False, 5, "altruistic"),
    outcome("Power", "Benevolence", True, 3, "altruistic"),
    outcome("Benevolence", "Power", False, 5),
    outcome("Security", "Hedonism", True, 1),
    outcome("Security", "Hedonism", None, 5),
    outcome("Tradition", "Universalism", None, 5),
]


def test_matrix_entries():
    # Non-empty cells (row = target, column = counterpart):
    #   Power/Benevolence: 3 parsed, 2 conceded -> rate 2/3
    #   Benevolence/Power: 1 parsed, 0 conceded -> rate 0
    #   Security/Hedonism: 1 parsed (1 conceded), 1 unparsed -> rate 1
    #   Tradition/Universalism: 0 parsed, 1 unparsed -> rate nan
    # All other 96 cells: count 0, rate nan.
    matrix = concession_matrix_outcomes(OUTCOMES, VALUES)
    at = {v: k for k, v in enumerate(VALUES)}
    expected_rate = {("Power", "Benevolence"): 2 / 3, ("Benevolence", "Power"): 0.0, ("Security", "Hedonism"): 1.0}
    expected_count = {("Power", "Benevolence"): 3, ("Benevolence", "Power"): 1, ("Security", "Hedonism"): 1}
    for i, row in enumerate(VALUES):
        for j, column in enumerate(VALUES):
            assert matrix.count[i][j] == expected_count.get((row, column), 0)
            if (row, column) in expected_rate:
                assert matrix.rate[i][j] == pytest.approx(expected_rate[(row, column)])
            else:
                assert math.isnan(matrix.rate[i][j])
    assert matrix.conceded[at["Power"], at["Benevolence"]] == 2
    assert matrix.unparsed[at["Security"], at["Hedonism"]] == 1
    assert matrix.unparsed[at["Tradition"], at["Universalism"]] == 1
    assert matrix.unparsed_total == 2


def test_matrix_rejects_unknown_values():
    with pytest.raises(ValueError, match="counterpart_value 'Greed' of scenario 'x'"):
        concession_matrix_outcomes([ConcessionOutcome("x", "reciprocal", "Power", "Greed", True, 1)], VALUES)


def test_matrix_csv(tmp_path):
    path = concession_matrix_outcomes(OUTCOMES, VALUES).write_csv(tmp_path / "matrix.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100
    cells = {(r["target_value"], r["counterpart_value"]): r for r in rows}
    power = cells[("Power", "Benevolence")]
    assert (power["outcomes"], power["conceded"], power["unparsed"]) == ("3", "2", "0")
    assert float(power["rate"]) == pytest.approx(2 / 3)
    assert cells[("Tradition", "Universalism")]["rate"] == ""
    assert cells[("Tradition", "Universalism")]["unparsed"] == "1"


def test_comparisons_can_count_holding_out_as_a_win():
    winners, losers = comparisons_from_outcomes(OUTCOMES, non_concession="win")
    assert list(zip(winners, losers, strict=True)) == [
        ("Benevolence", "Power"),
        ("Power", "Benevolence"),
        ("Benevolence", "Power"),
        ("Benevolence", "Power"),
        ("Hedonism", "Security"),
    ]


def test_comparisons_are_concessions_only_by_default():
    """CoopValue sec. 3.3: only a concession is a comparison (the conceded value loses)."""
    winners, losers = comparisons_from_outcomes(OUTCOMES)
    assert list(zip(winners, losers, strict=True)) == [
        ("Benevolence", "Power"),
        ("Benevolence", "Power"),
        ("Hedonism", "Security"),
    ]
    assert comparisons_from_outcomes(OUTCOMES, non_concession="ignore") == (winners, losers)
    with pytest.raises(ValueError, match="non_concession"):
        comparisons_from_outcomes(OUTCOMES, non_concession="lose")


def test_rounds_to_concession_count_a_never_conceded_conversation_at_its_rounds():
    """The paper's way: a conversation never conceded ran all 5 rounds and counts 5. Power: 2, 5, 3 -> mean 10/3,
    sd sqrt(((2 - 10/3)^2 + (5 - 10/3)^2 + (3 - 10/3)^2) / 2) = sqrt(7/3); Benevolence: 5 (one outcome, no sd);
    Security: 1 (its unparsed outcome is left out); Tradition's only outcome is unparsed."""
    by_value = rounds_to_concession_outcomes(OUTCOMES)
    assert set(by_value) == {("Power",), ("Benevolence",), ("Security",)}
    assert by_value[("Power",)].mean == pytest.approx(10 / 3) and by_value[("Power",)].count == 3
    assert by_value[("Power",)].sd == pytest.approx(math.sqrt(7 / 3))
    assert (by_value[("Benevolence",)].mean, by_value[("Benevolence",)].sd) == (5.0, None)
    by_type = rounds_to_concession_outcomes(OUTCOMES, by=("target_value", "cooperation_type"))
    assert by_type[("Power", "reciprocal")].mean == 2.0
    assert by_type[("Power", "altruistic")].mean == 4.0  # 5 and 3
    assert rounds_to_concession_outcomes(OUTCOMES, by="target_value")["Security"].mean == 1.0


def test_rounds_to_concession_can_leave_never_conceded_conversations_out():
    # Conceded outcomes only: Power in rounds 2 and 3 (mean 2.5, sd sqrt(0.5)), Security in round 1.
    by_value = rounds_to_concession_outcomes(OUTCOMES, never_conceded="excluded")
    assert set(by_value) == {("Power",), ("Security",)}
    assert by_value[("Power",)].mean == pytest.approx(2.5)
    assert by_value[("Power",)].count == 2 and by_value[("Power",)].sd == pytest.approx(math.sqrt(0.5))
    by_type = rounds_to_concession_outcomes(
        OUTCOMES, by=("target_value", "cooperation_type"), never_conceded="excluded"
    )
    assert by_type[("Power", "altruistic")].mean == 3.0
    with pytest.raises(ValueError, match="never_conceded"):
        rounds_to_concession_outcomes(OUTCOMES, never_conceded="dropped")
    with pytest.raises(ValueError, match="colour is not a field"):
        rounds_to_concession_outcomes(OUTCOMES, by="colour")


def test_resistance_ranking():
    # max_rounds defaults to 5 (the largest rounds among parsed outcomes); holding out counts 6.
    # Power: 2, 6, 3 -> 11/3; Benevolence: 6; Security: 1; the other values have no outcome.
    ranking = resistance_ranking_outcomes(OUTCOMES, VALUES)
    assert [r.value for r in ranking[:3]] == ["Benevolence", "Power", "Security"]
    assert ranking[0].mean_rounds == 6.0
    assert ranking[1].mean_rounds == pytest.approx(11 / 3)
    assert ranking[1].outcomes == 3
    assert [r.value for r in ranking[3:]] == [v for v in VALUES if v not in {"Benevolence", "Power", "Security"}]
    assert all(math.isnan(r.mean_rounds) for r in ranking[3:])
    # With a round limit of 10, holding out counts 11: Power (2 + 11 + 3) / 3 = 16/3.
    assert resistance_ranking_outcomes(OUTCOMES, VALUES, max_rounds=10)[1].mean_rounds == pytest.approx(16 / 3)


def test_rank_improvement():
    assert rank_improvement(["A", "B", "C"], ["C", "A", "B"], "C") == 2
    assert rank_improvement({"A": 1, "B": 2}, ["B", "A"], "A") == -1
    with pytest.raises(ValueError, match="rank_after does not rank 'C'"):
        rank_improvement(["A", "B", "C"], ["A", "B"], "C")


def test_heatmap_is_a_png_of_the_requested_size(tmp_path):
    matrix = concession_matrix_outcomes(OUTCOMES, VALUES)
    path = plot_concession_heatmap(matrix, tmp_path / "heat.png", "Concessions", figsize=(9, 8), dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(path)
    assert pixels.shape == (400, 450, 4)
    assert np.ptp(pixels[..., :3]) > 0
