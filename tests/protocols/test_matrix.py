"""The matrix of a spec: its syntax, its refusals, and its arms (counted by hand for each line-up)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from moot.agents.providers.scripted import register_responder
from moot.errors import SpecError, UserError
from moot.graphs.compiler import compile_protocol
from moot.protocols.loader import validate_spec_data, with_models
from moot.protocols.matrix import (
    MAX_ARMS,
    arm_count,
    expand_matrix,
    level_text,
    matrix_dimensions,
    with_matrix_model,
)
from moot.protocols.spec import ProtocolSpec, spec_hash

MODELS = ["scripted:m1", "scripted:m2", "scripted:m3"]
for _name in ("m1", "m2", "m3", "other", "b"):
    register_responder(_name, lambda messages, caller, name=_name: f"{name} answers")


def spec_data(matrix: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A two-debater spec (alice, bob) and a judge, with `matrix` when given."""
    data: dict[str, Any] = {
        "name": "matrix_demo",
        "model": "scripted",
        "rounds": 2,
        "agents": [
            {"name": "alice", "role": "debater", "script": ["a"]},
            {"name": "bob", "role": "debater", "script": ["b"]},
            {"name": "judge", "role": "judge", "script": ["j"]},
        ],
        "roles": {"debater": {"prompt": "debater", "output": None}, "judge": {"kind": "judge", "prompt": "debater"}},
    }
    data.update(fields)
    if matrix is not None:
        data["matrix"] = matrix
    return data


def spec(matrix: dict[str, Any] | None = None, **fields: Any) -> ProtocolSpec:
    """The spec of `spec_data`, validated."""
    return ProtocolSpec.model_validate(spec_data(matrix, **fields))


@pytest.mark.parametrize(("lineup", "arms"), [("each", 3), ("combinations", 3), ("product", 9)])
def test_three_models_and_two_agents_give_the_hand_counted_arms(lineup: str, arms: int) -> None:
    # each: 3 (one model for both); combinations: C(3, 2) = 3; product: 3^2 = 9.
    matrix = spec({"models": {"lineup": lineup, "from": MODELS}})
    expanded = expand_matrix(matrix)
    assert arm_count(matrix) == len(expanded) == arms
    assert len({arm.label for arm in expanded}) == arms
    for arm in expanded:
        dims = [dim for dim, _ in arm.levels]
        assert dims == ["model.alice", "model.bob"], "the agents the models go to default to every speaker"
        assert arm.models()["judge"] == "scripted", "a judge keeps its model"
        assert [arm.models()[a] for a in ("alice", "bob")] == [level for _, level in arm.levels]
        assert arm.spec.matrix is None
    pairs = [tuple(level for _, level in arm.levels) for arm in expanded]
    if lineup == "each":
        assert pairs == [(m, m) for m in MODELS]
    if lineup == "combinations":
        assert pairs == [(MODELS[0], MODELS[1]), (MODELS[0], MODELS[2]), (MODELS[1], MODELS[2])]


def test_combinations_with_every_speaking_order_run_six_conversations_per_scenario_and_repeat() -> None:
    # C(3, 2) = 3 line-ups x 2! speaking orders = 6 conversations per scenario and repeat.
    protocol = compile_protocol(spec({"models": {"lineup": "combinations", "from": MODELS}}, orders="permutations"))
    assert len(protocol.arms) == 3
    assert protocol.per_scenario() == 6
    twice = compile_protocol(
        spec({"models": {"lineup": "combinations", "from": MODELS}}, orders="permutations", repeats=2)
    )
    assert twice.per_scenario() == 12


def test_an_entry_names_its_level_and_sets_agent_fields_and_vary_crosses_every_path() -> None:
    matrix = {
        "models": {
            "agents": ["alice"],
            "from": [
                "scripted:m1",
                {
                    "model": "simulated",
                    "name": "stubborn",
                    "variables": {"simulate": {"inertia": 2.0}},
                    "temperature": 1,
                },
            ],
        },
        "vary": {
            "goal": ["correctness", "adversarial"],
            "agents.bob.temperature": [0.0, 0.7],
            "roles.debater.prompt": ["debater", "You argue."],
            "variables.adapt_value": ["benevolence", {"a": 1}],
        },
    }
    expanded = expand_matrix(spec(matrix, variables={"keep": 1}))
    assert len(expanded) == 2 * 2 * 2 * 2 * 2
    stubborn = next(arm for arm in expanded if arm.levels[0] == ("model.alice", "stubborn"))
    alice = stubborn.spec.agent("alice")
    assert (alice.model, alice.temperature, alice.script) == ("simulated", 1.0, ["a"])
    assert alice.variables == {"simulate": {"inertia": 2.0}}
    assert (
        matrix_dimensions(spec(matrix))
        == [dim for dim, _ in expanded[0].levels]
        == [
            "model.alice",
            "goal",
            "agents.bob.temperature",
            "roles.debater.prompt",
            "variables.adapt_value",
        ]
    )
    last = expanded[-1]
    assert last.label == (
        "model.alice=stubborn, goal=adversarial, agents.bob.temperature=0.7, roles.debater.prompt=You argue.,"
        ' variables.adapt_value={"a": 1}'
    )
    assert last.spec.goal == "adversarial"
    assert last.spec.agent("bob").temperature == 0.7
    assert last.spec.roles["debater"].prompt == "You argue."
    assert last.spec.variables == {"keep": 1, "adapt_value": {"a": 1}}
    assert stubborn.spec.agent("bob").model is None, "an agent the models part does not list keeps its model"


