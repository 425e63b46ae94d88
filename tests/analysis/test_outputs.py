"""metrics.json records the moot release and the methods in force; method options are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moot.analysis.methods import MethodOptions, parse_methods
from moot.analysis.outputs import METRICS_FILE, AnalysisIndex, AnalysisWriter, moot_version
from moot.errors import UserError


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


def test_method_options_are_checked_and_recorded() -> None:
    options = MethodOptions(parse_methods(["elo_k=16", "bradley_terry=holdouts_win"]))
    assert options.number("elo_k", 32, minimum=1) == 16
    assert options.choice("bradley_terry", "concessions", ("concessions", "holdouts_win")) == "holdouts_win"
    assert options.choice("ties", "half", ("half", "drop")) == "half"
    assert options.in_force == {"elo_k": "16", "bradley_terry": "holdouts_win", "ties": "half"}
    options.check_all_read("cooperation")
    with pytest.raises(UserError, match="value 'x' is unknown"):
        MethodOptions({"ties": "x"}).choice("ties", "half", ("half", "drop"))
    with pytest.raises(UserError, match="expected a finite number of at least 1"):
        MethodOptions({"elo_k": "0"}).number("elo_k", 32, minimum=1)
    with pytest.raises(UserError, match="--method elo_k=inf: expected a finite number"):
        MethodOptions({"elo_k": "inf"}).number("elo_k", 32, minimum=1)
    with pytest.raises(UserError, match="--method elo: not an option of the deliberation analysis"):
        MethodOptions({"elo": "3"}).check_all_read("deliberation")
    with pytest.raises(UserError, match="given twice"):
        parse_methods(["a=1", "a=2"])
