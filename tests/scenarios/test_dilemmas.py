"""Dilemma scenarios: the YAML format, the DailyDilemmas CSV layout, their one-line errors, and the bundled samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from moot.errors import UserError
from moot.scenarios import load_scenarios, resolve_scenario_source
from moot.scenarios.dilemmas import is_dilemma, load_value_groups, load_value_vocabulary, parse_value_list

GOOD_YAML = """\
format: dilemmas
scenarios:
  - id: 7
    text: Your friend asks for a loan. Do you lend it?
    action_1: Lend the money.
    action_2: Refuse.
    values_1: [Generosity,  Friendship, Generosity]
    values_2: [Financial  stability]
    topic: money
"""

CSV_HEADER = (
    "dilemma_idx,basic_situation,dilemma_situation,action_type,action,negative_consequence,"
    "values_aggregated,topic,topic_group\n"
)
GOOD_CSV = CSV_HEADER + (
    "0,x,\"You found a wallet. Do you return it?\",to_do,Return the wallet.,none,\"['honesty', 'integrity']\","
    "found items,daily\n"
    '0,x,"You found a wallet. Do you return it?",not_to_do,Keep the wallet.,guilt,"[\'financial gain\']",'
    "found items,daily\n"
    '1,x,"Your boss lies. Do you report it?",not_to_do,Stay quiet.,none,"[""loyalty""]",work,daily\n'
    '1,x,"Your boss lies. Do you report it?",to_do,Report it.,none,"[""honesty"", ""justice""]",work,daily\n'
)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(UserError) as info:
        load_scenarios(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_yaml_dilemma_becomes_one_scenario_with_actions_in_metadata(tmp_path):
    (scenario,) = load_scenarios(write(tmp_path, "d.yaml", GOOD_YAML)).scenarios
    assert scenario.id == "7" and scenario.text.startswith("Your friend")
    assert scenario.metadata == {
        "action_1": "Lend the money.",
        "action_2": "Refuse.",
        "values_1": ["Generosity", "Friendship"],
        "values_2": ["Financial stability"],
        "topic": "money",
    }
    assert is_dilemma(scenario) and is_dilemma(scenario.model_dump())


def test_daily_dilemmas_csv_pairs_rows_by_dilemma(tmp_path):
    scenarios = load_scenarios(write(tmp_path, "daily.csv", GOOD_CSV)).scenarios
    assert [s.id for s in scenarios] == ["0", "1"]
    wallet, boss = scenarios
    assert wallet.metadata == {
        "action_1": "Return the wallet.",
        "action_2": "Keep the wallet.",
        "values_1": ["honesty", "integrity"],
        "values_2": ["financial gain"],
        "topic": "found items",
    }
    # the not_to_do row came first: action 1 is still the action to do
    assert (
        boss.metadata["action_1"] == "Report it."
        and boss.metadata["values_1"] == ["honesty", "justice"]
        and boss.metadata["values_2"] == ["loyalty"]
    )


def test_csv_without_dilemma_idx_pairs_rows_by_situation(tmp_path):
    text = 'dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,honesty\nS,not_to_do,B,"loyalty, care"\n'
    (scenario,) = load_scenarios(write(tmp_path, "d.csv", text)).scenarios
    assert scenario.id == "S" and scenario.metadata["values_2"] == ["loyalty", "care"]


def test_value_lists_in_every_spelling():
    assert parse_value_list("['a', 'b c']") == ["a", "b c"]
    assert parse_value_list('["a"]') == ["a"]
    assert parse_value_list("a, b") == ["a", "b"]
    with pytest.raises(ValueError):
        parse_value_list("[1, 2]")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "dilemma_situation,action,values_aggregated\nS,A,x\n",
            ":1: missing column 'action_type'; a DailyDilemmas file needs columns "
            "dilemma_situation, action_type, action, values_aggregated",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,x\nS,maybe,B,y\n",
            ":3: field 'action_type': expected to_do or not_to_do, got 'maybe'",
        ),
        (
            'dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,x\nS,not_to_do,B,"[1]"\n',
            ":3: field 'values_aggregated': not a list of value names: [1]",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,x\nS,to_do,B,y\n",
            ":3: dilemma 'S' has a second to_do row (first on line 2)",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,x\n",
            ":2: dilemma 'S' has no not_to_do row",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,x\nS,not_to_do,,y\n",
            ":3: field 'action': string should have at least 1 character",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\nS,to_do,A,\nS,not_to_do,B,y\n",
            ":2: field 'values_aggregated': list should have at least 1 item after validation, not 0",
        ),
        (
            "dilemma_situation,action_type,action,values_aggregated\n",
            ": no dilemmas, expected two rows (to_do and not_to_do) per dilemma",
        ),
    ],
)
def test_csv_errors_name_file_line_and_field(tmp_path, content, expected):
    path = write(tmp_path, "d.csv", content)
    assert load_error(path) == f"{path}{expected}"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "  - id: a\n    text: T\n    action_1: A\n    action_2: B\n    values_1: [x]\n",
            ":3: field 'values_2': field required",
        ),
        (
            "  - id: a\n    text: T\n    action_1: A\n    action_2: B\n    values_1: []\n    values_2: [y]\n",
            ":7: field 'values_1': list should have at least 1 item after validation, not 0",
        ),
        (
            "  - id: a\n    text: T\n    action_1: A\n    action_2: B\n"
            "    values_1: [x]\n    values_2: [y]\n    value_3: [z]\n",
            ":9: field 'value_3' is not allowed; did you mean 'values_2'?",
        ),
        (
            "  - id: a\n    text: T\n    action_1: '  '\n    action_2: B\n    values_1: [x]\n    values_2: [y]\n",
            ":5: field 'action_1': must not be blank",
        ),
    ],
)
def test_yaml_errors_name_file_line_and_field(tmp_path, row, expected):
    path = write(tmp_path, "d.yaml", "format: dilemmas\nscenarios:\n" + row)
    assert load_error(path) == f"{path}{expected}"


def test_bundled_dilemmas_draw_on_the_bundled_vocabulary():
    scenarios = load_scenarios(resolve_scenario_source("dilemmas_sample")).scenarios
    vocabulary = load_value_vocabulary()
    assert len(scenarios) >= 30 and len(vocabulary) == 40
    used = {v for s in scenarios for v in s.metadata["values_1"] + s.metadata["values_2"]}
    assert used <= set(vocabulary)
    assert all(is_dilemma(s) and not set(s.metadata["values_1"]) & set(s.metadata["values_2"]) for s in scenarios)
    assert len(used) >= 30  # the sample exercises most of the vocabulary


def test_value_groups_cover_the_vocabulary_once():
    groups = load_value_groups()
    assert set(groups) == set(load_value_vocabulary())
    assert len(set(groups.values())) == 7


def test_value_group_file_errors(tmp_path):
    path = write(tmp_path, "g.csv", "value,cluster\nHonesty,honesty\n")
    with pytest.raises(UserError, match=r"g.csv:1: expected columns 'value' and 'group'"):
        load_value_groups(path)
    path = write(tmp_path, "g.csv", "value,group\nHonesty,honesty\nHonesty,care\n")
    with pytest.raises(UserError, match=r"g.csv:3: value 'Honesty' is given twice"):
        load_value_groups(path)


def test_open_questions_have_no_actions():
    scenarios = load_scenarios(resolve_scenario_source("open_questions_sample")).scenarios
    assert len(scenarios) >= 10
    assert all(s.text.endswith("?") and not is_dilemma(s) and s.metadata.get("topic") for s in scenarios)


def test_bundled_samples_say_they_are_hand_written():
    for name in ("dilemmas_sample", "open_questions_sample"):
        head = resolve_scenario_source(name).read_text(encoding="utf-8").splitlines()[0]
        assert "hand-written" in head
