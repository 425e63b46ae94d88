"""Scenario files from others: aliases, nesting, numbers and repeated keys are refused before a run directory exists."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from helpers import GOOD_SPEC_YAML
from moot.cli import main
from moot.errors import UserError
from moot.scenarios import load_scenarios
from moot.scenarios.dilemmas import parse_value_list
from moot.scenarios.topics import load_topics

ANCHORS = "".join(
    f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10) if level else ', '.join(['lol'] * 10)}]\n"
    for level in range(9)
)
"""Nine nested anchors of ten: 10^9 strings once expanded."""
DEEP = "[" * 20_000 + "]" * 20_000
HUGE = "7" * 5000

CASES = {
    "metadata-alias-bomb.yaml": (
        "- id: a\n  text: x\n  metadata:\n" + ANCHORS.replace("  l", "    l"),
        ":9: aliases expand to more than 1,000,000 values",
    ),
    "billion-laughs.yaml": (
        "anchors:\n" + ANCHORS + "scenarios: [{id: a, text: x, metadata: {all: *l8}}]\n",
        ":7: aliases expand to more than 1,000,000 values",
    ),
    "recursive-alias.yaml": ("- &row {id: a, text: x, metadata: {again: *row}}\n", ":1: an alias refers to a list"),
    "deep-yaml.yaml": ("- {id: a, text: x, metadata: {deep: " + DEEP + "}}\n", ":1: nested more than 100 levels deep"),
    "deep-line.jsonl": (
        json.dumps({"id": "a", "text": "x"}) + '\n{"id": "b", "text": "y", "metadata": ' + DEEP + "}\n",
        ":2: nested more than 100 levels deep",
    ),
    "huge-int.jsonl": (
        '{"id": "a", "text": "x", "metadata": {"votes": ' + HUGE + "}}\n",
        ":1: a number of 5,000 digits",
    ),
    "huge-int.yaml": ("- id: a\n  text: x\n  metadata: {votes: " + HUGE + "}\n", ":3: a number of 5,000 digits"),
    "duplicate-field.yaml": ("- id: a\n  text: x\n  text: y\n", ":3: key 'text' appears twice (first on line 2)"),
    "duplicate-metadata-key.yaml": (
        "- id: a\n  text: x\n  metadata:\n    source: one\n    source: two\n",
        ":5: key 'source' appears twice (first on line 4)",
    ),
    "duplicate-top-level.yaml": (
        "scenarios: [{id: a, text: x}]\nscenarios: [{id: b, text: y}]\n",
        ":2: key 'scenarios' appears twice (first on line 1)",
    ),
    "repeated-json-key.jsonl": (
        '{"id": "a", "text": "x", "metadata": {"k": 1, "k": 2}}\n',
        ":1: key 'k' appears twice",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_scenario_file_stops_moot_run_with_one_line_and_no_run_directory(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, expected = CASES[name]
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    scenarios = tmp_path / name
    scenarios.write_text(text, encoding="utf-8")
    assert main(["run", str(spec), "--scenarios", str(scenarios), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"moot: error: {scenarios}{expected}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["good.yaml", name]), "no run directory"


def test_a_billion_laughs_in_metadata_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(CASES["metadata-alias-bomb.yaml"][0], encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match="aliases expand"):
            load_scenarios(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_anchors_that_expand_a_little_still_load(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text("- &first {id: a, text: x, metadata: &meta {source: forum}}\n- {id: b, text: y, metadata: *meta}\n")
    assert [s.metadata for s in load_scenarios(path).scenarios] == [{"source": "forum"}, {"source": "forum"}]


def test_a_scenario_path_that_is_not_a_regular_file_is_refused_without_waiting(tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "cases.jsonl"
    os.mkfifo(pipe)
    with pytest.raises(UserError, match="cases.jsonl: not a regular file"):
        load_scenarios(pipe)


def test_a_value_list_cell_nested_deep_is_not_a_list_of_names() -> None:
    with pytest.raises(ValueError, match="not a list of value names"):
        parse_value_list(DEEP)
    assert parse_value_list('["Honesty", "Care"]') == ["Honesty", "Care"]


def test_a_topics_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "topics.txt"
    path.write_bytes(b"Should cities ban cars?\nIs caf\xe9 culture good?\n")
    with pytest.raises(UserError, match=r"topics.txt:2: not UTF-8 text \(byte 0xe9"):
        load_topics(str(path))
