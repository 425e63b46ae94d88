"""Protocol behaviour on scripted models, asserted on the trace."""

from __future__ import annotations

import json

import pytest

import moot
from helpers import SCENARIOS, debate_spec, events_of, verdict
from moot.agents.providers.scripted import register_responder
from moot.errors import UserError
from moot.graphs.compiler import compile_protocol
from moot.graphs.plans import expand
from moot.protocols.loader import validate_spec_data
from moot.scenarios import ScenarioSet


def _run(spec: dict, tmp_path, scenarios=SCENARIOS[:1], **kwargs):
    return moot.run(spec, scenarios, out=tmp_path / "run", **kwargs)


def test_round_robin_stops_on_consensus_with_reason(tmp_path):
    spec = debate_spec({"alice": [verdict("NTA"), verdict("YTA")], "bob": [verdict("YTA"), verdict("YTA")]})
    result = _run(spec, tmp_path)
    (stop,) = events_of(result.run_dir, "stopped")
    assert (stop.status, stop.rounds, stop.reason) == ("completed", 2, "consensus on verdict (YTA)")
    rounds = events_of(result.run_dir, "round_ended")
    assert [r.outcome for r in rounds] == [
        {"verdict": {"alice": "NTA", "bob": "YTA"}},
        {"verdict": {"alice": "YTA", "bob": "YTA"}},
    ]
    assert result.manifest.status == "completed" and result.manifest.conversations.completed == 1


def test_round_limit_stops_a_debate_without_agreement(tmp_path):
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("YTA")]}, rounds=3)
    (stop,) = events_of(_run(spec, tmp_path).run_dir, "stopped")
    assert (stop.rounds, stop.reason) == (3, "max rounds (3)")


def test_unparsed_verdict_never_counts_toward_consensus(tmp_path):
    spec = debate_spec({"alice": [["no verdict here"] * 3, verdict("NTA")], "bob": [verdict("NTA")]}, rounds=2)
    run_dir = _run(spec, tmp_path).run_dir
    first = [e for e in events_of(run_dir, "message_added") if e.round == 1]
    assert {e.agent: e.parsed for e in first}["alice"] is None
    assert "no JSON object" in {e.agent: e.parse_error for e in first}["alice"]
    (stop,) = events_of(run_dir, "stopped")
    assert (stop.rounds, stop.reason) == (2, "consensus on verdict (NTA)")


def test_invalid_reply_is_asked_again_with_the_error(tmp_path):
    spec = debate_spec(
        {"alice": [['{"verdict": "MAYBE", "explanation": "x"}', verdict("ESH")]], "bob": [verdict("ESH")]}
    )
    run_dir = _run(spec, tmp_path).run_dir
    calls = [e for e in events_of(run_dir, "model_call") if e.agent == "alice"]
    assert [c.attempt for c in calls] == [0, 1]
    assert calls[0].parsed is None and "verdict" in calls[0].parse_error
    assert "could not be used" in calls[1].messages[-1].content and calls[1].messages[-2].role == "assistant"
    assert calls[1].parsed == {"verdict": "ESH", "explanation": "because"}


def test_free_text_mode_parses_the_documented_line_format(tmp_path):
    reply = "I think the poster was fine.\nMy current verdict: NTA\nExplanation: nobody was hurt."
    spec = debate_spec({"alice": [reply], "bob": [reply]})
    spec["roles"]["debater"]["output_mode"] = "text"
    run_dir = _run(spec, tmp_path).run_dir
    parsed = [e.parsed for e in events_of(run_dir, "message_added")]
    assert parsed == [{"verdict": "NTA", "explanation": "nobody was hurt."}] * 2
    system = events_of(run_dir, "model_call")[0].messages[0].content
    assert "My current verdict: NTA | YTA | NAH | ESH | INFO" in system


def test_a_failing_model_fails_its_conversation_and_the_run_goes_on(tmp_path):
    def flaky(messages, context):
        if context.scenario_id == "s1":
            raise RuntimeError("model exploded")
        return verdict("NAH")

    register_responder("flaky", flaky)
    spec = debate_spec({"alice": None, "bob": None}, model="scripted:flaky")
    for agent in spec["agents"]:
        del agent["script"]
    result = _run(spec, tmp_path, scenarios=SCENARIOS)
    stops = {e.scenario_id: e for e in events_of(result.run_dir, "stopped")}
    assert stops["s1"].status == "failed" and "model exploded" in stops["s1"].reason
    assert stops["s2"].status == "completed"
    (error,) = events_of(result.run_dir, "error")
    assert error.kind == "model_error" and error.scenario_id == "s1"
    assert result.manifest.conversations.model_dump() == {"planned": 2, "completed": 1, "failed": 1}
    assert result.manifest.usage.total.failures == 1


def test_synchronous_speakers_do_not_see_their_round_but_round_robin_ones_do(tmp_path):
    scripts = {
        "alice": [verdict("NTA", "alice-r1-secret"), verdict("NTA", "alice-r2")],
        "bob": [verdict("YTA", "bob-r1"), verdict("YTA", "bob-r2")],
    }
    for turns, bob_sees_alice in (("synchronous", False), ("round_robin", True)):
        run_dir = _run(debate_spec(scripts, turns=turns, rounds=2), tmp_path / turns).run_dir
        calls = {(e.round, e.agent): e for e in events_of(run_dir, "model_call")}
        assert ("alice-r1-secret" in calls[(1, "bob")].messages[-1].content) is bob_sees_alice
        assert "alice-r1-secret" in calls[(2, "bob")].messages[-1].content
        assert "bob-r1" not in calls[(1, "alice")].messages[-1].content


