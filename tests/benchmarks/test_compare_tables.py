"""benchmarks/compare_tables.py runs every scripted or simulated matrix study and prints one table per study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_study_gets_its_table_labelled_as_scripted_or_simulated(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "compare_tables.py"), "--keep", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    headings = [line for line in out.splitlines() if line.startswith("### ")]
    assert [h.split(":")[0] for h in headings] == [
        "### cooperation",
        "### value portrait",
        "### consistency",
        "### deliberation",
        "### question evaluation",
    ]
    assert out.count("Scripted models (no language model)") == 4 and out.count("Simulated debaters") == 1
    # figures worked out by hand in tests/analysis/test_cooperation_models.py and test_value_portrait_models.py
    assert "| Self-direction | 1 | 10 | 2 | 4.33 +- 4.93 | 1 |" in out
    assert "Kendall's W across the 3 models: 0.1111" in out
    assert "| alpha across models | 0.667 |" in out
    assert "| Y > Z | 0.000 | 1.000 | 1.000 | YTA 4 |" in out and "| Z > Y | 0.000 | 1.000 | 1.000 | ESH 4 |" in out
    assert (tmp_path / "runs" / "cooperation" / "cooperation" / "analysis" / "metrics.json").is_file()
