"""A run's spans in OpenTelemetry: sent live over OTLP/HTTP (`moot run --otel`) or written as OTLP JSON
(`moot export --format otlp`).

Both paths build their spans from trace events with `moot.trace.spans` and pass them through the
official OpenTelemetry SDK (`opentelemetry-sdk`, the optional extra `moot[otel]`): a tracer whose
id generator hands out the ids `moot.trace.spans` derives, so the live spans and the exported
ones are the same spans, with the same ids. The live path sends them with the SDK's batch
processor and `opentelemetry-exporter-otlp-proto-http`; the export encodes them with the
exporter's own protobuf encoding and writes its JSON form as the OTLP specification has it (ids
as hex, enums as integers), one export request a line.
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import json
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from moot.errors import UserError
from moot.outputs import check_output_folder, write_whole
from moot.trace.events import Event
from moot.trace.opening import read_run_events
from moot.trace.reading import effective_events
from moot.trace.spans import SpanBuilder, SpanRecord, run_span, spans_of

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanProcessor

OTEL_PACKAGES = ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http")
TRACES_PATH = "/v1/traces"
"""Where an OTLP/HTTP receiver takes spans, when the endpoint given is only its address."""
OTLP_FILE = "spans.otlp.json"
SCOPE = "moot"
REACH_TIMEOUT_S = 3.0


def require_otel(what: str) -> None:
    """Raise a one-line UserError naming the extra when the OpenTelemetry packages are not installed."""
    for package in OTEL_PACKAGES:
        try:
            found = importlib.util.find_spec(package) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise UserError(f"{what} needs the OpenTelemetry packages: pip install 'moot[otel]'")


def otel_endpoint(value: str) -> str:
    """The OTLP/HTTP traces URL of `--otel VALUE` (`http(s)://HOST[:PORT][/PATH]`; an address alone gets
    `/v1/traces`), checked to be well formed and to answer; a UserError otherwise."""
    require_otel("--otel")
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.query or parts.fragment:
        raise UserError(
            f"--otel '{value}' is not an OTLP/HTTP endpoint: give http://HOST:PORT (e.g. http://localhost:4318)"
            " or the full URL of its traces (…/v1/traces)"
        )
    host, port = parts.hostname, port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        raise UserError(f"--otel '{value}': nothing answers at {host}:{port} ({exc.strerror or exc})") from None
    path = parts.path if parts.path not in ("", "/") else TRACES_PATH
    return f"{parts.scheme}://{parts.netloc}{path}"


def _provider(processor: SpanProcessor) -> tuple[TracerProvider, Any]:
    """A tracer provider whose span ids are the ones `moot.trace.spans` derives, and the id generator to set them."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class DerivedIds(IdGenerator):
        """Hands out the trace and span id set for the span about to start (see `SpanSender.send`)."""

        def __init__(self) -> None:
            self.trace_id = 0
            self.span_id = 0

        def generate_span_id(self) -> int:
            """The span id set for the next span."""
            return self.span_id

        def generate_trace_id(self) -> int:
            """The run's trace id (asked for the root span only)."""
            return self.trace_id

        def is_trace_id_random(self) -> bool:
            """Trace ids are derived from run ids, not drawn at random."""
            return False

    ids = DerivedIds()
    resource = Resource.create({"service.name": "moot", "service.version": _version()})
    provider = TracerProvider(resource=resource, id_generator=ids, shutdown_on_exit=False)
    provider.add_span_processor(processor)
    return provider, ids


def _version() -> str:
    try:
        return importlib.metadata.version("moot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class SpanSender:
    """Passes `SpanRecord`s through an OpenTelemetry tracer into a span processor (live: a batch processor sending
    OTLP/HTTP; export: a simple processor keeping them in memory). Thread-safe."""

    def __init__(self, processor: SpanProcessor) -> None:
        self._provider, self._ids = _provider(processor)
        self._tracer = self._provider.get_tracer(SCOPE, _version())
        self._lock = threading.Lock()

    def send(self, records: Sequence[SpanRecord]) -> None:
        """Start and end each span at its recorded times, with its derived ids and its parent."""
        from opentelemetry import trace
        from opentelemetry.context import Context
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

        for record in records:
            parent_id = record.parent_span_id
            context = Context()
            if parent_id is not None:
                parent = SpanContext(
                    record.trace_id, parent_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)
                )
                context = trace.set_span_in_context(NonRecordingSpan(parent))
            kind = SpanKind.CLIENT if record.kind == "client" else SpanKind.INTERNAL
            with self._lock:
                self._ids.trace_id, self._ids.span_id = record.trace_id, record.span_id
                span = self._tracer.start_span(
                    record.name, context=context, kind=kind, attributes=record.attributes, start_time=record.start_ns
                )
            for event in record.events:
                span.add_event(event.name, event.attributes, timestamp=event.time_ns)
            if record.error is not None:
                span.set_status(Status(StatusCode.ERROR, record.error))
            span.end(end_time=record.end_ns)

    def close(self) -> None:
        """Send what is still buffered and release the processor."""
        self._provider.force_flush()
        self._provider.shutdown()


