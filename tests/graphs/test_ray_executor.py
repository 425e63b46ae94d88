"""The Ray executor on a local two-process cluster, against the fake openai-compatible server.

One cluster serves the whole module (starting Ray costs seconds). The fake server's replies
depend on the whole request (messages, seed), so conversations differ and a message shown to
the wrong agent, lost or repeated would change what follows.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from fakes.llm_server import FakeLLMServer
from fakes.otlp_receiver import OtlpReceiver
from helpers import events_of
from moot.agents.cache import ResponseCache
from moot.cli import main
from moot.errors import UserError
from moot.graphs.audit import verify_run
from moot.graphs.conformance import check_jsonl_round_trip, check_trace
from moot.graphs.executor import LocalExecutor
from moot.graphs.ray_executor import MISSING_RAY, RayExecutor, import_ray, provider_limits, start_local_cluster
from moot.protocols.loader import validate_spec_data
from moot.trace.events import Event
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events, open_run_trace
from moot.trace.redaction import public_location

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

VERDICTS = ("NTA", "YTA", "NAH", "ESH")
VOLATILE = {"seq", "prev_hash", "time", "run_id", "latency_s"}
"""Event fields that differ between two runs of the same experiment."""


def varied_reply(body: dict[str, Any], path: str) -> str:
    """A verdict chosen by a hash of the whole request."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).digest()
    return json.dumps(
        {"verdict": VERDICTS[digest[0] % len(VERDICTS)], "explanation": f"Because of {digest[:4].hex()}."}
    )


