"""The command line on scripted specs: run, trace, graph, schema, and its one-line errors."""

from __future__ import annotations

import json

import pytest
import yaml

from helpers import debate_spec, events_of, verdict
from moot.cli import main
from moot.trace.events import parse_event


def _spec_file(tmp_path, **fields):
    path = tmp_path / "spec.yaml"
    path.write_text(
        yaml.safe_dump(debate_spec({"alice": [verdict("NTA"), verdict("YTA")], "bob": [verdict("YTA")]}, **fields))
    )
    return path


def _scenarios(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "title": "t", "text": "x"}\n{"id": "b", "title": "t", "text": "y"}\n')
    return path


def test_run_prints_a_summary_and_trace_exports_round_tripping_jsonl(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(_spec_file(tmp_path)), "--scenarios", str(_scenarios(tmp_path)), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == f"run directory  {out}"
    assert "conversations  2 (2 completed, 0 failed)" in printed
    assert "consensus      2 of 2 completed (100%)" in printed
    assert f"trace          {out / 'trace.sqlite'}" in printed
    assert main(["trace", str(out), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [parse_event(line) for line in lines] == events_of(out)
    conversation = events_of(out)[0].conversation_id
    assert main(["trace", str(out), "--conversation", conversation]) == 0
    table = capsys.readouterr().out
    assert "message_added" in table and "stopped" in table and conversation in table


def test_model_override_for_one_agent_and_for_all(tmp_path, capsys):
    spec = _spec_file(tmp_path)
    assert main(["validate", str(spec), "--model", "bob=local:missing.gguf"]) == 2
    assert "model file 'missing.gguf' not found" in capsys.readouterr().err
    assert main(["validate", str(spec), "--model", "bobb=local"]) == 2
    assert "--model bobb=local: agent 'bobb' is unknown; did you mean 'bob'?" in capsys.readouterr().err
    assert main(["validate", str(spec), "--model", "anthropc:claude"]) == 2
    assert "did you mean 'anthropic'?" in capsys.readouterr().err


def test_graph_draws_the_protocol_in_each_format(tmp_path, capsys):
    spec = str(_spec_file(tmp_path))
    assert main(["graph", spec]) == 0
    out = capsys.readouterr().out
    assert "  step 1: alice\n  step 2: bob, after alice\n" in out
    assert "then: stop if every speaker gives the same verdict or 4 rounds reached; else the next round" in out
    assert "  bob    speaker  debater  debater     full history    alice" in out
    assert main(["graph", spec, "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD\n") and "  agent_alice --> agent_bob\n" in out
    assert '  stop_check -- "no: next round" --> round_start\n' in out
    assert main(["graph", spec, "--format", "dot"]) == 0
    assert "  agent_alice -> agent_bob;\n" in capsys.readouterr().out
    assert main(["graph", spec, "--format", "svg"]) == 0
    assert capsys.readouterr().out.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert main(["graph", spec, "--format", "png"]) == 2
    assert "invalid choice: 'png'" in capsys.readouterr().err


def test_schema_is_json_schema_of_the_spec(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"agents", "roles", "turns", "rounds", "stop"} <= set(schema["properties"])


def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys):
    spec = _spec_file(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "b", "titel": "t", "text": "y"}\n')
    cases = [
        (
            ["run", str(spec), "--scenarios", str(bad), "--out", str(tmp_path / "r1")],
            f"{bad}:2: field 'titel' is not allowed; did you mean 'title'?",
        ),
        (
            ["run", str(spec), "--scenarios", str(_scenarios(tmp_path)), "--out", str(tmp_path / "r2"), "--limit", "0"],
            "argument --limit: must be at least 1 (got 0)",
        ),
        (
            [
                "run",
                str(spec),
                "--scenarios",
                str(_scenarios(tmp_path)),
                "--out",
                str(tmp_path / "r3"),
                "--concurrency",
                "0",
            ],
            "argument --concurrency: must be at least 1 (got 0)",
        ),
        (["trace", str(tmp_path)], "is not a run directory"),
        (["trace", str(tmp_path / "nowhere")], "run directory"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
    assert not any((tmp_path / name).exists() for name in ("r1", "r2", "r3", "nowhere"))
    assert not (tmp_path / "trace.sqlite").exists()


def test_unknown_conversation_id_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "run"
    main(["run", str(_spec_file(tmp_path)), "--scenarios", str(_scenarios(tmp_path)), "--out", str(out), "--quiet"])
    capsys.readouterr()
    assert main(["trace", str(out), "--conversation", "nope"]) == 2
    assert "conversation 'nope' is not in" in capsys.readouterr().err


def test_help_still_prints_usage_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--help"])
    assert exited.value.code == 0
    assert "--resume RUN_DIR" in capsys.readouterr().out


def test_a_file_the_system_refuses_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    from moot import cli

    def refuse(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked.json"))

    monkeypatch.setitem(cli.COMMANDS, "schema", refuse)
    assert main(["schema"]) == 2
    assert capsys.readouterr().err == f"moot: error: '{tmp_path / 'locked.json'}': Permission denied\n"
