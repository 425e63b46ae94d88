"""Spec files are read within limits and typed strictly: a mistake is one line naming the file, line and field."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
import yaml

from helpers import GOOD_SPEC_YAML as GOOD
from moot.cli import main
from moot.errors import UserError
from moot.graphs.program import RunOptions
from moot.judges.programs import prepare_program
from moot.protocols.loader import as_loaded, load_spec

BOMB = "".join(
    f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10) if level else ', '.join(['lol'] * 10)}]\n"
    for level in range(9)
)
"""Nine nested anchors of ten under `variables:`: 10^9 strings once expanded."""


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moot: error: ") and "Traceback" not in err, err
    return err.strip().removeprefix("moot: error: ")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.jsonl").write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    return tmp_path


CASES = {
    "alias-bomb": (GOOD + "variables:\n" + BOMB, ":20: aliases expand to more than 1,000,000 values"),
    "deep-nesting": (
        GOOD + "variables: {deep: " + "[" * 20_000 + "]" * 20_000 + "}\n",
        ":14: nested more than 100 levels deep",
    ),
    "huge-integer": (
        GOOD.replace("rounds: 2", "rounds: 2\nseed: " + "9" * 5000),
        ":5: a number of 5,000 digits; at most 100",
    ),
    "duplicate-top-level": (
        GOOD.replace("stop:", "rounds: 9\nstop:"),
        ":5: key 'rounds' appears twice (first on line 4)",
    ),
    "duplicate-role": (GOOD + "  debater:\n    prompt: turn\n", ":14: key 'debater' appears twice (first on line 11)"),
    "duplicate-agent-key": (
        GOOD.replace("{name: bob, role: debater,", "{name: bob, role: debater, name: carol,"),
        ":9: key 'name' appears twice (first on line 9)",
    ),
    "rounds-boolean": (
        GOOD.replace("rounds: 2", "rounds: true"),
        ":4: rounds: Input should be a valid integer (got True)",
    ),
    "rounds-string": (
        GOOD.replace("rounds: 2", "rounds: '3'"),
        ":4: rounds: Input should be a valid integer (got '3')",
    ),
    "temperature-string": (
        GOOD.replace("{name: bob, role: debater,", "{name: bob, role: debater, temperature: hot,"),
        ":9: agents[1].temperature: Input should be a valid number (got 'hot')",
    ),
    "repeats-float": (
        GOOD.replace("rounds: 2", "rounds: 2\nrepeats: 2.0"),
        ":5: repeats: Input should be a valid integer (got 2.0)",
    ),
    "version": (
        GOOD.replace("name: demo", "version: 99\nname: demo"),
        ":1: version: spec version 99 is not supported; this moot reads version 1 (got 99)",
    ),
    "schema-required-string": (
        GOOD.replace("    output: verdict", "    output: {properties: {verdict: {type: string}}, required: verdict}"),
        ":13: roles.debater.output: inline output schema: 'required' must be a list of property names (got 'verdict')",
    ),
    "schema-required-unknown": (
        GOOD.replace("    output: verdict", "    output: {properties: {verdict: {type: string}}, required: [verdikt]}"),
        "inline output schema: 'required' names 'verdikt', which is not one of the properties (verdict)",
    ),
    "schema-bad-type": (
        GOOD.replace("    output: verdict", "    output: {properties: {verdict: {type: text}}}"),
        "inline output schema: properties.verdict: 'type' must be one of string, integer, number, boolean, array,"
        " object (got 'text')",
    ),
    "schema-unsupported-keyword": (
        GOOD.replace("    output: verdict", "    output: {properties: {verdict: {type: string, pattern: '^N'}}}"),
        "inline output schema: properties.verdict: keyword 'pattern' is not supported for a string;"
        " supported: enum, maxLength, minLength, type",
    ),
    "schema-bound": (
        GOOD.replace("    output: verdict", "    output: {properties: {n: {type: integer, minimum: 5, maximum: 1}}}"),
        "inline output schema: properties.n: 'minimum' (5) is above 'maximum' (1)",
    ),
    "schema-not-object": (
        GOOD.replace("    output: verdict", "    output: {type: array, properties: {n: {type: integer}}}"),
        "inline output schema: an output schema is an object of properties, so 'type' must be 'object' (got 'array')",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_spec_mistake_is_one_line_through_validate_graph_and_run_and_nothing_is_written(
    case: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    spec = folder / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    for argv in (
        ["validate", str(spec)],
        ["graph", str(spec)],
        ["run", str(spec), "--scenarios", "cases.jsonl", "--out", "out", "--quiet"],
    ):
        message = one_line_error(argv, capsys)
        assert message.startswith(str(spec)) and expected in message, (argv, message)
    assert sorted(p.name for p in folder.iterdir()) == ["cases.jsonl", "spec.yaml"], "no run directory, nothing written"


def test_an_alias_bomb_is_refused_in_bounded_memory(folder: Path) -> None:
    spec = folder / "spec.yaml"
    spec.write_text(GOOD + "variables:\n" + BOMB, encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(Exception, match="aliases expand to more than"):
            load_spec(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_what_yaml_and_strict_types_still_accept(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lists for the edges' pairs, whole numbers for temperatures, aliases for shared settings, an inline schema."""
    text = GOOD.replace("turns: round_robin", "turns: {edges: [[start, alice], [alice, bob], [bob, end]]}")
    text = text.replace("{name: bob, role: debater,", "{name: bob, role: debater, temperature: 1,")
    text = text.replace(
        "    output: verdict",
        "    output: &schema\n      type: object\n      properties:\n"
        "        verdict: {type: string, enum: [NTA, YTA], description: the verdict}\n"
        "        explanation: {type: [string, 'null'], maxLength: 400}\n"
        "      required: [verdict]\n      additionalProperties: false",
    )
    text += "variables: {schema_copy: *schema, when: 2024-05-01}\n"
    spec = folder / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    assert main(["validate", str(spec)]) == 0, capsys.readouterr().err
    loaded = load_spec(spec).spec
    assert loaded.turns.edges[1] == ("alice", "bob") and loaded.agents[1].temperature == 1.0
    assert loaded.variables["schema_copy"]["required"] == ["verdict"]


