"""No API key reaches a file: a run and a `moot judge` pass against a server that quotes the key it
was sent, in its replies and its error bodies, then every file of the run directory (trace, run.json,
exports, report) and of the cache folder is searched for the key.

A long key must not appear anywhere, not even in part; a one-character key (`x`, as local servers
are often given) must not appear where it stands alone, while the words holding its letter
("extra", "x-ray", "box") stay intact.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakes.llm_server import CREDENTIALS_MARK
from helpers import events_of, page_texts
from moot.agents.cache import ResponseCache
from moot.agents.pool import ModelPool
from moot.agents.requests import ModelRequest
from moot.cli import main
from moot.protocols.loader import validate_spec_data
from moot.trace import redaction

LONG_KEY = "sk-planted-SECRET-123456"
SHORT_KEY = "x"
KEY_VARIABLE = "OPENAI_COMPATIBLE_API_KEY"
ECHOED = f"Signed with {CREDENTIALS_MARK}: the extra x-ray of the box is fine."
"""What alice's and the judge's replies say; bob's replies quote nothing."""
WORDS = "the extra x-ray of the box is fine."
REDACTED_ECHO = f"Signed with Bearer [redacted]: {WORDS}"
"""What the trace keeps of such a reply."""
SHORT_KEY_WARNING = (
    f"moot: warning: the key in {KEY_VARIABLE} is 1 character long: it is redacted from what moot writes only where it "
    "stands alone, not inside longer words (keys of 8 characters or more are redacted everywhere)"
)
ENVIRONMENT = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    KEY_VARIABLE,
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "MOOT_OPENAI_COMPATIBLE_BASE_URL",
)
"""Variables of the developer's environment that must not reach these tests."""
SCENARIOS = [
    {"id": "s1", "title": "AITA for skipping the wedding?", "text": "I skipped my cousin's wedding to work."},
    {"id": "s2", "title": "AITA for eating the last slice?", "text": "I ate the last slice of pizza."},
    {"id": "s3", "title": "AITA for keeping my umbrella?", "text": "It rained and I kept my own umbrella."},
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys or base URLs from the developer's environment; every key is warned about afresh."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(redaction, "WARNED_KEYS", set())


def debate(base_url: str, **fields: Any) -> dict[str, Any]:
    """A two-debater spec whose model is the fake server's."""
    return {
        "name": "careless_server",
        "model": "openai-compatible:fake",
        "providers": {"openai-compatible": {"base_url": base_url, "max_retries": 0}},
        "turns": "round_robin",
        "rounds": 2,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
        **fields,
    }


def careless_reply(body: dict[str, Any], path: str) -> str:
    """alice's verdicts and every judge decision quote the credentials; bob's verdicts do not."""
    schema = body["response_format"]["json_schema"]["name"]
    if schema == "output_values":
        return json.dumps({"values": ["Honest communication", ECHOED]})
    if body["messages"][0]["content"].startswith("You are alice"):
        return json.dumps({"verdict": "NTA", "explanation": ECHOED})
    return json.dumps({"verdict": "NTA", "explanation": "The poster kept a fair boundary."})


def key_occurrences(text: str, key: str) -> list[str]:
    """Where the key appears in text (with some context): anywhere for a long key, alone for a short one."""
    pattern = re.escape(key) if len(key) >= 8 else rf"(?<![A-Za-z0-9_-]){re.escape(key)}(?![A-Za-z0-9_-])"
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in re.finditer(pattern, text)]


