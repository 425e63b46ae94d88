"""`moot scenarios generate` and `filter` end to end on scripted models, and their one-line errors."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from helpers import events_of
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.judges.scenario_generation import cooperation_scenarios_of
from moot.scenarios import load_scenarios


def _writer(messages, context):
    """A valid scenario naming its job, with the options of the two values the prompt lists."""
    values = re.findall(r"^- ([A-Z][a-z-]+): ", messages[-1]["content"], flags=re.M)[:2]
    return json.dumps(
        {
            "title": "A choice",
            "text": f"You and your partner must choose now ({context.scenario_id}).",
            "option_a": f"Do what {values[0]} asks.",
            "option_b": f"Do what {values[1]} asks.",
        }
    )


register_responder("cli_scenarios_writer", _writer)

SAME = "You and your neighbour must decide who runs the stall at the Saturday market this week."
FILE = {
    "format": "cooperation",
    "scenarios": [
        {
            "id": "good",
            "background": "A market.",
            "cooperation_type": "reciprocal",
            "values": ["Power", "Benevolence"],
            "text": SAME,
            "options": {"Power": "Run it yourself.", "Benevolence": "Let your neighbour run it."},
        },
        {
            "id": "dull",
            "background": "A lab.",
            "cooperation_type": "altruistic",
            "values": ["Hedonism", "Universalism"],
            "text": "You and your colleague could stay late to finish the vaccine data for the clinic.",
            "options": {"Hedonism": "Go home and rest.", "Universalism": "Stay and finish."},
        },
        {
            "id": "again",
            "background": "A market.",
            "cooperation_type": "reciprocal",
            "values": ["Power", "Benevolence"],
            "text": SAME,
            "options": {"Power": "Run it yourself.", "Benevolence": "Let your neighbour run it."},
        },
        {
            "id": "mute",
            "background": "A boat.",
            "cooperation_type": "coopetitive",
            "values": ["Security", "Stimulation"],
            "text": "You and your crewmate can take the short risky route or the long safe one to win the race.",
            "options": {"Security": "Take the long route.", "Stimulation": "Take the risky route."},
        },
    ],
}
TRUTH = {row["id"]: row for row in FILE["scenarios"]}


def _rater(messages, context):
    """Rates from the truth of the scenario (looked up by id): 'dull' gets realism 1 and a wrong type;
    'mute' never parses."""
    row = TRUTH[context.scenario_id]
    if row["id"] == "mute":
        return "five out of five"
    dull = row["id"] == "dull"
    return json.dumps(
        {
            "realism": 1 if dull else 4,
            "specificity": 4,
            "conflict": 5,
            "recovered_values": row["values"][::-1],
            "recovered_type": "reciprocal" if dull else row["cooperation_type"],
            "reason": "clear",
        }
    )


register_responder("cli_scenarios_rater", _rater)


def test_generate_writes_a_cooperation_file_that_loads_back(tmp_path, capsys):
    out, run_dir = tmp_path / "generated.yaml", tmp_path / "run"
    argv = [
        "scenarios",
        "generate",
        "cooperation_backgrounds",
        "--types",
        "altruistic",
        "coopetitive",
        "--pairs",
        "2",
        "--limit",
        "3",
        "--model",
        "scripted:cli_scenarios_writer",
        "--out",
        str(out),
        "--run-dir",
        str(run_dir),
        "--quiet",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"generated 3 of 3 scenarios with scripted:cli_scenarios_writer (run directory {run_dir})" in printed
    assert "unparsed 0, invalid 0, failed 0" in printed
    text = out.read_text()
    assert (
        "scripted:cli_scenarios_writer" in text.split("format: cooperation")[0]
        and str(run_dir) in text.split("format: cooperation")[0]
    )
    scenarios = cooperation_scenarios_of(load_scenarios(out))
    assert [s.cooperation_type for s in scenarios] == ["altruistic", "altruistic", "coopetitive"]
    assert all(s.id in s.text and s.background.startswith("Two neighbours") for s in scenarios)
    assert all(s.options[v] == f"Do what {v} asks." for s in scenarios for v in s.values)
    assert len(events_of(run_dir, "model_call")) == 3


def test_generate_reports_unparsed_replies_and_writes_nothing_when_none_parse(tmp_path, capsys):
    register_responder("cli_scenarios_mumbler", lambda messages, context: "no JSON here")
    out = tmp_path / "none.yaml"
    argv = [
        "scenarios",
        "generate",
        "cooperation_backgrounds",
        "--types",
        "reciprocal",
        "--limit",
        "2",
        "--model",
        "scripted:cli_scenarios_mumbler",
        "--out",
        str(out),
        "--run-dir",
        str(tmp_path / "run"),
        "--quiet",
    ]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert "generated 0 of 2" in printed and "unparsed 2, invalid 0, failed 0" in printed
    assert "skipped bg01_community_garden-reciprocal-" in printed and not out.exists()


def test_filter_keeps_good_distinct_scenarios_and_reports_every_decision(tmp_path, capsys):
    source = tmp_path / "pool.yaml"
    source.write_text(yaml.safe_dump(FILE, sort_keys=False))
    out, report, run_dir = tmp_path / "kept.yaml", tmp_path / "report.json", tmp_path / "run"
    argv = [
        "scenarios",
        "filter",
        str(source),
        "--model",
        "scripted:cli_scenarios_rater",
        "--min-conflict",
        "4",
        "--dedupe",
        "0.9",
        "--out",
        str(out),
        "--report",
        str(report),
        "--run-dir",
        str(run_dir),
        "--quiet",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^good\s+kept\s+-$", printed, flags=re.M)
    assert re.search(r"^again\s+dropped\s+near-duplicate of good at similarity 1\.000$", printed, flags=re.M)
    assert "kept 1 of 4" in printed
    decisions = {e["id"]: e for e in json.loads(report.read_text())["entries"]}
    assert decisions["dull"]["reasons"] == ["realism 1 < 3", "wrong type: reciprocal (true: altruistic)"]
    assert decisions["mute"]["reasons"][0].startswith("unparsed: ") and decisions["mute"]["scores"] is None
    assert [e for e, d in decisions.items() if d["kept"]] == ["good"]
    assert [s.id for s in cooperation_scenarios_of(load_scenarios(out))] == ["good"]
    prompts = [e.messages[-1].content for e in events_of(run_dir, "model_call")]
    assert prompts and not any("(true" in p or "cooperation_type" in p for p in prompts)


def _nothing_written(tmp_path, before):
    return sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["generate", "{tmp}/missing.yaml"], "scenario file '{tmp}/missing.yaml' not found"),
        (["generate", "cooperation_backgrounds", "--types", "reciprocl"], "did you mean 'reciprocal'?"),
        (["generate", "cooperation_backgrounds", "--pairs", "46"], "--pairs must be between 1 and 45 (got 46)"),
        (["generate", "cooperation_backgrounds", "--pairs", "0"], "argument --pairs: must be at least 1 (got 0)"),
        (["generate", "cooperation_backgrounds", "--limit", "0"], "argument --limit: must be at least 1 (got 0)"),
        (["generate", "cooperation_backgrounds", "--model", "scripted:nobody_registered"], "nobody_registered"),
        (["filter", "{tmp}/missing.yaml"], "{tmp}/missing.yaml: no such file"),
        (
            ["filter", "{tmp}/pool.yaml", "--min-realism", "7"],
            "argument --min-realism: must be between 1 and 5 (got 7)",
        ),
        (["filter", "{tmp}/pool.yaml", "--dedupe", "1.5"], "--dedupe must be a similarity in (0, 1] (got 1.5)"),
        (["filter", "{tmp}/pool.yaml", "--dedupe", "0"], "--dedupe must be a similarity in (0, 1] (got 0.0)"),
        (["filter", "{tmp}/plain.yaml"], "not a cooperation scenario file"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pool.yaml").write_text(yaml.safe_dump(FILE, sort_keys=False))
    (tmp_path / "plain.yaml").write_text("- {id: a, text: hello}\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    args = ["scenarios"] + [a.format(tmp=tmp_path) for a in argv] + ["--run-dir", str(tmp_path / "run"), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected.format(tmp=tmp_path) in err and "Traceback" not in err, err
    assert _nothing_written(tmp_path, before)


def test_an_existing_output_file_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "taken.yaml"
    out.write_text("keep me")
    argv = [
        "scenarios",
        "generate",
        "cooperation_backgrounds",
        "--model",
        "scripted:cli_scenarios_writer",
        "--out",
        str(out),
        "--run-dir",
        str(tmp_path / "run"),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == "keep me" and not (tmp_path / "run").exists()
