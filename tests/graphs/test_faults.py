"""Runs against a flaky provider: faults at a 10% rate, and 64 calls in flight.

The fake openai-compatible server serves, at random (seeded), every fault of a flaky provider:
429 with Retry-After, 500/502/503, connection resets, timeouts, malformed bodies, replies cut at
max tokens and schema-invalid replies. Every conversation must complete or fail with its reason,
no event may be lost or written twice, and the run's usage must count each fault by kind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import moot
from fakes.llm_server import CLIENT_FAILURE_KIND, RELIABILITY_FAULTS, FakeLLMServer
from helpers import events_of
from moot.cli import print_fault_counts
from moot.graphs.audit import verify_run

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


def flaky_spec(base_url: str, *, agents: int = 2, max_concurrency: int = 64, max_retries: int = 1) -> dict[str, Any]:
    """A round-robin debate on the fake server, with short timeouts and backoff so faults cost little time.

    Its structured-output mode is set (not `auto`): under `auto` a schema-invalid reply to the first request would
    count as the server ignoring `json_schema`, not as the invalid reply a flaky provider serves.
    """
    return {
        "name": "flaky",
        "model": "openai-compatible:fake",
        "providers": {
            "openai-compatible": {
                "base_url": base_url,
                "max_concurrency": max_concurrency,
                "timeout_s": 5.0,
                "max_retries": max_retries,
                "retry_base_delay_s": 0.01,
                "retry_max_delay_s": 0.05,
                "structured_output": "json_schema",
            }
        },
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": f"a{i}", "role": "debater"} for i in range(agents)],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def scenarios(n: int) -> list[dict[str, str]]:
    """`n` distinct small scenarios."""
    return [{"id": f"s{i:03d}", "title": f"AITA case {i}?", "text": f"Scenario number {i}."} for i in range(n)]


def test_a_ten_percent_fault_run_of_200_conversations_loses_nothing_and_counts_every_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-fault-injection-test")
    with FakeLLMServer(
        fault_rate=0.10, fault_kinds=RELIABILITY_FAULTS, seed=7, latency=0.002, retry_after=0.01, hang_s=6.0
    ) as server:
        result = moot.run(flaky_spec(server.url), scenarios(200), out=tmp_path / "run", cache=None, concurrency=32)
        served = Counter(server.faults_served())

    manifest = result.manifest
    counts = manifest.conversations
    assert manifest.status == "completed"
    assert (counts.planned, counts.completed + counts.failed) == (200, 200)
    events = events_of(result.run_dir)
    by_conversation: dict[str, list] = defaultdict(list)
    for event in events:
        by_conversation[event.conversation_id].append(event)
    assert len(by_conversation) == 200
    for cid, conv in by_conversation.items():
        kinds = [e.event for e in conv]
        assert kinds[0] == "conversation_started" and kinds[-1] == "stopped", cid
        assert kinds.count("conversation_started") == 1 and kinds.count("stopped") == 1, cid
        stop = conv[-1]
        messages = [(e.round, e.agent) for e in conv if e.event == "message_added"]
        assert len(messages) == len(set(messages)), f"{cid}: a message written twice"
        if stop.status == "completed":
            assert sorted(messages) == [(r, f"a{i}") for r in range(1, stop.rounds + 1) for i in range(2)], cid
        else:
            errors = [e for e in conv if e.event == "error"]
            assert len(errors) == 1 and errors[0].message == stop.reason and stop.reason, cid
    assert sum(1 for e in events if e.event == "stopped" and e.status == "failed") == counts.failed

    usage = manifest.usage
    transient = Counter()
    for fault, n in served.items():
        if fault in CLIENT_FAILURE_KIND:
            transient[CLIENT_FAILURE_KIND[fault]] += n
    # Each transient fault served is one failed attempt: retried, or the last one of a failed call.
    assert Counter(usage.retries_by_kind) + Counter(usage.failures_by_kind) == transient
    assert sum(usage.retries_by_kind.values()) == usage.total.retries
    assert sum(usage.failures_by_kind.values()) == usage.total.failures == counts.failed
    assert usage.invalid_replies_by_kind == {"truncated": served["truncated"], "invalid": served["invalid_schema"]}
    model_calls = [e for e in events if e.event == "model_call"]
    assert len(model_calls) == usage.total.calls
    assert sum(c.retries for c in model_calls) == usage.total.retries
    assert sum(1 for c in model_calls if c.parse_error) == served["truncated"] + served["invalid_schema"]
    assert set(served) == {"ok", *RELIABILITY_FAULTS}, "every kind of fault was served"
    assert verify_run(result.run_dir).ok

    print_fault_counts(usage)
    print(
        f"\nfault run: {counts.completed} completed, {counts.failed} failed of {counts.planned};"
        f" faults served {dict(sorted(served.items()))}; retries {usage.retries_by_kind};"
        f" failed calls {usage.failures_by_kind}; invalid replies {usage.invalid_replies_by_kind}"
    )


def test_the_fault_counts_of_run_json_print_one_line_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    from moot.trace.manifest import UsageReport

    print_fault_counts(
        UsageReport(retries_by_kind={"rate_limit": 3, "connection": 1}, invalid_replies_by_kind={"truncated": 2})
    )
    assert capsys.readouterr().out == "retries        connection 1, rate_limit 3\ninvalid replies truncated 2\n"
    print_fault_counts(UsageReport())
    assert capsys.readouterr().out == ""


def test_a_run_with_concurrency_64_keeps_64_calls_in_flight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-concurrency-test")
    spec = flaky_spec("", agents=1, max_concurrency=64) | {"rounds": 1}
    with FakeLLMServer(latency=0.5) as server:
        spec["providers"]["openai-compatible"]["base_url"] = server.url
        spec["providers"]["openai-compatible"]["timeout_s"] = 10.0
        result = moot.run(spec, scenarios(128), out=tmp_path / "run", cache=None, concurrency=64)
        peak = server.max_in_flight
    print(f"\nconcurrency 64: at most {peak} model calls in flight at the fake server")
    assert result.manifest.conversations.completed == 128
    assert len(server.model_requests()) == 128
    assert 60 <= peak <= 64
