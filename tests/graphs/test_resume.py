"""Crash and resume: a run killed (SIGKILL) or stopped (Ctrl-C) at any point is finished by `moot run --resume`.

The final trace must hold, per conversation, the same effective events as an uninterrupted run
of the same seed (no duplicated or missing events), pass `moot verify`, and the resume may make
again at most one model call per conversation that was in flight at the interruption (the
response cache serves the rest).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from fakes.llm_server import FakeLLMServer, RecordedRequest
from helpers import consensus_run, files_of
from moot.api import resume
from moot.errors import UserError
from moot.graphs.audit import verify_run
from moot.graphs.compiler import compile_protocol
from moot.graphs.runner import run_async
from moot.protocols.loader import validate_spec_data
from moot.scenarios import load_scenarios
from moot.trace.events import ConversationStarted, MessageAdded, ModelCall, Resumed, Stopped, TurnStarted
from moot.trace.ledger import read_ledger
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events
from moot.trace.store import event_hash
from moot.trace.verify import recorded_events

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

API_KEY = "sk-resume-test-key"
VERDICTS = {"alice": "NTA", "bob": "YTA", "carol": "ESH"}
"""Each agent keeps its own verdict, so every conversation runs to the round limit."""


def reply(body: dict[str, Any], path: str) -> str:
    """The agent's fixed verdict, with an explanation that depends on everything it was asked.

    A resumed conversation whose rebuilt state differs in the least from the original asks
    something else, and its transcript then differs from the reference run's.
    """
    system = body["messages"][0]["content"]
    agent = next(name for name in VERDICTS if system.startswith(f"You are {name}"))
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()[:10]
    return json.dumps({"verdict": VERDICTS[agent], "explanation": f"{agent} holds to {VERDICTS[agent]} ({digest})."})


def spec_data(
    base_url: str,
    turns: str = "round_robin",
    agents: tuple[str, ...] = ("alice", "bob"),
    matrix: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A debate over the fake server that always runs 3 rounds (in every arm of `matrix`, when given)."""
    return ({"matrix": matrix} if matrix else {}) | {
        "name": "resumable",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_retries": 2, "retry_base_delay_s": 0.01}},
        "turns": turns,
        "rounds": 3,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, "role": "debater"} for name in agents],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def write_inputs(folder: Path, base_url: str, n: int, **spec: Any) -> tuple[Path, Path]:
    """The spec and scenario files of a run."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = folder / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec_data(base_url, **spec)), encoding="utf-8")
    cases = folder / "cases.jsonl"
    cases.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "title": f"AITA {i}?", "text": f"Case number {i}."}) + "\n" for i in range(n)
        ),
        encoding="utf-8",
    )
    return spec_file, cases


def effective_story(run_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Per conversation, what stands: each event's kind, round and agent, and what each turn saw and said.

    Sorted: synchronous speakers of a round finish in any order, in the reference run too.
    """
    story: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for event in effective_events(recorded_events(run_dir)):
        if isinstance(event, Resumed):
            continue
        detail: Any = None
        if isinstance(event, TurnStarted):
            detail = tuple(event.visible)
        elif isinstance(event, MessageAdded):
            detail = event.content
        elif isinstance(event, Stopped):
            detail = (event.status, event.reason, event.rounds)
        story[event.conversation_id].append((event.event, event.round, event.agent, detail))
    return {cid: sorted(items, key=repr) for cid, items in story.items()}


def request_key(request: RecordedRequest) -> str:
    """What makes two requests the same call: the messages and the sampling parameters."""
    body = request.body or {}
    return json.dumps({k: body.get(k) for k in ("messages", "seed", "temperature")}, sort_keys=True)


def in_flight(run_dir: Path) -> int:
    """Conversations with events but no stop."""
    events = recorded_events(run_dir)
    started = {e.conversation_id for e in events if isinstance(e, ConversationStarted)}
    stopped = {e.conversation_id for e in events if isinstance(e, Stopped)}
    return len(started - stopped)


def check_resumed_run(run_dir: Path, reference: Path, planned: int) -> None:
    """Every conversation stopped once, the effective trace equals the reference's, and the run verifies."""
    events = recorded_events(run_dir)
    stops = Counter(e.conversation_id for e in events if isinstance(e, Stopped))
    assert len(stops) == planned and set(stops.values()) == {1}, stops
    starts = Counter(e.conversation_id for e in events if isinstance(e, ConversationStarted))
    assert set(starts.values()) == {1}
    assert effective_story(run_dir) == effective_story(reference)
    report = verify_run(run_dir)
    assert report.ok, [p.line() for p in report.problems]
    manifest = RunManifest.read(run_dir)
    assert manifest.status == "completed"
    assert (manifest.conversations.completed, manifest.conversations.failed) == (planned, 0)


