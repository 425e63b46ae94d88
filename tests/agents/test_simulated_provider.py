"""The `simulated` provider: verdicts from the debater model, run through the real machinery and fitted back."""

from __future__ import annotations

import asyncio
import json

import pytest

import moot
from helpers import events_of
from moot.agents.context import CallContext
from moot.agents.providers.debate_model import DebaterParams
from moot.agents.providers.simulated import SimulatedClient, simulate_params
from moot.agents.requests import ModelRequest
from moot.analysis.inertia import PriorSD, fit_inertia_conformity, observations_from_events
from moot.errors import UserError
from moot.protocols.spec import AgentSpec

SIMULATE = {"inertia": 2.0, "conformity": 1.0, "conformity_within": 0.5, "dilemma_sd": 0.5}


def simulated_spec(simulate: dict[str, dict], **fields) -> dict:
    """A round-robin debate whose agents are simulated debaters."""
    spec = {
        "name": "simulated_debate",
        "model": "simulated",
        "turns": "round_robin",
        "rounds": 4,
        "stop": [{"consensus": "verdict"}],
        "agents": [
            {"name": name, "role": "debater", "variables": {"simulate": params}} for name, params in simulate.items()
        ],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    spec.update(fields)
    return spec


def ask(client: SimulatedClient, context: CallContext, seed: int = 3) -> dict:
    """One call of the client from a caller; the parsed JSON reply."""
    request = ModelRequest(messages=[{"role": "user", "content": "go"}], params={"seed": seed}, caller=context)
    return json.loads(asyncio.run(client.complete(request)).text)


def shown(round_: int, agent: str, verdict: str | None) -> dict:
    return {
        "id": f"r{round_}:{agent}",
        "round": round_,
        "agent": agent,
        "role": "debater",
        "parsed": {"verdict": verdict, "explanation": "x"} if verdict else None,
    }


def test_client_follows_its_own_previous_verdict_and_what_it_saw():
    # A slope of 50 makes the favoured verdict certain (its probability exceeds 1 - 1e-20).
    sticky = SimulatedClient(DebaterParams(inertia=50.0))
    context = CallContext("c", "s", 2, "alice", "debater", visible=(shown(1, "alice", "ESH"), shown(1, "bob", "NTA")))
    assert ask(sticky, context)["verdict"] == "ESH"
    follower = SimulatedClient(DebaterParams(conformity_within=50.0))
    context = CallContext(
        "c",
        "s",
        2,
        "carol",
        "debater",
        visible=(shown(1, "carol", "ESH"), shown(2, "alice", "INFO"), shown(2, "bob", "INFO")),
    )
    reply = ask(follower, context)
    assert reply["verdict"] == "INFO"
    assert "INFO" in reply["explanation"]


def test_client_is_reproducible_from_the_seed_and_round():
    client = SimulatedClient(DebaterParams(dilemma_sd=1.0))
    context = CallContext("c", "s", 1, "alice", "debater")
    draws = [ask(client, context, seed)["verdict"] for seed in range(40)]
    assert draws == [ask(client, context, seed)["verdict"] for seed in range(40)]
    assert len(set(draws)) > 1


def test_a_simulated_experiment_recovers_its_inertia(tmp_path):
    agents = {
        "alice": {**SIMULATE, "baseline": {"NTA": 1.0}},
        "bob": {**SIMULATE, "baseline": {"YTA": 0.5, "NAH": 0.3}},
        "carol": SIMULATE,
    }
    scenarios = [{"id": f"s{i}", "text": f"Dilemma number {i}."} for i in range(60)]
    result = moot.run(simulated_spec(agents), scenarios, out=tmp_path / "run", cache=None, concurrency=8)
    events = events_of(result.run_dir)
    calls = [e for e in events if e.event == "model_call"]
    assert calls and {c.model for c in calls} == {"simulated"} and all(c.parse_error is None for c in calls)
    observations = observations_from_events(events)
    assert len(observations) == len([e for e in events if e.event == "message_added"])
    assert {o.model for o in observations} == {"alice|simulated", "bob|simulated", "carol|simulated"}
    assert any(o.seen_within for o in observations) and any(o.own_previous for o in observations)
    fit = fit_inertia_conformity(observations, prior_sd=PriorSD(dilemma=0.5))
    low, high = fit.intervals["inertia"]
    assert low < SIMULATE["inertia"] < high, fit.intervals["inertia"]
    assert low > 0


@pytest.mark.parametrize(
    ("simulate", "message"),
    [
        (None, "needs 'variables: {simulate"),
        ({"inertia": "high"}, "variables.simulate.inertia must be a finite number"),
        ({"inertai": 1.0}, "variables.simulate.inertai is unknown; did you mean 'inertia'? known: baseline, "),
        ({"zzzz": 1.0}, "variables.simulate.zzzz is unknown; known: baseline, "),
        ({"baseline": {"NTA": "x"}}, "variables.simulate.baseline.NTA must be a finite number"),
        ({"dilemma_sd": -1}, "variables.simulate.dilemma_sd must not be negative"),
    ],
)
def test_a_bad_simulate_dict_names_the_agent_and_field(tmp_path, simulate, message):
    spec = simulated_spec({"alice": SIMULATE, "bob": SIMULATE})
    if simulate is None:
        del spec["agents"][1]["variables"]["simulate"]
    else:
        spec["agents"][1]["variables"]["simulate"] = simulate
    with pytest.raises(UserError) as caught:
        moot.run(spec, [{"id": "s1", "text": "x"}], out=tmp_path / "run", cache=None)
    assert "'bob'" in str(caught.value) and message in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_simulate_params_reads_every_field():
    agent = AgentSpec(
        name="a",
        role="debater",
        variables={
            "simulate": {
                "baseline": {"NTA": 1},
                "inertia": 1,
                "conformity": 2,
                "conformity_within": 3,
                "dilemma_sd": 0.5,
            }
        },
    )
    assert simulate_params(agent) == DebaterParams({"NTA": 1.0}, 1.0, 2.0, 3.0, 0.5)


def test_each_agent_plays_its_own_parameters(tmp_path):
    """Two agents with opposite strong baselines and no pull from each other keep their own verdicts."""
    stubborn = {"inertia": 0.0, "conformity": 0.0, "conformity_within": 0.0, "dilemma_sd": 0.0}
    spec = simulated_spec(
        {"alice": {**stubborn, "baseline": {"NTA": 12.0}}, "bob": {**stubborn, "baseline": {"YTA": 12.0}}}, rounds=2
    )
    scenarios = [{"id": f"d{i}", "text": f"Dilemma {i}."} for i in range(5)]
    result = moot.run(spec, scenarios, out=tmp_path / "run", cache=None)
    said = {(e.agent, e.parsed["verdict"]) for e in events_of(result.run_dir, "message_added")}
    assert said == {("alice", "NTA"), ("bob", "YTA")}
