"""A whole run over HTTP: `moot.run` against the fake openai-compatible server, with faults.

Transient faults at a fixed schedule are retried without duplicating any message, the run's
usage counts exactly the injected faults as retries, and a second run with the same cache is
served entirely from it (the server sees no request at all).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import moot
from fakes.llm_server import TRANSIENT_FAULTS, FakeLLMServer
from helpers import events_of

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

SCENARIOS = [
    {
        "id": "s1",
        "title": "AITA for skipping the wedding?",
        "text": "I skipped my cousin's wedding to finish a work project.",
    },
    {
        "id": "s2",
        "title": "AITA for eating the last slice?",
        "text": "My roommate was saving the last slice of pizza and I ate it.",
    },
]
VERDICTS = {"alice": "NTA", "bob": "YTA"}
"""Each agent keeps its own verdict, so no consensus ends a conversation before round 2."""

FAULTS = ["ok", "429", "ok", "ok", "500"]
"""One 429 (Retry-After 0.05 s) and one 500 (the default backoff, at most 0.5 s) among the requests."""


def reply_by_agent(body: dict[str, Any], path: str) -> str:
    """Answer as the agent named in the system prompt (`You are alice, ...`)."""
    system = body["messages"][0]["content"]
    agent = "alice" if system.startswith("You are alice") else "bob"
    return json.dumps({"verdict": VERDICTS[agent], "explanation": f"{agent} holds to {VERDICTS[agent]}."})


def spec(base_url: str) -> dict[str, Any]:
    """A 2-agent, 2-round round-robin debate on the openai-compatible provider."""
    return {
        "name": "t",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_retries": 3}},
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def messages_of(run_dir: Path) -> list[tuple[str, int, str | None, str]]:
    """(conversation, round, agent, content) of every message_added event, sorted."""
    return sorted((e.conversation_id, e.round, e.agent, e.content) for e in events_of(run_dir, "message_added"))


def test_run_over_http_retries_faults_then_replays_from_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-run-over-http-test")
    cache = tmp_path / "cache.sqlite"
    calls = len(SCENARIOS) * 2 * 2  # conversations x rounds x agents
    injected = sum(1 for fault in FAULTS if fault in TRANSIENT_FAULTS)

    with FakeLLMServer(replies=reply_by_agent, faults=FAULTS, retry_after=0.05) as server:
        first = moot.run(spec(server.url), SCENARIOS, out=tmp_path / "run1", cache=cache, concurrency=2)

        assert first.manifest.status == "completed"
        assert first.manifest.conversations.completed == len(SCENARIOS) and first.manifest.conversations.failed == 0
        total = first.manifest.usage.total
        assert (total.calls, total.cache_hits, total.failures) == (calls, 0, 0)
        assert total.retries == injected == 2
        assert len(server.model_requests()) == calls + injected
        assert Counter(server.faults_served()) == Counter({"ok": calls, "429": 1, "500": 1})

        stops = events_of(first.run_dir, "stopped")
        assert [(s.status, s.rounds) for s in stops] == [("completed", 2)] * len(SCENARIOS)
        model_calls = events_of(first.run_dir, "model_call")
        assert len(model_calls) == calls
        assert all(c.error is None and c.parse_error is None and c.raw_reply for c in model_calls)
        # Which calls the faults hit depends on how the two conversations interleave; the sum does not.
        assert sum(c.retries for c in model_calls) == injected
        assert all(
            c.parsed == {"verdict": VERDICTS[c.agent], "explanation": f"{c.agent} holds to {VERDICTS[c.agent]}."}
            for c in model_calls
        )

        messages = messages_of(first.run_dir)
        keys = [(conversation, round_, agent) for conversation, round_, agent, _ in messages]
        assert len(keys) == calls and len(set(keys)) == calls, "a retried call added a message twice"
        assert {round_ for _, round_, _ in keys} == {1, 2}

        server.reset(faults=[])
        second = moot.run(spec(server.url), SCENARIOS, out=tmp_path / "run2", cache=cache, concurrency=2)

        assert server.requests == [], "a cached re-run must not call the model"
        total = second.manifest.usage.total
        assert total.cache_hits == total.calls == calls
        assert (total.retries, total.failures, total.tokens_in, total.tokens_out) == (0, 0, 0, 0)
        assert second.manifest.conversations.completed == len(SCENARIOS)
        assert messages_of(second.run_dir) == messages
