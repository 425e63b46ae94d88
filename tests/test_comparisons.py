"""`moot.compare` and `moot.open_comparison`: a comparison from Python, with the commands on it as methods."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import moot
from helpers import SCENARIOS, debate_spec, verdict


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[moot.Run]:
    """Two scripted debate runs of the same spec on the same scenarios."""
    root = tmp_path_factory.mktemp("two-runs")
    cases = root / "cases.jsonl"
    cases.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS), encoding="utf-8")
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("NTA")]}, rounds=2)
    return [
        moot.open_run(moot.run(spec, cases, out=root / name, cache=None).run_dir) for name in ("morning", "evening")
    ]


def test_compare_takes_runs_and_gives_a_comparison_with_its_tables_and_runs(two_runs, tmp_path):
    comparison = moot.compare(two_runs, tmp_path / "cmp", labels={"am": two_runs[0]}, n_boot=20)
    assert isinstance(comparison, moot.Comparison) and os.fspath(comparison) == str(tmp_path / "cmp")
    assert comparison.dimensions == ["run"] and [r.label for r in comparison.manifest.runs] == ["am", "evening"]
    runs = comparison.runs()
    assert list(runs) == ["am", "evening"] and runs["am"].manifest.run_id == two_runs[0].manifest.run_id
    # By hand: 2 scenarios per run, every one stopped by consensus in round 1.
    stops = comparison.table("protocol_stop_reasons")
    assert [(row["run"], row["count"], row["share"]) for row in stops] == [
        ("all", "4", "1.0"),
        ("am", "2", "1.0"),
        ("evening", "2", "1.0"),
    ]
    with pytest.raises(moot.UserError, match="the comparison has no table 'nope'"):
        comparison.table("nope")
    assert comparison.report() == tmp_path / "cmp" / "report.html"
    again = comparison.analyze(n_boot=20)
    assert again.manifest.created_at > comparison.manifest.created_at and again.dimensions == ["run"]


def test_open_comparison_refuses_a_folder_that_is_not_one(two_runs):
    with pytest.raises(moot.UserError, match=r"is not a comparison \(no comparison.json\)"):
        moot.open_comparison(two_runs[0].run_dir)


def test_a_comparison_of_one_run_is_refused(two_runs, tmp_path):
    with pytest.raises(moot.UserError, match=r"a comparison needs at least two runs \(got 1\)"):
        moot.compare(two_runs[:1], tmp_path / "cmp")
    assert not Path(tmp_path / "cmp").exists()
