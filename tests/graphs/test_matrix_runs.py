"""Runs of a spec with a matrix: each conversation runs in its arm's models and spec, records its arm, and shares its
seed with the same conversation of every other arm."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.scripted import register_responder
from moot.graphs.audit import verify_run
from moot.graphs.compiler import compile_protocol
from moot.graphs.executor import LocalExecutor
from moot.judges.programs import replay_run
from moot.protocols.spec import ProtocolSpec
from moot.scenarios import Scenario, ScenarioSet
from moot.trace.events import ConversationStarted, MessageAdded, TurnStarted
from moot.trace.manifest import RunManifest

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

MODELS = ("gpt", "claude", "gemini")


def naming_responder(model: str) -> Any:
    """A scripted model whose every reply names it (and the agent it speaks for)."""

    def respond(messages: list[dict[str, str]], caller: CallContext) -> str:
        return json.dumps({"verdict": "NTA", "explanation": f"{model} speaking for {caller.agent}"})

    return respond


for _model in MODELS:
    register_responder(f"matrix_{_model}", naming_responder(_model))


def debate(matrix: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    """Two debaters (alice, bob) who never agree to stop, for 2 rounds."""
    data: dict[str, Any] = {
        "name": "matrix_debate",
        "model": "scripted:matrix_gpt",
        "turns": "round_robin",
        "rounds": 2,
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    data.update(fields)
    if matrix is not None:
        data["matrix"] = matrix
    return data


SCENARIOS = [Scenario(id=f"s{i}", title=f"Case {i}", text=f"What happened in case {i}.") for i in range(2)]
ALL_PAIRINGS = {"models": {"lineup": "combinations", "from": [f"scripted:matrix_{m}" for m in MODELS]}}


def starts(run_dir: Path) -> dict[str, ConversationStarted]:
    """The conversation_started event of every conversation."""
    return {
        e.conversation_id: e for e in events_of(run_dir, "conversation_started") if isinstance(e, ConversationStarted)
    }


def test_every_pairing_in_every_order_runs_with_its_arm_models_and_records_its_arm(tmp_path: Path) -> None:
    spec = debate(ALL_PAIRINGS, orders="permutations")
    run_dir = moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=None).run_dir
    started = starts(run_dir)
    # C(3, 2) = 3 line-ups x 2 orders x 2 scenarios = 12 conversations.
    assert len(started) == 12
    assert RunManifest.read(run_dir).conversations.completed == 12
    lineups = Counter(tuple(sorted(s.arm.items())) for s in started.values() if s.arm)
    assert len(lineups) == 3 and set(lineups.values()) == {4}
    for start in started.values():
        assert start.arm is not None and start.models is not None
        assert list(start.arm) == ["model.alice", "model.bob"]
        assert start.models == {agent: start.arm[f"model.{agent}"] for agent in ("alice", "bob")}
    orders = Counter((tuple(sorted(s.arm.items())), tuple(s.order)) for s in started.values() if s.arm)
    assert set(orders.values()) == {2}, "each line-up runs both speaking orders on both scenarios"
    said = [e for e in events_of(run_dir, "message_added") if isinstance(e, MessageAdded)]
    assert len(said) == 12 * 2 * 2
    for message in said:
        models = started[message.conversation_id].models or {}
        speaker = models[str(message.agent)].removeprefix("scripted:matrix_")
        assert message.parsed is not None
        assert message.parsed["explanation"] == f"{speaker} speaking for {message.agent}"
    assert verify_run(run_dir).ok


def test_arms_share_the_seed_of_each_scenario_order_and_repeat_and_differ_in_id() -> None:
    inputs = ScenarioSet("(python)", "", SCENARIOS)
    matrix = compile_protocol(ProtocolSpec.model_validate(debate({"vary": {"goal": ["correctness", "balanced"]}})))
    units = matrix.units(inputs, 7)
    assert len(units) == 4 and len({unit.id for unit in units}) == 4
    by_cell: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for unit in units:
        plan = unit.payload
        by_cell[(plan.scenario_index, plan.order, plan.repeat)].add(plan.seed)
    assert len(by_cell) == 2 and all(len(seeds) == 1 for seeds in by_cell.values()), "paired arms share seeds"
    # Without a matrix the id and seed are what they always were: the hash of (name, scenario, order, repeat, seed).
    plain = compile_protocol(ProtocolSpec.model_validate(debate(None)))
    plan = plain.units(inputs, 7)[0].payload
    key = "|".join(["matrix_debate", "s0", "alice>bob", "0", "7"])
    assert plan.conversation_id == "c" + hashlib.sha256(key.encode()).hexdigest()[:12]
    assert plan.arm is None
    assert plan.seed == next(u.payload.seed for u in units if u.payload.scenario_index == 0)
    assert plan.conversation_id not in {unit.id for unit in units}


def test_a_run_varying_the_turn_policy_runs_two_graphs_each_audited_by_its_own(tmp_path: Path) -> None:
    spec = debate({"vary": {"turns": ["synchronous", "round_robin"]}}, turns="synchronous")
    run_dir = moot.run(spec, SCENARIOS[:1], out=tmp_path / "run", cache=None).run_dir
    started = starts(run_dir)
    assert sorted(s.arm["turns"] for s in started.values() if s.arm) == ["round_robin", "synchronous"]
    assert all(s.models == {"alice": "scripted:matrix_gpt", "bob": "scripted:matrix_gpt"} for s in started.values())
    seen = {}
    for turn in events_of(run_dir, "turn_started"):
        assert isinstance(turn, TurnStarted)
        if turn.round == 1 and turn.agent == "bob":
            arm = started[turn.conversation_id].arm or {}
            seen[arm["turns"]] = len(turn.visible)
    assert seen == {"synchronous": 0, "round_robin": 1}, "bob sees alice's first message only after her"
    report = verify_run(run_dir)
    assert report.ok, [p.line() for p in report.problems]


def test_agent_fields_of_an_entry_reach_the_agent_and_a_replay_reproduces_every_arm(tmp_path: Path) -> None:
    matrix = {
        "models": {
            "agents": ["alice"],
            "from": [
                {"model": "scripted", "name": "yes", "script": [json.dumps({"verdict": "NTA", "explanation": "y"})]},
                {"model": "scripted", "name": "no", "script": [json.dumps({"verdict": "YTA", "explanation": "n"})]},
            ],
        }
    }
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(s.model_dump_json() + "\n" for s in SCENARIOS), encoding="utf-8")
    run_dir = moot.run(debate(matrix), cases, out=tmp_path / "run", cache=None).run_dir
    verdicts = {
        (starts(run_dir)[e.conversation_id].arm or {}).get("model.alice"): (e.parsed or {}).get("verdict")
        for e in events_of(run_dir, "message_added")
        if isinstance(e, MessageAdded) and e.agent == "alice"
    }
    assert verdicts == {"yes": "NTA", "no": "YTA"}, "two scripted entries are two models, each with its own script"
    report = replay_run(run_dir, out=tmp_path / "again")
    assert report.ok, report.lines()
    assert report.conversations == 4
    replayed = starts(report.replay)
    assert {cid: s.arm for cid, s in replayed.items()} == {cid: s.arm for cid, s in starts(run_dir).items()}


def test_the_executor_runs_a_matrix_spec_sent_as_its_spec(tmp_path: Path) -> None:
    import pickle

    protocol = compile_protocol(ProtocolSpec.model_validate(debate(ALL_PAIRINGS)))
    again = pickle.loads(pickle.dumps(protocol))
    assert [arm.arm.label for arm in again.arms] == [arm.arm.label for arm in protocol.arms]
    inputs = ScenarioSet("(python)", "", SCENARIOS)
    assert [u.payload for u in again.units(inputs, 0)] == [u.payload for u in protocol.units(inputs, 0)]
    run_dir = moot.run(debate(ALL_PAIRINGS), SCENARIOS, out=tmp_path / "run", cache=None, executor=LocalExecutor())
    assert RunManifest.read(run_dir.run_dir).conversations.completed == 6
    assert RunManifest.read(run_dir.run_dir).spec["matrix"] == ALL_PAIRINGS | {"vary": {}} | {
        "models": {
            "agents": None,
            "lineup": "combinations",
            "from": [{"model": m} for m in ALL_PAIRINGS["models"]["from"]],
        }
    }
