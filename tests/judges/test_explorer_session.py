"""An explorer run is a run like any other: its trace in PostgreSQL, its calls bounded by --concurrency, Ctrl-C and
SIGKILL followed by `moot run --resume`, and `moot replay`.

The explorer's models are the fake server's (`fakes.program_replies`): every reply follows from its
request, so an interrupted and resumed search must come to exactly the reference search, event for
event (what differs between any two runs left out), and a search resumed from a wrong bandit state
would ask other questions.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import moot
from fakes.llm_server import FakeLLMServer, RecordedRequest
from fakes.program_replies import TOPICS, explorer_spec, program_reply
from helpers import events_of, moot_process, standing_story, starts_and_stops
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.judges.programs import replay_run
from moot.protocols.explorer import is_explorer_roster
from moot.trace.manifest import RunManifest

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

API_KEY = "sk-explorer-session-key"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """The fake server every explorer of the module asks."""
    with FakeLLMServer(replies=program_reply, latency=0.005) as fake:
        yield fake


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake provider's key (subprocesses inherit it)."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)


def spec_file(folder: Path, server: FakeLLMServer, **fields: Any) -> Path:
    """The explorer spec as a YAML file beside its topics."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.txt").write_text(TOPICS, encoding="utf-8")
    path = folder / "explorer.yaml"
    path.write_text(yaml.safe_dump(explorer_spec(server.url, "topics.txt", **fields)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The search run once, uninterrupted, without a cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
        root = tmp_path_factory.mktemp("reference")
        return moot.run(spec_file(root, server), out=root / "run", cache=None).run_dir


def request_key(request: RecordedRequest) -> str:
    """What makes two requests the same call."""
    body = request.body or {}
    return json.dumps({key: body.get(key) for key in ("messages", "seed", "temperature")}, sort_keys=True)


def check_same_search(run_dir: Path, reference: Path) -> None:
    """The run verifies, completed, and what stands of it is the reference search: nothing lost, nothing twice."""
    report = verify_run(run_dir)
    assert report.ok, [problem.line() for problem in report.problems]
    manifest = RunManifest.read(run_dir)
    assert manifest.status == "completed"
    assert manifest.conversations == RunManifest.read(reference).conversations
    assert starts_and_stops(run_dir) == ({1}, {1})
    assert standing_story(run_dir) == standing_story(reference)


def test_run_json_records_the_explorer_so_that_it_can_be_built_again(reference: Path) -> None:
    manifest = RunManifest.read(reference)
    assert manifest.kind == "question_generation" and manifest.status == "completed"
    assert is_explorer_roster(manifest.spec), "run.json's spec stays the roster every reader reads"
    assert manifest.program_spec is not None and manifest.program_spec["kind"] == "question_generation"
    assert manifest.program_spec["topics"] == "topics.txt" and manifest.program_spec["similarity"] == "lexical"
    assert manifest.spec_dir == str(reference.parent.resolve()), "the topic file is found again from any folder"
    assert manifest.scenario_ids == ["t1", "t2", "t3"] and manifest.scenario_source == "topics:topics.txt"
    assert manifest.conversations.planned == manifest.conversations.completed > 3
    updated = events_of(reference, "arm_updated")
    assert [e.step for e in updated] == [0, 0, 0, 1, 2, 3], "three initial scores, then three budget steps"


def test_the_trace_goes_to_postgresql(
    server: FakeLLMServer, reference: Path, postgres_url: str, tmp_path: Path
) -> None:
    result = moot.run(spec_file(tmp_path, server), out=tmp_path / "run", cache=None, trace=postgres_url)
    assert result.manifest.trace is not None and result.manifest.trace.startswith("postgresql://")
    assert not (result.run_dir / "trace.sqlite").exists(), "the trace went to the database"
    check_same_search(result.run_dir, reference)


def test_concurrency_bounds_the_calls_in_flight_within_a_step(
    server: FakeLLMServer, reference: Path, tmp_path: Path
) -> None:
    in_flight = {}
    for concurrency in (1, 4):
        server.reset()
        server.latency = 0.05
        try:
            result = moot.run(
                spec_file(tmp_path / str(concurrency), server),
                out=tmp_path / f"run-{concurrency}",
                cache=None,
                concurrency=concurrency,
            )
        finally:
            server.latency = 0.005
        in_flight[concurrency] = server.max_in_flight
        assert result.manifest.concurrency == concurrency
        check_same_search(result.run_dir, reference)
    # The three topics' initial scores (two final panel members each) fill the four calls the run allows; one call
    # at a time when the run says so.
    assert in_flight == {1: 1, 4: 4}


def test_ctrl_c_stops_the_search_and_resume_finishes_it(server: FakeLLMServer, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    server.reset()
    process = moot_process(
        "run", str(spec_file(tmp_path, server)), "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--quiet"
    )
    server.on_request = lambda record, number: process.send_signal(signal.SIGINT) if number == 40 else None
    try:
        _, err = process.communicate(timeout=120)
    finally:
        server.on_request = None
    assert process.returncode == 130, err
    assert err.splitlines() == [
        f"moot: interrupted; the run is saved in {out}: finish it with `moot run --resume {out}`"
    ]
    assert RunManifest.read(out).status == "interrupted"
    assert verify_run(out).ok, "an interrupted search has a consistent trace and run.json"

    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    check_same_search(out, reference)
    assert any(event.event == "resumed" for event in events_of(out)), "the step cut off was superseded"
    assert len(RunManifest.read(out).resumed_at) == 1


def test_a_killed_search_is_unfinished_and_resumes_without_asking_again_what_was_answered(
    server: FakeLLMServer, reference: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
    spec = spec_file(tmp_path, server)
    commands = [
        ("run", str(spec), "--out", str(out), "--cache", str(cache), "--concurrency", "3", "--quiet"),
        ("run", "--resume", str(out), "--quiet"),
    ]
    seen: Counter[str] = Counter()
    for command, kill_at in zip(commands, (30, 25), strict=True):
        server.reset()
        process = moot_process(*command)
        server.on_request = lambda record, number, process=process, kill_at=kill_at: (
            process.send_signal(signal.SIGKILL) if number == kill_at else None
        )
        try:
            process.communicate(timeout=120)
        finally:
            server.on_request = None
        assert process.returncode == -signal.SIGKILL
        asked = Counter(request_key(request) for request in server.model_requests())
        # Only the calls in flight at the kill are made again: at most the run's concurrency (3), e.g. three of the
        # judge's ten yes/no calls about a point.
        assert sum((asked & seen).values()) <= 3, "only the calls in flight at the kill are made again"
        seen += asked
        assert RunManifest.read(out).status == "running"
        assert {problem.kind for problem in verify_run(out).problems} <= {"unfinished"}
    server.reset()
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert sum((Counter(request_key(r) for r in server.model_requests()) & seen).values()) <= 3
    check_same_search(out, reference)
    assert len(RunManifest.read(out).resumed_at) == 2


def test_a_search_resumed_from_its_last_step_skips_the_steps_that_stand(
    server: FakeLLMServer, reference: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    manifest = RunManifest.read(run)
    manifest.status = "interrupted"
    manifest.write(run)
    server.reset()
    result = moot.resume(run)
    assert server.model_requests() == [], "every budget step stood: nothing to ask"
    assert (
        result.manifest.status == "completed"
        and result.manifest.conversations == RunManifest.read(reference).conversations
    )
    assert verify_run(run).ok


def test_replay_serves_every_reply_from_the_trace_and_finds_an_altered_one(reference: Path, tmp_path: Path) -> None:
    report = replay_run(reference, out=tmp_path / "again")
    assert report.ok, report.lines()
    assert report.conversations == RunManifest.read(reference).conversations.planned
    assert all(call.model == f"replay:{reference.resolve()}" for call in events_of(tmp_path / "again", "model_call"))
    assert RunManifest.read(tmp_path / "again").conversations == RunManifest.read(reference).conversations
    assert verify_run(tmp_path / "again").ok

    altered = tmp_path / "altered"
    shutil.copytree(reference, altered)
    db = sqlite3.connect(altered / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    seq, body = next(
        (s, b)
        for s, b in db.execute("SELECT seq, body FROM events WHERE event = 'model_call' ORDER BY seq")
        if json.loads(b)["agent"] == "elder" and json.loads(b)["conversation_id"].startswith("s1q")
    )
    call = json.loads(body)
    call["raw_reply"] = json.dumps({"stance": "no", "points": ["tradition binds us all"]})
    db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(call), seq))
    db.close()
    report = replay_run(altered, out=tmp_path / "again-altered")
    assert not report.ok
    # The judge asks one yes/no call per value and point, so the altered reply changes how many decisions follow it, and
    # the comparison (event by event, in order) names the elder's message among the events that moved.
    lines = report.differences[call["conversation_id"]]
    assert any("elder message" in line for line in lines), lines
    assert any("question scored" in line or "question kept" in line for line in lines), (
        "the score that followed differs too"
    )


def test_resume_refuses_topics_that_changed(server: FakeLLMServer, reference: Path, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    run = moot.run(spec_file(folder, server, budget=1), out=tmp_path / "run", cache=None).run_dir
    manifest = RunManifest.read(run)
    manifest.status = "interrupted"
    manifest.write(run)
    (folder / "topics.txt").write_text(TOPICS + "Should villages ban fireworks?\n", encoding="utf-8")
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    with pytest.raises(moot.UserError, match=r"the topics of run '.*' changed since it started"):
        moot.resume(run)
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before