def debate_spec(base_url: str, *, max_concurrency: int = 64) -> dict[str, Any]:
    """A three-round, two-debater debate on the fake server that stops on consensus."""
    return {
        "name": "cluster_debate",
        "model": "openai-compatible:fake",
        "seed": 11,
        "providers": {
            "openai-compatible": {
                "base_url": base_url,
                "max_concurrency": max_concurrency,
                "timeout_s": 10.0,
                "max_retries": 1,
                "retry_base_delay_s": 0.01,
            }
        },
        "turns": "round_robin",
        "rounds": 3,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "a0", "role": "debater"}, {"name": "a1", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def scenarios(n: int) -> list[dict[str, str]]:
    """`n` distinct small scenarios."""
    return [
        {"id": f"s{i:03d}", "title": f"AITA for case {i}?", "text": f"Scenario number {i}, with its own details."}
        for i in range(n)
    ]


def transcripts(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Each conversation's events that stand, without what differs between runs (and resume markers)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for event in effective_events(events_of(run_dir)):
        if event.event != "resumed":
            out.setdefault(event.conversation_id, []).append(_stable(event))
    return out


def _stable(event: Event) -> dict[str, Any]:
    return {key: value for key, value in event.model_dump(mode="json").items() if key not in VOLATILE}


def said(run_dir: Path) -> dict[str, list[tuple[int, str | None, str]]]:
    """Each conversation's messages that stand: (round, agent, content), in order."""
    out: dict[str, list[tuple[int, str | None, str]]] = {}
    for event in effective_events(events_of(run_dir)):
        if event.event == "message_added":
            out.setdefault(event.conversation_id, []).append((event.round, event.agent, event.content))
    return out


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local Ray cluster of two CPUs (so two worker processes), on the loopback interface."""
    ray = import_ray()
    start_local_cluster(ray, 2)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """The fake server, with a little latency, shared by the module's runs."""
    with FakeLLMServer(varied_reply, latency=0.01) as fake:
        yield fake


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake provider's key, set here only: the executor hands it to the workers."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-cluster-test")


@dataclass
class Baseline:
    """The local run every cluster run is compared with."""

    run_dir: Path
    manifest: RunManifest
    calls: int
    """Model requests the fake server received for it."""


@pytest.fixture(scope="module")
def baseline(server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    """The 50-conversation experiment run by the local executor (conversation ids do not depend on
    how many scenarios there are, so runs of fewer scenarios compare with a part of it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-cluster-test")
        run_dir = tmp_path_factory.mktemp("baseline") / "local"
        result = moot.run(
            debate_spec(server.url), scenarios(50), out=run_dir, cache=None, concurrency=8, executor=LocalExecutor()
        )
        yield Baseline(result.run_dir, result.manifest, len(server.model_requests()))
        server.reset()


def part_of(whole: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """The entries of `whole` for the conversations of `part`."""
    return {key: whole[key] for key in part}


def test_the_ray_executor_runs_the_same_experiment_as_the_local_one(
    cluster: Any, server: FakeLLMServer, baseline: Baseline, api_key: None, tmp_path: Path
) -> None:
    spec = debate_spec(server.url)
    local = baseline
    server.reset()
    seen: list[tuple[int, int]] = []
    # The Ray side stores every reply in a fresh response cache, written by both worker processes.
    cache = tmp_path / "cache.sqlite"
    on_ray = moot.run(
        spec,
        scenarios(50),
        out=tmp_path / "ray",
        cache=cache,
        concurrency=8,
        executor=RayExecutor(workers=2),
        progress=lambda done, planned: seen.append((done, planned)),
    )

    assert (local.manifest.executor, on_ray.manifest.executor) == ("local", "ray")
    assert on_ray.manifest.status == local.manifest.status == "completed"
    assert on_ray.manifest.conversations == local.manifest.conversations
    assert on_ray.manifest.conversations.completed == 50
    expected, got = transcripts(local.run_dir), transcripts(on_ray.run_dir)
    assert sorted(got) == sorted(expected) and len(got) == 50
    for conversation_id, events in expected.items():
        assert got[conversation_id] == events, conversation_id
    assert {stop[-1]["rounds"] for stop in expected.values()} != {3}, "the replies vary: some conversations stop early"
    assert (
        on_ray.manifest.usage.total.calls
        == local.manifest.usage.total.calls
        == local.calls
        == len(server.model_requests())
    )
    assert seen[-1] == (50, 50) and len(seen) == 51, "the driver reported each conversation as it ended"
    stored = ResponseCache(cache)
    assert len(stored) == local.calls
    stored.close()
    assert verify_run(local.run_dir).ok and verify_run(on_ray.run_dir).ok


@pytest.mark.parametrize(
    ("executor", "store"), [("local", "sqlite"), ("local", "postgresql"), ("ray", "sqlite"), ("ray", "postgresql")]
)
def test_both_executors_on_both_stores_pass_the_same_conformance_checks(
    executor: str,
    store: str,
    cluster: Any,
    server: FakeLLMServer,
    baseline: Baseline,
    api_key: None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    trace = request.getfixturevalue("postgres_url") if store == "postgresql" else None
    chosen = RayExecutor(workers=2) if executor == "ray" else LocalExecutor()
    spec = debate_spec(server.url)
    result = moot.run(
        spec, scenarios(12), out=tmp_path / "run", cache=None, concurrency=6, executor=chosen, trace=trace
    )

    assert (result.manifest.executor, result.manifest.trace) == (executor, public_location(trace))
    assert store == "sqlite" or not (result.run_dir / "trace.sqlite").exists(), "the trace went to the database"
    reader = open_run_trace(result.run_dir)
    try:
        events = list(reader.events())
    finally:
        reader.close()
    report = check_trace(validate_spec_data(spec), events)  # turn order, what each agent saw and was sent, the chain
    check_jsonl_round_trip(events)
    assert report.conversations == 12
    assert verify_run(result.run_dir).ok
    got = transcripts(result.run_dir)
    assert len(got) == 12 and got == part_of(transcripts(baseline.run_dir), got)


def test_a_worker_killed_mid_run_is_replaced_and_its_conversations_go_on(
    cluster: Any, server: FakeLLMServer, baseline: Baseline, api_key: None, tmp_path: Path
) -> None:
    # A limit the run reaches: the killed worker's slots must come back, or the run would stall.
    spec = debate_spec(server.url, max_concurrency=4)
    server.reset()
    executor = RayExecutor(workers=2)
    killed: list[Any] = []

    def kill_one_worker(done: int, planned: int) -> None:
        if done == 8 and not killed:
            killed.append(executor.actors[0])
            cluster.kill(executor.actors[0], no_restart=False)

    result = moot.run(
        spec,
        scenarios(30),
        out=tmp_path / "ray",
        cache=None,
        concurrency=12,
        executor=executor,
        progress=kill_one_worker,
    )

    assert killed, "a worker was killed"
    assert server.max_in_flight <= 4
    assert result.manifest.status == "completed"
    assert result.manifest.conversations.completed == 30
    events = events_of(result.run_dir)
    assert any(event.event == "resumed" for event in events), (
        "conversations in flight on the killed worker went on from their last round"
    )
    got = said(result.run_dir)
    assert len(got) == 30 and got == part_of(said(baseline.run_dir), got), (
        "every conversation has exactly its messages, once"
    )
    stand = transcripts(result.run_dir)
    assert stand == part_of(transcripts(baseline.run_dir), stand)
    stops = Counter(event.conversation_id for event in effective_events(events) if event.event == "stopped")
    assert stops == Counter(dict.fromkeys(got, 1))
    # The calls of the killed worker's attempts are counted by the attempts that took over.
    assert result.manifest.usage.total.calls == sum(event.event == "model_call" for event in events)
    assert verify_run(result.run_dir).ok


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_conversation_lost_for_good_ends_the_run_in_one_line_and_the_run_resumes(
    store: str,
    cluster: Any,
    server: FakeLLMServer,
    baseline: Baseline,
    api_key: None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    trace = request.getfixturevalue("postgres_url") if store == "postgresql" else None
    spec = debate_spec(server.url)
    executor = RayExecutor(workers=2)
    killed: list[int] = []

    # The workers die for good while the 24th request is held, so the conversation that sent it
    # is certainly cut off mid-way. (Killing one worker after a count of finished conversations
    # could catch it before it had begun any of its own, leaving nothing to resume.)
    def kill_for_good(record: Any, count: int) -> None:
        if count == 24 and not killed:
            killed.append(count)
            for actor in executor.actors:
                cluster.kill(actor, no_restart=True)
            server.wait(3.0)

    server.reset()
    server.on_request = kill_for_good
    try:
        with pytest.raises(UserError) as lost:
            moot.run(
                spec, scenarios(20), out=tmp_path / "run", cache=None, concurrency=8, executor=executor, trace=trace
            )
    finally:
        server.on_request = None
    message = str(lost.value)
    assert "\n" not in message
    assert (
        "was lost on the Ray cluster" in message and f"moot run --resume {tmp_path / 'run'} --executor ray" in message
    )
    assert RunManifest.read(tmp_path / "run").status != "completed"
    before = events_of(tmp_path / "run")
    cut_off = {event.conversation_id for event in before} - {
        event.conversation_id for event in before if event.event == "stopped"
    }
    assert cut_off, "a conversation was cut off mid-way"

    resumed = moot.resume(tmp_path / "run", scenarios(20), executor=RayExecutor(workers=2))
    assert resumed.manifest.status == "completed" and resumed.manifest.executor == "ray"
    assert resumed.manifest.conversations.completed == 20
    got = said(resumed.run_dir)
    assert len(got) == 20 and got == part_of(said(baseline.run_dir), got)
    events = events_of(resumed.run_dir)
    assert {event.conversation_id for event in events if event.event == "resumed"} == cut_off
    # Calls made before the resume are counted once: from the trace by the runner, not again by the workers.
    assert resumed.manifest.usage.total.calls == sum(event.event == "model_call" for event in events)
    assert verify_run(resumed.run_dir).ok


def test_the_cli_runs_on_the_cluster_and_a_providers_max_concurrency_holds_across_it(
    cluster: Any, api_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario_file = tmp_path / "scenarios.jsonl"
    scenario_file.write_text("".join(json.dumps(item) + "\n" for item in scenarios(16)))
    out = tmp_path / "run"
    with FakeLLMServer(varied_reply, latency=0.05) as fake:
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(debate_spec(fake.url, max_concurrency=3)))
        command = [
            "run",
            str(spec_file),
            "--scenarios",
            str(scenario_file),
            "--executor",
            "ray",
            "--workers",
            "2",
            "--concurrency",
            "12",
        ]
        code = main([*command, "--out", str(out), "--no-cache", "--quiet"])
        # Each of the two workers alone would allow 3: up to 6 would be in flight without the shared limiter.
        assert fake.max_in_flight == 3

    assert code == 0, capsys.readouterr().err
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["executor"] == "ray"
    assert manifest["status"] == "completed" and manifest["conversations"]["completed"] == 16
    assert verify_run(out).ok


MATRIX = {
    "models": {"agents": ["a0"], "from": ["openai-compatible:fake-a", "openai-compatible:fake-b"]},
    "vary": {"goal": ["correctness", "adversarial"]},
}
"""Four arms: a0's model (two names on the fake server) x the goal."""


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_matrix_runs_on_the_cluster_as_it_runs_locally(
    store: str, cluster: Any, server: FakeLLMServer, api_key: None, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    trace = request.getfixturevalue("postgres_url") if store == "postgresql" else None
    spec = debate_spec(server.url) | {"matrix": MATRIX}
    local = moot.run(spec, scenarios(3), out=tmp_path / "local", cache=None, concurrency=4, executor=LocalExecutor())
    on_ray = moot.run(
        spec,
        scenarios(3),
        out=tmp_path / "ray",
        cache=None,
        concurrency=4,
        executor=RayExecutor(workers=2),
        trace=trace,
    )
    assert on_ray.manifest.conversations.completed == local.manifest.conversations.completed == 12
    expected, got = transcripts(local.run_dir), transcripts(on_ray.run_dir)
    assert got == expected, "every arm's conversations are the same on the cluster"
    arms = Counter(json.dumps(events[0]["arm"], sort_keys=True) for events in got.values())
    assert len(arms) == 4 and set(arms.values()) == {3}
    assert verify_run(on_ray.run_dir).ok


def test_only_limits_a_run_can_reach_get_a_limiter_shared_by_the_workers() -> None:
    from moot.protocols.spec import ProtocolSpec

    def spec(**settings: Any) -> ProtocolSpec:
        raw = debate_spec("http://127.0.0.1:9/v1")
        raw["providers"]["openai-compatible"].update(settings)
        return ProtocolSpec.model_validate(raw)

    # Two agents: 8 conversations in flight make at most 16 requests.
    assert provider_limits(spec(max_concurrency=16), 8) == {}
    assert provider_limits(spec(max_concurrency=15), 8) == {"openai-compatible": (15, None)}
    assert provider_limits(spec(max_concurrency=64, requests_per_minute=600), 8) == {"openai-compatible": (64, 600)}
    scripted = ProtocolSpec.model_validate(
        debate_spec("http://127.0.0.1:9/v1")
        | {"model": "scripted", "agents": [{"name": "a0", "role": "debater", "script": ["x"]}]}
    )
    assert provider_limits(scripted, 8) == {}, "a scripted agent runs in its worker: nothing to share"
    # A matrix whose arms give one agent a remote model: the limiter covers the arms' agents.
    remote = scripted.model_dump() | {
        "providers": {"openai-compatible": {"base_url": "http://127.0.0.1:9/v1", "max_concurrency": 2}},
        "matrix": {"models": {"from": ["scripted", "openai-compatible:fake"]}},
    }
    assert provider_limits(ProtocolSpec.model_validate(remote), 8) == {"openai-compatible": (2, None)}


def test_address_and_workers_need_the_ray_executor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "debate", "--executor", "local", "--address", "127.0.0.1:6379", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "moot: error: --address and --workers need --executor ray\n"
    assert not (tmp_path / "run").exists()
    with pytest.raises(UserError, match="--workers must be at least 1"):
        RayExecutor(workers=0)


def test_without_ray_the_executor_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as when it is not installed
    with pytest.raises(UserError) as missing:
        RayExecutor()
    assert str(missing.value) == MISSING_RAY == "--executor ray needs Ray: pip install 'moot[ray]'"
    with pytest.raises(UserError, match="needs Ray"):
        import_ray()
    code = main(["run", "debate", "--executor", "ray", "--out", str(tmp_path / "run")])
    assert code == 2
    assert capsys.readouterr().err == f"moot: error: {MISSING_RAY}\n"
    assert not (tmp_path / "run").exists()


def test_spans_sent_live_from_the_cluster_workers_form_the_runs_one_tree(
    cluster: Any, server: FakeLLMServer, api_key: None, tmp_path: Path
) -> None:
    with OtlpReceiver() as receiver:
        moot.run(
            debate_spec(server.url),
            scenarios(6),
            out=tmp_path / "run",
            cache=None,
            executor=RayExecutor(workers=2),
            otel=receiver.url,
        )
        spans = receiver.spans()
    by_id = {span.span_id: span for span in spans}
    assert len(by_id) == len(spans) and len({span.trace_id for span in spans}) == 1
    assert [span.name for span in spans if not span.parent_span_id] == ["moot run cluster_debate"]
    assert [span.name for span in spans if span.parent_span_id and span.parent_span_id not in by_id] == []
    names = Counter(span.name.split()[0] for span in spans)
    assert names["conversation"] == 6
    assert names["chat"] == len(events_of(tmp_path / "run", "model_call"))
    assert names["invoke_agent"] == len(events_of(tmp_path / "run", "turn_started"))
