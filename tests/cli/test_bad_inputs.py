"""The corpus of bad inputs in `bad_inputs/`: each one through the CLI gives one line, exit 2, and writes nothing.

Every file (or folder) of the corpus is one mistake; the ones whose format allows it say which
in their first line. Four kinds, by prefix:

- `spec_*` files go through `moot validate` and `moot graph`;
- `scenarios_*` files through `moot run` with a good spec;
- `run_*` folders through every command that reads a run (`RUN_COMMANDS`); `moot verify` exits 1
  instead of 2 where it finds something wrong with a run it could read (`VERIFY_FINDS`);
- `cli_*.args` files hold one command line (after their comment line), split like a shell does,
  with placeholders for a good spec (`{spec}`), good scenarios (`{scenarios}`), a finished run
  (`{run}`), an existing file (`{file}`), a folder (`{dir}`) and a path in a missing folder
  (`{missing}`).

A finished run and an output directory that holds another run are made here.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import pytest

from moot.cli import main

from helpers import GOOD_SPEC_YAML

CORPUS = Path(__file__).parent / "bad_inputs"


RUN = "run-20261203T110648-39341f"
"""The run id of the corpus's run folders (each a copy of one scripted run, broken one way)."""
OTHER_RUN = "run-20261203T110650-4d857b"
"""The run id of the trace that `run_trace_foreign` took from another run."""
CHANGED_RUN = "run-20000101T000000-000000"
"""The run id that `run_manifest_run_id_changed` gives its run.json."""
COUNTED = "trace.sqlite: run.json counts 9 events ending in ca42e7fb197c..."
"""How a line about the trace of a corpus run folder begins: the trace, and what its run.json expects of it."""
FOUND = "{entry}/trace.sqlite"
"""How a finding of `moot verify` about the trace of a corpus run folder names it (`{entry}`: the folder)."""

EXPECTED: dict[str, str] = {
    # Run directories.
    "run_manifest_array": "run.json: not a run manifest (a JSON array, not an object)",
    "run_manifest_binary": "run.json: not UTF-8 text (byte 0x89 at offset 0)",
    "run_manifest_events_not_a_number": "run.json: not a valid run manifest (events: Input should be a valid integer",
    "run_manifest_final_hash_changed": (
        "run.json counts 9 events ending in 000000000000...; the trace has event 9 hashed ca42e7fb197c...,"
        " not run.json's final hash"
    ),
    "run_manifest_half_written": "run.json: not JSON (Unterminated string starting at at line 87 column 5)",
    "run_manifest_is_a_directory": "run.json: not a file",
    "run_manifest_missing_fields": "run.json: not a valid run manifest (spec: Field required)",
    "run_manifest_not_json": "run.json: not JSON (Expecting value at line 1 column 1)",
    "run_manifest_not_utf8": "run.json: not UTF-8 text (byte 0xe9 at offset 13)",
    "run_manifest_run_id_changed": f"{COUNTED}; the trace holds events of run '{RUN}', not of run '{CHANGED_RUN}'",
    "run_manifest_trace_not_postgresql": "run.json: trace 'mysql://db.example/moot' is not a postgresql:// URL",
    "run_not_a_run": "is not a run directory (no run.json",
    "run_trace_deleted": f"{COUNTED}; the trace is missing",
    "run_trace_deleted_completed": f"{COUNTED}; the trace is missing",
    "run_trace_directory": f"{COUNTED}; the trace is a directory, not a database",
    "run_trace_event_not_parsing": f"{COUNTED}; the trace holds an event that does not parse at seq 3 (Input tag",
    "run_trace_events_after_the_end": (
        "run.json counts 7 events ending in 63e7225beb33...; the trace holds 9 events;"
        " a completed run's run.json counts every event"
    ),
    "run_trace_foreign": f"{COUNTED}; the trace holds events of run '{OTHER_RUN}', not of run '{RUN}' of run.json",
    "run_trace_garbage": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_header_zeroed": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_last_events_deleted": f"{COUNTED}; the trace holds 7 events",
    "run_trace_last_page_cut": f"{COUNTED}; the trace is damaged (database disk image is malformed)",
    "run_trace_no_events": f"{COUNTED}; the trace holds no events",
    "run_trace_no_events_table": f"{COUNTED}; the trace has no events table",
    "run_trace_page_scribbled": f"{COUNTED}; the trace is damaged (Page 3: btreeInitPage() returns error code 11)",
    "run_trace_text_file": f"{COUNTED}; the trace is damaged (file is not a database)",
    "run_trace_truncated_half": f"{COUNTED}; the trace is damaged (database disk image is malformed)",
    "run_trace_zero_bytes": f"{COUNTED}; the trace is empty (0 bytes)",
    # Scenario files.
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
    # Specs.
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
    # Command lines.
}
"""What the one line says about each corpus entry (after `moot: error: `)."""

