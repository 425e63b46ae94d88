"""Hosted providers end to end over HTTP: the clients on the providers' SDKs built by `create_client`,
driven through `ModelGateway`, against the fake LLM server in `tests/fakes/llm_server.py`.

Covers structured output on the wire (json_schema, json_object, instructions), keys and base
URLs, retries of transient faults (429 with Retry-After, 5xx, timeouts, resets, malformed
bodies), the provider limiter, the response cache, and that API keys never reach a run's files.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken

import moot
from fakes.llm_server import DEFAULT_REPLY, FakeLLMServer
from moot.agents.cache import ResponseCache
from moot.agents.gateway import ModelGateway, ModelReply
from moot.agents.limits import ProviderLimiter
from moot.agents.protocol_agent import ProtocolAgent
from moot.agents.registry import check_model, create_client, parse_model_name, provider_record
from moot.agents.requests import ModelRequest
from moot.agents.retry import RetryPolicy
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.outputs.schema import OutputSchema
from moot.protocols.spec import AgentSpec, ProviderSettings
from moot.trace import open_trace, verify_trace

VERDICT = build_output_schema("verdict")
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)
MESSAGES = [
    {"role": "system", "content": "You judge posts from an advice forum."},
    {"role": "user", "content": "AITA for not lending my car to my brother?"},
]
PARAMS = {"temperature": 0.2, "max_tokens": 64, "seed": 7}
EXPECTED_VERDICT = json.loads(DEFAULT_REPLY)

ServerFactory = Callable[..., FakeLLMServer]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys or base URLs from the developer's environment reach these tests."""
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_COMPATIBLE_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "MOOT_OPENAI_COMPATIBLE_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def make_gateway(
    model: str,
    settings: ProviderSettings,
    *,
    limiter: ProviderLimiter | None = None,
    cache: ResponseCache | None = None,
    policy: RetryPolicy = FAST,
) -> ModelGateway:
    """A gateway as `ModelPool` builds it, with a fast retry policy. Call inside the event loop."""
    ref = check_model(model)
    client = create_client(ref, settings, AgentSpec(name="alice", role="debater"))
    auto = settings.structured_output == "auto"
    structured = provider_record(ref.provider).structured if auto else settings.structured_output
    return ModelGateway(
        ref,
        client,
        limiter or ProviderLimiter(settings.max_concurrency, settings.requests_per_minute),
        structured,
        cache=cache,
        policy=policy,
        timeout_s=settings.timeout_s,
    )


def ask(
    gateway: ModelGateway,
    messages: list[dict[str, str]] = MESSAGES,
    params: dict[str, Any] = PARAMS,
    schema: OutputSchema | None = VERDICT,
) -> ModelRequest:
    """The request an agent would make of `gateway`: its structured-output mode, the verdict schema by default."""
    return ModelRequest(messages=messages, params=params, schema=schema, structured=gateway.structured)


async def complete_once(gateway: ModelGateway, messages: list[dict[str, str]] = MESSAGES) -> ModelReply:
    """One gateway call with the verdict schema; the client is closed afterwards."""
    try:
        return await gateway.complete(ask(gateway, messages))
    finally:
        await gateway.client.close()


def call(model: str, settings: ProviderSettings, policy: RetryPolicy = FAST) -> ModelReply:
    """Build a gateway and make one verdict call, in a fresh event loop."""

    async def go() -> ModelReply:
        return await complete_once(make_gateway(model, settings, policy=policy))

    return asyncio.run(go())


def compat(server: FakeLLMServer, **settings: Any) -> ProviderSettings:
    """Settings of an openai-compatible provider at the fake server."""
    return ProviderSettings(base_url=server.url, **settings)


# -- openai-compatible, openai ----------------------------------------------------------------


def test_openai_compatible_json_schema_verdict_arrives_parsed(
    fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-compat-test-key")
    server = fake_llm()
    reply = call("openai-compatible:fake-model", compat(server))

    assert reply.error is None and reply.retries == 0 and not reply.cache_hit
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)
    assert reply.finish_reason == "stop"
    assert reply.params == PARAMS

    [request] = server.model_requests()
    assert request.path == "/v1/chat/completions"
    body = request.body
    assert body["model"] == "fake-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["response_format"]["type"] == "json_schema"
    sent_schema = body["response_format"]["json_schema"]["schema"]
    assert sent_schema["properties"]["verdict"]["enum"] == ["NTA", "YTA", "NAH", "ESH", "INFO"]
    assert set(sent_schema["required"]) == {"verdict", "explanation"}
    assert body["temperature"] == 0.2 and body["seed"] == 7
    assert request.headers["authorization"] == "Bearer sk-compat-test-key"
    # Tokens are the server's usage figures (the fake counts words).
    prompt_words = sum(len(m["content"].split()) for m in MESSAGES)
    assert (reply.tokens_in, reply.tokens_out) == (prompt_words, len(DEFAULT_REPLY.split()))


