"""The bundled `cooperation_stated_variants` spec (five wordings of the stated-preference question, CoopValue
appendix H and Table 17) on scripted choosers, and Kendall's W across the wordings.

Wordings 1 to 4 are answered by a chooser that picks by the order V (SCHWARTZ_VALUES), wording 5 by one whose order
swaps V0 and V1. Every pair of values is asked both ways, so each chooser's ranking is its order. By hand, with
m = 5 rankings of n = 10 values: rank sums V0 4 * 1 + 2 = 6, V1 4 * 2 + 1 = 9, Vi 5 (i + 1) for i >= 2; their mean
m (n + 1) / 2 = 27.5; squared deviations 462.25, 342.25, 156.25, 56.25, 6.25, 6.25, 56.25, 156.25, 306.25, 506.25,
S = 2054.5; W = 12 S / (m^2 (n^3 - n)) = 24654 / 24750.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix_studies import ORDERS, all_pairs_scenarios, register_responders, spec_of

import moot
from moot.analysis.analyze import analyze_run

WORDINGS = [f"wording_{k}" for k in range(1, 6)]


def test_kendalls_w_across_the_five_wordings(tmp_path: Path) -> None:
    register_responders()
    models = {name: "scripted:chooser_first" for name in WORDINGS[:4]} | {"wording_5": "scripted:chooser_swapped"}
    spec = spec_of("cooperation_stated_variants", models, variables={"explicit_values": True})
    run = moot.run(spec, scenarios=all_pairs_scenarios(tmp_path / "pairs.yaml"), out=tmp_path / "run", cache=None)
    # each ranking is a perfectly separated order: 0.5 pseudo-wins give it finite strengths
    _, index = analyze_run(run.run_dir, tmp_path / "analysis", n_boot=10, methods={"bradley_terry_prior": 0.5})
    metrics = index.metrics
    assert metrics["choices"] == 5 * 90 and metrics["unparsed"] == 0
    by_chooser = metrics["by_chooser"]
    assert [by_chooser[f"scripted:chooser_first / {name}"] for name in WORDINGS[:4]] == [ORDERS["first"]] * 4
    assert by_chooser["scripted:chooser_swapped / wording_5"] == ORDERS["swapped"]
    assert metrics["agreement_choosers"]["w"] == pytest.approx(24654 / 24750)
    assert "agreement_choosers" in index.methods