def test_custom_round_graph_joins_two_branches(tmp_path):
    scripts = {name: [verdict("NTA", f"{name}-says")] for name in ("a", "b", "c")}
    spec = debate_spec(
        scripts, rounds=1, turns={"edges": [["start", "a"], ["start", "b"], ["a", "c"], ["b", "c"], ["c", "end"]]}
    )
    turns = {e.agent: e.visible for e in events_of(_run(spec, tmp_path).run_dir, "turn_started")}
    assert turns == {"a": [], "b": [], "c": ["r1:a", "r1:b"]}


def test_history_setting_limits_earlier_rounds(tmp_path):
    scripts = {"a": [verdict("NTA")] * 3, "b": [verdict("YTA")] * 3}
    spec = debate_spec(scripts, rounds=3, turns="synchronous")
    spec["roles"]["debater"]["history"] = "last_round"
    visible = {(e.round, e.agent): e.visible for e in events_of(_run(spec, tmp_path).run_dir, "turn_started")}
    assert visible[(3, "a")] == ["r2:a", "r2:b"]


def test_judge_decides_after_each_round_and_can_stop_the_conversation(tmp_path):
    def decision(conceded: bool) -> str:
        return json.dumps({"conceded": conceded, "reason": "r"})

    spec = {
        "name": "concession",
        "model": "scripted",
        "turns": "round_robin",
        "rounds": 5,
        "stop": [{"decision": {"agent": "judge", "field": "conceded", "equals": True}}],
        "agents": [
            {"name": "target", "role": "party", "script": ["I hold my value."]},
            {"name": "counterpart", "role": "party", "script": ["I never yield."]},
            {"name": "judge", "role": "judge", "script": [decision(False), decision(False), decision(True)]},
        ],
        "roles": {
            "party": {"prompt": "You negotiate about {{ scenario.title }}.", "output": None},
            "judge": {
                "kind": "judge",
                "prompt": "Decide whether the target conceded.",
                "sees": ["party"],
                "output": {
                    "type": "object",
                    "properties": {"conceded": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 200}},
                },
            },
        },
    }
    run_dir = _run(spec, tmp_path).run_dir
    (stop,) = events_of(run_dir, "stopped")
    assert (stop.rounds, stop.reason) == (3, "judge decided conceded = True")
    decisions = events_of(run_dir, "judge_decision")
    assert [d.decision["conceded"] for d in decisions] == [False, False, True]
    judge_turns = [e for e in events_of(run_dir, "turn_started") if e.agent == "judge"]
    assert judge_turns[0].visible == ["r1:target", "r1:counterpart"]
    party_turn = [e for e in events_of(run_dir, "turn_started") if e.agent == "target" and e.round == 2][0]
    assert "r1:judge" not in party_turn.visible, "parties do not see the judge unless their role says so"


def test_experiment_expansion_orders_repeats_and_deterministic_ids():
    scripts = {name: [verdict("NTA")] for name in ("a", "b", "c")}
    spec = validate_spec_data(debate_spec(scripts, orders="permutations", repeats=2))
    protocol = compile_protocol(spec)
    scenario_set = ScenarioSet("x", "", [moot.Scenario(**s) for s in SCENARIOS])
    plans = expand(protocol, scenario_set, seed=5)
    assert len(plans) == 2 * 6 * 2
    assert len({p.conversation_id for p in plans}) == len(plans)
    assert len({p.order for p in plans}) == 6
    assert [p.conversation_id for p in plans] == [p.conversation_id for p in expand(protocol, scenario_set, seed=5)]
    assert plans[0].seed != expand(protocol, scenario_set, seed=6)[0].seed


def test_each_agent_gets_its_own_seed_and_a_fixed_one_is_kept(tmp_path):
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("NTA")]}, rounds=1)
    spec["agents"][1]["seed"] = 42
    calls = {e.agent: e.params for e in events_of(_run(spec, tmp_path).run_dir, "model_call")}
    assert calls["bob"]["seed"] == 42 and calls["alice"]["seed"] != 42
    assert calls["alice"]["temperature"] == 0.7


def test_an_output_directory_holding_a_run_is_refused_and_left_untouched(tmp_path):
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("NTA")]}, rounds=1)
    first = _run(spec, tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in first.run_dir.iterdir()}
    with pytest.raises(UserError, match="already exists and holds another run"):
        _run(spec, tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in first.run_dir.iterdir()} == before


def test_usage_is_summed_per_agent_and_priced_from_the_price_table(tmp_path):
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("NTA")]}, rounds=1)
    spec["providers"] = {"scripted": {"price_per_1k_in": 1.0, "price_per_1k_out": 2.0}}
    result = _run(spec, tmp_path)
    usage = result.manifest.usage
    calls = events_of(result.run_dir, "model_call")
    tokens_in, tokens_out = sum(c.tokens_in for c in calls), sum(c.tokens_out for c in calls)
    assert usage.total.calls == 2 and usage.total.tokens_in == tokens_in and usage.total.tokens_out == tokens_out
    assert usage.by_agent["alice"].calls == 1 and usage.by_role["debater"].calls == 2
    assert usage.total.cost == pytest.approx((tokens_in * 1.0 + tokens_out * 2.0) / 1000)
    assert result.manifest.events == len(events_of(result.run_dir)) and result.manifest.final_hash


def test_progress_is_reported_from_the_start_to_the_last_conversation(tmp_path):
    seen = []
    spec = debate_spec({"alice": [verdict("NTA")], "bob": [verdict("NTA")]}, rounds=1)
    _run(spec, tmp_path, scenarios=SCENARIOS, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]
