"""Tests for reading scenario files, their one-line errors, and the bundled AITA sample."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from moot.errors import UserError
from moot.scenarios import (
    Scenario,
    ScenarioSet,
    bundled_scenarios,
    load_scenarios,
    resolve_scenario_source,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "data"
VALUE_PORTRAIT = Path(__file__).resolve().parents[3] / "shared" / "data" / "value_portrait"
PHASE1 = VALUE_PORTRAIT / "lm_evaluation" / "data" / "Phase1_total.json"
needs_source = pytest.mark.skipif(not PHASE1.is_file(), reason="Value Portrait data not present")
AITA_COUNT = 26  # portrait ids 1003..1066 (24 from Reddit.json) plus 1901 and 1902


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """Write a file under tmp_path and return its path."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path | str) -> str:
    """Load a file that must be rejected; return the message after checking it is one line."""
    with pytest.raises(UserError) as info:
        load_scenarios(path)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert "Traceback" not in message
    return message


# --- the bundled sample -------------------------------------------------------------------


def test_bundled_sample_loads() -> None:
    path = resolve_scenario_source("aita_value_portrait")
    loaded = load_scenarios(path)
    ids = [s.id for s in loaded.scenarios]
    assert len(loaded.scenarios) == AITA_COUNT
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    for scenario in loaded.scenarios:
        assert scenario.id.startswith("vp-1")
        assert scenario.text.strip() and scenario.title.strip()
        assert scenario.metadata["source"] == "Value Portrait (Reddit AITA)"
        assert scenario.id == f"vp-{scenario.metadata['portrait_id']}"
    with_votes = [s for s in loaded.scenarios if "post_id" in s.metadata]
    assert len(with_votes) == 24
    assert all(isinstance(s.metadata["right"], int) for s in with_votes)


@needs_source
def test_bundled_sample_matches_source_exactly() -> None:
    items = json.loads(PHASE1.read_text(encoding="utf-8"))
    aita = {item["portrait_id"]: item["content"] for item in items if str(item["portrait_id"]).startswith("1")}
    loaded = load_scenarios(resolve_scenario_source("aita_value_portrait")).scenarios
    assert len(loaded) == len(aita) == AITA_COUNT
    for scenario in loaded:
        content = aita[scenario.metadata["portrait_id"]]
        assert scenario.title == content["title"]
        assert scenario.text == content["text"]


