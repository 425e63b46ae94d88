"""A spec with a matrix at the front door: `moot validate` says its arms, `moot graph` lists them, `moot run` runs them,
and `--model`, `--repeats` and `--orders` keep their meaning."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from helpers import GOOD_SPEC_YAML, events_of
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.trace.events import ConversationStarted, ModelCall
from moot.trace.manifest import RunManifest

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

for _name in ("cli_m1", "cli_m2", "cli_m3", "cli_other"):
    register_responder(_name, lambda messages, caller, name=_name: json.dumps({"verdict": "NTA", "explanation": name}))

MATRIX = {
    "models": {"agents": ["alice"], "from": ["scripted:cli_m1", "scripted:cli_m2", "scripted:cli_m3"]},
    "vary": {"goal": ["correctness", "balanced"]},
}


def matrix_spec(tmp_path: Path, matrix: dict | None = None) -> Path:
    """The good two-debater spec with a matrix (alice's model x goal: 6 arms), and a scenario file beside it."""
    data = yaml.safe_load(GOOD_SPEC_YAML) | {"matrix": matrix or MATRIX}
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n', encoding="utf-8")
    return path


def test_validate_says_the_arms_and_graph_lists_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = matrix_spec(tmp_path)
    assert main(["validate", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out == (
        "ok: demo: 2 agents, round_robin, up to 2 rounds, order alice -> bob;"
        " 6 arms (model.alice x goal), 6 conversations per scenario\n"
    )
    named = tmp_path / "named.yaml"
    named.write_text("scenarios: cases.jsonl\n" + spec.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["validate", str(named)]) == 0
    assert capsys.readouterr().out.endswith(
        "6 arms (model.alice x goal), 12 conversations (6 conversations per scenario)\n"
    )
    assert main(["graph", str(spec)]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines.index("arms (6; the drawing is the first's):")
    assert lines[first + 1 :] == [
        f"  {index}. model.alice=scripted:{model}, goal={goal}"
        for index, (model, goal) in enumerate(
            [(m, g) for m in ("cli_m1", "cli_m2", "cli_m3") for g in ("correctness", "balanced")], 1
        )
    ]
    assert main(["graph", str(spec), "--format", "mermaid"]) == 0
    assert "arms" not in capsys.readouterr().out, "a diagram format holds the first arm's diagram alone"


def test_run_with_model_repeats_and_orders_covers_every_arm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = matrix_spec(tmp_path)
    out = tmp_path / "run"
    argv = ["run", str(spec), "--scenarios", str(tmp_path / "cases.jsonl"), "--out", str(out), "--quiet"]
    argv += ["--no-cache", "--model", "scripted:cli_other", "--repeats", "2", "--orders", "permutations"]
    assert main(argv) == 0
    # 6 arms x 2 scenarios x 2 orders x 2 repeats = 48 conversations.
    assert RunManifest.read(out).conversations.completed == 48
    starts = [e for e in events_of(out, "conversation_started") if isinstance(e, ConversationStarted)]
    assert len(starts) == 48
    assert Counter((s.repeat, tuple(s.order)) for s in starts) == {
        (r, o): 12 for r in (0, 1) for o in (("alice", "bob"), ("bob", "alice"))
    }
    for start in starts:
        assert start.arm is not None and start.models is not None
        assert start.models == {"alice": start.arm["model.alice"], "bob": "scripted:cli_other"}
    calls = Counter((e.agent, e.model) for e in events_of(out, "model_call") if isinstance(e, ModelCall))
    assert {model for agent, model in calls if agent == "bob"} == {"scripted:cli_other"}
    assert {model for agent, model in calls if agent == "alice"} == {f"scripted:cli_m{i}" for i in (1, 2, 3)}
    assert RunManifest.read(out).spec["matrix"]["vary"] == {"goal": ["correctness", "balanced"]}


def test_a_model_for_an_agent_the_matrix_sets_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = matrix_spec(tmp_path)
    for argv in (
        ["validate", str(spec), "--model", "alice=scripted:cli_other"],
        ["run", str(spec), "--scenarios", str(tmp_path / "cases.jsonl"), "--model", "alice=scripted:cli_other"],
    ):
        assert main(argv + ["--out", str(tmp_path / "out")] if argv[0] == "run" else argv) == 2
        err = capsys.readouterr().err
        assert err == (
            "moot: error: --model 'alice=scripted:cli_other': agent 'alice' takes its models from the spec's matrix\n"
        )
    assert not (tmp_path / "out").exists()
    assert main(["validate", str(spec), "--model", "bob=scripted:cli_other"]) == 0
