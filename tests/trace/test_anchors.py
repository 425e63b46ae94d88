"""Anchors kept outside the run directory: `moot verify --expect HASH` and ledgers (`--ledger FILE`).

A forger who rewrites a message, recomputes the whole chain and rewrites run.json's final hash
leaves a run that verifies on its own; only a hash kept elsewhere catches it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import moot
from helpers import SCENARIOS, debate_spec, events_of, rewritten_copy, verdict
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.trace.events import MessageAdded
from moot.trace.ledger import LedgerLine, read_ledger
from moot.trace.manifest import RunManifest


def one_value(messages: list[dict[str, str]], context: CallContext) -> str:
    return json.dumps({"values": ["Honesty"]})


def scripted_run(root: Path, ledger: Path | None = None) -> Path:
    """A finished scripted debate (2 scenarios, 2 debaters, 2 rounds), its anchor appended to `ledger` when given."""
    scripts = {
        "alice": [verdict("NTA", "alice is sure"), verdict("YTA", "alice turns")],
        "bob": [verdict("YTA", "bob holds firm")],
    }
    spec = debate_spec(scripts)
    return moot.run(spec, SCENARIOS, out=root / "run", cache=None, ledger=ledger).run_dir


def lines_of(ledger: Path) -> list[LedgerLine]:
    return [line for _, line in read_ledger(ledger)]


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    """`moot verify ARGV`: its exit code and its lines."""
    capsys.readouterr()
    code = main(["verify", *argv])
    return code, capsys.readouterr().out.splitlines()


def test_a_rewritten_chain_passes_on_its_own_and_fails_against_an_anchor(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    run = scripted_run(tmp_path, ledger)
    original = RunManifest.read(run)
    events = events_of(run)
    said = next(e for e in events if isinstance(e, MessageAdded) and e.agent == "bob")
    changed = said.content.replace("bob holds firm", "bob is not sure")
    events[events.index(said)] = said.model_copy(update={"content": changed})
    forged = rewritten_copy(run, tmp_path / "forged", events)

    code, lines = verify(capsys, str(forged))
    assert code == 0 and lines[0].startswith(f"ok: {forged}: "), "on its own, a rewritten chain and run.json verify"
    code, lines = verify(capsys, str(forged), "--expect", original.final_hash)
    no_such = f"anchor: no event of the trace has the hash {original.final_hash} (--expect)"
    assert code == 1 and lines == [f"{no_such}: its events were rewritten, or it is another run's"]
    code, lines = verify(capsys, str(forged), "--ledger", str(ledger))
    assert code == 1 and len(lines) == 1
    anchored = f"{ledger}:1 anchors event {original.events} with hash {original.final_hash[:12]}... (run, "
    assert lines[0].startswith(f"anchor at seq {original.events}: {anchored}")
    assert lines[0].endswith(f"its event {original.events} has hash {RunManifest.read(forged).final_hash[:12]}...")

    code, lines = verify(capsys, str(run), "--expect", original.final_hash, "--ledger", str(ledger))
    assert code == 0 and lines[0].endswith("; 2 anchors kept elsewhere hold")
    assert f"final hash {original.final_hash}" in lines[0]


def test_commands_that_append_add_a_ledger_line_and_an_anchor_is_a_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    register_responder("anchor_values", one_value)
    ledger = tmp_path / "ledger.jsonl"
    run = scripted_run(tmp_path, ledger)
    after_run = RunManifest.read(run)

    capsys.readouterr()
    assert main(["judge", str(run), "--model", "scripted:anchor_values", "--no-cache", "--ledger", str(ledger)]) == 0
    after_judge = RunManifest.read(run)
    assert after_judge.events > after_run.events

    manifest = RunManifest.read(run)
    manifest.status = "interrupted"  # a resume finds every conversation stopped, and records the run again
    manifest.write(run)
    moot.api.resume(run, scenarios=SCENARIOS, ledger=ledger)  # its scenarios were given in Python
    after_resume = RunManifest.read(run)

    lines = lines_of(ledger)
    assert [(line.command, line.run_id, line.events, line.final_hash) for line in lines] == [
        ("run", after_run.run_id, after_run.events, after_run.final_hash),
        ("judge values", after_run.run_id, after_judge.events, after_judge.final_hash),
        ("resume", after_run.run_id, after_resume.events, after_resume.final_hash),
    ]
    assert lines[0].time <= lines[1].time <= lines[2].time
    code, out = verify(capsys, str(run), "--ledger", str(ledger), "--expect", after_run.final_hash)
    assert code == 0 and out[0].endswith("; 4 anchors kept elsewhere hold"), out


def test_a_ledger_is_refused_in_one_line_when_unreadable_or_inside_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = scripted_run(tmp_path)
    ledger = tmp_path / "ledger.jsonl"
    line = {"run_id": "r", "events": 1, "final_hash": None, "command": "run", "time": "2030-01-01T00:00:00Z"}
    ledger.write_text(json.dumps(line) + '\n\n{"run_id": 3}\n')
    nowhere, inside, missing = tmp_path / "nowhere.jsonl", run / "ledger.jsonl", tmp_path / "missing" / "ledger.jsonl"
    cases = [
        (["verify", str(run), "--ledger", str(ledger)], f"{ledger}:3: not a ledger line (run_id: Input should be"),
        (["verify", str(run), "--ledger", str(nowhere)], f"ledger '{nowhere}' not found"),
        (["verify", str(run), "--expect", "3f2a"], "--expect '3f2a': expected an event hash (64 lowercase hex digits)"),
        (["run", "--resume", str(run), "--ledger", str(inside)], f"--ledger '{inside}' is inside the run directory"),
        (["judge", str(run), "--ledger", str(missing)], f"directory '{missing.parent}' does not exist"),
    ]
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    for argv, expected in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("moot: error: ") and expected in err, (argv, err)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_a_ledger_without_a_line_of_the_run_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other_ledger = tmp_path / "other.jsonl"
    scripted_run(tmp_path / "other", other_ledger)
    run = scripted_run(tmp_path)
    code, lines = verify(capsys, str(run), "--ledger", str(other_ledger))
    assert code == 1 and lines == [f"anchor: {other_ledger} holds no line of run '{RunManifest.read(run).run_id}'"]