def test_an_explorer_spec_is_typed_as_strictly(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = (
        "kind: question_generation\nname: tiny\nmodel: scripted\nbudget: 1\ngenerators: [{name: writer}]\n"
        "panel: [{name: a}, {name: b}]\nfinal_panel: [{name: c}, {name: d}]\n"
    )
    cases = {
        "budget: 1": ("budget: true", ":4: budget: Input should be a valid integer (got True)"),
        "kind: question_generation\n": (
            "kind: question_generation\nversion: 2\n",
            ":2: version: explorer spec version 2 is not supported; this moot reads version 1 (got 2)",
        ),
        "panel: [{name: a}, {name: b}]": (
            "panel: [{name: a, temperature: warm}, {name: b}]",
            ":6: panel[0].temperature: Input should be a valid number (got 'warm')",
        ),
        "model: scripted\n": ("model: scripted\nbudget: 2\n", ":5: key 'budget' appears twice (first on line 4)"),
    }
    spec = folder / "explorer.yaml"
    for old, (new, expected) in cases.items():
        assert old in good
        spec.write_text(good.replace(old, new), encoding="utf-8")
        message = one_line_error(["validate", str(spec)], capsys)
        assert message == f"{spec}{expected}", message


def test_load_spec_takes_a_dict_yaml_text_a_name_or_a_path(folder: Path) -> None:
    data = yaml.safe_load(GOOD)
    (folder / "demo.yaml").write_text(GOOD, encoding="utf-8")
    from_dict, from_text = load_spec(data), load_spec(GOOD)
    from_path, from_str = load_spec(folder / "demo.yaml"), load_spec("demo.yaml")
    assert from_dict.spec == from_text.spec == from_path.spec == from_str.spec
    assert from_dict.path is None and from_text.path is None and from_path.path == folder / "demo.yaml"
    assert load_spec("aita_round_robin_3").spec.name == "aita_round_robin_3"
    assert load_spec("{name: flow, model: scripted, agents: [{name: a, role: r}], roles: {r: {prompt: turn}}}")


def test_yaml_text_mistakes_name_the_line_of_the_text() -> None:
    with pytest.raises(UserError) as raised:
        load_spec(GOOD.replace("rounds: 2", "rounds: true"))
    assert str(raised.value) == "<spec text>:4: rounds: Input should be a valid integer (got True)"
    with pytest.raises(UserError, match="^a spec is a name, a path, YAML text or a dict, not int$"):
        load_spec(3)  # type: ignore[arg-type]  # a wrong type on purpose


def test_an_edited_spec_keeps_its_folder_or_says_where_its_paths_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, elsewhere = tmp_path / "study", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / "myscen.jsonl").write_text(json.dumps({"id": "a", "text": "x"}) + "\n", encoding="utf-8")
    (home / "demo.yaml").write_text(GOOD + "scenarios: myscen.jsonl\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    loaded = load_spec(home / "demo.yaml")
    edited = loaded.edited(
        rounds=3, agents=[*loaded.spec.agents, loaded.spec.agents[0].model_copy(update={"name": "c"})]
    )
    assert edited.path == loaded.path and edited.spec.rounds == 3 and len(edited.spec.agents) == 3
    program, inputs = prepare_program(edited, RunOptions())
    assert [s.id for s in inputs.scenarios] == ["a"]
    with pytest.raises(UserError) as raised:
        prepare_program(as_loaded(loaded.spec.model_copy(update={"rounds": 3})), RunOptions())
    assert str(raised.value).startswith("scenarios: scenario file 'myscen.jsonl' not found")
    assert str(raised.value).endswith(f"(a spec without a file resolves relative paths against {elsewhere})")
