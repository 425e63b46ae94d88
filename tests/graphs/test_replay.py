"""`replay_run`: a run re-executed from its own recorded replies reproduces its transcripts.

Scripted and HTTP runs replay identically with no model and no server; a recorded failure
replays as the same failure; a reply altered in the trace shows up as a difference; a changed
or missing scenario file is a user error.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import moot
from fakes.llm_server import FakeLLMServer
from helpers import debate_spec, events_of, verdict
from moot.agents.providers.scripted import register_responder
from moot.errors import UserError
from moot.judges.programs import replay_run

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")


def scenario_file(tmp_path: Path, count: int = 2) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "title": f"Case {i}", "text": f"What happened in case {i}."}) + "\n"
            for i in range(count)
        )
    )
    return path


def transcript(run_dir: Path) -> list[tuple[Any, ...]]:
    """(conversation, round, agent, content, parsed) of every message, sorted."""
    return sorted(
        (e.conversation_id, e.round, e.agent or "", e.content, json.dumps(e.parsed))
        for e in events_of(run_dir, "message_added")
    )


SCRIPTS = {
    "alice": [verdict("NTA", "alice backs the poster"), verdict("YTA", "alice is persuaded")],
    "bob": [verdict("YTA", "bob blames the poster")],
    "carol": [verdict("ESH", "carol blames both"), verdict("YTA", "carol agrees")],
}


def test_a_scripted_run_replays_identically(tmp_path: Path) -> None:
    original = moot.run(
        debate_spec(SCRIPTS, rounds=3), scenario_file(tmp_path), out=tmp_path / "run", cache=None
    ).run_dir
    report = replay_run(original, out=tmp_path / "again")
    assert report.ok, report.lines()
    assert report.lines() == [
        f"ok: {original}: 2 conversations, 14 messages, decisions and stops replayed identically in "
        f"{tmp_path / 'again'}"
    ]
    assert transcript(tmp_path / "again") == transcript(original)
    assert all(c.model == f"replay:{original.resolve()}" for c in events_of(tmp_path / "again", "model_call"))
    recorded = [(c.tokens_in, c.tokens_out) for c in events_of(original, "model_call")]
    assert sorted(recorded) == sorted((c.tokens_in, c.tokens_out) for c in events_of(tmp_path / "again", "model_call"))


def test_a_recorded_failure_replays_as_the_same_failure(tmp_path: Path) -> None:
    def flaky(messages: list[dict[str, str]], context) -> str:
        if context.round == 2 and context.scenario_id == "s1":
            raise ValueError(f"bob broke in round 2 of {context.scenario_id}")
        return verdict("YTA", "bob blames the poster")

    register_responder("flaky_bob", flaky)
    spec = debate_spec({"alice": [verdict("NTA", "alice backs the poster")], "bob": []}, rounds=3)
    spec["agents"][1] = {"name": "bob", "role": "debater", "model": "scripted:flaky_bob"}
    original = moot.run(spec, scenario_file(tmp_path), out=tmp_path / "run", cache=None).run_dir
    stops = {s.scenario_id: (s.status, s.reason) for s in events_of(original, "stopped")}
    assert stops["s1"] == ("failed", "agent 'bob' round 2: ValueError: bob broke in round 2 of s1")
    report = replay_run(original, out=tmp_path / "again")
    assert report.ok, report.lines()
    assert {s.scenario_id: (s.status, s.reason) for s in events_of(tmp_path / "again", "stopped")} == stops


def reply_by_agent(body: dict[str, Any], path: str) -> str:
    """alice says NTA, bob YTA (so both rounds are played)."""
    agent = "alice" if body["messages"][0]["content"].startswith("You are alice") else "bob"
    return json.dumps({"verdict": {"alice": "NTA", "bob": "YTA"}[agent], "explanation": f"{agent} holds firm."})


def http_spec(url: str) -> dict[str, Any]:
    return {
        "name": "http_debate",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": url, "max_retries": 1}},
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }


def test_a_run_over_http_replays_without_the_server_or_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-replay-test-key")
    with FakeLLMServer(replies=reply_by_agent, faults=["ok", "ok", "400"]) as server:
        original = moot.run(
            http_spec(server.url), scenario_file(tmp_path), out=tmp_path / "run", cache=None, concurrency=1
        ).run_dir
    stops = sorted((s.status, s.reason) for s in events_of(original, "stopped"))
    assert stops[0] == ("completed", "max rounds (2)") and stops[1][0] == "failed" and "HTTP 400" in stops[1][1]
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY")
    report = replay_run(original, out=tmp_path / "again")
    assert report.ok, report.lines()
    assert transcript(tmp_path / "again") == transcript(original)
    assert sorted((s.status, s.reason) for s in events_of(tmp_path / "again", "stopped")) == stops


def test_an_altered_reply_is_reported_as_a_difference(tmp_path: Path) -> None:
    original = moot.run(
        debate_spec(SCRIPTS, rounds=3), scenario_file(tmp_path, 1), out=tmp_path / "run", cache=None
    ).run_dir
    altered = tmp_path / "altered"
    shutil.copytree(original, altered)
    db = sqlite3.connect(altered / "trace.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    seq, body = next(
        (s, b)
        for s, b in db.execute("SELECT seq, body FROM events WHERE event = 'model_call' ORDER BY seq")
        if json.loads(b)["agent"] == "bob"
    )
    call = json.loads(body)
    call["raw_reply"] = verdict("NTA", "bob was made to agree")
    db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(call), seq))
    db.close()
    report = replay_run(altered, out=tmp_path / "again")
    assert not report.ok
    conversation = call["conversation_id"]
    assert list(report.differences) == [conversation]
    lines = report.differences[conversation]
    assert (
        lines[0]
        == "round 1 bob message: explanation 'bob blames the poster' -> 'bob was made to agree', verdict 'YTA' -> 'NTA'"
    )
    assert report.lines()[0] == f"{conversation}: {lines[0]}"


def test_a_changed_or_missing_scenario_file_is_a_user_error(tmp_path: Path) -> None:
    cases = scenario_file(tmp_path)
    original = moot.run(debate_spec(SCRIPTS, rounds=2), cases, out=tmp_path / "run", cache=None).run_dir
    cases.write_text(cases.read_text() + json.dumps({"id": "s9", "title": "t", "text": "x"}) + "\n")
    with pytest.raises(UserError, match=r"scenario file '.*cases.jsonl' changed since run"):
        replay_run(original, out=tmp_path / "again")
    cases.unlink()
    with pytest.raises(UserError, match=r"scenario file '.*cases.jsonl' of run .* is missing"):
        replay_run(original, out=tmp_path / "again")
    assert not (tmp_path / "again").exists()