RUN_EXPECTED: dict[str, dict[str, str]] = {}
"""Where a command words its line about a run folder otherwise than `EXPECTED` (by command name)."""

EXPECTS = COUNTED.removeprefix("trace.sqlite: ")
"""What run.json of a corpus run folder expects of its trace, as a finding of `moot verify` ends."""

VERIFY_FINDS: dict[str, str] = {
    "run_manifest_final_hash_changed": f"manifest: run.json's final hash {'0' * 64} is not the hash",
    "run_manifest_run_id_changed": f"foreign: {FOUND} holds events of run '{RUN}', not of run '{CHANGED_RUN}'",
    "run_trace_deleted": f"missing: {FOUND} is missing; {EXPECTS}",
    "run_trace_deleted_completed": f"missing: {FOUND} is missing; {EXPECTS}",
    "run_trace_directory": f"damaged: {FOUND} is a directory, not a database; {EXPECTS}",
    "run_trace_event_not_parsing": "edited at seq 3: its body is not a valid event",
    "run_trace_events_after_the_end": "inserted at seq 8: 2 event(s) after the final event of run.json (event 7)",
    "run_trace_foreign": f"foreign: {FOUND} holds events of run '{OTHER_RUN}', not of run '{RUN}' of run.json",
    "run_trace_garbage": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_header_zeroed": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_last_events_deleted": "removed at seq 8: run.json counts 9 events ending in a hash no event has",
    "run_trace_last_page_cut": f"damaged: {FOUND} is damaged (database disk image is malformed); {EXPECTS}",
    "run_trace_no_events": f"missing: {FOUND} holds no events; {EXPECTS}",
    "run_trace_no_events_table": f"missing: {FOUND} has no events table; {EXPECTS}",
    "run_trace_page_scribbled": f"damaged: {FOUND} is damaged (Page 3: btreeInitPage() returns error code 11);",
    "run_trace_text_file": f"damaged: {FOUND} is damaged (file is not a database); {EXPECTS}",
    "run_trace_truncated_half": f"damaged: {FOUND} is damaged (database disk image is malformed); {EXPECTS}",
    "run_trace_zero_bytes": f"missing: {FOUND} is empty (0 bytes); {EXPECTS}",
}
"""Run folders that `moot verify` reads and finds wrong (exit 1): how its first line begins, the kind of
what it found first (`{entry}` stands for the folder)."""

RUN_COMMANDS: dict[str, list[str]] = {
    "resume": ["run", "--resume", "{entry}"],
    "analyze": ["analyze", "{entry}", "--out", "{tmp}/analysis"],
    "trace": ["trace", "{entry}"],
    "verify": ["verify", "{entry}"],
    "export": ["export", "{entry}", "--format", "jsonl", "--out", "{tmp}/export"],
    "report": ["report", "{entry}", "--out", "{tmp}/report.html"],
    "replay": ["replay", "{entry}", "--out", "{tmp}/replay"],
    "judge": ["judge", "{entry}", "--no-cache"],
}
"""Every command that reads a run, as given a run folder of the corpus (outputs go to the working folder)."""

COMMENTLESS = {".jsonl", ""}
"""Formats without comments (JSON lines, run folders), and files that are empty or not UTF-8 on purpose."""


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders with the SHA-256 of its bytes."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def kind_of(name: str) -> str:
    """The kind of a corpus entry, from its prefix."""
    return name.split("_", 1)[0]


