"""The corpus of bad inputs in `bad_inputs/`: each one through the CLI gives one line, exit 2, and writes nothing.

Every file (or folder) of the corpus is one mistake; the ones whose format allows it say which
in their first line. `spec_*` files go through `moot validate`, `scenarios_*` files through
`moot run` with a good spec, `run_*` folders through `moot run --resume`, `moot analyze` and
`moot trace`. A finished run and an output directory that holds another run are made here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from moot.cli import main

from helpers import GOOD_SPEC_YAML

CORPUS = Path(__file__).parent / "bad_inputs"


EXPECTED = {
    "run_manifest_missing_fields": "run.json: not a valid run manifest (spec: Field required)",
    "run_manifest_not_json": "run.json: not a valid run manifest (Invalid JSON",
    "run_manifest_not_utf8": "run.json: not UTF-8 text (byte 0xe9 at offset 13)",
    "run_not_a_run": "is not a run directory (no run.json)",
    "scenarios_bad_json_line.jsonl": ":2: not valid JSON",
    "scenarios_duplicate_ids.jsonl": ":2: duplicate scenario id 'a'",
    "scenarios_duplicate_key.jsonl": ":1: key 'text' appears twice",
    "scenarios_empty.jsonl": ": empty file, expected one scenario per line",
    "scenarios_latin1.jsonl": ":1: not UTF-8 text (byte 0xe9",
    "scenarios_missing_id.yaml": ":3: field 'id': field required",
    "scenarios_missing_text.jsonl": ":2: field 'text': field required",
    "scenarios_misspelled_field.yaml": ":2: field 'titel' is not allowed; did you mean 'title'?",
    "scenarios_not_an_object.jsonl": ":1: expected a JSON object",
    "scenarios_only_a_comment.yaml": ": empty file, expected a list of scenarios",
    "scenarios_utf16.jsonl": ":1: not UTF-8 text (byte 0xff at offset 0)",
    "scenarios_wrong_extension.txt": "unknown scenario file type '.txt'",
    "scenarios_wrong_type.jsonl": ":1: field 'text': expected a string, got integer",
    "scenarios_yaml_syntax.yaml": ":3: not valid YAML",
    "spec_absurd_rounds.yaml": ":5: rounds: Input should be less than or equal to 100",
    "spec_bad_agent_name.yaml": ":10: agents[1].name: String should match pattern",
    "spec_compatible_without_url.yaml": ":3: model: model 'openai-compatible:llama' needs a base URL",
    "spec_custom_graph_cycle.yaml": ":4: turns.edges: the round graph has a cycle",
    "spec_custom_graph_no_exit.yaml": ":4: turns.edges: agent 'alice' has no path to 'end'",
    "spec_custom_graph_unknown_node.yaml": ":4: turns.edges[1]: node 'bobb' is unknown; did you mean 'bob'?",
    "spec_custom_graph_unreachable.yaml": ":4: turns.edges: agent 'bob' is unreachable from 'start'",
    "spec_decision_without_judge.yaml": ":7: stop[0].decision.agent: judge 'judge' is unknown",
    "spec_duplicate_agent_names.yaml": ":10: agents[1].name: duplicate agent name 'alice'",
    "spec_empty.yaml": ": empty spec file",
    "spec_latin1.yaml": ": not UTF-8 text (byte 0xe9",
    "spec_missing_agent_name.yaml": ":10: agents[1].name: missing required key 'name'",
    "spec_missing_prompt_template.yaml": ":13: roles.debater.prompt: prompt template 'debatr' is unknown; did you mean 'debater'?",
    "spec_misspelled_agent_key.yaml": ":10: agents[1].temprature: unknown key 'temprature'; did you mean 'temperature'?",
    "spec_misspelled_role_key.yaml": ":14: roles.debater.outptu: unknown key 'outptu'; did you mean 'output'?",
    "spec_misspelled_top_key.yaml": ":8: agnets: unknown key 'agnets'; did you mean 'agents'?",
    "spec_negative_rounds.yaml": ":5: rounds: Input should be greater than or equal to 1 (got -1)",
    "spec_not_a_mapping.yaml": ": a spec must be a mapping",
    "spec_only_a_comment.yaml": ": a spec must be a mapping",
    "spec_role_without_prompt.yaml": ":13: roles.debater.prompt: role 'debater' has no prompt",
    "spec_stop_on_field_no_role_outputs.yaml": ":7: stop[0].consensus: consensus field 'conceded' is unknown",
    "spec_stop_on_misspelled_field.yaml": ":7: stop[0].consensus: consensus field 'verdikt' is unknown; did you mean 'verdict'?",
    "spec_undefined_template_variable.yaml": ":13: roles.debater.prompt: template uses an undefined variable",
    "spec_unknown_output_schema.yaml": ":14: roles.debater.output: output schema 'verdikt' is unknown; did you mean 'verdict'?",
    "spec_unknown_provider.yaml": ":3: model: model provider 'opnai' is unknown; did you mean 'openai'?",
    "spec_unknown_provider_settings.yaml": ":4: providers.opnai: provider 'opnai' is unknown; did you mean 'openai'?",
    "spec_unknown_study.yaml": ":3: study: Value error, study 'deliberaton' is unknown; did you mean 'deliberation'?",
    "spec_unknown_turn_policy.yaml": ":4: turns: Input should be 'synchronous' or 'round_robin' (got 'roundrobin')",
    "spec_utf16.yaml": ": not UTF-8 text (byte 0xff at offset 0)",
    "spec_wrong_type_agents.yaml": ":8: agents: Input should be a valid list",
    "spec_wrong_type_rounds.yaml": ":5: rounds: Input should be a valid integer",
    "spec_wrong_type_temperature.yaml": ":10: agents[1].temperature: Input should be a valid number",
    "spec_yaml_tab_indent.yaml": ":14:1: YAML syntax error: found character '\\t' that cannot start any token",
    "spec_yaml_unclosed_bracket.yaml": ":6:5: YAML syntax error",
    "spec_zero_agents.yaml": ":8: agents: List should have at least 1 item",
    "spec_zero_rounds.yaml": ":5: rounds: Input should be greater than or equal to 1 (got 0)",
}
"""What the one line says about each corpus entry (after `moot: error: <path>`)."""

COMMENTLESS = {".jsonl", ""}
"""Formats without comments (JSON lines, run folders), and files that are empty or not UTF-8 on purpose."""


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders with the SHA-256 of its bytes."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def commands(entry: Path, good_spec: Path, out: Path) -> list[list[str]]:
    """The CLI commands a corpus entry goes through."""
    if entry.name.startswith("spec_"):
        return [["validate", str(entry)]]
    if entry.name.startswith("scenarios_"):
        return [["run", str(good_spec), "--scenarios", str(entry), "--out", str(out), "--quiet"]]
    return [["run", "--resume", str(entry)], ["analyze", str(entry)], ["trace", str(entry)]]


def check_one_line(argv: list[str], capsys: pytest.CaptureFixture[str], expected: str, names: Path | None = None) -> None:
    """Exit code 2, one line on stderr holding `expected` (and naming `names`), no traceback."""
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moot: error: "), (argv, err)
    assert names is None or str(names) in err, (argv, err)
    assert expected in err and "Traceback" not in err, (argv, err)


def test_the_corpus_covers_every_category_and_says_what_is_wrong() -> None:
    entries = sorted(p.name for p in CORPUS.iterdir())
    assert len(entries) >= 40
    assert entries == sorted(EXPECTED), "every corpus entry has its expected message, and only those"
    for name in entries:
        path = CORPUS / name
        data = path.read_bytes() if path.is_file() else b"#"
        if path.suffix not in COMMENTLESS and data and data.isascii():
            assert data.startswith(b"# "), f"{name} starts with a comment saying what is wrong"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_input_gives_one_line_exit_2_and_writes_nothing(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good_spec = tmp_path / "good.yaml"
    good_spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    out = tmp_path / "out"
    entry = CORPUS / name
    before = snapshot(CORPUS, tmp_path)
    for argv in commands(entry, good_spec, out):
        expected = EXPECTED[name] if argv[0] != "analyze" and argv[0] != "trace" else "run directory"
        check_one_line(argv, capsys, expected, names=entry)
    assert not out.exists()
    assert snapshot(CORPUS, tmp_path) == before, "nothing may be written"


def test_a_finished_run_a_taken_out_dir_and_stray_resume_options_are_refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    run = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(cases), "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    before = snapshot(run)
    check_one_line(["run", "--resume", str(run)], capsys, f"run '{run}' is finished (1 completed, 0 failed of 1); nothing to resume")
    check_one_line(["run", str(spec), "--scenarios", str(cases), "--out", str(run), "--quiet"], capsys, f"output directory '{run}' already exists and holds another run")
    check_one_line(["run", str(spec), "--resume", str(run)], capsys, f"--resume {run} takes no a spec")
    check_one_line(["run", "--resume", str(run), "--limit", "2"], capsys, "takes no --limit")
    check_one_line(["run"], capsys, "moot run needs a spec")
    assert snapshot(run) == before, "the existing run is unchanged, byte for byte"