def test_openai_compatible_json_object_mode(fake_llm: ServerFactory) -> None:
    server = fake_llm()
    reply = call("openai-compatible:fake-model", compat(server, structured_output="json_object"))

    assert reply.error is None
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)
    [request] = server.model_requests()
    assert request.body["response_format"] == {"type": "json_object"}


def test_openai_compatible_base_url_from_environment(fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_llm()
    monkeypatch.setenv("MOOT_OPENAI_COMPATIBLE_BASE_URL", server.url)
    reply = call("openai-compatible:fake-model", ProviderSettings())

    assert reply.error is None
    assert len(server.model_requests()) == 1


@pytest.mark.parametrize("url_from", ["environment", "settings"])
def test_openai_provider_sends_key_to_base_url(
    fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch, url_from: str
) -> None:
    server = fake_llm()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789")
    if url_from == "environment":
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        settings = ProviderSettings()
    else:
        settings = ProviderSettings(base_url=server.url)
    reply = call("openai:gpt-4.1-mini", settings)

    assert reply.error is None
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)
    [request] = server.model_requests("openai")
    assert request.headers["authorization"] == "Bearer sk-test-openai-0123456789"
    assert request.body["model"] == "gpt-4.1-mini"
    assert request.body["response_format"]["type"] == "json_schema"
    assert reply.tokens_in > 0 and reply.tokens_out > 0


# -- anthropic --------------------------------------------------------------------------------