class LiveSpans:
    """Sends a process's spans live over OTLP/HTTP as its trace writer stores events (`on_event`)."""

    def __init__(self, endpoint: str) -> None:
        require_otel("--otel")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self._sender = SpanSender(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self._builder = SpanBuilder()
        self._lock = threading.Lock()
        self._run_id: str | None = None

    def on_event(self, event: Event) -> None:
        """Take an event just stored; send the spans it ends."""
        with self._lock:
            self._run_id = event.run_id
            records = self._builder.feed(event)
        self._sender.send(records)

    def close(self) -> None:
        """End the spans still open (marked unfinished), send everything, and stop."""
        with self._lock:
            records = self._builder.finish(self._run_id) if self._run_id is not None else []
        self._sender.send(records)
        self._sender.close()


def send_spans(endpoint: str, records: Sequence[SpanRecord]) -> None:
    """Send spans over OTLP/HTTP now, and return when they are sent (a run's own span, when it ends)."""
    require_otel("--otel")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    sender = SpanSender(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    sender.send(records)
    sender.close()


def run_records(run_dir: Path | str) -> list[SpanRecord]:
    """Every span of a recorded run: its own (from run.json) and those of the events that stand."""
    manifest, events = read_run_events(run_dir)
    standing = effective_events(events)
    ended = manifest.ended_at or (standing[-1].time if standing else manifest.started_at)
    root = run_span(
        manifest.run_id,
        manifest.protocol,
        manifest.started_at,
        ended,
        manifest.status,
        manifest.conversations.planned,
    )
    return [*spans_of(standing), root]


def encoded_request(records: Sequence[SpanRecord]) -> Any:
    """The spans as one OTLP `ExportTraceServiceRequest` (protobuf), encoded as the OTLP exporter encodes them."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    sender = SpanSender(SimpleSpanProcessor(memory))
    sender.send(records)
    spans: tuple[ReadableSpan, ...] = memory.get_finished_spans()
    sender.close()
    return encode_spans(spans)


ID_FIELDS = ("traceId", "spanId", "parentSpanId")
"""Fields that OTLP JSON writes as hex, where protobuf's JSON mapping would write base64."""

SPANS_PER_LINE = 1000
"""Spans in one export request (one line) of an OTLP JSON file."""


def otlp_json(request: Any) -> dict[str, Any]:
    """An OTLP trace export request in OTLP JSON: protobuf's JSON mapping, with ids as hex and enums as integers."""
    from google.protobuf.json_format import MessageToDict

    body = MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in body.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return body


def _hex_ids(item: dict[str, Any]) -> None:
    for key in ID_FIELDS:
        if key in item:
            item[key] = base64.b64decode(item[key]).hex()


def export_otlp(run_dir: Path | str, out: Path | str | None = None) -> tuple[Path, int]:
    """Write a run's spans as OTLP JSON to `out/spans.otlp.json` (default `RUN_DIR/export`); return the file and the
    number of spans. Each line is one OTLP export request of up to `SPANS_PER_LINE` spans, as a collector's OTLP
    JSON file receiver reads them."""
    require_otel("otlp export")
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "export"
    check_output_folder(out, "--out")
    records = run_records(run_dir)
    lines = [
        json.dumps(otlp_json(encoded_request(records[start : start + SPANS_PER_LINE])), separators=(",", ":")) + "\n"
        for start in range(0, len(records), SPANS_PER_LINE)
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / OTLP_FILE
    write_whole(path, "".join(lines))
    return path, len(records)