@needs_source
def test_build_script_reproduces_bundled_file(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_aita_value_portrait", DATA_DIR / "build_aita_value_portrait.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "out.jsonl"
    assert module.main([str(VALUE_PORTRAIT), "--out", str(out)]) == 0
    assert out.read_bytes() == (DATA_DIR / "aita_value_portrait.jsonl").read_bytes()


def test_bundled_data_has_source_and_licence() -> None:
    assert "MIT" in (DATA_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert (DATA_DIR / "LICENSE-value-portrait").read_text(encoding="utf-8").startswith("MIT License")


def test_bundled_scenarios_lists_data_files_only() -> None:
    bundled = bundled_scenarios()
    assert list(bundled) == [
        "aita_value_portrait",
        "cooperation_backgrounds",
        "cooperation_sample",
        "dilemmas_sample",
        "open_questions_sample",
        "value_portrait",
    ]
    assert bundled["aita_value_portrait"] == DATA_DIR / "aita_value_portrait.jsonl"


# --- happy paths --------------------------------------------------------------------------


def test_jsonl_happy_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ok.jsonl",
        '{"id": "a1", "title": "T", "text": "  exact text\\n", "metadata": {"k": [1, 2]}}\n'
        "\n"
        '{"id": 7, "text": "second"}\r\n',
    )
    loaded = load_scenarios(path)
    assert isinstance(loaded, ScenarioSet)
    assert loaded.source == str(path)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.scenarios == [
        Scenario(id="a1", title="T", text="  exact text\n", metadata={"k": [1, 2]}),
        Scenario(id="7", title="", text="second", metadata={}),
    ]


def test_load_accepts_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.jsonl", '{"id": "a", "text": "b"}\n')
    assert load_scenarios(str(path)).source == str(path)


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_list_happy_path(tmp_path: Path, suffix: str) -> None:
    path = write(
        tmp_path,
        "ok" + suffix,
        "- id: a\n  title: First\n  text: |\n    line one\n    line two\n"
        "- id: 2\n  text: plain\n  metadata: {votes: 3}\n",
    )
    scenarios = load_scenarios(path).scenarios
    assert [s.id for s in scenarios] == ["a", "2"]
    assert scenarios[0].text == "line one\nline two\n"
    assert scenarios[1].metadata == {"votes": 3}


def test_yaml_scenarios_key_happy_path(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.yaml", "scenarios:\n  - id: a\n    text: b\n")
    assert [s.id for s in load_scenarios(path).scenarios] == ["a"]


# --- errors: JSONL ------------------------------------------------------------------------


def test_jsonl_missing_field(tmp_path: Path) -> None:
    path = write(tmp_path, "aita.jsonl", '{"id": "a", "text": "t"}\n\n{"id": "b"}\n')
    assert load_error(path) == f"{path}:3: field 'text': field required"


def test_jsonl_invalid_json(tmp_path: Path) -> None:
    path = write(tmp_path, "aita.jsonl", '{"id": "a", "text": "t"}\n{"id": "b" "text": "t"}\n')
    assert load_error(path) == f"{path}:2: not valid JSON (Expecting ',' delimiter at column 12)"


def test_jsonl_line_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": "a", "text": "t"}\n["b", "t"]\n')
    message = load_error(path)
    assert message.startswith(f"{path}:2: expected a JSON object")
    assert message.endswith("got array")


def test_jsonl_misspelled_key_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": "a", "titel": "T", "text": "t"}\n')
    assert load_error(path) == f"{path}:1: field 'titel' is not allowed; did you mean 'title'?"


def test_unknown_key_without_close_match_lists_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": "a", "text": "t", "zzz": 1}\n')
    assert load_error(path) == (f"{path}:1: field 'zzz' is not allowed; allowed fields: id, title, text, metadata")


def test_misspelled_required_key_prefers_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": "a", "txt": "t"}\n')
    assert load_error(path) == f"{path}:1: field 'txt' is not allowed; did you mean 'text'?"


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", b'{"id":"a",\xff"text":"t"}\n')
    assert load_error(path) == f"{path}:1: not UTF-8 text (byte 0xff at offset 10)"


@pytest.mark.parametrize("content", ["", "\n  \n\n"])
def test_empty_jsonl(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "x.jsonl", content)
    assert load_error(path) == f"{path}: empty file, expected one scenario per line"


def test_duplicate_id(tmp_path: Path) -> None:
    rows = [{"id": "a1", "text": "t"}] + [{"id": f"b{i}", "text": "t"} for i in range(4)]
    lines = [json.dumps(row) for row in rows] + ["", json.dumps({"id": "a1", "text": "u"})]
    path = write(tmp_path, "x.jsonl", "\n" + "\n".join(lines) + "\n")
    assert load_error(path) == f"{path}:8: duplicate scenario id 'a1' (first on line 2)"


def test_int_and_str_id_collide(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": 1, "text": "t"}\n{"id": "1", "text": "t"}\n')
    assert load_error(path) == f"{path}:2: duplicate scenario id '1' (first on line 1)"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('{"id": "", "text": "t"}', "field 'id': must not be empty"),
        ('{"id": "a", "text": ""}', "field 'text': must not be empty"),
        ('{"id": "a", "text": " \\n "}', "field 'text': must not be blank"),
        ('{"id": true, "text": "t"}', "field 'id': expected a string or integer, got boolean"),
        ('{"id": 1.5, "text": "t"}', "field 'id': expected a string or integer, got number"),
        ('{"id": "a", "title": null, "text": "t"}', "field 'title': expected a string, got null"),
        (
            '{"id": "a", "text": "t", "metadata": []}',
            "field 'metadata': expected an object, got array",
        ),
        ('{"id": "a", "text": "t", "text": "u"}', "key 'text' appears twice"),
    ],
)
def test_jsonl_field_errors(tmp_path: Path, row: str, expected: str) -> None:
    path = write(tmp_path, "x.jsonl", '{"id": "ok", "text": "t"}\n' + row + "\n")
    assert load_error(path) == f"{path}:2: {expected}"


def test_no_such_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    assert load_error(path) == f"{path}: no such file"


def test_unknown_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "id,text\n")
    assert load_error(path) == (
        f"{path}: unknown scenario file type '.txt', expected .jsonl, .yaml, .yml or .csv (DailyDilemmas)"
    )


# --- errors: YAML -------------------------------------------------------------------------


