"""The benchmarks at their reduced (CI) size: they must run to the end and write every comparison.

Timings are never checked here: the machine running the tests is shared and noisy.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMPARISONS = {"overhead", "concurrency", "embedded", "scale", "cluster", "startup", "server"}


def test_quick_benchmarks_write_every_comparison(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["version"] == 1 and results["quick"] is True
    assert set(results["comparisons"]) == COMPARISONS
    assert {m["comparison"] for m in results["measurements"]} == COMPARISONS
    assert results["machine"]["cores"] >= 1 and results["machine"]["packages"]["moot"]
    for measurement in results["measurements"]:
        # a finite number; a difference of two timings may come out below zero on a noisy machine
        assert math.isfinite(measurement["value"]), measurement
    assert "| overhead |" in done.stdout and "| scale |" in done.stdout and "| startup |" in done.stdout
    startup = {m["name"]: m for m in results["measurements"] if m["comparison"] == "startup"}
    assert {"moot --help - python -c pass", "moot specs - python -c pass"} <= set(startup)
    assert all(
        startup[name]["target"] == "<= 0.30 s"
        for name in ("moot --help - python -c pass", "moot specs - python -c pass")
    )