def test_anthropic_client_reaches_the_server_with_sampling_args(
    fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_llm()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    reply = call("anthropic:claude-sonnet-4-5", ProviderSettings(base_url=server.anthropic_url))

    assert reply.error is None, reply.error
    assert len(server.model_requests("anthropic")) == 1


def answer_turn(gateway: ModelGateway, system: str, text: str, max_reasks: int) -> ProtocolAgent:
    """One ProtocolAgent turn on `gateway`; the client is closed afterwards."""

    async def go() -> ProtocolAgent:
        agent = ProtocolAgent("alice", gateway, system, VERDICT, params=PARAMS, max_reasks=max_reasks)
        try:
            await agent.on_messages([TextMessage(content=text, source="moderator")], CancellationToken())
        finally:
            await gateway.client.close()
        return agent

    return asyncio.run(go())


def test_anthropic_instructions_mode_through_protocol_agent(
    fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated first reply (stop_reason max_tokens) is re-asked; the second one parses."""
    server = fake_llm(faults=["truncated", "ok"])
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")

    gateway = make_gateway("anthropic:claude-sonnet-4-5", ProviderSettings(base_url=server.anthropic_url))
    assert gateway.structured == "instructions" and gateway.needs_schema_instructions
    agent = answer_turn(gateway, "You are alice, judging a post.", "AITA for saying no?", max_reasks=2)

    result = agent.result
    assert result.error is None
    assert result.parsed == EXPECTED_VERDICT
    first, second = result.calls
    assert first.reply.finish_reason == "length" and first.parse_error is not None
    assert second.attempt == 1 and second.parse_error is None and second.reply.finish_reason == "stop"
    assert second.reply.tokens_in > 0 and second.reply.tokens_out > 0

    requests = server.model_requests("anthropic")
    assert len(requests) == 2
    request = requests[0]
    assert request.path == "/v1/messages"
    # anthropic<1 sends the key as x-api-key, later SDKs as a bearer token.
    assert "sk-ant-test-0123456789" in (
        request.headers.get("x-api-key"),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert "anthropic-version" in request.headers
    body = request.body
    assert VERDICT.instructions() in body["system"]
    assert "seed" not in body and "seed" not in first.reply.params
    assert "response_format" not in body
    assert body["max_tokens"] == 64 and body["temperature"] == 0.2
    assert [m["role"] for m in requests[1].body["messages"]] == ["user", "assistant", "user"]


def test_anthropic_rate_limit_is_retried(fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_llm(faults=["429", "529"], retry_after=0.05)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")

    async def go() -> ModelReply:
        gateway = make_gateway("anthropic:claude-sonnet-4-5", ProviderSettings(base_url=server.anthropic_url))
        return await complete_once(gateway)

    reply = asyncio.run(go())
    assert reply.error is None
    assert reply.retries == 2 and reply.failure_kinds == ["rate_limit", "server_error"]
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)


def test_json_schema_violation_is_reasked_not_failed(fake_llm: ServerFactory) -> None:
    server = fake_llm(faults=["invalid_schema", "ok"])

    result = answer_turn(
        make_gateway("openai-compatible:fake-model", compat(server)), "You are alice.", "AITA?", max_reasks=1
    ).result
    assert result.error is None, result.error
    assert result.parsed == EXPECTED_VERDICT


# -- retries ----------------------------------------------------------------------------------


def test_rate_limit_waits_for_retry_after(fake_llm: ServerFactory) -> None:
    server = fake_llm(faults=["429"], retry_after=0.3)
    # max_delay 1.0: RetryPolicy caps a Retry-After at 4 x max_delay.
    reply = call(
        "openai-compatible:fake-model",
        compat(server),
        policy=RetryPolicy(max_retries=3, base_delay=0.01, max_delay=1.0),
    )

    assert reply.error is None and reply.retries == 1
    assert reply.failure_kinds == ["rate_limit"]
    first, second = server.model_requests()
    assert second.received_at - first.received_at >= 0.3 - 0.01  # FAST's own backoff is at most 0.01 s
    assert reply.latency_s >= 0.3 - 0.01
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)


def test_two_server_errors_then_ok(fake_llm: ServerFactory) -> None:
    server = fake_llm(faults=["500", "502", "ok"])
    reply = call("openai-compatible:fake-model", compat(server))

    assert reply.error is None and reply.text is not None
    assert reply.retries == 2 and reply.failure_kinds == ["server_error", "server_error"]
    assert server.faults_served() == ["500", "502", "ok"]


def test_persistent_server_error_gives_up_after_max_retries(fake_llm: ServerFactory) -> None:
    server = fake_llm(faults=["500"] * 10)
    reply = call("openai-compatible:fake-model", compat(server), policy=RetryPolicy(max_retries=2, base_delay=0.01))

    assert reply.text is None
    assert reply.error is not None and reply.error.startswith("HTTP 500")
    assert reply.retries == 2 and reply.failure_kinds == ["server_error"] * 3
    assert len(server.model_requests()) == 3


def test_client_error_is_not_retried(fake_llm: ServerFactory) -> None:
    server = fake_llm(faults=["400", "ok"])
    reply = call("openai-compatible:fake-model", compat(server))

    assert reply.text is None and reply.error is not None and reply.error.startswith("HTTP 400")
    assert reply.retries == 0 and reply.failure_kinds == ["client_error"]
    assert len(server.model_requests()) == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("503", "server_error"), ("timeout", "timeout"), ("malformed", "malformed"), ("reset", "connection")],
)
def test_transient_fault_is_retried(fake_llm: ServerFactory, fault: str, kind: str) -> None:
    server = fake_llm(faults=[fault, "ok"], hang_s=3.0)
    started = time.perf_counter()
    reply = call("openai-compatible:fake-model", compat(server, timeout_s=0.3))
    elapsed = time.perf_counter() - started

    assert reply.error is None, reply.error
    assert reply.retries == 1 and reply.failure_kinds == [kind]
    assert VERDICT.parse_json(reply.text or "") == (EXPECTED_VERDICT, None)
    assert server.faults_served() == [fault, "ok"]
    assert elapsed < 2.5  # a timeout is cut by the client, not waited out


# -- limits -----------------------------------------------------------------------------------


def gather_calls(
    server: FakeLLMServer, limiter: ProviderLimiter, asks: list[list[dict[str, str]]]
) -> tuple[list[ModelReply], float]:
    """Send every ask at once through one gateway; return the replies and the wall time."""

    async def go() -> list[ModelReply]:
        gateway = make_gateway("openai-compatible:fake-model", compat(server), limiter=limiter)
        try:
            return list(await asyncio.gather(*(gateway.complete(ask(gateway, m)) for m in asks)))
        finally:
            await gateway.client.close()

    started = time.perf_counter()
    replies = asyncio.run(go())
    return replies, time.perf_counter() - started


def test_concurrency_limit_holds_at_the_server(fake_llm: ServerFactory) -> None:
    server = fake_llm(latency=0.2)

    limiter = ProviderLimiter(max_concurrency=2)
    asks = [[*MESSAGES[:1], {"role": "user", "content": f"post {i}"}] for i in range(6)]
    replies, elapsed = gather_calls(server, limiter, asks)

    assert all(r.error is None for r in replies)
    assert len(server.model_requests()) == 6
    assert server.max_in_flight == 2
    assert limiter.peak_in_flight == 2
    assert elapsed >= 3 * 0.2 - 0.02


def test_requests_per_minute_spaces_requests(fake_llm: ServerFactory) -> None:
    server = fake_llm()
    asks = [[*MESSAGES[:1], {"role": "user", "content": f"post {i}"}] for i in range(5)]
    replies, elapsed = gather_calls(
        server, ProviderLimiter(max_concurrency=8, requests_per_minute=600), asks
    )  # one every 0.1 s

    assert all(r.error is None for r in replies)
    assert elapsed >= 0.4 - 0.02
    arrivals = sorted(r.received_at for r in server.model_requests())
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.4 - 0.05


def test_fake_server_serves_64_requests_at_once(fake_llm: ServerFactory) -> None:
    """The fake is fit for benchmark work: 64 held requests are served in parallel, not in turn."""
    server = fake_llm(latency=0.5)
    asks = [[{"role": "user", "content": f"post {i}"}] for i in range(64)]
    replies, elapsed = gather_calls(server, ProviderLimiter(max_concurrency=64), asks)

    assert all(r.error is None for r in replies)
    assert len(server.model_requests()) == 64
    assert server.max_in_flight >= 32  # typically all 64
    assert elapsed < 4.0  # one at a time would take 32 s


# -- cache ------------------------------------------------------------------------------------


def test_cache_serves_the_second_identical_request(fake_llm: ServerFactory, tmp_path: Path) -> None:
    server = fake_llm()
    cache = ResponseCache(tmp_path / "c.sqlite")

    async def go() -> tuple[ModelReply, ModelReply, ModelReply]:
        gateway = make_gateway("openai-compatible:fake-model", compat(server), cache=cache)
        try:
            first = await gateway.complete(ask(gateway))
            second = await gateway.complete(ask(gateway))
            other_seed = await gateway.complete(ask(gateway, params={**PARAMS, "seed": 8}))
            return first, second, other_seed
        finally:
            await gateway.client.close()

    try:
        first, second, other_seed = asyncio.run(go())
    finally:
        cache.close()

    assert not first.cache_hit and second.cache_hit and not other_seed.cache_hit
    assert second.text == first.text
    assert (second.tokens_in, second.tokens_out) == (first.tokens_in, first.tokens_out)
    assert second.retries == 0 and second.error is None
    assert len(server.model_requests()) == 2  # the repeat was served from the cache; a new seed was not


# -- secrets ----------------------------------------------------------------------------------

PLANTED_KEY = "sk-planted-SECRET-123456"


def test_api_key_never_reaches_run_files_or_cache(
    fake_llm: ServerFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A careless server quotes the credentials in its error body; the recorded error must be redacted."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", PLANTED_KEY)
    server = fake_llm(faults=["500"], echo_auth_in_errors=True)
    spec = {
        "name": "t",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": server.url, "max_retries": 0}},
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    scenarios = [
        {"id": "s1", "title": "AITA for skipping the wedding?", "text": "I skipped my cousin's wedding to work."},
        {"id": "s2", "title": "AITA for eating the last slice?", "text": "I ate the last slice of pizza."},
    ]
    result = moot.run(spec, scenarios, out=tmp_path / "run", cache=tmp_path / "cache.sqlite", concurrency=1)

    # The key was in use, and the failed call's error text quoted it.
    assert all(r.headers["authorization"] == f"Bearer {PLANTED_KEY}" for r in server.model_requests())
    assert result.manifest.conversations.failed == 1 and result.manifest.conversations.completed == 1
    assert result.manifest.usage.total.failures == 1
    store = open_trace(result.run_dir)
    try:
        events = list(store.events())
    finally:
        store.close()
    errors = [e.error for e in events if e.event == "model_call" and e.error]
    assert len(errors) == 1 and "HTTP 500" in errors[0] and "[redacted]" in errors[0]

    files = [p for p in result.run_dir.rglob("*") if p.is_file()] + sorted(tmp_path.glob("cache.sqlite*"))
    assert any(p.name == "cache.sqlite" for p in files)
    for path in files:
        data = path.read_bytes()
        assert PLANTED_KEY.encode() not in data, f"API key leaked into {path}"
        assert b"sk-planted" not in data, f"part of the API key leaked into {path}"


def test_a_secret_is_redacted_even_in_a_long_error_line():
    from moot.agents.retry import classify
    from moot.trace.events import ErrorEvent
    from moot.trace.writer import TraceWriter

    class Store:
        def append(self, event):
            return event

    key = "sk-planted-SECRET-123456"
    failure = classify(RuntimeError("x" * 270 + f" Bearer {key} rest"))  # a 300-character cut would split the key
    event = TraceWriter(Store(), secrets=[key]).emit(
        ErrorEvent(run_id="r", conversation_id="c", scenario_id="s", kind="model_error", message=failure.message)
    )
    assert "sk-plant" not in event.message and "[redacted]" in event.message


def test_requests_differing_only_in_a_seed_the_api_ignores_do_not_share_a_cache_entry(fake_llm, monkeypatch, tmp_path):
    from moot.agents.cache import ResponseCache

    server = fake_llm()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    ref = parse_model_name("anthropic:claude-sonnet-4-5")
    settings = ProviderSettings(base_url=server.anthropic_url)
    messages = [{"role": "user", "content": "hi"}]

    async def two_seeds():
        cache = ResponseCache(tmp_path / "c.sqlite")
        client = create_client(ref, settings, AgentSpec(name="a", role="r"))
        gateway = ModelGateway(ref, client, ProviderLimiter(2), "instructions", cache=cache)
        params = [{"temperature": 1.0, "max_tokens": 50, "seed": seed} for seed in (1, 2)]
        return [await gateway.complete(ask(gateway, messages, one, None)) for one in params]

    first, second = asyncio.run(two_seeds())
    assert not first.cache_hit and not second.cache_hit
    assert "seed" not in first.params
    assert len(server.model_requests()) == 2


# -- cached prompt tokens ---------------------------------------------------------------------

CACHED_TOKENS = 5


@pytest.mark.parametrize(
    ("model", "key_variable", "raw_cached"),
    [
        ("openai:gpt-4.1-mini", "OPENAI_API_KEY", lambda usage: usage["prompt_tokens_details"]["cached_tokens"]),
        ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY", lambda usage: usage["cache_read_input_tokens"]),
    ],
)
def test_cached_prompt_tokens_reach_the_trace_and_run_json(
    fake_llm: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    model: str,
    key_variable: str,
    raw_cached: Callable[[dict[str, Any]], int],
) -> None:
    server = fake_llm(cached_tokens=CACHED_TOKENS)
    monkeypatch.setenv(key_variable, "sk-test-0123456789")
    provider = model.partition(":")[0]
    base_url = server.anthropic_url if provider == "anthropic" else server.url
    spec = {
        "name": "cached",
        "model": model,
        "providers": {provider: {"base_url": base_url}},
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    scenarios = [{"id": "s1", "title": "AITA for skipping the wedding?", "text": "I skipped the wedding to work."}]
    result = moot.run(spec, scenarios, out=tmp_path / "run", cache=tmp_path / "cache.sqlite")

    store = open_trace(result.run_dir)
    try:
        calls = [e for e in store.events() if e.event == "model_call"]
    finally:
        store.close()
    assert calls and len(calls) == len(server.model_requests())
    assert verify_trace(result.run_dir).report.problems == []  # the usage records keep the hash chain sound
    for call in calls:
        assert call.tokens_cached_in == CACHED_TOKENS
        assert call.usage is not None and raw_cached(call.usage) == CACHED_TOKENS  # the record as the server sent it
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["usage"]["total"]["tokens_cached_in"] == CACHED_TOKENS * len(calls)
    assert manifest["usage"]["by_model"][model]["tokens_cached_in"] == CACHED_TOKENS * len(calls)
    alice_calls = [c for c in calls if c.agent == "alice"]
    assert manifest["usage"]["by_agent"]["alice"]["tokens_cached_in"] == CACHED_TOKENS * len(alice_calls)

    # Replies served from moot's own cache reached no model: their cached tokens are not counted again.
    again = moot.run(spec, scenarios, out=tmp_path / "again", cache=tmp_path / "cache.sqlite")
    assert len(server.model_requests()) == len(calls)
    assert again.manifest.usage.total.cache_hits == len(calls) and again.manifest.usage.total.tokens_cached_in == 0
