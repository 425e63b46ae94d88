"""A judging pass is appended by a run session: recorded in run.json, its trace in PostgreSQL, its conversations
bounded by --concurrency, Ctrl-C and SIGKILL followed by `moot run --resume`, and `moot replay`.

The judged run and the judge are the fake server's (`fakes.program_replies`): a decision follows from
the message judged, so an interrupted and resumed pass must decide exactly what an uninterrupted one
decides, each message once.
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

import moot
from fakes.llm_server import FakeLLMServer, RecordedRequest
from fakes.program_replies import debate_spec, program_reply
from helpers import SCENARIOS, events_of, moot_process, verdict
from helpers import debate_spec as scripted_debate
from moot.agents.providers.scripted import register_responder
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.judges.posthoc import judge_run
from moot.judges.programs import replay_run
from moot.trace.manifest import RunManifest
from moot.trace.reading import effective_events

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

API_KEY = "sk-judging-session-key"
JUDGE_MODEL = "openai-compatible:fake"
CASES = [{"id": f"s{i}", "title": f"AITA for case {i}?", "text": f"Case number {i}, told in full."} for i in range(6)]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """The fake server the debaters and the judge of the module ask."""
    with FakeLLMServer(replies=program_reply, latency=0.005) as fake:
        yield fake


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake provider's key (subprocesses inherit it)."""
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)


@pytest.fixture(scope="module")
def finished(server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished debate of six scenarios (24 messages), not judged."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
        root = tmp_path_factory.mktemp("finished")
        cases = root / "cases.jsonl"
        cases.write_text("".join(json.dumps(case) + "\n" for case in CASES), encoding="utf-8")
        return moot.run(debate_spec(server.url), cases, out=root / "run", cache=None).run_dir


@pytest.fixture(scope="module")
def judged(finished: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The debate judged once, uninterrupted, without a cache: the reference."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_COMPATIBLE_API_KEY", API_KEY)
        run = Path(shutil.copytree(finished, tmp_path_factory.mktemp("judged") / "run"))
        report = judge_run(run, "values", model=JUDGE_MODEL)
        assert (report.judged, report.skipped, report.failed) == (24, 0, 0)
        return run


def copy_of(run: Path, target: Path) -> Path:
    """A private copy of a run (a pass appends to it)."""
    return Path(shutil.copytree(run, target))


def decisions(run_dir: Path) -> Counter[tuple[str, str | None, str]]:
    """Each standing decision of the judge: (conversation, message judged, decision), counted."""
    standing = effective_events(events_of(run_dir))
    return Counter(
        (event.conversation_id, event.about, json.dumps(event.decision, sort_keys=True))
        for event in standing
        if event.event == "judge_decision" and event.agent == "values_judge"
    )


def check_same_pass(run_dir: Path, reference: Path) -> None:
    """The run verifies, its pass completed, and it decided what the reference pass decided, each message once."""
    report = verify_run(run_dir)
    assert report.ok, [problem.line() for problem in report.problems]
    manifest = RunManifest.read(run_dir)
    assert manifest.status == "completed" and [record.status for record in manifest.passes] == ["completed"]
    assert manifest.events == len(events_of(run_dir))
    found = decisions(run_dir)
    assert set(found.values()) == {1} and found == decisions(reference)


def request_key(request: RecordedRequest) -> str:
    """What makes two requests the same call."""
    body = request.body or {}
    return json.dumps({key: body.get(key) for key in ("messages", "seed", "temperature")}, sort_keys=True)


def test_run_json_records_the_pass(finished: Path, judged: Path) -> None:
    before, after = RunManifest.read(finished), RunManifest.read(judged)
    (record,) = after.passes
    assert (record.kind, record.status, record.first_event, record.concurrency) == (
        "judge_values",
        "completed",
        before.events,
        4,
    )
    assert record.options == {"judge": "values", "agent": "values_judge"}
    assert [a["name"] for a in record.spec["agents"]] == [
        "alice",
        "bob",
        "values_judge",
    ] and record.ended_at is not None
    assert after.spec == before.spec and after.conversations == before.conversations, "the run itself is unchanged"
    assert after.usage.total.calls == before.usage.total.calls + 24
    check_same_pass(judged, judged)


def test_the_pass_appends_to_a_trace_in_postgresql(
    server: FakeLLMServer, judged: Path, postgres_url: str, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(case) + "\n" for case in CASES), encoding="utf-8")
    run = moot.run(debate_spec(server.url), cases, out=tmp_path / "run", cache=None, trace=postgres_url).run_dir
    assert not (run / "trace.sqlite").exists()
    judge_run(run, "values", model=JUDGE_MODEL, cache_path=None, trace=postgres_url)
    check_same_pass(run, judged)


def test_concurrency_bounds_the_conversations_judged_at_once(
    server: FakeLLMServer, finished: Path, judged: Path, tmp_path: Path
) -> None:
    in_flight = {}
    for concurrency in (1, 3):
        run = copy_of(finished, tmp_path / f"run-{concurrency}")
        server.reset()
        server.latency = 0.05
        try:
            judge_run(run, "values", model=JUDGE_MODEL, concurrency=concurrency)
        finally:
            server.latency = 0.005
        in_flight[concurrency] = server.max_in_flight
        assert RunManifest.read(run).passes[0].concurrency == concurrency
        check_same_pass(run, judged)
    assert in_flight == {1: 1, 3: 3}


