"""An OTLP/HTTP trace receiver for tests, built on the official protobuf definitions (`opentelemetry-proto`).

It runs a `ThreadingHTTPServer` on 127.0.0.1 and a free port in a background thread and takes
`POST /v1/traces` as the OTLP/HTTP specification has it: a binary protobuf
`ExportTraceServiceRequest` (`application/x-protobuf`, gzip or not) or the same request in OTLP
JSON (`application/json`); it answers an `ExportTraceServiceResponse` in the request's encoding,
and 400 for a body that does not parse::

    with OtlpReceiver() as receiver:
        ...  # send to receiver.url (http://127.0.0.1:PORT), or receiver.traces_url
        spans = receiver.spans()

`parse_otlp_json` reads OTLP JSON (ids in hex, as the specification writes them) into the protobuf
request, so a file of OTLP JSON is checked against the same definitions.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.json_format import MessageToJson, ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _base64_ids(value: Any) -> Any:
    """OTLP JSON's hex ids as protobuf's JSON mapping writes bytes (base64)."""
    if isinstance(value, dict):
        return {
            key: base64.b64encode(bytes.fromhex(item)).decode() if key in ID_FIELDS and item else _base64_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_base64_ids(item) for item in value]
    return value


def parse_otlp_json(data: str | bytes | dict[str, Any]) -> ExportTraceServiceRequest:
    """An OTLP JSON export request as the protobuf message; raises on anything the definitions do not allow."""
    body = data if isinstance(data, dict) else json.loads(data)
    return ParseDict(_base64_ids(body), ExportTraceServiceRequest())


class OtlpReceiver:
    """The receiver: every export request it took, in arrival order (`requests`)."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read `requests`."""

            def do_POST(self) -> None:
                """Take one export request on /v1/traces."""
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    self._answer(404, "text/plain", b"not found")
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                kind = self.headers.get("Content-Type", "")
                try:
                    if kind.startswith("application/json"):
                        request = parse_otlp_json(body)
                    else:
                        request = ExportTraceServiceRequest.FromString(body)
                except Exception as exc:  # any body the definitions refuse is the sender's fault
                    self._answer(400, "text/plain", str(exc).encode())
                    return
                with receiver._lock:
                    receiver.requests.append(request)
                    receiver.content_types.append(kind)
                response = ExportTraceServiceResponse()
                if kind.startswith("application/json"):
                    self._answer(200, "application/json", MessageToJson(response).encode())
                else:
                    self._answer(200, "application/x-protobuf", response.SerializeToString())

            def _answer(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The receiver's address (`http://127.0.0.1:PORT`): an OTLP/HTTP endpoint without its path."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def traces_url(self) -> str:
        """The full URL that takes spans."""
        return f"{self.url}/v1/traces"

    def spans(self) -> list[Span]:
        """Every span received, in arrival order."""
        with self._lock:
            return [
                span
                for request in self.requests
                for resource_spans in request.resource_spans
                for scope_spans in resource_spans.scope_spans
                for span in scope_spans.spans
            ]

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
