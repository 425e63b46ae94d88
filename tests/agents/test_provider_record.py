"""A provider is a record and a client: `dummy`, defined in this module alone and registered with one
line, runs a three-agent debate through `moot.run`, checked, limited, cached and traced like any other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import moot
from helpers import events_of
from moot.agents.providers.record import ModelRef, ProviderRecord
from moot.agents.registry import register_provider, unregister_provider
from moot.agents.requests import ModelRequest, ModelResult
from moot.errors import UserError
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import AgentSpec, ProviderSettings

VERDICTS = ("NTA", "YTA", "NAH", "ESH", "INFO")
ASKED: list[ModelRequest] = []
"""Every request the dummy clients were sent, in order."""


class DummyClient:
    """Always gives the verdict its model names, with an explanation that says who asked, and when."""

    def __init__(self, verdict: str) -> None:
        self.verdict = verdict

    async def complete(self, request: ModelRequest) -> ModelResult:
        """The verdict as JSON, its explanation naming the caller's agent, round and view."""
        ASKED.append(request)
        caller = request.caller
        explanation = (
            f"{caller.agent} says {self.verdict} in round {caller.round}, having seen {len(caller.visible)} messages."
        )
        text = json.dumps({"verdict": self.verdict, "explanation": explanation})
        return ModelResult(
            text=text, finish_reason="stop", tokens_in=len(request.messages), tokens_out=len(text.split())
        )

    async def close(self) -> None:
        """Nothing to release."""


def check_verdict(ref: ModelRef) -> None:
    """A dummy model is named by the verdict it gives."""
    if ref.model not in VERDICTS:
        raise UserError(f"model '{ref.name}' names no verdict; write dummy:{'|'.join(VERDICTS)}")


def create_dummy(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> DummyClient:
    """The client of `dummy:VERDICT`."""
    return DummyClient(ref.model)


DUMMY = ProviderRecord(
    name="dummy",
    create_client=create_dummy,
    structured="instructions",
    check_model=check_verdict,
    unsupported_params=frozenset({"seed"}),
)
"""`dummy:VERDICT`: an in-process provider whose API takes no seed and enforces no schema."""


@pytest.fixture
def dummy() -> Iterator[ProviderRecord]:
    """The dummy provider, known for the length of a test."""
    ASKED.clear()
    register_provider(DUMMY)
    yield DUMMY
    unregister_provider(DUMMY.name)


def debate(models: dict[str, str]) -> dict:
    """A round-robin debate of one debater per model, two rounds at most."""
    return {
        "name": "dummy_debate",
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, "role": "debater", "model": model} for name, model in models.items()],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


SCENARIOS = [{"id": "s1", "title": "AITA for keeping my umbrella?", "text": "It rained and I kept my own umbrella."}]


def test_a_registered_provider_runs_a_three_agent_debate(dummy: ProviderRecord, tmp_path: Path) -> None:
    spec = debate({"alice": "dummy:NTA", "bob": "dummy:YTA", "carol": "dummy:NTA"})
    result = moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=tmp_path / "cache.sqlite")

    assert result.manifest.conversations.completed == 1
    calls = events_of(result.run_dir, "model_call")
    said = events_of(result.run_dir, "message_added")
    # No consensus (bob holds out): two rounds of three turns, one call each.
    assert [(c.agent, c.round, c.model) for c in calls] == [
        (agent, round_, model)
        for round_ in (1, 2)
        for agent, model in (("alice", "dummy:NTA"), ("bob", "dummy:YTA"), ("carol", "dummy:NTA"))
    ]
    assert [m.content for m in said] == [c.raw_reply for c in calls]
    assert [m.parsed["verdict"] for m in said] == ["NTA", "YTA", "NTA"] * 2
    assert said[4].parsed["explanation"] == "bob says YTA in round 2, having seen 4 messages."
    # The record's choices hold: schema instructions in the prompt, no seed sent (still in the cache key).
    assert all(build_output_schema("verdict").instructions() in c.messages[0].content for c in calls)
    assert all("seed" not in c.params and c.params["max_tokens"] == 320 for c in calls)
    # The client was asked by the request alone: the caller in it says who and when.
    assert [(r.caller.conversation_id, r.caller.scenario_id, r.caller.role) for r in ASKED] == [
        (calls[0].conversation_id, "s1", "debater")
    ] * 6
    assert [r.structured for r in ASKED] == ["instructions"] * 6
    assert result.manifest.usage.by_model["dummy:YTA"].calls == 2

    again = moot.run(spec, SCENARIOS, out=tmp_path / "again", cache=tmp_path / "cache.sqlite")
    assert again.manifest.usage.total.cache_hits == 6 and len(ASKED) == 6  # cacheable: nothing asked again


def test_the_record_checks_the_model_name_before_anything_runs(dummy: ProviderRecord, tmp_path: Path) -> None:
    with pytest.raises(
        UserError, match=re.escape("model 'dummy:MAYBE' names no verdict; write dummy:NTA|YTA|NAH|ESH|INFO")
    ):
        moot.run(debate({"alice": "dummy:NTA", "bob": "dummy:MAYBE"}), SCENARIOS, out=tmp_path / "run", cache=None)
    assert not (tmp_path / "run").exists() and ASKED == []


def test_an_unregistered_provider_is_unknown_again(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="model provider 'dummy' is unknown"):
        moot.run(debate({"alice": "dummy:NTA", "bob": "dummy:NTA"}), SCENARIOS, out=tmp_path / "run", cache=None)
