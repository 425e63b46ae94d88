"""Tests for the Schwartz values, cooperation scenarios, their role swaps and the bundled sample."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from moot.errors import UserError
from moot.protocols.values.schwartz import (
    SCHWARTZ,
    SCHWARTZ_VALUES,
    VALUE_PAIRS,
    goal_of,
    normalise_value,
    pair_key,
)
from moot.scenarios import (
    CooperationScenario,
    expand_role_swaps,
    load_scenarios,
    resolve_scenario_source,
)
from moot.scenarios.cooperation import COOPERATION_TYPES, first_base_scenarios

SAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "data" / "cooperation_sample.yaml"
SECOND_PERSON = re.compile(r"\b(you|your)\b", re.IGNORECASE)
KNOWN = ", ".join(SCHWARTZ_VALUES)

GOOD_ROW = """\
format: cooperation
scenarios:
  - id: hike
    background: Two friends planning a hike.
    cooperation_type: reciprocal
    values: [Stimulation, Security]
    text: You and a friend must pick a route for your hike.
    options:
      Stimulation: Take the unmarked ridge.
      Security: Take the marked hut circuit.
"""


def write(tmp_path: Path, content: str) -> Path:
    """Write a cooperation scenario file and return its path."""
    path = tmp_path / "coop.yaml"
    path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    """Load a file that must be rejected; return its message after checking it is one line."""
    with pytest.raises(UserError) as info:
        load_scenarios(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- Schwartz values --------------------------------------------------------------------------


def test_ten_values_with_goals_and_45_pairs() -> None:
    assert SCHWARTZ_VALUES == (
        "Self-direction",
        "Stimulation",
        "Hedonism",
        "Achievement",
        "Power",
        "Security",
        "Conformity",
        "Tradition",
        "Benevolence",
        "Universalism",
    )
    assert all(SCHWARTZ[name].goal for name in SCHWARTZ_VALUES)
    # 10 choose 2 = 10 * 9 / 2 = 45 unordered pairs of distinct values.
    assert len(VALUE_PAIRS) == len(set(map(frozenset, VALUE_PAIRS))) == 45
    assert all(a != b for a, b in VALUE_PAIRS)


def test_value_names_are_case_insensitive_and_unknown_ones_get_a_suggestion() -> None:
    assert normalise_value("self-DIRECTION ") == "Self-direction"
    assert goal_of("power") == SCHWARTZ["Power"].goal
    assert pair_key("security", "Power") == "Power|Security"
    with pytest.raises(
        ValueError, match=r"^unknown Schwartz value 'Benevolance'; did you mean 'Benevolence'\? known: "
    ):
        normalise_value("Benevolance")
    with pytest.raises(ValueError, match=r"^unknown Schwartz value 'zzz'; known: Self-direction, "):
        normalise_value("zzz")


# --- the bundled sample -------------------------------------------------------------------


def test_bundled_sample_resolves_and_has_enough_varied_scenarios() -> None:
    path = resolve_scenario_source("cooperation_sample")
    assert path.resolve() == SAMPLE.resolve()
    rows = load_scenarios(path).scenarios
    bases = {row.metadata["base_id"]: row.metadata for row in rows}
    assert len(rows) == 2 * len(bases) and len(bases) >= 30
    types = Counter(meta["cooperation_type"] for meta in bases.values())
    assert set(types) == set(COOPERATION_TYPES) and min(types.values()) >= 8
    assert len({meta["pair"] for meta in bases.values()}) >= 20
    for row in rows:
        assert SECOND_PERSON.search(row.text), row.id
        assert 60 <= len(row.text.split()) <= 140, row.id
        assert row.metadata["target_option"] and row.metadata["counterpart_option"]
        assert row.metadata["target_option"] != row.metadata["counterpart_option"]


def test_bundled_sample_says_who_wrote_it_and_its_licence() -> None:
    header = "".join(line for line in SAMPLE.read_text(encoding="utf-8").splitlines(True) if line.startswith("#"))
    assert "written for moot by its authors" in header
    assert "not taken from the" in header and "MIT" in header


# --- role swaps -------------------------------------------------------------------------------


def test_each_scenario_becomes_two_rows_with_the_values_swapped() -> None:
    scenario = CooperationScenario(
        id="hike",
        background="Two friends.",
        cooperation_type="altruistic",
        values=["stimulation", "SECURITY"],
        text="You and a friend choose a route.",
        options={"Security": "Huts.", "stimulation": "Ridge."},
    )
    assert scenario.values == ["Stimulation", "Security"]
    assert scenario.options == {"Security": "Huts.", "Stimulation": "Ridge."}
    a, b = expand_role_swaps([scenario])
    assert (a.id, b.id, a.title, b.title) == ("hike:a", "hike:b", "", "")
    assert a.text == b.text == "You and a friend choose a route."
    assert a.metadata == {
        "base_id": "hike",
        "swap": "a",
        "cooperation_type": "altruistic",
        "cooperation_description": COOPERATION_TYPES["altruistic"],
        "background": "Two friends.",
        "pair": "Security|Stimulation",
        "target_value": "Stimulation",
        "counterpart_value": "Security",
        "target_goal": SCHWARTZ["Stimulation"].goal,
        "counterpart_goal": SCHWARTZ["Security"].goal,
        "target_option": "Ridge.",
        "counterpart_option": "Huts.",
        "option_a": "Ridge.",
        "option_b": "Huts.",
        "option_a_value": "Stimulation",
        "option_b_value": "Security",
    }
    swapped = {
        "swap": "b",
        "target_value": "Security",
        "counterpart_value": "Stimulation",
        "target_goal": SCHWARTZ["Security"].goal,
        "counterpart_goal": SCHWARTZ["Stimulation"].goal,
        "target_option": "Huts.",
        "counterpart_option": "Ridge.",
        "option_a": "Huts.",
        "option_b": "Ridge.",
        "option_a_value": "Security",
        "option_b_value": "Stimulation",
    }
    assert b.metadata == {**a.metadata, **swapped}


def test_loading_a_file_expands_rows_in_file_order(tmp_path: Path) -> None:
    second = GOOD_ROW.split("scenarios:\n", 1)[1].replace("id: hike", "id: 7")
    loaded = load_scenarios(write(tmp_path, GOOD_ROW + second))
    assert [s.id for s in loaded.scenarios] == ["hike:a", "hike:b", "7:a", "7:b"]


def test_first_base_scenarios_keeps_both_swaps_of_each() -> None:
    rows = load_scenarios(SAMPLE).scenarios
    kept = first_base_scenarios(rows, 2)
    assert [r.id for r in kept] == ["coop-01:a", "coop-01:b", "coop-02:a", "coop-02:b"]


# --- bad rows: one line naming file:line and field ------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "[Stimulation, Security]",
            "[Stimulation, Securty]",
            6,
            f"field 'values': unknown Schwartz value 'Securty'; did you mean 'Security'? known: {KNOWN}",
        ),
        (
            "[Stimulation, Security]",
            "[Security, security]",
            6,
            "field 'values': the two values must differ, got Security twice",
        ),
        ("[Stimulation, Security]", "[Stimulation]", 6, "field 'values': expected exactly two Schwartz values, got 1"),
        (
            "      Security: Take",
            "      Power: Take",
            8,
            "field 'options': keys must be exactly the two values (Stimulation, Security), got Stimulation, Power",
        ),
        ("    background: Two friends planning a hike.\n", "", 3, "field 'background': field required"),
        (
            "cooperation_type: reciprocal",
            "cooperation_type: reciprocol",
            5,
            "field 'cooperation_type': unknown cooperation type 'reciprocol'; did you mean 'reciprocal'? "
            "known: reciprocal, coopetitive, altruistic",
        ),
        ("[Stimulation, Security]", "Stimulation", 6, "field 'values': input should be a valid list"),
        (
            "text: You and a friend must pick a route for your hike.",
            "text: A friend must pick a route.",
            7,
            "field 'text': must be written in the second person (address the reader as 'you')",
        ),
        (
            "    background: Two",
            "    backgruond: Two",
            4,
            "field 'backgruond' is not allowed; did you mean 'background'?",
        ),
    ],
)
def test_bad_rows_give_one_line_with_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    assert old in GOOD_ROW
    path = write(tmp_path, GOOD_ROW.replace(old, new))
    assert load_error(path) == f"{path}:{line}: {expected}"


def test_duplicate_base_id(tmp_path: Path) -> None:
    second = GOOD_ROW.split("scenarios:\n", 1)[1]
    path = write(tmp_path, GOOD_ROW + second)
    assert load_error(path) == f"{path}:11: duplicate scenario id 'hike' (first on line 3)"


def test_unknown_format_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ROW.replace("format: cooperation", "format: cooperative"))
    assert load_error(path) == (
        f"{path}:1: top-level key 'format': unknown scenario format 'cooperative'; did you mean 'cooperation'? "
        "known: cooperation, dilemmas"
    )


def test_cooperation_rows_without_the_format_key_say_what_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ROW.replace("format: cooperation\n", ""))
    assert load_error(path) == (
        f"{path}:3: field 'background' is not allowed; allowed fields: id, title, text, metadata "
        "(a file of cooperation scenarios needs 'format: cooperation' at the top)"
    )