def test_yaml_misspelled_key_carries_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: b\n- id: c\n  titel: d\n  text: e\n")
    assert load_error(path) == f"{path}:4: field 'titel' is not allowed; did you mean 'title'?"


def test_yaml_missing_field_carries_row_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "scenarios:\n  - id: a\n    text: b\n\n  - id: c\n")
    assert load_error(path) == f"{path}:5: field 'text': field required"


def test_yaml_wrong_type_carries_field_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: b\n  metadata:\n    - 1\n")
    assert load_error(path) == f"{path}:3: field 'metadata': expected a mapping, got list"


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: b\n- id: c\n  text: [oops\n- id: d\n")
    message = load_error(path)
    assert message.startswith(f"{path}:5: not valid YAML (")


def test_yaml_tab_indent_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n\ttext: b\n")
    assert load_error(path).startswith(f"{path}:2: not valid YAML (")


def test_yaml_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a1\n  text: b\n- text: c\n  id: a1\n")
    assert load_error(path) == f"{path}:4: duplicate scenario id 'a1' (first on line 1)"


def test_yaml_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: b\n  text: c\n")
    assert load_error(path) == f"{path}:3: key 'text' appears twice (first on line 2)"


def test_yaml_row_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: b\n- just a string\n")
    assert load_error(path) == (f"{path}:3: expected a mapping with keys id, title, text, metadata, got string")


def test_yaml_wrong_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "scenario:\n  - id: a\n    text: b\n")
    assert load_error(path) == (
        f"{path}:1: expected a list of scenarios or a mapping with key 'scenarios'; did you mean 'scenarios'?"
    )


def test_yaml_extra_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "scenarios:\n  - id: a\n    text: b\nversion: 2\n")
    assert load_error(path) == (f"{path}:4: top-level key 'version' is not allowed; only 'scenarios' is expected")


@pytest.mark.parametrize("content", ["", "# only a comment\n"])
def test_yaml_empty(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "x.yaml", content)
    assert load_error(path) == f"{path}: empty file, expected a list of scenarios"


def test_yaml_empty_list(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "scenarios: []\n")
    assert load_error(path) == f"{path}:1: no scenarios, expected at least one"


def test_yaml_unquoted_date_id(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- text: b\n  id: 2024-01-01\n")
    assert load_error(path) == f"{path}:2: field 'id': expected a string or integer, got date"


def test_yaml_unsafe_tag_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "- id: a\n  text: !!python/object/apply:os.getcwd []\n")
    assert load_error(path).startswith(f"{path}:2: not valid YAML (")


# --- resolving a scenario source ----------------------------------------------------------


def test_resolve_bundled_name() -> None:
    path = resolve_scenario_source("aita_value_portrait")
    assert path == DATA_DIR / "aita_value_portrait.jsonl"
    assert path.is_file()


def test_resolve_relative_path_against_base_dir(tmp_path: Path) -> None:
    write(tmp_path, "mine.jsonl", '{"id": "a", "text": "b"}\n')
    assert resolve_scenario_source("mine.jsonl", base_dir=tmp_path) == tmp_path / "mine.jsonl"


def test_resolve_relative_path_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "mine.yaml", "- id: a\n  text: b\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario_source("sub/mine.yaml") == tmp_path / "sub" / "mine.yaml"


def test_resolve_absolute_path(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.jsonl", '{"id": "a", "text": "b"}\n')
    assert resolve_scenario_source(str(path), base_dir=Path("/nonexistent")) == path


def test_resolve_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        resolve_scenario_source("nothing_like_it", base_dir=tmp_path)
    assert str(info.value) == (
        "scenario file 'nothing_like_it' not found; bundled samples: aita_value_portrait, cooperation_backgrounds, "
        "cooperation_sample, dilemmas_sample, open_questions_sample, value_portrait"
    )


@pytest.mark.parametrize("ref", ["aita_value_portrat", "aita_value_portrait.jsonl"])
def test_resolve_close_name_suggests_bundled(tmp_path: Path, ref: str) -> None:
    with pytest.raises(UserError) as info:
        resolve_scenario_source(ref, base_dir=tmp_path)
    assert str(info.value) == (
        f"scenario file '{ref}' not found; did you mean 'aita_value_portrait'? "
        "bundled samples: aita_value_portrait, cooperation_backgrounds, cooperation_sample, dilemmas_sample, "
        "open_questions_sample, value_portrait"
    )
