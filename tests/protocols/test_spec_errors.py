"""Every spec mistake is one line naming the file, the line and the field, with exit code 2."""

from __future__ import annotations

import pytest

from helpers import GOOD_SPEC_YAML as GOOD
from moot.cli import main

# (id, edit of GOOD as (old, new), expected line number or None, expected text)
CASES = [
    ("yaml-syntax", ("rounds: 2", "rounds: [2"), 5, "YAML syntax error"),
    ("misspelled-key", ("agents:", "agnets:"), 7, "unknown key 'agnets'; did you mean 'agents'?"),
    (
        "misspelled-nested-key",
        ("    output: verdict", "    outptu: verdict"),
        13,
        "roles.debater.outptu: unknown key 'outptu'; did you mean 'output'?",
    ),
    (
        "unknown-provider",
        ("model: scripted", "model: opnai:gpt-4.1"),
        2,
        "model provider 'opnai' is unknown; did you mean 'openai'? "
        "known: anthropic, local, openai, openai-compatible, scripted",
    ),
    ("duplicate-agent", ("{name: bob,", "{name: alice,"), 9, "agents[1].name: duplicate agent name 'alice'"),
    (
        "unknown-role",
        ("{name: bob, role: debater", "{name: bob, role: debatr"),
        9,
        "role 'debatr' is unknown; did you mean 'debater'?",
    ),
    ("role-without-prompt", ("    prompt: debater\n", ""), 12, "role 'debater' has no prompt"),
    (
        "unknown-template",
        ("prompt: debater", "prompt: debatr"),
        12,
        "prompt template 'debatr' is unknown; did you mean 'debater'?",
    ),
    (
        "undefined-variable",
        ("prompt: debater", "prompt: 'Judge {{ scenario.titel }}'"),
        12,
        "template uses an undefined variable",
    ),
    ("template-syntax", ("prompt: debater", "prompt: 'Judge {{ scenario.title '"), 12, "template syntax error"),
    (
        "stop-on-unknown-field",
        ("consensus: verdict", "consensus: verdikt"),
        6,
        "consensus field 'verdikt' is unknown; did you mean 'verdict'?",
    ),
    (
        "unknown-output-schema",
        ("output: verdict", "output: verdikt"),
        13,
        "output schema 'verdikt' is unknown; did you mean 'verdict'?",
    ),
    ("negative-rounds", ("rounds: 2", "rounds: -1"), 4, "rounds: Input should be greater than or equal to 1 (got -1)"),
    ("absurd-rounds", ("rounds: 2", "rounds: 100000"), 4, "rounds: Input should be less than or equal to 100"),
    (
        "zero-agents",
        (
            "agents:\n"
            '  - {name: alice, role: debater, script: [\'{"verdict": "NTA", "explanation": "x"}\']}\n'
            '  - {name: bob, role: debater, script: [\'{"verdict": "NTA", "explanation": "x"}\']}\n',
            "agents: []\n",
        ),
        7,
        "agents: List should have at least 1 item",
    ),
    (
        "wrong-type",
        ("{name: bob, role: debater,", "{name: bob, role: debater, temperature: hot,"),
        9,
        "agents[1].temperature: Input should be a valid number",
    ),
    (
        "unknown-turn-policy",
        ("turns: round_robin", "turns: roundrobin"),
        3,
        "turns: Input should be 'synchronous' or 'round_robin'",
    ),
    (
        "custom-graph-no-exit",
        ("turns: round_robin", "turns: {edges: [[start, alice], [alice, bob]]}"),
        3,
        "agent 'alice' has no path to 'end': the round has no exit from it",
    ),
    (
        "custom-graph-unreachable",
        ("turns: round_robin", "turns: {edges: [[start, alice], [alice, end], [bob, end]]}"),
        3,
        "agent 'bob' is unreachable from 'start'",
    ),
    (
        "custom-graph-cycle",
        ("turns: round_robin", "turns: {edges: [[start, alice], [alice, bob], [bob, alice], [bob, end]]}"),
        3,
        "the round graph has a cycle",
    ),
    (
        "custom-graph-unknown-node",
        ("turns: round_robin", "turns: {edges: [[start, alice], [alice, bobb], [bob, end]]}"),
        3,
        "node 'bobb' is unknown; did you mean 'bob'?",
    ),
    (
        "missing-local-file",
        ("model: scripted", "model: local:missing/model.gguf"),
        2,
        "model file 'missing/model.gguf' not found",
    ),
    (
        "scripted-without-script",
        (
            '{name: bob, role: debater, script: [\'{"verdict": "NTA", "explanation": "x"}\']}',
            "{name: bob, role: debater}",
        ),
        9,
        "agents[1]: model 'scripted' needs a 'script' of replies on agent 'bob'",
    ),
    ("compatible-without-url", ("model: scripted", "model: openai-compatible:llama"), 2, "needs a base URL"),
    (
        "unknown-judge",
        ("  - consensus: verdict", "  - decision: {agent: judge, field: conceded}"),
        6,
        "judge 'judge' is unknown: no agent has a judge role",
    ),
    (
        "unknown-provider-settings",
        ("model: scripted", "model: scripted\nproviders: {opnai: {max_concurrency: 2}}"),
        3,
        "provider 'opnai' is unknown; did you mean 'openai'?",
    ),
    ("bad-sees", ("    output: verdict", "    output: verdict\n    sees: [judges]"), 14, "role 'judges' is unknown"),
    ("not-a-mapping", (GOOD, "- just\n- a list\n"), None, "a spec must be a mapping"),
    ("empty-file", (GOOD, ""), None, "empty spec file"),
]


@pytest.mark.parametrize(("case", "edit", "line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_spec_gives_one_line_with_file_line_and_exit_2(case, edit, line, expected, tmp_path, capsys, monkeypatch):
    old, new = edit
    assert old in GOOD, f"case {case} does not apply"
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(GOOD.replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(spec_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    prefix = f"moot: error: {spec_file}:{line}:" if line else f"moot: error: {spec_file}:"
    assert err.startswith(prefix), err
    assert expected in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"], "nothing may be written"


def test_the_good_spec_validates(tmp_path, capsys):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(GOOD)
    assert main(["validate", str(spec_file)]) == 0
    assert capsys.readouterr().out.startswith("ok: demo: 2 agents, round_robin, up to 2 rounds")


def test_not_utf8_and_missing_files(tmp_path, capsys):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_bytes(b"name: \xff\n")
    assert main(["validate", str(spec_file)]) == 2
    assert "not UTF-8 text (byte 0xff at offset 6)" in capsys.readouterr().err
    assert main(["validate", "aita_round_robbin_3"]) == 2
    err = capsys.readouterr().err
    assert (
        "spec file 'aita_round_robbin_3' not found; did you mean 'aita_round_robin_3'? "
        "bundled specs: aita_round_robin_2, " in err
    )
    assert main(["validate", "zzzz"]) == 2
    assert "spec file 'zzzz' not found; bundled specs: aita_round_robin_2, " in capsys.readouterr().err


def test_a_hosted_model_without_its_key_is_refused_before_running(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(GOOD.replace("model: scripted", "model: openai:gpt-4.1"))
    assert main(["run", str(spec_file), "--scenarios", "aita_value_portrait", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"moot: error: {spec_file}:2: model: provider 'openai' needs an API key "
        "in the environment variable OPENAI_API_KEY\n"
    )
    assert not (tmp_path / "run").exists()
