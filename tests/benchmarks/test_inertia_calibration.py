"""The inertia/conformity calibration at a few replications: it runs to the end, and its intervals are not wild.

The documented run (BENCHMARKS.md) checks coverage against 0.95 +- 2.5 standard errors; a few
replications cannot, so here every interval of a study is pooled: at a true coverage of 0.95 the
chance of pooled coverage below 0.75 (or null false positives above 0.25) is far below 1 in 1,000.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "inertia_calibration.py"


@pytest.mark.slow
def test_a_few_replications_cover_the_truth_and_rarely_reject_the_null(tmp_path):
    out = tmp_path / "calibration.json"
    argv = ["--replications", "3", "--boot", "15", "--dilemmas", "150", "--every", "2", "--out", str(out)]
    done = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout
    assert "interim three_models: 2 replications" in printed and "final null: 3 replications" in printed
    results = json.loads(out.read_text())
    assert results["final"] is True and results["replications"] == 3
    for name, study in results["studies"].items():
        terms = study["terms"]
        assert study["replications"] == 3 and terms
        intervals = sum(row["n"] for row in terms.values())
        if name == "null":
            rejected = sum(row["false_positive_rate"] * row["n"] for row in terms.values())
            assert rejected / intervals <= 0.25, terms
        else:
            covered = sum(row["coverage"] * row["n"] for row in terms.values())
            assert covered / intervals >= 0.75, terms
    # Three players with distinct models, and two models for three agents (one player with two seats).
    assert {key.split("[")[1] for key in results["studies"]["two_models"]["terms"]} == {"model-a]", "model-b]"}
    assert len(results["studies"]["three_models"]["terms"]) == 9
