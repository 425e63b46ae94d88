"""OpenTelemetry: a run's spans sent live over OTLP/HTTP (`moot run --otel`) and exported as OTLP JSON
(`moot export --format otlp`), received by an OTLP/HTTP receiver built on the official protobuf definitions
(`fakes.otlp_receiver`; no OpenTelemetry Collector build installs from the package registries here).

A scripted run of 3 agents over 3 scenarios (consensus in round 2) gives, per conversation, 2 rounds of
3 turns of one model call each: 1 run span, 3 conversations, 6 rounds, 18 turns and 18 model calls.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from fakes.otlp_receiver import OtlpReceiver, parse_otlp_json
from helpers import debate_spec, events_of, verdict
from moot.cli import main
from moot.errors import UserError
from moot.trace.events import ChatRecord, ConversationStarted, ModelCall, Stopped, TurnStarted
from moot.trace.export import export_run
from moot.trace.manifest import RunManifest
from moot.trace.otel import export_otlp, otel_endpoint
from moot.trace.spans import SpanBuilder, nanoseconds, spans_of
from moot.trace.store import TRACE_FILE, SQLiteTraceStore, event_hash

SCRIPTS = {
    "alice": [verdict("NTA", "alice thinks the poster is fine"), verdict("YTA", "alice comes round to YTA")],
    "bob": [verdict("YTA", "bob blames the poster firmly"), verdict("YTA", "bob still blames the poster")],
    "carol": [verdict("ESH", "carol blames everyone involved"), verdict("YTA", "carol agrees with bob now")],
}


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """The scripted 3-agent spec and 3 scenarios, as files for the command line."""
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump(debate_spec(SCRIPTS, rounds=3)))
    cases = folder / "cases.jsonl"
    cases.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "title": f"Case {i}", "text": f"Text of case {i}."}) + "\n" for i in range(3)
        )
    )
    return spec, cases


def attributes(span: Span) -> dict[str, Any]:
    """A protobuf span's attributes as plain values (arrays as lists)."""
    values: dict[str, Any] = {}
    for item in span.attributes:
        kind = item.value.WhichOneof("value")
        if kind == "array_value":
            values[item.key] = [getattr(v, v.WhichOneof("value")) for v in item.value.array_value.values]
        else:
            values[item.key] = getattr(item.value, kind)
    return values


def kind_of(span: Span) -> str:
    """`run`, `conversation`, `round`, `turn` or `call`, by the span's name."""
    first = span.name.split()[0]
    return {"moot": "run", "invoke_agent": "turn", "chat": "call"}.get(first, first)


def comparable(span: Span) -> tuple[Any, ...]:
    """What a span is, to compare the live spans with the exported ones."""
    events = [(e.name, e.time_unix_nano, sorted((a.key, str(a.value)) for a in e.attributes)) for e in span.events]
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.kind,
        span.start_time_unix_nano,
        span.end_time_unix_nano,
        sorted((a.key, str(a.value)) for a in span.attributes),
        events,
        span.status.code,
    )


def check_tree(spans: list[Span]) -> dict[bytes, Span]:
    """One trace, one root, and every parent among the spans: the spans by id."""
    by_id = {span.span_id: span for span in spans}
    assert len(by_id) == len(spans), "no span id twice"
    assert len({span.trace_id for span in spans}) == 1, "every span in the run's one trace"
    roots = [span for span in spans if not span.parent_span_id]
    assert [kind_of(root) for root in roots] == ["run"]
    orphans = [span.name for span in spans if span.parent_span_id and span.parent_span_id not in by_id]
    assert orphans == []
    return by_id


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Span], list[str]]:
    """The scripted run with `--otel` to a receiver: its run directory, the spans received and their content types."""
    root = tmp_path_factory.mktemp("otel")
    spec, cases = write_inputs(root)
    with OtlpReceiver() as receiver:
        code = main(
            [
                "run",
                str(spec),
                "--scenarios",
                str(cases),
                "--out",
                str(root / "run"),
                "--no-cache",
                "--quiet",
                "--concurrency",
                "3",
                "--otel",
                receiver.url,
            ]
        )
        assert code == 0
        return root / "run", receiver.spans(), receiver.content_types


