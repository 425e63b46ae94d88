"""`moot validate` checks what `moot run` checks before its first call, and warns about what does nothing."""

from __future__ import annotations

from pathlib import Path

import moot
from helpers import GOOD_SPEC_YAML, events_of
from moot.cli import main


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_an_unused_role_is_a_warning_line_and_validation_passes(tmp_path, capsys):
    spec = _write(tmp_path, GOOD_SPEC_YAML + "  referee:\n    prompt: You referee.\n")
    assert main(["validate", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok: demo:")
    assert err == f"moot: warning: {spec}:14: roles.referee: role 'referee' is used by no agent\n"
    assert main(["graph", str(spec)]) == 0
    assert "role 'referee' is used by no agent" in capsys.readouterr().err


def test_a_speaker_in_no_edge_is_a_warning_and_never_speaks(tmp_path, capsys):
    text = GOOD_SPEC_YAML.replace("turns: round_robin", "turns: {edges: [[start, alice], [alice, end]]}")
    spec = _write(tmp_path, text)
    assert main(["validate", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert "order alice\n" in out
    assert err == (
        f"moot: warning: {spec}:9: agents[1]: agent 'bob' (a speaker, role 'debater') is in no edge of the round graph:"
        " it is never reached and never speaks\n"
    )
    result = moot.run(spec, [{"id": "s1", "text": "x"}], out=tmp_path / "run", cache=None)
    assert {e.agent for e in events_of(result.run_dir, "message_added")} == {"alice"}


def test_validate_reads_the_specs_own_scenarios(tmp_path, capsys):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "x"}\n')
    spec = _write(tmp_path, "scenarios: cases.jsonl\n" + GOOD_SPEC_YAML)
    assert main(["validate", str(spec)]) == 0
    cases.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n')
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"moot: error: {spec}:1: scenarios: ") and "a" in err and err.count("\n") == 1


def test_a_round_graph_of_no_speaker_is_an_error(tmp_path, capsys):
    spec = _write(tmp_path, GOOD_SPEC_YAML.replace("turns: round_robin", "turns: {edges: [[start, end]]}"))
    assert main(["validate", str(spec)]) == 2
    assert "turns.edges: the round graph holds no speaker" in capsys.readouterr().err
