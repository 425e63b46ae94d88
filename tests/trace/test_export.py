"""`export_run`: flat tables of a run, the same rows in JSONL, CSV and Parquet.

And no secret in any file a run writes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import moot
from fakes.llm_server import FakeLLMServer
from helpers import SCENARIOS, debate_spec, events_of, verdict
from moot.graphs.audit import verify_run
from moot.judges.programs import replay_run
from moot.trace.events import parse_event
from moot.trace.export import TABLES, as_json_text, export_run

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

JUDGE_SPEC_EXTRA = {
    "roles": {
        "debater": {"prompt": "debater", "output": "verdict"},
        "referee": {
            "kind": "judge",
            "prompt": "You referee the debate.",
            "output": {
                "type": "object",
                "properties": {"agreed": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """2 scenarios x 2 rounds of alice and bob (bob's first reply is re-asked once) and a referee judging each round."""
    spec = debate_spec(
        {
            "alice": [verdict("NTA", "alice backs the poster"), verdict("YTA", "alice gives in")],
            "bob": [["not json", verdict("YTA", "bob blames the poster")]],
        },
        rounds=3,
        **JUDGE_SPEC_EXTRA,
    )
    spec["agents"].append(
        {
            "name": "ref",
            "role": "referee",
            "script": [
                json.dumps({"agreed": False, "tags": ["split", "heated"]}),
                json.dumps({"agreed": True, "tags": []}),
            ],
        }
    )
    return moot.run(spec, SCENARIOS, out=tmp_path / "run", cache=None).run_dir


def test_tables_have_a_row_per_message_decision_call_and_event(run_dir: Path, tmp_path: Path) -> None:
    written = {t.table: t for t in export_run(run_dir, "jsonl", out=tmp_path / "out")}
    rows = {name: [json.loads(line) for line in t.path.read_text().splitlines()] for name, t in written.items()}
    # Per conversation (consensus in round 2): 2 rounds x 2 speakers = 4 messages; 2 decisions;
    # calls: alice 2, bob 4 (his first reply is re-asked every round), ref 2 = 8.
    assert {name: len(r) for name, r in rows.items()} == {
        "messages": 8,
        "decisions": 4,
        "calls": 16,
        "events": len(events_of(run_dir)),
    }
    assert [parse_event(line) for line in written["events"].path.read_text().splitlines()] == events_of(run_dir)

    message = rows["messages"][0]  # parsed fields come in the trace's canonical (sorted) order
    assert list(message) == [
        "seq",
        "run_id",
        "conversation_id",
        "scenario_id",
        "round",
        "agent",
        "role",
        "position",
        "model",
        "explanation",
        "verdict",
        "content",
        "parse_error",
        "tokens_in",
        "tokens_out",
        "latency_s",
        "cache_hit",
        "retries",
        "attempts",
    ]
    bob = next(r for r in rows["messages"] if r["agent"] == "bob" and r["round"] == 1)
    calls = [
        c
        for c in events_of(run_dir, "model_call")
        if c.agent == "bob" and c.round == 1 and c.conversation_id == bob["conversation_id"]
    ]
    assert (bob["verdict"], bob["explanation"], bob["model"], bob["attempts"], bob["cache_hit"]) == (
        "YTA",
        "bob blames the poster",
        "scripted",
        2,
        False,
    )
    assert (bob["tokens_in"], bob["tokens_out"]) == (sum(c.tokens_in for c in calls), sum(c.tokens_out for c in calls))

    decision = rows["decisions"][0]
    assert (decision["agent"], decision["role"], decision["agreed"], decision["tags"]) == (
        "ref",
        "referee",
        False,
        '["split", "heated"]',
    )
    assert {"model", "attempt", "raw_reply", "parsed", "messages", "params", "error"} <= set(rows["calls"][0])


def test_csv_and_parquet_read_back_equal(run_dir: Path, tmp_path: Path) -> None:
    for table in ("messages", "decisions", "calls", "events"):
        (jsonl,) = export_run(run_dir, "jsonl", out=tmp_path / "jsonl", tables=[table])
        (csv_file,) = export_run(run_dir, "csv", out=tmp_path / "csv", tables=[table])
        (parquet,) = export_run(run_dir, "parquet", out=tmp_path / "parquet", tables=[table])
        from_parquet = pq.read_table(parquet.path).to_pylist()
        # Parquet keeps lists as lists; the other files hold them as JSON text
        as_text = [{k: as_json_text(v) if isinstance(v, list) else v for k, v in row.items()} for row in from_parquet]
        with csv_file.path.open(newline="", encoding="utf-8") as f:
            from_csv = list(csv.DictReader(f))
        assert len(from_parquet) == len(from_csv) == parquet.rows == csv_file.rows > 0
        assert from_csv == [{k: as_csv_cell(v) for k, v in row.items()} for row in as_text]
        if table != "events":
            assert as_text == [json.loads(line) for line in jsonl.path.read_text().splitlines()]


def test_parquet_keeps_list_fields_as_lists(run_dir: Path, tmp_path: Path) -> None:
    (decisions,) = export_run(str(run_dir), "parquet", out=str(tmp_path / "out"), tables=["decisions"])
    table = pq.read_table(decisions.path)
    tags_type = table.schema.field("tags").type
    assert pa.types.is_list(tags_type) and pa.types.is_string(tags_type.value_type)
    recorded = {d.seq: d.decision["tags"] for d in events_of(run_dir, "judge_decision")}
    assert {row["seq"]: row["tags"] for row in table.to_pylist()} == recorded
    assert sorted(recorded.values()) == [[], [], ["split", "heated"], ["split", "heated"]]
    (calls,) = export_run(run_dir, "parquet", out=tmp_path / "out", tables=["calls"])
    calls_table = pq.read_table(calls.path)  # lists of objects (the chat sent) stay JSON text
    assert str(calls_table.schema.field("messages").type) == "string"
    assert json.loads(calls_table.to_pylist()[0]["messages"])[0]["role"] == "system"


def test_export_takes_str_paths(run_dir: Path, tmp_path: Path) -> None:
    written = export_run(str(run_dir), "csv", out=str(tmp_path / "csv"))
    assert [(t.table, t.path) for t in written] == [(name, tmp_path / "csv" / f"{name}.csv") for name in TABLES]
    assert [t.table for t in moot.trace.export_run(str(run_dir), "jsonl")] == list(TABLES)
    assert (run_dir / "export" / "messages.jsonl").is_file()


def as_csv_cell(value: Any) -> str:
    """What the csv module writes for a cell."""
    return "" if value is None else str(value)


PLANTED = "sk-test-PLANTED-0123456789abcdef"


def test_no_file_a_run_writes_holds_the_api_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)

    def echo_key(body: dict[str, Any], path: str) -> str:
        """A reply that quotes the key, as a leaky server or model might."""
        return json.dumps({"verdict": "NTA", "explanation": f"key {PLANTED} seen"})

    spec = {
        "name": "secret_run",
        "model": "openai:gpt-fake",
        "turns": "synchronous",
        "rounds": 1,
        "agents": [{"name": "alice", "role": "debater"}, {"name": "bob", "role": "debater"}],
        "roles": {"debater": {"prompt": "debater", "output": "verdict"}},
    }
    scenarios = tmp_path / "cases.jsonl"
    scenarios.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    with FakeLLMServer(replies=echo_key) as server:
        spec["providers"] = {"openai": {"base_url": server.url}}
        run_dir = moot.run(spec, scenarios, out=tmp_path / "run", cache=None).run_dir
        assert server.requests and all(
            r.headers.get("authorization") == f"Bearer {PLANTED}" for r in server.model_requests()
        )
    for fmt in ("jsonl", "csv", "parquet"):
        export_run(run_dir, fmt)
    assert verify_run(run_dir).ok
    replay_run(run_dir, out=tmp_path / "replay")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"trace.sqlite", "run.json", "messages.parquet", "calls.csv", "events.jsonl"} <= {p.name for p in files}
    assert len([p for p in files if p.name == "trace.sqlite"]) == 2
    for path in files:
        data = path.read_bytes()
        assert PLANTED.encode() not in data and b"Bearer" not in data, path
    assert any(b"[redacted]" in p.read_bytes() for p in files if p.name == "trace.sqlite")
