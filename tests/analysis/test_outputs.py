"""metrics.json records the moot release and the methods in force."""

from __future__ import annotations

import json
from pathlib import Path

from moot.analysis.outputs import METRICS_FILE, AnalysisIndex, AnalysisWriter, moot_version


def test_metrics_file_records_the_version_and_the_methods(tmp_path: Path) -> None:
    writer = AnalysisWriter(tmp_path)
    writer.method("bradley_terry", "concessions only")
    writer.finish(AnalysisIndex(run_id="r", study="cooperation", metrics={"n": 1}, methods={"elo_k": "32"}))
    written = json.loads((tmp_path / METRICS_FILE).read_text(encoding="utf-8"))
    assert written["moot_version"] == moot_version() != ""
    assert written["methods"] == {"elo_k": "32", "bradley_terry": "concessions only"}


def test_a_metrics_file_written_before_the_version_was_recorded_still_reads() -> None:
    old = AnalysisIndex.model_validate({"run_id": "r", "study": "s", "metrics": {}})
    assert old.moot_version is None and old.methods == {}