def test_a_live_run_sends_a_span_per_run_conversation_round_turn_and_call(
    live_run: tuple[Path, list[Span], list[str]],
) -> None:
    run_dir, spans, content_types = live_run
    assert set(content_types) == {"application/x-protobuf"}, "OTLP/HTTP with binary protobuf, as the exporter sends"
    by_id = check_tree(spans)
    assert Counter(kind_of(span) for span in spans) == {"run": 1, "conversation": 3, "round": 6, "turn": 18, "call": 18}
    parent_kind = {"conversation": "run", "round": "conversation", "turn": "round", "call": "turn"}
    for span in spans:
        if span.parent_span_id:
            parent = by_id[span.parent_span_id]
            assert kind_of(parent) == parent_kind[kind_of(span)], span.name
            assert parent.start_time_unix_nano <= span.start_time_unix_nano, span.name
            assert span.end_time_unix_nano <= parent.end_time_unix_nano, span.name
            if kind_of(span) != "conversation":
                assert attributes(span)["moot.conversation_id"] == attributes(parent)["moot.conversation_id"]
        if kind_of(span) == "call":
            assert attributes(span)["moot.agent"] == attributes(by_id[span.parent_span_id])["gen_ai.agent.name"]

    manifest = RunManifest.read(run_dir)
    root = next(span for span in spans if kind_of(span) == "run")
    assert root.name == "moot run scripted_debate"
    assert attributes(root) == {
        "moot.run_id": manifest.run_id,
        "moot.protocol": "scripted_debate",
        "moot.status": "completed",
        "moot.conversations": 3,
    }
    conversations = {attributes(s)["moot.conversation_id"]: s for s in spans if kind_of(s) == "conversation"}
    assert set(conversations) == {e.conversation_id for e in events_of(run_dir, "conversation_started")}
    for conversation in conversations.values():
        fields = attributes(conversation)
        assert (fields["moot.status"], fields["moot.rounds"], fields["moot.run_id"]) == (
            "completed",
            2,
            manifest.run_id,
        )
    rounds = sorted(attributes(s)["moot.round"] for s in spans if kind_of(s) == "round")
    assert rounds == [1, 1, 1, 2, 2, 2]
    assert {tuple(attributes(s)["moot.speakers"]) for s in spans if kind_of(s) == "round"} == {
        ("alice", "bob", "carol")
    }


def test_model_call_spans_follow_the_genai_conventions_and_match_the_trace(
    live_run: tuple[Path, list[Span], list[str]],
) -> None:
    run_dir, spans, _ = live_run
    calls = {attributes(s)["moot.seq"]: s for s in spans if kind_of(s) == "call"}
    recorded = [e for e in events_of(run_dir, "model_call") if isinstance(e, ModelCall)]
    assert sorted(calls) == sorted(call.seq for call in recorded)
    for call in recorded:
        span = calls[call.seq]
        fields = attributes(span)
        assert span.name == "chat scripted" and span.kind == Span.SPAN_KIND_CLIENT
        assert fields["gen_ai.operation.name"] == "chat"
        assert fields["gen_ai.provider.name"] == fields["gen_ai.system"] == "scripted"
        assert fields["gen_ai.request.model"] == "scripted"
        assert fields["gen_ai.usage.input_tokens"] == call.tokens_in
        assert fields["gen_ai.usage.output_tokens"] == call.tokens_out
        assert fields["gen_ai.response.finish_reasons"] == [call.finish_reason]
        assert (fields["moot.conversation_id"], fields["moot.round"], fields["moot.agent"]) == (
            call.conversation_id,
            call.round,
            call.agent,
        )
        assert span.end_time_unix_nano - span.start_time_unix_nano == pytest.approx(call.latency_s * 1e9, abs=1000)
        [details] = span.events
        assert details.name == "gen_ai.client.inference.operation.details"
        content = {a.key: json.loads(a.value.string_value) for a in details.attributes}
        assert content["gen_ai.input.messages"] == [
            {"role": m.role, "parts": [{"type": "text", "content": m.content}]} for m in call.messages
        ]
        assert content["gen_ai.output.messages"] == [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": call.raw_reply}],
                "finish_reason": call.finish_reason,
            }
        ]


