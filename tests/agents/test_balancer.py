"""Several base URLs for one model: the balancing policy, and the balanced client over HTTP.

The policy (`Balancer`) is checked on its own with a hand-driven clock; the client it drives
(`BalancedClient`, built by `create_client` from a list of base URLs) is checked through
`ModelGateway` against two or three fake servers on 127.0.0.1: how requests split, a server
that refuses connections, answers 503 or hangs, and a whole `moot.run` over two servers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import moot
from helpers import GOOD_SPEC_YAML, events_of
from moot.agents.gateway import ModelGateway, ModelReply
from moot.agents.limits import ProviderLimiter
from moot.agents.providers.balancer import (
    BalancedClient,
    Balancer,
    CallRoute,
    current_route,
)
from moot.agents.providers.record import ModelRef
from moot.agents.registry import check_model, create_client, provider_record
from moot.agents.requests import ModelRequest, ModelResult
from moot.agents.retry import RetryPolicy
from moot.cli import main
from moot.errors import UserError
from moot.protocols.outputs.resolve import build_output_schema
from moot.protocols.spec import AgentSpec, ProviderSettings

VERDICT = build_output_schema("verdict")
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)
PARAMS = {"temperature": 0.2, "max_tokens": 64, "seed": 7}
MODEL = "openai-compatible:fake-model"


def asks(n: int) -> list[list[dict[str, str]]]:
    """`n` different chats."""
    return [
        [{"role": "system", "content": "You judge posts."}, {"role": "user", "content": f"post {i}"}] for i in range(n)
    ]


def verdict_request(messages: list[dict[str, str]]) -> ModelRequest:
    """A verdict request as an agent makes it of an OpenAI-style model."""
    return ModelRequest(messages=messages, params=PARAMS, schema=VERDICT, structured="json_schema")


def check_settings(provider: str, model: str, settings: ProviderSettings) -> tuple[list[str], str | None]:
    """The base URLs and key of a model, as the provider's record finds them."""
    endpoint = provider_record(provider).endpoint
    assert endpoint is not None
    return endpoint.resolve(ModelRef(provider, model), settings)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A base URL on 127.0.0.1 whose port is bound but not listening: every connection is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No base URLs or keys from the developer's environment."""
    for name in (
        "MOOT_OPENAI_COMPATIBLE_BASE_URL",
        "OPENAI_COMPATIBLE_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


# -- the policy -------------------------------------------------------------------------------


def test_ties_go_round_robin_and_the_fewest_in_flight_wins() -> None:
    balancer = Balancer(["a", "b", "c"], clock=Clock())
    order = []
    for _ in range(6):
        ticket = balancer.acquire()
        order.append(ticket.url)
        ticket.release()
        ticket.settle(None)
    assert order == ["a", "b", "c", "a", "b", "c"]

    held = [balancer.acquire() for _ in range(3)]  # one in flight on each
    assert [t.url for t in held] == ["a", "b", "c"]
    held[1].release()  # b finishes first: it has the fewest in flight
    assert balancer.acquire().url == "b"
    assert [s.in_flight for s in balancer.servers] == [1, 1, 1]


def test_a_failing_server_cools_down_longer_each_time_and_is_tried_again() -> None:
    clock = Clock()
    balancer = Balancer(["a", "b"], base_cooldown_s=10, max_cooldown_s=25, clock=clock)
    first = balancer.acquire()
    assert first.url == "a"
    first.release()
    first.settle("connection")
    assert balancer.cooling() == ["a"]
    assert [balancer.acquire().url for _ in range(3)] == ["b", "b", "b"]  # a is avoided, even with b busy

    clock.now += 10.0  # the cool-down is over: a has nothing in flight, b has three
    again = balancer.acquire()
    assert again.url == "a"
    again.release()
    again.settle("server_error")
    assert balancer.servers[0].failures == 2
    clock.now += 19.5
    assert balancer.cooling() == ["a"]  # doubled: 20 s
    clock.now += 0.5
    third = balancer.acquire()
    assert third.url == "a"
    third.release()
    third.settle("timeout")
    assert balancer.servers[0].cooling_until == pytest.approx(clock.now + 25)  # capped
    clock.now += 25
    recovered = balancer.acquire()
    recovered.release()
    recovered.settle(None)
    assert recovered.url == "a" and balancer.servers[0].failures == 0 and balancer.cooling() == []


def test_requests_in_flight_when_a_server_fails_do_not_lengthen_its_cool_down() -> None:
    clock = Clock()
    balancer = Balancer(["a"], base_cooldown_s=10, clock=clock)
    tickets = [balancer.acquire() for _ in range(4)]
    clock.now += 1
    for ticket in tickets:
        ticket.release()
        ticket.settle("connection")
    assert balancer.servers[0].failures == 1
    assert balancer.servers[0].cooling_until == pytest.approx(clock.now + 10)
    assert balancer.servers[0].failed == 4


def test_rate_limits_and_client_errors_start_no_cool_down() -> None:
    balancer = Balancer(["a", "b"], clock=Clock())
    for kind in ("rate_limit", "client_error", "malformed"):
        ticket = balancer.acquire()
        ticket.release()
        ticket.settle(kind)
    assert balancer.cooling() == [] and all(s.failures == 0 for s in balancer.servers)


def test_a_retry_avoids_the_servers_its_call_tried_and_all_cooling_still_answers() -> None:
    clock = Clock()
    balancer = Balancer(["a", "b", "c"], base_cooldown_s=10, clock=clock)
    assert balancer.acquire(avoid=["a"]).url == "b"
    assert balancer.acquire(avoid=["a", "b", "c"]).url == "c"  # nothing untried: the fewest in flight
    for url, wait in (("a", 30.0), ("b", 10.0), ("c", 20.0)):
        balancer.servers["abc".index(url)].cooling_until = clock.now + wait
    assert balancer.acquire().url == "b"  # every server cooling: the one ready first
    assert balancer.acquire(avoid=["b"]).url == "c"  # ... that this call has not tried


def test_only_the_first_outcome_of_a_ticket_counts() -> None:
    """The client records an HTTP failure; the gateway's report of the same attempt is ignored."""
    balancer = Balancer(["a", "b"], clock=Clock())
    route = CallRoute()
    ticket = balancer.acquire()
    route.attach(ticket)
    ticket.release()
    ticket.settle("rate_limit")
    route.failed("rate_limit")
    route.failed("timeout")
    assert balancer.servers[0].failed == 1 and balancer.cooling() == []
    assert route.with_server({"seed": 1}) == {"seed": 1, "server": "a"}
    assert CallRoute().with_server({"seed": 1}) == {"seed": 1}


# -- over HTTP --------------------------------------------------------------------------------


def balanced_gateway(
    urls: list[str], *, max_concurrency: int = 8, timeout_s: float = 120.0, cooldown_s: float | None = None
) -> ModelGateway:
    """A gateway as `ModelPool` builds it for a model at several base URLs. Call inside the event loop."""
    ref = check_model(MODEL)
    settings = ProviderSettings(base_url=urls, timeout_s=timeout_s)
    client = create_client(ref, settings, AgentSpec(name="alice", role="debater"))
    assert isinstance(client, BalancedClient)
    if cooldown_s is not None:
        client.balancer = Balancer(urls, base_cooldown_s=cooldown_s)
    return ModelGateway(ref, client, ProviderLimiter(max_concurrency), "json_schema", policy=FAST, timeout_s=timeout_s)


def run_calls(gateway: ModelGateway, n: int, *, at_once: bool = True) -> list[ModelReply]:
    """`n` verdict calls through `gateway` (all at once, or one after another)."""

    async def go() -> list[ModelReply]:
        try:
            if at_once:
                return list(await asyncio.gather(*(gateway.complete(verdict_request(m)) for m in asks(n))))
            return [await gateway.complete(verdict_request(m)) for m in asks(n)]
        finally:
            await gateway.client.close()

    return asyncio.run(go())


def test_equal_servers_share_the_requests_evenly_and_each_call_names_its_server(fake_llm) -> None:
    fakes = [fake_llm(latency=0.1) for _ in range(3)]
    urls = [f.url for f in fakes]

    async def go() -> tuple[list[ModelReply], BalancedClient]:
        gateway = balanced_gateway(urls, max_concurrency=12)
        try:
            return list(await asyncio.gather(*(gateway.complete(verdict_request(m)) for m in asks(12)))), gateway.client
        finally:
            await gateway.client.close()

    replies, client = asyncio.run(go())
    assert all(r.error is None and r.retries == 0 for r in replies)
    assert [len(f.model_requests()) for f in fakes] == [4, 4, 4]
    assert Counter(r.params["server"] for r in replies) == {url: 4 for url in urls}
    # The server named in each reply's params is the one that received that request.
    for fake in fakes:
        asked = {r.body["messages"][1]["content"] for r in fake.model_requests()}
        assert asked == {asks(12)[i][1]["content"] for i, r in enumerate(replies) if r.params["server"] == fake.url}
    assert all(s.in_flight == 0 and s.served == 4 for s in client.balancer.servers)
    assert all({k: v for k, v in r.params.items() if k != "server"} == PARAMS for r in replies)


def test_a_slow_server_gets_fewer_requests(fake_llm) -> None:
    """With two requests in flight at a time, the fast server frees up first and takes most of them."""
    slow, fast = fake_llm(latency=0.5), fake_llm(latency=0.01)
    started = time.perf_counter()
    replies = run_calls(balanced_gateway([slow.url, fast.url], max_concurrency=2), 20)
    elapsed = time.perf_counter() - started

    assert all(r.error is None for r in replies)
    assert len(slow.model_requests()) + len(fast.model_requests()) == 20
    assert 1 <= len(slow.model_requests()) <= 5  # round-robin would give it 10
    assert elapsed < 4.0  # 10 requests on the slow server alone would take 5 s


def test_a_server_refusing_connections_is_avoided_and_every_call_succeeds(fake_llm, refused_url) -> None:
    live = [fake_llm(), fake_llm()]
    urls = [refused_url, *(f.url for f in live)]

    async def go() -> tuple[list[ModelReply], BalancedClient]:
        gateway = balanced_gateway(urls)
        try:
            return [await gateway.complete(verdict_request(m)) for m in asks(10)], gateway.client
        finally:
            await gateway.client.close()

    replies, client = asyncio.run(go())
    assert all(r.error is None for r in replies)
    # The first call went to the dead server first and was retried on another one.
    assert replies[0].failure_kinds == ["connection"] and replies[0].retries == 1
    assert replies[0].params["server"] != refused_url
    assert all(r.retries == 0 for r in replies[1:])  # inside its 10 s cool-down, it was not tried again
    assert {r.params["server"] for r in replies} == {f.url for f in live}
    assert sum(len(f.model_requests()) for f in live) == 10
    dead = client.balancer.servers[0]
    assert dead.failed == 1 and dead.failures == 1 and client.balancer.cooling() == [refused_url]


def test_a_server_answering_503_is_tried_again_after_its_cool_down(fake_llm) -> None:
    """The 503 server cools down, is tried again when the cool-down is over, fails again (longer
    cool-down), and is used normally once it answers."""
    flaky = fake_llm(faults=["503", "503"])
    healthy = fake_llm()
    cooldown = 0.4

    async def go() -> tuple[list[list[ModelReply]], Balancer]:
        gateway = balanced_gateway([flaky.url, healthy.url], cooldown_s=cooldown)
        batches = []
        try:
            for pause in (0.0, cooldown + 0.05, 2 * cooldown + 0.05):
                await asyncio.sleep(pause)
                batches.append([await gateway.complete(verdict_request(m)) for m in asks(4)])
            return batches, gateway.client.balancer
        finally:
            await gateway.client.close()

    batches, balancer = asyncio.run(go())
    assert all(r.error is None for batch in batches for r in batch)
    assert flaky.faults_served() == ["503", "503", "ok", "ok"]
    first, second, third = batches
    # Each 503 was retried on the healthy server; within a cool-down the flaky one got nothing more.
    assert first[0].failure_kinds == ["server_error"] and first[0].params["server"] == healthy.url
    assert all(r.params["server"] == healthy.url for r in first + second)
    assert second[0].failure_kinds == ["server_error"]
    # After the doubled cool-down it is back: the servers take turns again.
    assert Counter(r.params["server"] for r in third) == {flaky.url: 2, healthy.url: 2}
    assert balancer.servers[0].failures == 0 and balancer.cooling() == []


def test_a_server_that_hangs_past_the_timeout_cools_down(fake_llm) -> None:
    """The gateway's timeout cancels the request, so the client sees no error: the gateway reports it."""
    hanging = fake_llm(faults=["timeout"], hang_s=3.0)
    healthy = fake_llm()
    started = time.perf_counter()

    async def go() -> tuple[list[ModelReply], Balancer]:
        gateway = balanced_gateway([hanging.url, healthy.url], timeout_s=0.3)
        try:
            return [await gateway.complete(verdict_request(m)) for m in asks(3)], gateway.client.balancer
        finally:
            await gateway.client.close()

    replies, balancer = asyncio.run(go())
    assert time.perf_counter() - started < 2.5
    assert all(r.error is None for r in replies)
    assert replies[0].failure_kinds == ["timeout"] and replies[0].params["server"] == healthy.url
    assert balancer.cooling() == [hanging.url] and balancer.servers[0].failures == 1
    assert [len(hanging.model_requests()), len(healthy.model_requests())] == [1, 3]
    assert all(s.in_flight == 0 for s in balancer.servers)


def test_without_a_route_the_client_still_balances(fake_llm) -> None:
    """Used outside the gateway (no route), the client balances and records HTTP failures itself."""
    broken, healthy = fake_llm(faults=["500"]), fake_llm()
    client = create_client(
        check_model(MODEL), ProviderSettings(base_url=[broken.url, healthy.url]), AgentSpec(name="a", role="r")
    )
    assert isinstance(client, BalancedClient)

    async def go() -> list[ModelResult | str]:
        outcomes: list[ModelResult | str] = []
        try:
            assert current_route.get() is None
            for i in range(3):
                try:
                    request = ModelRequest(messages=[{"role": "user", "content": f"post {i}"}])
                    outcomes.append(await client.complete(request))
                except Exception as exc:  # the 500 reaches the caller
                    outcomes.append(type(exc).__name__)
        finally:
            await client.close()
        return outcomes

    first, *answered = asyncio.run(go())
    assert first == "InternalServerError"
    assert all(isinstance(r, ModelResult) and r.text.startswith("{") and r.tokens_out > 0 for r in answered)
    assert [r.server for r in answered if isinstance(r, ModelResult)] == [healthy.url, healthy.url]
    assert client.balancer.cooling() == [broken.url]


def test_a_whole_run_over_two_base_urls_uses_both(fake_llm, tmp_path: Path) -> None:
    fakes = [fake_llm(latency=0.02), fake_llm(latency=0.02)]
    spec = {
        "name": "t",
        "model": MODEL,
        "providers": {"openai-compatible": {"base_url": [f.url for f in fakes], "max_retries": 1}},
        "turns": "synchronous",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    scenarios = [
        {"id": "s1", "title": "AITA for skipping the wedding?", "text": "I skipped my cousin's wedding to work."},
        {"id": "s2", "title": "AITA for eating the last slice?", "text": "I ate the last slice of pizza."},
    ]
    result = moot.run(spec, scenarios, out=tmp_path / "run", cache=None, concurrency=2)

    assert result.manifest.conversations.completed == 2
    counts = [len(f.model_requests()) for f in fakes]
    assert all(c > 0 for c in counts), counts
    calls = events_of(result.run_dir, "model_call")
    assert len(calls) == sum(counts)
    assert Counter(c.params["server"] for c in calls) == {f.url: len(f.model_requests()) for f in fakes}


# -- settings and their validation ----------------------------------------------------------


def test_one_url_keeps_the_plain_client_and_a_list_or_comma_list_balances(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = check_model(MODEL)
    agent = AgentSpec(name="a", role="r")
    assert not isinstance(create_client(ref, ProviderSettings(base_url="http://127.0.0.1:9/v1"), agent), BalancedClient)
    assert not isinstance(
        create_client(ref, ProviderSettings(base_url=["http://127.0.0.1:9/v1"]), agent), BalancedClient
    )
    listed = create_client(ref, ProviderSettings(base_url=["http://127.0.0.1:9/v1", "https://gpu-2.lan/v1"]), agent)
    assert isinstance(listed, BalancedClient) and list(listed.clients) == [
        "http://127.0.0.1:9/v1",
        "https://gpu-2.lan/v1",
    ]

    monkeypatch.setenv("MOOT_OPENAI_COMPATIBLE_BASE_URL", " http://10.0.0.1:8000/v1 , http://10.0.0.2:8000/v1,")
    from_env = create_client(ref, ProviderSettings(), agent)
    assert isinstance(from_env, BalancedClient) and list(from_env.clients) == [
        "http://10.0.0.1:8000/v1",
        "http://10.0.0.2:8000/v1",
    ]
    # The spec's URLs take precedence over the environment's.
    assert check_settings("openai-compatible", "m", ProviderSettings(base_url="http://127.0.0.1:9/v1"))[0] == [
        "http://127.0.0.1:9/v1"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://a:8000/v1,localhost:8001/v1", "base URL 'localhost:8001/v1' must start with http:// or https://"),
        ("http://:8000/v1", "base URL 'http://:8000/v1' has no host"),
    ],
)
def test_bad_urls_in_the_environment_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("MOOT_OPENAI_COMPATIBLE_BASE_URL", value)
    with pytest.raises(UserError) as caught:
        check_settings("openai-compatible", "m", ProviderSettings())
    assert str(caught.value) == f"environment variable MOOT_OPENAI_COMPATIBLE_BASE_URL: {expected}"


def test_anthropic_takes_one_base_url() -> None:
    with pytest.raises(UserError, match="provider 'anthropic' takes one base URL, not 2"):
        check_settings("anthropic", "claude", ProviderSettings(base_url=["http://a:1", "http://b:1"]))


PROVIDERS_LINE = 3
"""Where `providers:` goes in the edited spec (after `model: scripted`)."""


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (
            "localhost:8000/v1",
            "providers.openai-compatible.base_url: Value error, base URL must start with http:// or https:// "
            "(got 'localhost:8000/v1')",
        ),
        ("'ftp://gpu-1/v1'", "base URL must start with http:// or https://"),
        ("'http:///v1'", "base URL has no host"),
        ("'http://gpu-1:99999/v1'", "base URL is not a valid URL (check the host and port)"),
        ("''", "base URL must not be empty or contain spaces"),
        ("[]", "providers.openai-compatible.base_url: Value error, give a base URL or a list of at least one"),
        (
            "['http://gpu-1:8000/v1', 'gpu-2:8000/v1']",
            "base URL 2 of 2 ('gpu-2:8000/v1') must start with http:// or https://",
        ),
        ("['http://gpu-1:8000/v1', 8000]", "base URL 2 of 2 (8000) must be a string"),
        (
            "['http://gpu-1:8000/v1', 'http://gpu-1:8000/v1']",
            "base URL 2 of 2 ('http://gpu-1:8000/v1') is listed twice",
        ),
        ("{url: 'http://gpu-1:8000/v1'}", "base URL must be a string"),
    ],
)
def test_bad_base_urls_in_a_spec_give_one_line_naming_the_field(
    base_url: str, expected: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    text = GOOD_SPEC_YAML.replace(
        "model: scripted\n", f"model: scripted\nproviders:\n  openai-compatible:\n    base_url: {base_url}\n"
    )
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(spec_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"moot: error: {spec_file}:{PROVIDERS_LINE + 2}: providers.openai-compatible.base_url: "), err
    assert expected in err, err


def test_good_base_url_forms_validate(tmp_path: Path, capsys) -> None:
    for base_url in (
        "http://127.0.0.1:8000/v1",
        "['http://gpu-1:8000/v1', 'https://gpu-2.example.org/v1', 'http://[::1]:11434/v1']",
    ):
        text = GOOD_SPEC_YAML.replace(
            "model: scripted\n", f"model: scripted\nproviders:\n  openai-compatible:\n    base_url: {base_url}\n"
        )
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(text, encoding="utf-8")
        assert main(["validate", str(spec_file)]) == 0, capsys.readouterr().err
    assert ProviderSettings(base_url=["http://a:1/v1", "http://b:1/v1"]).base_url == ["http://a:1/v1", "http://b:1/v1"]
    assert ProviderSettings(base_url="http://a:1/v1").base_url == "http://a:1/v1"
