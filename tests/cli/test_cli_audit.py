"""`moot verify`, `moot replay` and `moot export` on a scripted run: their lines and exit codes."""

from __future__ import annotations

import shutil
import sqlite3

import yaml

from helpers import debate_spec, verdict
from moot.cli import main


def make_run(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            debate_spec(
                {
                    "alice": [verdict("NTA", "alice first"), verdict("YTA", "alice agrees")],
                    "bob": [verdict("YTA", "bob holds")],
                }
            )
        )
    )
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "title": "t", "text": "x"}\n{"id": "b", "title": "t", "text": "y"}\n')
    out = tmp_path / "run"
    assert main(["run", str(spec), "--scenarios", str(cases), "--out", str(out), "--quiet", "--no-cache"]) == 0
    return out


def test_verify_prints_one_ok_line_or_one_line_per_problem(tmp_path, capsys):
    run = make_run(tmp_path)
    capsys.readouterr()
    assert main(["verify", str(run)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"ok: {run}: ") and "2 conversations, 8 model calls" in out

    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    db = sqlite3.connect(broken / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_delete")
    db.execute("DELETE FROM events WHERE seq = 4")
    db.close()
    assert main(["verify", str(broken)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "removed at seq 4: event 4 is missing: event 5 points to a hash no event has"
    assert "run.json counts" in "\n".join(lines[1:])


def test_replay_and_export(tmp_path, capsys):
    run = make_run(tmp_path)
    capsys.readouterr()
    assert main(["replay", str(run), "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"ok: {run}: 2 conversations, 10 messages, decisions and stops replayed identically in {tmp_path / 'again'}\n"
    )
    assert (
        main(
            [
                "export",
                str(run),
                "--format",
                "csv",
                "--out",
                str(tmp_path / "tables"),
                "--table",
                "messages",
                "--table",
                "calls",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["messages", "8"], ["calls", "8"]]
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["calls.csv", "messages.csv"]


def test_audit_commands_report_user_errors_in_one_line(tmp_path, capsys):
    run = make_run(tmp_path)
    (tmp_path / "cases.jsonl").write_text('{"id": "a", "title": "t", "text": "changed"}\n')
    capsys.readouterr()
    cases = [
        (["verify", str(tmp_path / "nowhere")], "run directory"),
        (["export", str(tmp_path), "--format", "jsonl"], "is not a run directory"),
        (["replay", str(run), "--out", str(tmp_path / "again")], "changed since run"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "again").exists()
