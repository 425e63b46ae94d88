"""`openai-compatible` against a real server: llama-cpp-python's own, serving the embedded SmolLM2 file.

The server (started once per test session, `tests/llama_server.py`) answers `response_format`
`json_schema` with HTTP 500 and enforces `{"type": "json_object", "schema": ...}`. A three-debater
round (three short replies) with `structured_output` left at `auto` must find that mode on its first
request, get a reply that parses from every call, verify, and be served from the response cache when
it is run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from llama_server import MODEL_ALIAS, LlamaServer
from moot.cli import main
from moot.graphs.audit import verify_run
from moot.trace import open_trace
from moot.trace.manifest import RunManifest

SHORT_VERDICT = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["NTA", "YTA", "NAH", "ESH", "INFO"]},
        "explanation": {"type": "string", "maxLength": 40},
    },
    "required": ["verdict", "explanation"],
    "additionalProperties": False,
}
"""The verdict with a short explanation: a 135M model on two shared cores writes a few tokens per reply."""


PROMPT = "You are {{ agent.name }}. Give the post a verdict (NTA, YTA, NAH, ESH or INFO) and a reason in a few words."
"""A short system prompt: prompt processing would otherwise take most of the test's time."""


def debate_spec(base_url: str) -> dict[str, Any]:
    """Three debaters in turn, one round, on the server's model, structured output left to `auto`."""
    debater = {"role": "debater", "temperature": 0.0, "max_tokens": 32}
    return {
        "name": "real_server_debate",
        "model": f"openai-compatible:{MODEL_ALIAS}",
        "providers": {"openai-compatible": {"base_url": base_url, "max_concurrency": 1, "timeout_s": 120}},
        "turns": "round_robin",
        "rounds": 1,
        "stop": [{"consensus": "verdict"}],
        "agents": [{"name": name, **debater} for name in ("alice", "bob", "carol")],
        "roles": {"debater": {"prompt": PROMPT, "output": SHORT_VERDICT}},
    }


def model_calls(run_dir: Path) -> list[Any]:
    store = open_trace(run_dir)
    try:
        return [event for event in store.events() if event.event == "model_call"]
    finally:
        store.close()


@pytest.mark.live
def test_a_debate_through_llama_cpp_python_server_finds_its_mode_parses_every_reply_and_caches(
    llama_server: LlamaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOOT_OPENAI_COMPATIBLE_BASE_URL", raising=False)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(debate_spec(llama_server.url)), encoding="utf-8")
    scenarios = tmp_path / "scenarios.jsonl"
    scenario = {"id": "s1", "title": "AITA for eating my roommate's leftovers?", "text": "I ate them without asking."}
    scenarios.write_text(json.dumps(scenario) + "\n", encoding="utf-8")
    cache = tmp_path / "cache.sqlite"
    common = ["--scenarios", str(scenarios), "--cache", str(cache)]

    assert main(["run", str(spec_file), "--out", str(tmp_path / "first"), *common]) == 0
    summary = capsys.readouterr().out
    first = RunManifest.read(tmp_path / "first")
    calls = model_calls(tmp_path / "first")
    assert first.status == "completed" and first.conversations.failed == 0
    assert calls and all(call.parse_error is None and call.error is None and call.attempt == 0 for call in calls)
    modes = [call.params["structured_output"]["mode"] for call in calls]
    assert modes == ["json_object_schema"] * len(calls)
    rejected = calls[0].params["structured_output"]["rejected"]
    assert list(rejected) == ["json_schema"] and rejected["json_schema"].startswith("HTTP 500: ")
    assert "response_format" in rejected["json_schema"]
    # The rejection is neither a retry nor a failure of the run, and no reply was invalid.
    usage = first.usage
    assert usage.retries_by_kind == {} and usage.failures_by_kind == {} and usage.invalid_replies_by_kind == {}
    (found,) = usage.structured_output.values()
    assert (found.model, found.server, found.mode) == (
        f"openai-compatible:{MODEL_ALIAS}",
        llama_server.url,
        "json_object_schema",
    )
    assert f"server {llama_server.url}: schema sent as json_object_schema" in summary
    assert verify_run(tmp_path / "first").ok

    assert main(["run", str(spec_file), "--out", str(tmp_path / "second"), *common]) == 0
    second = RunManifest.read(tmp_path / "second")
    again = model_calls(tmp_path / "second")
    assert [call.raw_reply for call in again] == [call.raw_reply for call in calls]
    assert all(call.cache_hit for call in again) and second.usage.total.cache_hits == len(calls)
    assert verify_run(tmp_path / "second").ok
