"""Arms of conversations, read from the trace: the matrix cell, the models, orders and repeats."""

from __future__ import annotations

from moot.analysis.arms import ALL_ARMS, Arm, Spread, conversation_arms, player_name, pooled_note
from moot.trace.events import ConversationStarted, ModelCall
from moot.trace.store import canonical_json as event_json


def _start(cid: str, order: list[str], repeat: int = 0, arm=None, models=None) -> ConversationStarted:
    return ConversationStarted(
        run_id="r",
        conversation_id=cid,
        scenario_id="s",
        protocol="p",
        order=order,
        repeat=repeat,
        seed=1,
        arm=arm,
        models=models,
    )


def _call(cid: str, agent: str, model: str) -> ModelCall:
    return ModelCall(
        run_id="r",
        conversation_id=cid,
        scenario_id="s",
        round=1,
        agent=agent,
        role="r",
        model=model,
        messages=[],
        params={},
    )


def test_a_run_without_a_matrix_has_one_arm_and_the_models_its_calls_used() -> None:
    spec = {"model": "local", "agents": [{"name": "a"}, {"name": "b", "model": "scripted:b"}]}
    table = conversation_arms(
        [_start("c1", ["a", "b"]), _call("c1", "a", "openai:gpt"), _start("c2", ["b", "a"], 1)], spec
    )
    assert [arm.label for arm in table.arms()] == [ALL_ARMS]
    assert table["c1"].models == {"a": "openai:gpt", "b": "scripted:b"}
    assert table["c2"].models == {"a": "local", "b": "scripted:b"}
    assert not table.compares() and table.dimensions() == []
    assert table.varies("order") and table.varies("repeat") and table.varies("first_speaker")
    assert table["c2"].level("order") == "b>a" and table["c2"].first_speaker == "b"
    assert pooled_note(table, ["order", "repeat", "model.a"]) == "pooled over order, repeat"


def test_matrix_cells_are_arms_and_their_recorded_models_win() -> None:
    events = [
        _start("c1", ["a", "b"], arm={"model.a": "m1", "goal": "x"}, models={"a": "m1", "b": "m0"}),
        _start("c2", ["a", "b"], arm={"model.a": "m2", "goal": "x"}, models={"a": "m2", "b": "m0"}),
        _call("c2", "a", "other"),
        _start("c3", ["a", "b"], arm={"model.a": "m1", "goal": "x"}, models={"a": "m1", "b": "m0"}),
    ]
    table = conversation_arms(events)
    assert [arm.label for arm in table.arms()] == ["model.a=m1, goal=x", "model.a=m2, goal=x"]
    assert table.dimensions() == ["model.a"]
    assert table["c2"].models["a"] == "m2"
    groups = table.group(["c1", "c2", "c3", "unknown"], lambda cid: cid, ["model.a"])
    assert groups == {"model.a=m1": ["c1", "c3"], "model.a=m2": ["c2"]}
    assert table.group(["c1"], lambda cid: cid, []) == {ALL_ARMS: ["c1"]}


def test_an_event_without_a_matrix_keeps_its_json() -> None:
    assert "arm" not in event_json(_start("c1", ["a"])) and "models" not in event_json(_start("c1", ["a"]))
    assert '"arm"' in event_json(_start("c1", ["a"], arm={"goal": "x"}))


def test_players_are_models_when_they_all_differ_else_agents() -> None:
    assert player_name("a", {"a": "m1", "b": "m2"}, ["a", "b"]) == "m1"
    assert player_name("a", {"a": "m1", "b": "m1"}, ["a", "b"]) == "a"
    assert Arm.of({"x": 1}).with_dims({"run": "r2"}).label == "x=1, run=r2"


def test_spread_over_levels() -> None:
    spread = Spread.of([1.0, 3.0, None])
    assert spread.as_dict() == {"mean": 2.0, "sd": 2**0.5, "n": 2}
    assert Spread.of([5.0]).sd is None and Spread.of([]).mean is None


def test_named_matrix_models_are_players_of_their_own() -> None:
    events = [
        _start(
            "c1",
            ["a", "b"],
            arm={"model.a": "stubborn", "model.b": "pliant"},
            models={"a": "simulated", "b": "simulated"},
        ),
        _start("c2", ["a", "b"], models={"a": "simulated", "b": "simulated"}),
    ]
    table = conversation_arms(events)
    assert table["c1"].players() == {"a": "stubborn", "b": "pliant"}
    assert table["c2"].players() == {"a": "a", "b": "b"}


def test_a_recorded_arm_reads_back_in_the_matrix_order() -> None:
    spec = {
        "agents": [{"name": "zed", "role": "d"}, {"name": "amy", "role": "d"}],
        "roles": {"d": {}},
        "matrix": {"models": {"from": ["m1", "m2"], "lineup": "combinations"}, "vary": {"goal": ["x"], "b.a": [1]}},
    }
    table = conversation_arms(
        [_start("c1", ["zed", "amy"], arm={"b.a": "1", "goal": "x", "model.amy": "m2", "model.zed": "m1"})], spec
    )
    assert table["c1"].arm.label == "model.zed=m1, model.amy=m2, goal=x, b.a=1"
