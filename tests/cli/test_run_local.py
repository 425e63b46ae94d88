"""End to end on the real embedded model: `moot run` as a user runs it, then again from the cache."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import events_of
from moot.trace.manifest import RunManifest

pytestmark = pytest.mark.live

TINY = """\
name: tiny_local
model: local
turns: round_robin
rounds: 1
agents:
  - {name: alice, role: debater, max_tokens: 160}
  - {name: bob, role: debater, max_tokens: 160}
roles:
  debater:
    prompt: debater
    output: verdict
"""


def _moot(*args: str, env_cache) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moot", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "MOOT_CACHE": str(env_cache)},
    )


def test_tiny_debate_on_the_embedded_model_then_again_from_the_cache(tmp_path, private_cache):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    first = _moot(
        "run",
        str(spec),
        "--scenarios",
        "aita_value_portrait",
        "--limit",
        "1",
        "--out",
        str(tmp_path / "first"),
        env_cache=private_cache,
    )
    assert first.returncode == 0, first.stderr
    assert "conversations  1 (1 completed, 0 failed)" in first.stdout
    messages = events_of(tmp_path / "first", "message_added")
    assert [m.agent for m in messages] == ["alice", "bob"]
    assert all(m.parsed and m.parsed["verdict"] in {"NTA", "YTA", "NAH", "ESH", "INFO"} for m in messages)
    manifest = RunManifest.read(tmp_path / "first")
    assert manifest.status == "completed" and manifest.usage.total.calls >= 2 and manifest.usage.total.cache_hits == 0
    assert manifest.usage.total.tokens_in > 0 and manifest.package_versions["llama-cpp-python"]

    second = _moot(
        "run",
        str(spec),
        "--scenarios",
        "aita_value_portrait",
        "--limit",
        "1",
        "--out",
        str(tmp_path / "second"),
        "--quiet",
        env_cache=private_cache,
    )
    assert second.returncode == 0, second.stderr
    again = RunManifest.read(tmp_path / "second")
    assert again.usage.total.calls == manifest.usage.total.calls
    assert again.usage.total.cache_hits == again.usage.total.calls, "a re-run makes no model calls"
    assert [m.content for m in events_of(tmp_path / "second", "message_added")] == [m.content for m in messages]

    exported = _moot("trace", str(tmp_path / "first"), "--format", "jsonl", env_cache=private_cache)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == manifest.events and lines[-1]["event"] == "stopped"