def reference_run(tmp_path: Path, n: int, **spec: Any) -> Path:
    """An uninterrupted run of the same spec, scenarios and seed, on a server and cache of its own."""
    with FakeLLMServer(replies=reply) as server:
        spec_file, cases = write_inputs(tmp_path / "reference-inputs", server.url, n, **spec)
        result = moot.run(
            spec_file, cases, out=tmp_path / "reference", cache=tmp_path / "reference-cache.sqlite", concurrency=3
        )
    return result.run_dir


def test_effective_events_drop_what_a_resume_superseded() -> None:
    ids = {"run_id": "r", "conversation_id": "c", "scenario_id": "s"}
    events = [
        ConversationStarted(seq=1, **ids, protocol="p", order=["a"], repeat=0, seed=0),
        TurnStarted(seq=2, **ids, round=1, agent="a", role="d", position=0, visible=[]),
        TurnStarted(seq=3, **ids, round=1, agent="a", role="d", position=0, visible=[]),
        Resumed(seq=4, **ids, kept_rounds=0, superseded=[2]),
        TurnStarted(seq=5, **ids, round=1, agent="a", role="d", position=0, visible=[]),
        Resumed(seq=6, **ids, kept_rounds=0, superseded=[3, 4, 5]),
    ]
    # The second marker supersedes the first turn after it (5) and the earlier stray one (3), never a marker (4).
    assert [e.seq for e in effective_events(events)] == [1, 4, 6]
    assert effective_events(events[:3]) == events[:3]


