"""`structured_output: auto` on `openai-compatible`: the mode each kind of server takes is found and kept.

Against fakes of the servers' documented request shapes and rejections (`fakes.structured_servers`,
labelled by the server each one reproduces), through `ModelPool` and `ModelGateway` as a run builds
them. The real llama-cpp-python server is in `test_openai_compatible_server.py`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.llm_server import DEFAULT_REPLY, FakeLLMServer
from moot.agents.cache import ResponseCache
from moot.agents.gateway import FailureTally, ModelReply
from moot.agents.pool import ModelPool
from moot.agents.requests import ModelRequest
from moot.protocols.loader import validate_spec_data
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import ProtocolSpec

VERDICT = build_output_schema("verdict")
MESSAGES = [
    {"role": "system", "content": "You judge posts from an advice forum."},
    {"role": "user", "content": "AITA for not lending my car to my brother?"},
]
MODEL = "openai-compatible:fake"

FOUND = {
    "llama-cpp-python": ("json_object_schema", ["json_schema"]),
    "llama-server": ("json_schema", []),
    "vllm-guided-json": ("guided_json", ["json_schema", "json_object_schema"]),
    "ollama-native": ("ollama_format", ["json_schema", "json_object_schema", "guided_json"]),
    "unconstrained": ("instructions", ["json_schema", "json_object_schema", "guided_json", "ollama_format"]),
}
"""The mode `auto` must settle on for each faked server, and the modes it must leave on the way."""


@pytest.fixture(autouse=True)
def _no_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOOT_OPENAI_COMPATIBLE_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)


def spec_for(base_url: str, **settings: Any) -> ProtocolSpec:
    """A two-debater spec on the server, retries fast."""
    provider = {"base_url": base_url, "max_retries": 2, "retry_base_delay_s": 0.01, "retry_max_delay_s": 0.02}
    return validate_spec_data(
        {
            "name": "negotiation",
            "model": MODEL,
            "providers": {"openai-compatible": {**provider, **settings}},
            "turns": "round_robin",
            "rounds": 1,
            "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
            "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
        }
    )


def ask_several(
    spec: ProtocolSpec,
    questions: list[str],
    *,
    cache: ResponseCache | None = None,
    found: dict[str, str] | None = None,
    at_once: bool = False,
) -> tuple[list[ModelReply], FailureTally]:
    """Ask alice's gateway each question (one after the other, or all at once), as an agent does."""

    async def go() -> tuple[list[ModelReply], FailureTally]:
        pool = ModelPool(spec, cache, structured_found=found)
        gateway = pool.gateway(spec.agent("alice"))
        gateway.tally = FailureTally()
        try:

            def request(question: str) -> ModelRequest:
                messages = [MESSAGES[0], {"role": "user", "content": question}]
                params = {"temperature": 0.2, "max_tokens": 64}
                return ModelRequest(messages=messages, params=params, schema=VERDICT, structured=gateway.structured)

            if at_once:
                replies = list(await asyncio.gather(*(gateway.complete(request(q)) for q in questions)))
            else:
                replies = [await gateway.complete(request(q)) for q in questions]
            return replies, gateway.tally
        finally:
            await pool.close()

    return asyncio.run(go())


def field_sent(body: dict[str, Any], path: str) -> str:
    """Where a request carried the schema: the field's name, or `prompt` when only its messages described it."""
    if path.endswith("/api/chat"):
        return "format" if isinstance(body.get("format"), dict) else "none"
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        return f"response_format {response_format['type']}" + (" schema" if "schema" in response_format else "")
    if "guided_json" in body:
        return "guided_json"
    return "prompt" if "JSON Schema" in body["messages"][0]["content"] else "none"