def args_line(entry: Path) -> str:
    """The command line of a `cli_*.args` entry: its first line that is not a comment."""
    return next(line for line in entry.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))


def command_lines(entry: Path, places: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """The CLI commands a corpus entry goes through, each with its name."""
    name = entry.name
    if name.startswith("spec_"):
        return [("validate", ["validate", str(entry)]), ("graph", ["graph", str(entry)])]
    if name.startswith("scenarios_"):
        return [("run", ["run", str(places["spec"]), "--scenarios", str(entry), "--out", str(places["out"]), "--quiet"])]
    if name.startswith("run_"):
        fill = {"entry": str(entry), **{key: str(value) for key, value in places.items()}}
        return [(command, [part.format(**fill) for part in argv]) for command, argv in RUN_COMMANDS.items()]
    fill = {key: str(value) for key, value in places.items()}
    return [("cli", [part.format(**fill) for part in shlex.split(args_line(entry))])]


def check_one_line(argv: list[str], capsys: pytest.CaptureFixture[str], expected: str, names: Path | None = None) -> None:
    """Exit code 2, one line on stderr holding `expected` (and naming `names`), no traceback."""
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moot: error: "), (argv, err)
    assert names is None or str(names) in err, (argv, err)
    assert expected in err and "Traceback" not in err, (argv, err)


def check_verify_finds(argv: list[str], capsys: pytest.CaptureFixture[str], finding: str) -> None:
    """`moot verify` exits 1 and its first line begins with `finding` (the kind of what it found); no traceback."""
    assert main(argv) == 1, argv
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines and lines[0].startswith(finding), (argv, captured.out)
    assert "Traceback" not in captured.out + captured.err, (argv, captured.err)


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """A working folder with a good spec, good scenarios, a finished run, a file and a folder (the placeholders)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOOT_CACHE", str(tmp_path / "cache" / "responses.sqlite"))
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD_SPEC_YAML, encoding="utf-8")
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(scenarios), "--out", str(run), "--quiet", "--no-cache"]) == 0
    capsys.readouterr()
    existing = tmp_path / "existing.txt"
    existing.write_text("a file that is not a folder\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "tmp": tmp_path, "spec": spec, "scenarios": scenarios, "run": run, "file": existing, "dir": folder,
        "missing": tmp_path / "missing" / "x", "out": tmp_path / "out",
    }


def test_the_corpus_covers_every_kind_and_says_what_is_wrong() -> None:
    entries = sorted(p.name for p in CORPUS.iterdir())
    assert len(entries) >= 40
    assert entries == sorted(EXPECTED), "every corpus entry has its expected message, and only those"
    assert {kind_of(name) for name in entries} <= {"spec", "scenarios", "run", "cli"}
    assert set(RUN_EXPECTED) | set(VERIFY_FINDS) <= {name for name in entries if kind_of(name) == "run"}
    for name in entries:
        path = CORPUS / name
        data = path.read_bytes() if path.is_file() else b"#"
        if path.suffix not in COMMENTLESS and data and data.isascii():
            assert data.startswith(b"# "), f"{name} starts with a comment saying what is wrong"
        if kind_of(name) == "cli":
            assert path.suffix == ".args", f"{name}: a command line entry is a .args file"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_input_gives_one_line_exit_2_and_writes_nothing(name: str, places: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    entry = CORPUS / name
    before = snapshot(CORPUS, places["tmp"])
    for command, argv in command_lines(entry, places):
        if command == "verify" and name in VERIFY_FINDS:
            check_verify_finds(argv, capsys, VERIFY_FINDS[name].format(entry=entry))
            continue
        expected = RUN_EXPECTED.get(name, {}).get(command, EXPECTED[name])
        check_one_line(argv, capsys, expected, names=entry if kind_of(name) != "cli" else None)
    assert not places["out"].exists()
    assert snapshot(CORPUS, places["tmp"]) == before, "nothing may be written"


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