def test_ctrl_c_stops_the_pass_and_resume_finishes_it(
    server: FakeLLMServer, finished: Path, judged: Path, tmp_path: Path
) -> None:
    run = copy_of(finished, tmp_path / "run")
    server.reset()
    process = moot_process("judge", str(run), "--model", JUDGE_MODEL, "--cache", str(tmp_path / "cache.sqlite"))
    server.on_request = lambda record, number: process.send_signal(signal.SIGINT) if number == 9 else None
    try:
        _, err = process.communicate(timeout=120)
    finally:
        server.on_request = None
    assert process.returncode == 130, err
    # Outside a terminal the pass prints plain progress lines first; the interruption is the one line after them.
    lines = err.splitlines()
    assert all(line.startswith("moot: progress: ") for line in lines[:-1]), lines
    assert lines[-1] == f"moot: interrupted; the run is saved in {run}: finish it with `moot run --resume {run}`"
    manifest = RunManifest.read(run)
    assert manifest.status == "interrupted" and manifest.passes[0].status == "interrupted"
    assert verify_run(run).ok, "an interrupted pass leaves a consistent trace and run.json"
    assert main(["judge", str(run), "--model", JUDGE_MODEL, "--no-cache"]) == 2, (
        "a pass that did not end is finished, not begun again"
    )

    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    check_same_pass(run, judged)
    assert len(RunManifest.read(run).passes[0].resumed_at) == 1


def test_a_killed_pass_is_unfinished_and_resumes_superseding_the_decision_cut_off(
    server: FakeLLMServer, finished: Path, judged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_of(finished, tmp_path / "run")
    server.reset()
    process = moot_process(
        "judge",
        str(run),
        "--model",
        JUDGE_MODEL,
        "--cache",
        str(tmp_path / "cache.sqlite"),
        "--concurrency",
        "2",
    )
    server.on_request = lambda record, number: process.send_signal(signal.SIGKILL) if number == 11 else None
    try:
        process.communicate(timeout=120)
    finally:
        server.on_request = None
    assert process.returncode == -signal.SIGKILL
    first = Counter(request_key(request) for request in server.model_requests())
    manifest = RunManifest.read(run)
    assert manifest.status == "running" and manifest.passes[0].status == "running"
    problems = verify_run(run).problems
    assert [problem.kind for problem in problems] == ["unfinished"], [problem.line() for problem in problems]
    assert f"moot run --resume {run}" in problems[0].detail
    capsys.readouterr()
    assert main(["judge", str(run), "--model", JUDGE_MODEL, "--no-cache"]) == 2
    assert "did not end; finish it with `moot run --resume" in capsys.readouterr().err

    server.reset()
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    again = sum((Counter(request_key(request) for request in server.model_requests()) & first).values())
    assert again <= 2, "only the calls in flight at the kill are made again"
    check_same_pass(run, judged)
    markers = [event for event in events_of(run) if event.event == "resumed"]
    assert markers and all(marker.superseded for marker in markers), "the turns cut off were superseded"


def two_values(messages: list[dict[str, str]], context: Any) -> str:
    (judged,) = context.visible
    return json.dumps(
        {
            "values": ["Respect and dignity"]
            if judged["agent"] == "alice"
            else ["Financial wellbeing", "Social etiquette"]
        }
    )


def test_replay_serves_the_pass_from_the_trace_and_finds_an_altered_decision(tmp_path: Path) -> None:
    register_responder("session_two_values", two_values)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(case) + "\n" for case in SCENARIOS), encoding="utf-8")
    spec = scripted_debate({"alice": [verdict("NTA"), verdict("NTA")], "bob": [verdict("YTA"), verdict("NTA")]})
    run = moot.run(spec, cases, out=tmp_path / "run", cache=None).run_dir
    judge_run(run, "values", model="scripted:session_two_values")

    report = replay_run(run, out=tmp_path / "again")
    assert report.ok, report.lines()
    replayed = RunManifest.read(tmp_path / "again")
    assert [record.kind for record in replayed.passes] == ["judge_values"] and replayed.passes[0].status == "completed"
    assert Counter(about for _, about, _ in decisions(tmp_path / "again").elements()) == Counter(
        about for _, about, _ in decisions(run).elements()
    )
    assert verify_run(tmp_path / "again").ok

    altered = copy_of(run, tmp_path / "altered")
    db = sqlite3.connect(altered / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    rows = db.execute("SELECT seq, body FROM events WHERE event = 'model_call' ORDER BY seq")
    seq, body = next((s, b) for s, b in rows if json.loads(b)["agent"] == "values_judge")
    call = json.loads(body)
    call["raw_reply"] = json.dumps({"values": ["Social etiquette"]})
    db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(call), seq))
    db.close()
    report = replay_run(altered, out=tmp_path / "again-altered")
    assert not report.ok
    (line,) = report.differences[call["conversation_id"]]
    assert line.startswith("round 1 values_judge decision about r1:") and "'Social etiquette'" in line