@pytest.mark.parametrize("kind", list(FOUND))
def test_auto_finds_the_mode_each_server_takes_and_keeps_it(kind: str, fake_llm: Callable[..., FakeLLMServer]) -> None:
    server = fake_llm(structured=kind)
    mode, left = FOUND[kind]
    replies, tally = ask_several(spec_for(server.url), ["first", "second"])

    for reply in replies:
        assert reply.error is None and VERDICT.parse_json(reply.text or "")[1] is None, reply
        assert reply.params["structured_output"]["mode"] == mode
        assert reply.params["structured_output"]["server"] == server.url
    assert list(replies[0].params["structured_output"].get("rejected", {})) == left
    assert "rejected" not in replies[1].params["structured_output"]
    # A rejection is no failure of the run, and the found mode is used straight away by the next request.
    assert not tally.retried and not tally.failed and replies[0].retries == 0
    requests = server.model_requests()
    assert len(requests) == len(left) + 2
    sent = [field_sent(request.body, request.path) for request in requests]
    expected_last = {
        "json_schema": "response_format json_schema",
        "json_object_schema": "response_format json_object schema",
        "guided_json": "guided_json",
        "ollama_format": "format",
        "instructions": "prompt",
    }[mode]
    assert sent[-2:] == [expected_last, expected_last], sent


def test_server_rejections_name_the_field_and_are_not_retried_under_auto(fake_llm) -> None:
    server = fake_llm(structured="llama-cpp-python")
    (reply,), _ = ask_several(spec_for(server.url), ["first"])
    reason = reply.params["structured_output"]["rejected"]["json_schema"]
    assert reason.startswith("HTTP 500: ") and "response_format" in reason
    assert [r.fault for r in server.model_requests()] == ["ok", "ok"]  # one rejected request, one answered


def test_a_forced_mode_the_server_rejects_fails_the_call_once_with_what_to_change(fake_llm) -> None:
    server = fake_llm(structured="llama-cpp-python")
    (reply,), tally = ask_several(spec_for(server.url, structured_output="json_schema"), ["first"])
    assert reply.text is None and reply.retries == 0
    assert reply.failure_kinds == ["structured_output_rejected"]
    assert reply.error is not None and reply.error.startswith("HTTP 500: ")
    assert "response_format" in reply.error
    assert "set providers.openai-compatible.structured_output to auto" in reply.error
    assert "structured_output" not in reply.params  # a forced mode is not negotiated
    assert len(server.model_requests()) == 1 and dict(tally.failed) == {"structured_output_rejected": 1}


def test_a_transient_server_error_is_retried_not_taken_for_a_rejection(fake_llm) -> None:
    server = fake_llm(structured="llama-server", faults=["500", "ok"])
    (reply,), tally = ask_several(spec_for(server.url), ["first"])
    assert reply.retries == 1 and reply.params["structured_output"] == {"mode": "json_schema", "server": server.url}
    assert dict(tally.retried) == {"server_error": 1}


def test_requests_sent_before_the_mode_is_known_all_end_in_the_found_mode(fake_llm) -> None:
    server = fake_llm(structured="vllm-guided-json", latency=0.05)
    replies, tally = ask_several(spec_for(server.url), [f"question {i}" for i in range(4)], at_once=True)
    assert [reply.params["structured_output"]["mode"] for reply in replies] == ["guided_json"] * 4
    assert all(VERDICT.parse_json(reply.text or "")[1] is None for reply in replies)
    assert not tally.retried and not tally.failed


def test_a_mode_found_earlier_in_the_run_is_used_from_the_first_request(fake_llm) -> None:
    server = fake_llm(structured="vllm-guided-json")
    found = {f"{MODEL} at {server.url}": "guided_json"}
    (reply,), _ = ask_several(spec_for(server.url), ["first"], found=found)
    assert reply.params["structured_output"] == {"mode": "guided_json", "server": server.url}
    assert [field_sent(r.body, r.path) for r in server.model_requests()] == ["guided_json"]


def test_the_cache_is_keyed_on_the_request_not_on_the_mode_it_went_out_in(fake_llm, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = fake_llm(structured="llama-cpp-python")
    (reply,), _ = ask_several(spec_for(first.url), ["same question"], cache=cache)
    assert reply.params["structured_output"]["mode"] == "json_object_schema" and not reply.cache_hit
    other = fake_llm(structured="llama-server", replies="never asked")
    (again,), _ = ask_several(spec_for(other.url), ["same question"], cache=cache)
    assert again.cache_hit and json.loads(again.text or "") == json.loads(DEFAULT_REPLY)
    assert other.model_requests() == []
    cache.close()