def test_level_text_is_a_string_as_it_is_and_anything_else_as_json() -> None:
    assert [level_text(v) for v in ["x", 0.5, 1, True, None, [1, "a"]]] == ["x", "0.5", "1", "true", "null", '[1, "a"]']


def test_a_spec_without_a_matrix_dumps_and_hashes_as_before() -> None:
    plain = spec()
    assert "matrix" not in plain.model_dump(mode="json")
    with_matrix = spec({"vary": {"goal": ["balanced"]}})
    assert with_matrix.model_dump(mode="json")["matrix"] == {"models": None, "vary": {"goal": ["balanced"]}}
    assert spec_hash(plain) != spec_hash(with_matrix)
    # The matrix survives run.json: dumped (with `from`) and validated again, it is the same.
    data = spec({"models": {"from": ["scripted:m1", {"model": "scripted:m2", "name": "two"}]}}).model_dump(mode="json")
    assert data["matrix"]["models"]["from"] == [{"model": "scripted:m1"}, {"model": "scripted:m2", "name": "two"}]
    assert ProtocolSpec.model_validate(data).model_dump(mode="json") == data


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({}, "a matrix needs `models`, `vary` or both"),
    ({"vary": {"matrix": [1]}}, "matrix.vary.matrix: cannot be varied: it is the matrix itself"),
    ({"vary": {"name": ["a"]}}, "matrix.vary.name: cannot be varied"),
    ({"vary": {"agents": [[]]}}, "matrix.vary.agents: cannot be varied: it is every agent at once"),
    ({"vary": {"repeats": [1, 2]}}, "matrix.vary.repeats: cannot be varied"),
    ({"vary": {"seed": [1, 2]}}, "matrix.vary.seed: cannot be varied"),
    ({"vary": {"scenarios": ["a"]}}, "matrix.vary.scenarios: cannot be varied"),
    (
        {"vary": {"gaol": ["balanced"]}},
        "matrix.vary.gaol: names nothing: spec field 'gaol' is unknown; did you mean 'goal'?",
    ),
    ({"vary": {"goal.x": ["balanced"]}}, "matrix.vary.goal.x: names nothing: `goal` is varied whole"),
    (
        {"vary": {"agents.carol.temperature": [0.1]}},
        "matrix.vary.agents.carol.temperature: names nothing: agent 'carol'",
    ),
    ({"vary": {"agents.bob.temprature": [0.1]}}, "did you mean 'temperature'?"),
    ({"vary": {"agents.bob.name": ["x"]}}, "matrix.vary.agents.bob.name: cannot be varied"),
    ({"vary": {"agents.bob": [{}]}}, "matrix.vary.agents.bob: names nothing: write `agents.NAME.FIELD`"),
    (
        {"vary": {"roles.speaker.prompt": ["x"]}},
        "matrix.vary.roles.speaker.prompt: names nothing: role 'speaker' is unknown",
    ),
    ({"vary": {"providers.openai.max_concurrency": [1, 2]}}, "cannot be varied: one limiter and one price"),
    ({"vary": {"providers.openai.colour": [1]}}, "provider field 'colour' is unknown"),
    ({"vary": {"variables.a.b": [1]}}, "vary a whole variable"),
    ({"vary": {"goal..x": [1]}}, "is not a dotted path"),
    ({"models": {"from": MODELS}, "vary": {"agents.alice.model": ["scripted"]}}, "is set by the matrix's models"),
    (
        {"models": {"from": [{"model": "scripted:m1", "temperature": 0.1}]}, "vary": {"agents.bob.temperature": [0]}},
        "matrix.vary.agents.bob.temperature: is set by the matrix's models for agent 'bob'",
    ),
    ({"models": {"agents": ["carol"], "from": MODELS}}, "agent 'carol' is unknown"),
    ({"models": {"agents": ["bob", "bob"], "from": MODELS}}, "agent 'bob' is listed twice"),
    ({"models": {"from": ["scripted:m1", "scripted:m1"]}}, "model 'scripted:m1' is listed twice (entry 1)"),
    ({"models": {"lineup": "combinations", "from": ["scripted:m1"]}}, "list at least 2 models"),
    ({"models": {"lineup": "pairs", "from": MODELS}}, "Input should be 'each', 'combinations' or 'product'"),
    ({"models": {"from": [{"model": "scripted:m1", "role": "x"}]}}, "unknown key 'role'"),
    ({"models": {"from": [{"model": "scripted:m1", "name": "a b"}]}}, "String should match pattern"),
]