def file_texts(path: Path) -> list[str]:
    """The text a file holds: every text cell of every table of a SQLite file, a report page and every block packed
    in it, else the file decoded (UTF-8 only)."""
    if path.suffix == ".sqlite":
        # Not read-only: a read-only connection to a WAL database leaves its -wal and -shm files behind.
        db = sqlite3.connect(path)
        try:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            rows = [row for table in tables for row in db.execute(f'SELECT * FROM "{table}"')]
            return [cell for row in rows for cell in row if isinstance(cell, str)]
        finally:
            db.close()
    if path.suffix == ".html":
        return page_texts(path.read_text(encoding="utf-8"))
    return [path.read_text(encoding="utf-8")]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run one moot command, which must succeed; its stderr."""
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.err


@pytest.mark.parametrize("key", [LONG_KEY, SHORT_KEY], ids=["long_key", "one_character_key"])
def test_no_key_reaches_the_run_directory_or_the_cache(key, fake_llm, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(KEY_VARIABLE, key)
    # The first request fails and quotes the credentials in its error body: s1 fails, s2 and s3 complete.
    server = fake_llm(replies=careless_reply, faults=["500"], echo_auth_in_errors=True)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(debate(server.url)), encoding="utf-8")
    (tmp_path / "scenarios.jsonl").write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS), encoding="utf-8")
    run_dir, caches = tmp_path / "run", tmp_path / "cache"

    run_err = run_cli(
        capsys,
        "run",
        str(tmp_path / "spec.yaml"),
        "--scenarios",
        str(tmp_path / "scenarios.jsonl"),
        "--out",
        str(run_dir),
        "--cache",
        str(caches / "run.sqlite"),
        "--concurrency",
        "1",
        "--quiet",
    )
    server.reset(faults=["500"])  # the judge's first call fails too
    redaction.WARNED_KEYS.clear()  # each command is a process of its own, which warns afresh
    judge_err = run_cli(capsys, "judge", str(run_dir), "--cache", str(caches / "judge.sqlite"), "--concurrency", "1")
    run_cli(capsys, "export", str(run_dir), "--format", "jsonl")
    run_cli(capsys, "export", str(run_dir), "--format", "csv", "--out", str(run_dir / "export-csv"))
    run_cli(capsys, "report", str(run_dir))

    # The key was in use, and the server quoted it: in errors, in alice's replies, in the judge's.
    assert {r.headers["authorization"] for r in server.model_requests()} == {f"Bearer {key}"}
    events = events_of(run_dir)
    errors = [e.error for e in events if e.event == "model_call" and e.error]
    assert len(errors) == 2 and all("(request credentials: Bearer [redacted])" in error for error in errors)
    alice = [e.content for e in events if e.event == "message_added" and e.agent == "alice"]
    assert alice and all(json.loads(content)["explanation"] == REDACTED_ECHO for content in alice)
    decisions = [e.decision for e in events if e.event == "judge_decision"]
    assert decisions and all(d["dropped_values"] == [REDACTED_ECHO] for d in decisions)

    # Only replies that quote no key were cached: bob's verdicts, one per completed debate.
    bodies = [json.loads(cell) for cell in file_texts(caches / "run.sqlite") if cell.startswith("{")]
    assert [json.loads(body["text"])["explanation"] for body in bodies] == ["The poster kept a fair boundary."] * 2
    assert [cell for cell in file_texts(caches / "judge.sqlite") if cell.startswith("{")] == []

    files = sorted(p for folder in (run_dir, caches) for p in folder.rglob("*") if p.is_file())
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {"run/trace.sqlite", "run/run.json", "run/report.html", "cache/run.sqlite", "cache/judge.sqlite"} <= names
    assert {"run/export/calls.jsonl", "run/export-csv/events.csv"} <= names
    for path in files:
        for text in file_texts(path):
            assert key_occurrences(text, key) == [], f"the key leaked into {path}"
        # The bytes too (a SQLite file's free pages): the server's words around the key, and any part of a long key.
        data = path.read_bytes()
        assert f"Bearer {key}".encode() not in data, f"the key leaked into {path}"
        if len(key) >= 8:
            assert b"sk-planted" not in data, f"the key, or a part of it, leaked into {path}"
    assert any(REDACTED_ECHO in text for text in file_texts(run_dir / "report.html"))

    # A short key is announced once per pass; a long one is not.
    for err in (run_err, judge_err):
        warnings = [line for line in err.splitlines() if line.startswith("moot: warning:")]
        assert warnings == ([SHORT_KEY_WARNING] if key == SHORT_KEY else [])


def test_the_pool_knows_the_key_of_every_provider_the_spec_names(monkeypatch, capsys):
    monkeypatch.setenv(KEY_VARIABLE, "x")
    monkeypatch.setenv("TEAM_ANTHROPIC_KEY", LONG_KEY)  # named by the spec, though no agent uses the provider
    monkeypatch.setenv("OPENAI_API_KEY", "sk-of-a-provider-this-spec-does-not-use")
    providers = {
        "openai-compatible": {"base_url": "http://127.0.0.1:9/v1"},
        "anthropic": {"api_key_env": "TEAM_ANTHROPIC_KEY"},
    }
    spec = validate_spec_data(debate("unused", providers=providers))
    pool = ModelPool(spec, None)
    assert pool.key_variables() == {KEY_VARIABLE: "x", "TEAM_ANTHROPIC_KEY": LONG_KEY}
    assert pool.secrets() == ["x", LONG_KEY]
    assert pool.redactor.redact(f"x {LONG_KEY} extra") == "[redacted] [redacted] extra"
    ModelPool(spec, None)  # a second pool of the same process says nothing more
    assert capsys.readouterr().err.splitlines() == [SHORT_KEY_WARNING]


def test_a_reply_quoting_the_key_is_not_cached_and_a_clean_one_is(fake_llm, monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_VARIABLE, LONG_KEY)
    replies = iter([f"signed {CREDENTIALS_MARK}", f"signed {CREDENTIALS_MARK}", "a clean reply", "never asked"])
    server = fake_llm(replies=lambda body, path: next(replies))
    spec = validate_spec_data(debate(server.url))
    cache = ResponseCache(tmp_path / "cache.sqlite")

    async def ask_each_twice() -> list[tuple[str | None, bool]]:
        pool = ModelPool(spec, cache)
        gateway = pool.gateway(spec.agent("alice"))
        try:
            answers = []
            for content in ("hello", "hello", "other", "other"):
                messages = [{"role": "user", "content": content}]
                request = ModelRequest(messages=messages, params={"seed": 1}, structured=gateway.structured)
                reply = await gateway.complete(request)
                answers.append((reply.text, reply.cache_hit))
            return answers
        finally:
            await pool.close()

    try:
        answers = asyncio.run(ask_each_twice())
        stored = len(cache)
    finally:
        cache.close()
    # The reply quoting the key came back to its caller each time (the trace redacts it), and was asked again.
    quoting = (f"signed Bearer {LONG_KEY}", False)
    assert answers == [quoting, quoting, ("a clean reply", False), ("a clean reply", True)]
    assert stored == 1 and len(server.model_requests()) == 3


def test_an_empty_cache_is_still_on(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    assert len(cache) == 0 and bool(cache)  # callers close the cache `if cache:`: an empty one was left open
    cache.close()