def _interrupt_in_process(spec_file: Path, cases: Path, out: Path, cache: Path, server: FakeLLMServer, at: int) -> None:
    """Run, and cancel the run (as Ctrl-C does) when the server receives model request number `at`."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        protocol = compile_protocol(validate_spec_data(yaml.safe_load(spec_file.read_text())))
        task = asyncio.create_task(run_async(protocol, load_scenarios(cases), out=out, concurrency=3, cache_path=cache))
        server.on_request = lambda record, number: loop.call_soon_threadsafe(task.cancel) if number == at else None
        with pytest.raises(asyncio.CancelledError):
            await task
        server.on_request = None

    asyncio.run(main())


@pytest.mark.parametrize(
    ("turns", "agents", "at"), [("round_robin", ("alice", "bob"), 9), ("synchronous", ("alice", "bob", "carol"), 14)]
)
def test_an_interrupted_run_resumes_into_the_run_it_would_have_been(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, turns: str, agents: tuple[str, ...], at: int
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    reference = reference_run(tmp_path, 4, turns=turns, agents=agents)
    with FakeLLMServer(replies=reply, latency=0.02) as server:
        spec_file, cases = write_inputs(tmp_path / "inputs", server.url, 4, turns=turns, agents=agents)
        out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
        _interrupt_in_process(spec_file, cases, out, cache, server, at)
        assert RunManifest.read(out).status == "interrupted"
        assert verify_run(out).ok, "a run stopped by Ctrl-C has a consistent trace and manifest"
        interrupted = in_flight(out)
        first = Counter(request_key(r) for r in server.model_requests())
        server.reset()
        result = resume(out)
        again = sum((Counter(request_key(r) for r in server.model_requests()) & first).values())
    assert interrupted >= 1
    # Synchronous speakers of a round are in flight together; round robin has one call at a time.
    assert again <= interrupted * (len(agents) if turns == "synchronous" else 1)
    check_resumed_run(out, reference, 4)
    assert len(result.manifest.resumed_at) == 1
    markers = [e for e in recorded_events(out) if isinstance(e, Resumed)]
    assert len(markers) == interrupted


def test_a_resumed_run_sends_in_the_structured_output_mode_found_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a fake of llama-cpp-python's server (json_schema rejected), `auto` finds json_object_schema once: the
    resumed part of the run starts in it, and run.json still says it."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    with FakeLLMServer(replies=reply, latency=0.02, structured="llama-cpp-python") as server:
        spec_file, cases = write_inputs(tmp_path / "inputs", server.url, 4)
        out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
        _interrupt_in_process(spec_file, cases, out, cache, server, 12)
        assert any(isinstance(e, ModelCall) for e in recorded_events(out)), "the mode was found before the interrupt"
        # (a request cut off by the interrupt arrives without a body)
        formats = [(r.body.get("response_format") or {}).get("type") for r in server.model_requests() if r.body]
        # Conversations in flight (3) may each have sent json_schema before the first rejection came back.
        assert formats[0] == "json_schema" and 1 <= formats.count("json_schema") <= 3
        server.reset()
        result = resume(out)
        resumed = [r.body.get("response_format") or {} for r in server.model_requests() if r.body]
        url = server.url
    assert resumed and all(f["type"] == "json_object" and "schema" in f for f in resumed)
    (found,) = result.manifest.usage.structured_output.values()
    assert (found.server, found.mode, list(found.rejected)) == (url, "json_object_schema", ["json_schema"])
    assert verify_run(out).ok


def test_resume_refuses_a_finished_run_and_a_changed_scenario_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    reference = reference_run(tmp_path, 2)
    with pytest.raises(UserError, match=r"is finished \(2 completed, 0 failed of 2\); nothing to resume"):
        resume(reference)
    manifest = RunManifest.read(reference)
    manifest.status = "interrupted"
    manifest.write(reference)
    cases = Path(manifest.scenario_source)
    cases.write_text(cases.read_text() + '{"id": "extra", "text": "One more."}\n')
    with pytest.raises(UserError, match=r"changed since run .* started .*a resume needs the file the run started with"):
        resume(reference)
    cases.unlink()
    with pytest.raises(UserError, match=r"scenario file .* not found; a resume needs the file the run started with"):
        resume(reference)


def _moot(*args: str) -> subprocess.Popen[str]:
    """`python -m moot ARGS` in a subprocess whose SIGINT is the default (a background shell may ignore it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "moot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_kill_trials_sigkill_at_random_points_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real `moot run` subprocesses killed with SIGKILL at seeded random model requests, each then resumed.

    The trials chain on one run directory: the run is killed, its resume is killed, that resume's
    resume is killed, and the last resume finishes; so resuming a resumed run is tried too.
    """
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    scenarios = 6  # 6 conversations x 3 rounds x 2 agents = 36 calls
    reference = reference_run(tmp_path, scenarios)
    rng = random.Random(20240607)
    kills = [rng.randint(2, 12), rng.randint(2, 8), rng.randint(2, 8)]
    trials = []
    with FakeLLMServer(replies=reply, latency=0.03) as server:
        spec_file, cases = write_inputs(tmp_path / "inputs", server.url, scenarios)
        out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
        commands = [
            (
                "run",
                str(spec_file),
                "--scenarios",
                str(cases),
                "--out",
                str(out),
                "--cache",
                str(cache),
                "--concurrency",
                "3",
                "--quiet",
            )
        ]
        commands += [("run", "--resume", str(out), "--quiet")] * len(kills)
        seen: Counter[str] = Counter()
        for step, command in enumerate(commands):
            kill_at = kills[step] if step < len(kills) else None
            server.reset()
            process = _moot(*command)
            started = time.monotonic()
            killed_after: list[float] = []

            def kill(
                record: RecordedRequest,
                number: int,
                process: subprocess.Popen[str] = process,
                kill_at: int | None = kill_at,
                started: float = started,
                killed_after: list[float] = killed_after,
            ) -> None:
                if number == kill_at:
                    killed_after.append(time.monotonic() - started)
                    process.send_signal(signal.SIGKILL)

            server.on_request = kill
            _, err = process.communicate(timeout=60)
            server.on_request = None
            requests = Counter(request_key(r) for r in server.model_requests())
            if step > 0:
                trials[-1]["again"] = again = sum((requests & seen).values())
                assert again <= trials[-1]["in_flight"], (
                    "at most one call per conversation in flight at the kill is made again"
                )
            seen += requests
            if kill_at is None:
                assert process.returncode == 0, err
                continue
            assert process.returncode == -signal.SIGKILL, err
            assert RunManifest.read(out).status == "running"
            before = files_of(out)
            problems = verify_run(out).problems
            assert {p.kind for p in problems} <= {"unfinished"}, [p.line() for p in problems]
            assert files_of(out) == before, "verify left the killed run's files (its -wal and -shm too) as they were"
            trial = {"request": kill_at, "after_s": round(killed_after[0], 2), "in_flight": in_flight(out)}
            trials.append({**trial, "verify": problems[0].kind if problems else "ok"})
    check_resumed_run(out, reference, scenarios)
    assert len(RunManifest.read(out).resumed_at) == len(kills)
    assert all(trial["in_flight"] >= 1 for trial in trials)
    for index, trial in enumerate(trials):
        print(
            f"\nkill trial {index}: SIGKILL at model request {trial['request']} of its process "
            f"({trial['after_s']} s after it started),"
            f" {trial['in_flight']} conversations in flight, verify said {trial['verify']},"
            f" {trial['again']} calls made again on resume"
        )


MATRIX = {
    "models": {"agents": ["alice"], "from": ["openai-compatible:fake-a", "openai-compatible:fake-b"]},
    "vary": {"goal": ["correctness", "balanced"]},
}
"""Four arms: alice's model (two names on the fake server) x the goal, which changes every prompt."""


def test_a_killed_matrix_run_resumes_without_losing_or_repeating_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    scenarios = 2  # 4 arms x 2 scenarios = 8 conversations x 3 rounds x 2 agents = 48 calls
    reference = reference_run(tmp_path, scenarios, matrix=MATRIX)
    with FakeLLMServer(replies=reply, latency=0.03) as server:
        spec_file, cases = write_inputs(tmp_path / "inputs", server.url, scenarios, matrix=MATRIX)
        out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
        process = _moot(
            "run",
            str(spec_file),
            "--scenarios",
            str(cases),
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--concurrency",
            "2",
            "--quiet",
        )
        server.on_request = lambda record, number: process.send_signal(signal.SIGKILL) if number == 20 else None
        _, err = process.communicate(timeout=60)
        server.on_request = None
        assert process.returncode == -signal.SIGKILL, err
        assert RunManifest.read(out).status == "running"
        done = len({e.conversation_id for e in recorded_events(out) if isinstance(e, Stopped)})
        assert 0 < done < 8 and in_flight(out) >= 1
        first = Counter(request_key(r) for r in server.model_requests())
        server.reset()
        resume(out)
        again = sum((Counter(request_key(r) for r in server.model_requests()) & first).values())
    check_resumed_run(out, reference, 4 * scenarios)
    assert again <= 2, "at most one call per conversation in flight at the kill is made again"
    arms = {e.conversation_id: e.arm for e in recorded_events(out) if isinstance(e, ConversationStarted)}
    assert Counter(json.dumps(arm, sort_keys=True) for arm in arms.values()) == Counter(
        {
            json.dumps({"model.alice": model, "goal": goal}, sort_keys=True): scenarios
            for model in MATRIX["models"]["from"]
            for goal in MATRIX["vary"]["goal"]
        }
    )
    models = {e.model for e in recorded_events(out) if isinstance(e, ModelCall) and e.agent == "alice"}
    assert models == {"openai-compatible:fake-a", "openai-compatible:fake-b"}


def test_ctrl_c_stops_gracefully_and_says_how_to_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
    latency = 3.0
    with FakeLLMServer(replies=reply, latency=latency) as server:
        spec_file, cases = write_inputs(tmp_path / "inputs", server.url, 3)
        out = tmp_path / "run"
        ledger = tmp_path / "ledger.jsonl"
        options = ("--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--quiet", "--ledger", str(ledger))
        process = _moot("run", str(spec_file), "--scenarios", str(cases), *options)
        sent: list[float] = []

        def interrupt(record: RecordedRequest, number: int) -> None:
            if number == 3:  # every conversation has a call in flight
                sent.append(time.monotonic())
                process.send_signal(signal.SIGINT)

        server.on_request = interrupt
        assert process.stderr is not None
        said = process.stderr.readline()  # printed once the run has stopped (the interpreter's exit takes longer)
        stopped_after = time.monotonic() - sent[0]
        _, err = process.communicate(timeout=60)
        server.on_request = None
        assert process.returncode == 130, err
        assert (said + err).splitlines() == [
            f"moot: interrupted; the run is saved in {out}: finish it with `moot run --resume {out}`"
        ]
        # The calls in flight (each held for `latency` seconds) were cancelled, not awaited.
        assert stopped_after < latency - 0.5, stopped_after
        assert len(server.model_requests()) == 3
        manifest = RunManifest.read(out)
        assert manifest.status == "interrupted" and manifest.ended_at is not None
        (line,) = [line for _, line in read_ledger(ledger)]
        anchored = (line.command, line.run_id, line.events, line.final_hash)
        expected = ("run", manifest.run_id, manifest.events, manifest.final_hash)
        assert anchored == expected, "an interrupted run is anchored too"
        events = recorded_events(out)
        assert [e.event for e in events].count("model_call") == 0 and in_flight(out) == 3
        assert verify_run(out).ok
        server.latency = 0.0
        result = resume(out)
    assert result.manifest.status == "completed" and result.manifest.conversations.completed == 3
    assert verify_run(out).ok
    print(f"\nCtrl-C: the run stopped {stopped_after:.2f} s after SIGINT with 3 calls in flight")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished scripted run (3 scenarios from a file, 3 debaters), and beside it another one for a foreign trace."""
    root = tmp_path_factory.mktemp("finished")
    (root / "other").mkdir()
    consensus_run(root / "other")
    return consensus_run(root)


def broken_copy(finished: Path, target: Path, **changes: Any) -> Path:
    """A copy of the finished run whose run.json is changed as given."""
    shutil.copytree(finished, target)
    manifest = RunManifest.read(target)
    for name, value in changes.items():
        setattr(manifest, name, value)
    manifest.write(target)
    return target


def _delete(trace: Path, other: Path) -> None:
    trace.unlink()


def _empty(trace: Path, other: Path) -> None:
    trace.write_bytes(b"")


def _foreign(trace: Path, other: Path) -> None:
    shutil.copyfile(other, trace)


def _folder(trace: Path, other: Path) -> None:
    trace.unlink()
    trace.mkdir()


def _cut(trace: Path, other: Path) -> None:
    trace.write_bytes(trace.read_bytes()[:-4096])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_delete, "is missing"),
        (_empty, "is empty (0 bytes)"),
        (_foreign, "holds events of run 'run-"),
        (_folder, "is a directory, not a database"),
        (_cut, "is damaged (database disk image is malformed)"),
    ],
)
def test_resume_refuses_a_trace_it_would_rebuild_and_writes_nothing(
    finished: Path, tmp_path: Path, damage: Any, problem: str
) -> None:
    run = broken_copy(finished, tmp_path / "run", status="interrupted")
    manifest = RunManifest.read(run)
    damage(run / "trace.sqlite", finished.parent / "other" / "run" / "trace.sqlite")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    with pytest.raises(UserError) as refused:
        resume(run)
    expected = f"run.json counts {manifest.events} events ending in {manifest.final_hash[:12]}...; the trace {problem}"
    assert str(refused.value).startswith(f"{run / 'trace.sqlite'}: {expected}")
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert after == before, "run.json and the trace are unchanged, byte for byte"


def test_resume_refuses_a_trace_whose_append_only_triggers_were_dropped(finished: Path, tmp_path: Path) -> None:
    run = broken_copy(finished, tmp_path / "run", status="interrupted")
    db = sqlite3.connect(run / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_delete")
    db.close()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    refusal = r"trace.sqlite: trigger events_no_delete is missing, so its rows may have been changed; check it with"
    with pytest.raises(UserError, match=refusal):
        resume(run)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize("trace", ["none", "zero bytes"])
def test_a_run_killed_before_its_first_event_still_resumes(finished: Path, tmp_path: Path, trace: str) -> None:
    run = broken_copy(finished, tmp_path / "run", status="running", events=0, final_hash=None)
    (run / "trace.sqlite").unlink()
    if trace == "zero bytes":
        (run / "trace.sqlite").write_bytes(b"")
    result = resume(run)
    assert result.manifest.status == "completed" and result.manifest.conversations.completed == 3
    assert result.manifest.events == RunManifest.read(finished).events
    assert verify_run(run).ok


def test_a_killed_run_is_unfinished_not_tampered_and_resumes_to_a_sound_run(finished: Path, tmp_path: Path) -> None:
    """run.json was last written at event 40 (it is rewritten at most once a second); the run went on, then
    was killed."""
    events = recorded_events(finished)
    run = broken_copy(finished, tmp_path / "run", status="running", events=40, final_hash=event_hash(events[39]))
    lines = [p.line() for p in verify_run(run).problems]
    assert lines == [
        f"unfinished at seq 41: {len(events) - 40} event(s) after the final event of run.json (event 40),"
        f" chained on intact: the run stopped before it finished; finish it with `moot run --resume {run}`"
    ]
    completed = broken_copy(finished, tmp_path / "completed", events=40, final_hash=event_hash(events[39]))
    kinds = [p.kind for p in verify_run(completed).problems]
    assert kinds == ["inserted", "manifest", "manifest"], "a completed run does not grow"
    result = resume(run)
    assert result.manifest.status == "completed" and result.manifest.events == len(events)
    report = verify_run(run)
    assert report.ok, [p.line() for p in report.problems]


def test_a_run_killed_before_run_json_counted_any_event_is_unfinished_from_the_start(
    finished: Path, tmp_path: Path
) -> None:
    run = broken_copy(finished, tmp_path / "run", status="running", events=0, final_hash=None)
    count = len(recorded_events(run))
    lines = [p.line() for p in verify_run(run).problems]
    assert lines == [
        f"unfinished at seq 1: {count} event(s) while run.json counts none, chained on intact:"
        f" the run stopped before it finished; finish it with `moot run --resume {run}`"
    ]
    assert resume(run).manifest.events == count
    assert verify_run(run).ok