@pytest.mark.parametrize(("matrix", "message"), REFUSED)
def test_a_matrix_mistake_is_refused_naming_it(matrix: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as caught:
        compile_protocol(validate_spec_data(spec_data(copy.deepcopy(matrix))))
    assert message in str(caught.value)


def test_too_many_arms_are_refused_before_any_is_built() -> None:
    # 11 x 10 x 10 = 1,100 arms > 1,000.
    matrix = {"vary": {"rounds": list(range(1, 12)), "agents.bob.max_tokens": list(range(1, 11))}}
    matrix["vary"]["agents.alice.max_tokens"] = list(range(1, 11))
    with pytest.raises(SpecError, match=f"the matrix has 1,100 arms; at most {MAX_ARMS:,}"):
        expand_matrix(spec(matrix))


def test_a_mistake_in_one_arm_names_the_arm() -> None:
    with pytest.raises(SpecError) as caught:
        compile_protocol(spec({"vary": {"rounds": [2, 500]}}))
    assert str(caught.value).startswith("matrix arm 'rounds=500': rounds: Input should be less than or equal to 100")
    with pytest.raises(SpecError) as caught:
        compile_protocol(spec({"models": {"agents": ["alice"], "from": ["scripted:unregistered"]}}))
    assert "matrix arm 'model.alice=scripted:unregistered': agents[0].model: scripted responder" in str(caught.value)


def test_model_overrides_keep_the_matrix_models_and_refuse_an_agent_the_matrix_sets() -> None:
    matrix = spec({"models": {"agents": ["alice"], "from": MODELS}})
    every = with_models(matrix, [(None, "scripted:other")])
    assert every.model == "scripted:other"
    arms = expand_matrix(every)
    assert [arm.models() for arm in arms][0] == {
        "alice": "scripted:m1",
        "bob": "scripted:other",
        "judge": "scripted:other",
    }
    assert with_models(matrix, [("bob", "scripted:b")]).agent("bob").model == "scripted:b"
    with pytest.raises(UserError, match="--model 'alice=scripted:x': agent 'alice' takes its models from the spec's"):
        with_models(matrix, [("alice", "scripted:x")])


def test_a_replay_model_replaces_every_entry_and_keeps_every_label() -> None:
    matrix = spec({"models": {"from": ["scripted:m1", {"model": "scripted:m2", "name": "two"}]}})
    replayed = with_matrix_model(matrix, "replay:/somewhere")
    assert [arm.label for arm in expand_matrix(replayed)] == [arm.label for arm in expand_matrix(matrix)]
    assert {arm.models()["alice"] for arm in expand_matrix(replayed)} == {"replay:/somewhere"}


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_matrix_examples() -> list[dict[str, Any]]:
    """The YAML specs of the README's section on the matrix."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Comparing models and variants: the matrix", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block.split("```", 1)[0]) for block in section.split("```yaml\n")[1:]]


def test_the_readme_examples_are_valid_and_have_the_arms_they_say(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme-example-key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-readme-example-key")
    examples = readme_matrix_examples()
    assert [example["name"] for example in examples] == ["cooperation_three_models", "aita_all_pairings"]
    cooperation, pairings = (compile_protocol(validate_spec_data(example)) for example in examples)
    # 3 target models x 5 repeats; C(3, 2) = 3 line-ups x 2 goals = 6 arms, x 2 orders = 12 conversations.
    assert (len(cooperation.arms), cooperation.per_scenario()) == (3, 15)
    assert (len(pairings.arms), pairings.per_scenario()) == (6, 12)
    assert {arm.arm.levels[1][1] for arm in pairings.arms} == {"anthropic:claude-sonnet-4-20250514", "stubborn"}