def test_the_otlp_export_parses_as_otlp_json_and_holds_the_live_spans(
    live_run: tuple[Path, list[Span], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, live, _ = live_run
    out = tmp_path / "export"
    assert main(["export", str(run_dir), "--format", "otlp", "--out", str(out)]) == 0
    path = out / "spans.otlp.json"
    assert capsys.readouterr().out.split() == ["spans", "46", "spans", str(path)]
    text = path.read_text()
    assert text.count("\n") == 1, "one export request on one line"
    body = json.loads(text)
    first = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(first["traceId"]) == 32 and len(first["spanId"]) == 16, "ids as hex, as OTLP JSON has them"
    assert isinstance(first["kind"], int), "enums as integers"
    request = parse_otlp_json(text)
    resource = {a.key: a.value.string_value for a in request.resource_spans[0].resource.attributes}
    assert resource["service.name"] == "moot"
    exported = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    check_tree(exported)
    assert sorted(map(comparable, exported)) == sorted(map(comparable, live)), "the export is the live spans"

    with OtlpReceiver() as receiver:
        sent = urllib.request.Request(
            receiver.traces_url, data=text.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(sent) as answer:
            assert answer.status == 200
        assert sorted(map(comparable, receiver.spans())) == sorted(map(comparable, exported))


def killed_copy(run_dir: Path, target: Path, keep: int) -> Path:
    """A copy of a finished run as a kill leaves it: its trace cut after event `keep`, run.json `running` there."""
    shutil.copytree(run_dir, target)
    for stale in ("export",):
        shutil.rmtree(target / stale, ignore_errors=True)
    db = sqlite3.connect(target / TRACE_FILE, isolation_level=None)
    db.execute("DROP TRIGGER events_no_delete")
    db.execute("DELETE FROM events WHERE seq > ?", (keep,))
    db.close()
    SQLiteTraceStore(target / TRACE_FILE).close()  # a writable store creates the dropped trigger again
    kept = events_of(run_dir)[keep - 1]
    manifest = RunManifest.read(target)
    manifest.status, manifest.events, manifest.final_hash, manifest.ended_at = "running", keep, event_hash(kept), None
    manifest.write(target)
    return target


def test_a_resumed_run_sends_its_remaining_spans_into_the_same_tree(
    live_run: tuple[Path, list[Span], list[str]], tmp_path: Path
) -> None:
    run_dir, live, _ = live_run
    stops = [e.seq for e in events_of(run_dir) if e.event == "stopped"]
    killed = killed_copy(run_dir, tmp_path / "run", keep=stops[0] - 5)
    with OtlpReceiver() as receiver:
        assert main(["run", "--resume", str(killed), "--quiet", "--otel", receiver.traces_url]) == 0
        resumed = receiver.spans()
    by_id = check_tree(resumed)
    assert Counter(kind_of(span) for span in resumed)["conversation"] == 3, "each conversation it finished"
    root = next(span for span in resumed if kind_of(span) == "run")
    assert attributes(root)["moot.run_id"] == RunManifest.read(killed).run_id
    assert root.trace_id == live[0].trace_id, "the run's one trace, as its first part's"
    exported = {span.span_id: span for span in spans_of_export(killed, tmp_path / "export")}
    assert set(by_id) <= set(exported), "every live span of the resumed part has its place in the run's tree"
    for span_id, span in by_id.items():
        assert (exported[span_id].name, exported[span_id].parent_span_id) == (span.name, span.parent_span_id)


def spans_of_export(run_dir: Path, out: Path) -> list[Span]:
    """The spans `moot export --format otlp` writes for a run."""
    assert main(["export", str(run_dir), "--format", "otlp", "--out", str(out)]) == 0
    request = parse_otlp_json((out / "spans.otlp.json").read_text())
    return [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


def test_an_endpoint_that_does_not_answer_is_one_line_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, cases = write_inputs(tmp_path)
    with OtlpReceiver() as receiver:
        closed = receiver.url
    code = main(["run", str(spec), "--scenarios", str(cases), "--out", str(tmp_path / "run"), "--otel", closed])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert error.startswith(f"moot: error: --otel '{closed}': nothing answers at 127.0.0.1:")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("http://localhost:4318", "http://localhost:4318/v1/traces"),
        ("http://localhost:4318/", "http://localhost:4318/v1/traces"),
        ("https://collector.example:4318/otlp/v1/traces", "https://collector.example:4318/otlp/v1/traces"),
    ],
)
def test_an_endpoint_is_an_address_or_the_full_traces_url(
    value: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[tuple[str, int]] = []

    class Connection:
        def close(self) -> None:
            """Nothing to close."""

    def connect(address: tuple[str, int], timeout: float) -> Connection:
        reached.append(address)
        return Connection()

    monkeypatch.setattr("moot.trace.otel.socket.create_connection", connect)
    assert otel_endpoint(value) == url
    assert reached == [(url.split("//")[1].split(":")[0], 4318)]


@pytest.mark.parametrize("value", ["localhost:4318", "grpc://localhost:4317", "http://", "http://host:port", ""])
def test_a_malformed_endpoint_is_refused(value: str) -> None:
    with pytest.raises(UserError, match=re.escape(f"--otel '{value}' is not an OTLP/HTTP endpoint")):
        otel_endpoint(value)


def test_without_the_otel_extra_both_paths_name_it(
    live_run: tuple[Path, list[Span], list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec

    def without_otel(name: str, *args: Any) -> Any:
        return None if name.startswith("opentelemetry") else find_spec(name, *args)

    monkeypatch.setattr("moot.trace.otel.importlib.util.find_spec", without_otel)
    extra = "needs the OpenTelemetry packages: pip install 'moot[otel]'"
    with pytest.raises(UserError, match=re.escape(f"--otel {extra}")):
        otel_endpoint("http://localhost:4318")
    with pytest.raises(UserError, match=re.escape(f"otlp export {extra}")):
        export_run(live_run[0], "otlp", out=tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_the_spans_open_when_the_events_stop_end_at_their_last_event_marked_unfinished(
    live_run: tuple[Path, list[Span], list[str]],
) -> None:
    events = events_of(live_run[0])
    conversation = events[0].conversation_id
    cut = next(i for i, e in enumerate(events) if e.event == "model_call" and e.conversation_id == conversation)
    builder = SpanBuilder()
    closed = [span for event in events[: cut + 1] for span in builder.feed(event)]
    assert [span.key for span in closed] == [f"call/{events[cut].seq}"], "a call closes at once"
    unfinished = builder.finish(events[0].run_id)
    mine = [span for span in unfinished if span.attributes["moot.conversation_id"] == conversation]
    assert [span.key.split("/")[0] for span in mine] == ["turn", "round", "conversation"]
    assert all(span.attributes["moot.unfinished"] is True for span in unfinished)
    last = max(e.time for e in events[: cut + 1] if e.conversation_id == conversation)
    assert {span.end_ns for span in mine} == {nanoseconds(last)}
    assert [mine[0].parent_key, mine[1].parent_key, mine[2].parent_key] == [mine[1].key, mine[2].key, "run"]
    assert builder.finish(events[0].run_id) == [], "finishing empties the builder"


def test_a_failed_call_and_a_failed_conversation_are_error_spans() -> None:
    ids = {"run_id": "r", "conversation_id": "c", "scenario_id": "s"}
    events = [
        ConversationStarted(**ids, seq=1, protocol="p", order=["alice"], repeat=0, seed=1),
        TurnStarted(**ids, seq=2, round=1, agent="alice", role="debater", position=0, visible=[]),
        ModelCall(
            **ids,
            seq=3,
            round=1,
            agent="alice",
            role="debater",
            model="openai:gpt-4.1",
            messages=[ChatRecord(role="user", content="Say something.")],
            params={"temperature": 0.7, "max_tokens": 64, "seed": 5},
            error="HTTP 500 after 3 retries",
            retries=3,
            latency_s=1.5,
        ),
        Stopped(**ids, seq=4, round=1, status="failed", reason="model error: HTTP 500", rounds=0),
    ]
    spans = {span.key.split("/")[0]: span for span in spans_of(events)}
    call = spans["call"]
    assert (call.name, call.kind, call.error, call.parent_key) == ("chat gpt-4.1", "client", events[2].error, "turn/2")
    assert call.attributes["error.type"] == "model_error"
    assert (call.attributes["gen_ai.provider.name"], call.attributes["gen_ai.request.model"]) == ("openai", "gpt-4.1")
    assert (call.attributes["gen_ai.request.temperature"], call.attributes["gen_ai.request.max_tokens"]) == (0.7, 64)
    assert "gen_ai.response.finish_reasons" not in call.attributes
    assert [event.attributes.keys() for event in call.events] == [{"gen_ai.input.messages"}], "no reply, no output"
    assert call.end_ns - call.start_ns == 1_500_000_000
    assert spans["conversation"].error == "model error: HTTP 500"
    assert spans["turn"].attributes["moot.unfinished"] is True and spans["round"].attributes["moot.unfinished"] is True
    assert spans["conversation"].attributes["moot.status"] == "failed"


def test_a_large_export_is_one_request_a_line(
    live_run: tuple[Path, list[Span], list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("moot.trace.otel.SPANS_PER_LINE", 10)
    path, count = export_otlp(live_run[0], tmp_path / "export")
    lines = path.read_text().splitlines()
    assert (count, len(lines)) == (46, 5)
    requests = [parse_otlp_json(line) for line in lines]
    sizes = [sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans) for request in requests]
    assert sizes == [10, 10, 10, 10, 6]
    spans = [
        span for request in requests for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]
    check_tree(spans)
    assert sorted(map(comparable, spans)) == sorted(map(comparable, live_run[1]))
