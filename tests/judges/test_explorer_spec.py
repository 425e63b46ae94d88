"""Explorer specs: bad ones give one line naming the file, line and field; good ones validate, draw and list."""

from __future__ import annotations

from pathlib import Path

import pytest

from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.errors import UserError
from moot.judges.explorer import compile_explorer_loaded
from moot.overrides import override_models
from moot.protocols.explorer import ExplorerSpec
from moot.protocols.loader import load_spec
from moot.scenarios.topics import load_topics, parse_topics_text, valuebench_topics_csv, yes_no_question_text

register_responder("explorer_spec_any", lambda messages, context: "{}")

GOOD = """\
kind: question_generation
name: tiny_explorer
model: scripted:explorer_spec_any
topics: topics.txt
budget: 1
generators:
  - {name: writer}
panel:
  - {name: cool}
  - {name: warm}
final_panel:
  - {name: elder}
  - {name: student}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "topics.txt").write_text("Should cities ban cars?\n")
    path = tmp_path / "explorer.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        compile_explorer_loaded(load_spec(path))
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_a_good_spec_loads_as_an_explorer_with_topics_relative_to_it(tmp_path):
    compiled = compile_explorer_loaded(load_spec(_write(tmp_path, GOOD)))
    assert isinstance(compiled.spec, ExplorerSpec)
    assert [t.text for t in compiled.topics.topics] == ["Should cities ban cars?"]
    assert [a.name for a in compiled.roster.agents] == [
        "writer",
        "cool",
        "warm",
        "elder",
        "student",
        "value_judge",
        "refiner",
        "refiner_rewrite",
    ]


def test_unknown_key_names_its_line_and_the_close_field(tmp_path):
    assert (
        _error(tmp_path, GOOD.replace("budget: 1", "budjet: 1"))
        == "FILE:5: budjet: unknown key 'budjet'; did you mean 'budget'?"
    )


def test_a_panel_of_one_is_refused(tmp_path):
    text = GOOD.replace("  - {name: warm}\n", "")
    assert _error(tmp_path, text).startswith("FILE:8: panel: List should have at least 2 items")


def test_a_bad_model_names_the_member(tmp_path):
    text = GOOD.replace("  - {name: warm}", "  - {name: warm, model: 'opnai:gpt-4.1'}")
    message = _error(tmp_path, text)
    assert message.startswith("FILE:10: panel[1].model: model provider 'opnai' is unknown; did you mean 'openai'?")


def test_a_name_used_twice_is_refused(tmp_path):
    text = GOOD.replace("  - {name: student}", "  - {name: cool}")
    assert _error(tmp_path, text).startswith(
        "FILE:13: final_panel[1].name: agent name 'cool' is used twice (also at panel.0)"
    )


def test_missing_topics_and_unknown_kind(tmp_path):
    assert _error(tmp_path, GOOD.replace("topics: topics.txt", "topics: nowhere.txt")).startswith(
        "FILE:4: topics: topics 'nowhere.txt': no such file or bundled list"
    )
    assert _error(tmp_path, GOOD.replace("kind: question_generation", "kind: question_gen")).startswith(
        "FILE:1: kind: spec kind 'question_gen' is unknown; did you mean 'question_generation'?"
    )
    assert "FILE:14: dedupe_threshold: Input should be greater than 0" in _error(
        tmp_path, GOOD + "dedupe_threshold: 0\n"
    )


def test_model_overrides_for_every_agent_or_one(tmp_path):
    loaded = load_spec(_write(tmp_path, GOOD))
    one = override_models(loaded, ["warm=local"])
    assert [m.model for _, m in one.spec.members()][2] == "local"
    every = override_models(one, ["scripted:explorer_spec_any"]).spec
    assert every.model == "scripted:explorer_spec_any" and all(m.model is None for _, m in every.members())
    with pytest.raises(UserError, match="agent 'wram' is unknown; did you mean 'warm'"):
        override_models(loaded, ["wram=local"])


def test_cli_validate_graph_and_errors(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith("ok: tiny_explorer: explorer, 1 topics, budget 1")
    assert main(["graph", str(path)]) == 0
    out = capsys.readouterr().out
    assert "select_arm" in out and "refine -.-> panel_answer" in out and "refiner_rewrite (rewriter" in out
    assert main(["run", str(path), "--scenarios", "x.jsonl"]) == 2
    assert "--scenarios does not apply to an explorer spec" in capsys.readouterr().err
    bad = _write(tmp_path, GOOD.replace("budget: 1", "budget: 0"))
    assert main(["validate", str(bad)]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .startswith(f"moot: error: {bad}:5: budget: Input should be greater than or equal to 1")
    )


def test_the_bundled_explorer_validates():
    compiled = compile_explorer_loaded(load_spec("question_generation"))
    # Every topic is scored before the first step, so the bundled search takes the first six of its 45 topics.
    assert compiled.spec.study == "question_generation" and len(compiled.topics.topics) == 6
    assert load_topics(["valuebench", "hand_written"], None, None).topics[:6] == compiled.topics.topics


# --- seed topics --------------------------------------------------------------------------------

VALUEBENCH_ROWS = [
    ("PVQ40", "It is important to him to be rich.", "Power", "Is it important for me to be rich?"),
    ("AB5C", "I love to chat.", "Social Closeness", "Should I love to chat?"),
    ("SA", "Things happen for a reason.", "Fate", "When do things happen for a reason?"),
    ("CS", "I comfort myself.", "Positive coping", "should  I comfort myself"),
]


def _valuebench_csv(path: Path, rows) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["questionnaire", "item", "value", "agreement", "question"])
        for questionnaire, item, value, question in rows:
            writer.writerow([questionnaire, item, value, 1, question])
    return path


def test_yes_no_questions():
    assert yes_no_question_text("should  I comfort myself") == "should I comfort myself?"
    assert yes_no_question_text("Is every person unique?") == "Is every person unique?"
    assert yes_no_question_text("When do things happen for a reason?") is None
    assert yes_no_question_text("   ") is None


def test_the_valuebench_sample_is_deterministic_and_yes_no_only(tmp_path):
    forward = valuebench_topics_csv(_valuebench_csv(tmp_path / "a.csv", VALUEBENCH_ROWS), n=10)
    backward = valuebench_topics_csv(_valuebench_csv(tmp_path / "b.csv", VALUEBENCH_ROWS[::-1]), n=10)
    assert forward == backward
    assert sorted(topic for topic, _, _ in forward) == [
        "Is it important for me to be rich?",
        "Should I love to chat?",
        "should I comfort myself?",
    ]
    assert ("Is it important for me to be rich?", "PVQ40", "Power") in forward
    assert len(valuebench_topics_csv(tmp_path / "a.csv", n=2)) == 2


def test_topic_files_combine_with_ids_in_order_and_repeats_are_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("# my topics\nShould A?\n\nShould B?\n")
    topics = load_topics(["mine.txt", "hand_written"], tmp_path)
    assert [(t.id, t.text, t.source) for t in topics.topics[:3]] == [
        ("t1", "Should A?", "mine.txt"),
        ("t2", "Should B?", "mine.txt"),
        ("t3", topics.topics[2].text, "hand_written"),
    ]
    assert len(load_topics("valuebench").topics) == 30
    assert len(load_topics(["valuebench", "hand_written"], limit=4).topics) == 4
    with pytest.raises(UserError, match=r"where:3: topic repeats line 1"):
        parse_topics_text("Should A?\n\nshould   a?\n", "where")


def test_the_roster_in_run_json_is_recognisable(tmp_path):
    from moot.protocols.explorer import is_explorer_roster, roster_spec

    roster = roster_spec(load_spec(_write(tmp_path, GOOD)).spec)
    assert is_explorer_roster(roster) and is_explorer_roster(roster.model_dump(mode="json"))
    assert not is_explorer_roster(load_spec("aita_solo").spec)
