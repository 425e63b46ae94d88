"""A fake LLM HTTP server for tests: OpenAI chat completions and Anthropic messages, with faults.

Standard library only. It runs a `ThreadingHTTPServer` (daemon threads, HTTP/1.1 keep-alive)
on 127.0.0.1 and a free port in a background thread. Tests import it as `fakes.llm_server`
(pytest puts `tests/` on the path)::

    from fakes.llm_server import FakeLLMServer

    with FakeLLMServer(faults=["429", "ok", "500"]) as server:
        ...  # OpenAI / openai-compatible: base_url=server.url           (http://127.0.0.1:PORT/v1)
        ...  # Anthropic:                  base_url=server.anthropic_url (http://127.0.0.1:PORT)
        assert len(server.requests) == 3

Endpoints (matched on the path suffix, so any prefix works):

- `POST .../chat/completions`: an OpenAI `chat.completion` object with `usage` (with
  `prompt_tokens_details.cached_tokens`). `response_format` (`json_schema`, `json_object`) is
  accepted and recorded; the reply is whatever the reply function returns (by default a valid
  verdict JSON object).
- `POST .../messages`: an Anthropic `message` object (`content: [{type: text, text}]`,
  `stop_reason`, `usage.input_tokens/output_tokens/cache_read_input_tokens/cache_creation_input_tokens`).
  The anthropic SDK appends `/v1/messages` to its base URL, so give it `server.anthropic_url`
  (the root), not `server.url`.

`structured=KIND` reproduces how a real server KIND treats the structured-output fields of a request
(`fakes.structured_servers`: llama-cpp-python's server, llama.cpp's `llama-server`, vLLM before
`json_schema`, Ollama with its native `POST /api/chat`, a server that ignores them all): it rejects
the fields that server rejects, and answers with the schema's reply, some JSON object or free text
as that server's constraint allows. Without it every field is accepted and the reply is the reply function's.

Token counts are words. `cached_tokens=N` reports the first N prompt tokens of every request as
read from the provider's prompt cache, the way each API does: within OpenAI's `prompt_tokens`,
apart from Anthropic's `input_tokens`.

Faults are chosen per model request, in arrival order: the explicit schedule `faults` first
(one entry per request), then, once it is used up, a seeded random draw with probability
`fault_rate` among `fault_kinds`. Kinds:

- `ok`: a normal reply.
- any HTTP status as text (`"400"`, `"429"`, `"500"`, `"502"`, `"503"`, ...): that status with a
  provider-shaped error body; `429` carries `Retry-After: <retry_after>` (seconds).
- `timeout`: hold the request for `hang_s` seconds (longer than the client's timeout), then answer.
- `reset`: close the connection with a TCP reset and no response.
- `malformed`: status 200 with a JSON body cut off in the middle.
- `truncated`: a reply cut in half, `finish_reason: "length"` / `stop_reason: "max_tokens"`.
- `invalid_schema`: valid JSON that does not match the verdict schema.

`RELIABILITY_FAULTS` lists the kinds a flaky provider shows (rate limits, server errors,
resets, timeouts, malformed bodies, replies cut at max tokens, schema-invalid replies);
`FakeLLMServer(fault_rate=0.1, fault_kinds=RELIABILITY_FAULTS, seed=...)` serves them at random.

A careless server quoting the credentials it was sent: `echo_auth_in_errors=True` puts them in
every error body, and a reply text holding `CREDENTIALS_MARK` gets them in its place (the
`Authorization` header as sent, e.g. `Bearer KEY`, else the `x-api-key` header).

Every request (model endpoint or not) is recorded in `server.requests` with its path, parsed
body, lower-cased headers and the fault served. `server.max_in_flight` is the peak number of
model requests being handled at once (latency included), for concurrency-limit tests.
`on_request(record, count)`, when given, is called (in the handler thread) as each model request
arrives, with the number of model requests so far: tests use it to interrupt a client at a chosen
request.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakes.structured_servers import FREE_TEXT_REPLY, SOME_JSON_REPLY, STRUCTURED_KINDS, structured_outcome

ReplyFn = Callable[[dict[str, Any], str], str]
"""A reply function: (request body as JSON, request path) -> reply text."""

DEFAULT_REPLY = json.dumps({"verdict": "NTA", "explanation": "The poster set a fair boundary and owes nobody more."})
"""The default reply: a verdict JSON object valid against the bundled `verdict` schema."""

INVALID_SCHEMA_REPLY = json.dumps({"verdict": "MAYBE", "explanation": 42})
"""Valid JSON that does not match the `verdict` schema (unknown verdict, explanation not a string)."""

CREDENTIALS_MARK = "{credentials}"
"""Replaced, in a reply text, by the credentials of the request it answers."""

MALFORMED_BODY = (
    b'{"id": "broken", "object": "chat.completion", "choices": [{"index": 0, "message": {"content": "{\\"verd'
)
"""A 200 body that is not valid JSON."""

STATUS_FAULTS = {"400", "401", "403", "404", "408", "409", "413", "422", "429", "500", "502", "503", "504", "529"}
OTHER_FAULTS = {"ok", "timeout", "reset", "malformed", "truncated", "invalid_schema"}
FAULT_KINDS = frozenset(STATUS_FAULTS | OTHER_FAULTS)
"""Every fault kind the server knows (any other three-digit status is accepted too)."""

TRANSIENT_FAULTS = frozenset({"408", "409", "429", "500", "502", "503", "504", "529", "timeout", "reset", "malformed"})
"""Faults that a retrying client is expected to retry."""

RELIABILITY_FAULTS = ("429", "500", "502", "503", "reset", "timeout", "malformed", "truncated", "invalid_schema")
"""The faults of a flaky provider, for fault-injection runs."""

CLIENT_FAILURE_KIND = {
    "429": "rate_limit",
    "500": "server_error",
    "502": "server_error",
    "503": "server_error",
    "504": "server_error",
    "reset": "connection",
    "timeout": "timeout",
    "malformed": "malformed",
}
"""The failure kind moot's retry policy gives each transient fault (`moot.agents.retry.classify`)."""


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    """The JSON body, parsed; None when absent or not JSON."""
    api: str | None
    """`openai`, `anthropic`, or None for a path the server does not serve."""
    fault: str
    """The fault served (`ok` for a normal reply)."""
    received_at: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when the request's body had been read."""
    number: int = 0
    """Arrival number among model requests, from 1 (0 for other requests)."""


def _check_fault(kind: str) -> str:
    if kind not in FAULT_KINDS and not (len(kind) == 3 and kind.isdigit()):
        raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
    return kind


def _word_count(value: Any) -> int:
    """A deterministic stand-in for a token count: words in every text of a request part."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_word_count(v) for v in value)
    if isinstance(value, dict):
        return sum(_word_count(value.get(k)) for k in ("content", "text") if k in value)
    return 0


class FakeLLMServer:
    """An OpenAI- and Anthropic-speaking HTTP server with deterministic, configurable faults."""

    def __init__(
        self,
        replies: ReplyFn | str | None = None,
        *,
        faults: Sequence[str] = (),
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = ("500",),
        seed: int = 0,
        latency: float = 0.0,
        retry_after: float = 0.05,
        hang_s: float = 5.0,
        echo_auth_in_errors: bool = False,
        on_request: Callable[[RecordedRequest, int], None] | None = None,
        cached_tokens: int = 0,
        structured: str | None = None,
    ) -> None:
        """Configure the server (it starts with `start()` or `with`).

        replies: reply text, or a function of (request JSON, path) returning it; default `DEFAULT_REPLY`.
        faults: explicit fault per model request in arrival order (e.g. `["429", "ok", "500"]`).
        fault_rate, fault_kinds, seed: after the schedule, a seeded draw of a fault per request.
        latency: seconds every model request is held before its answer.
        retry_after: the `Retry-After` value, in seconds, of `429` answers.
        hang_s: how long a `timeout` fault holds the request.
        echo_auth_in_errors: error bodies quote the request's credentials (a careless server),
            to test that error text recorded by the client is redacted.
        on_request: called with each model request's record and the count of model requests so far.
        cached_tokens: prompt tokens of each request reported as read from the prompt cache (at most all of them).
        structured: the real server (`fakes.structured_servers.STRUCTURED_KINDS`) whose structured-output handling
            to reproduce; None accepts every field.
        """
        if structured is not None and structured not in STRUCTURED_KINDS:
            raise ValueError(f"unknown structured-output server kind {structured!r}; known: {STRUCTURED_KINDS}")
        self.structured = structured
        self.replies = replies
        self.faults = [_check_fault(k) for k in faults]
        self.fault_rate = fault_rate
        self.fault_kinds = [_check_fault(k) for k in fault_kinds]
        self.seed = seed
        self.latency = latency
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.echo_auth_in_errors = echo_auth_in_errors
        self.on_request = on_request
        self.cached_tokens = cached_tokens
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rng = random.Random(seed)
        self._served = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close the listening socket."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and inspection ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port."""
        if self._httpd is None:
            raise RuntimeError("the fake LLM server is not running")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI-style base URL, `http://127.0.0.1:PORT/v1`."""
        return f"{self.root_url}/v1"

    @property
    def anthropic_url(self) -> str:
        """The Anthropic base URL (the root: the anthropic SDK appends `/v1/messages` itself)."""
        return self.root_url

    def model_requests(self, api: str | None = None) -> list[RecordedRequest]:
        """Recorded requests to a model endpoint (of one API when given)."""
        with self._lock:
            return [r for r in self.requests if r.api is not None and (api is None or r.api == api)]

    def faults_served(self) -> list[str]:
        """The fault of each model request, in arrival order."""
        return [r.fault for r in self.model_requests()]

    def reset(self, faults: Sequence[str] | None = None) -> None:
        """Forget recorded requests and the in-flight peak; restart (or replace) the fault schedule."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight
            self._served = 0
            self._rng = random.Random(self.seed)
            if faults is not None:
                self.faults = [_check_fault(k) for k in faults]

    # -- request handling (called from handler threads) ------------------------------------

    def _admit(self, record: RecordedRequest) -> str:
        """Record a request and choose its fault; counts it as in flight when it is a model request."""
        with self._lock:
            if record.api is not None:
                index = self._served
                self._served += 1
                record.number = self._served
                if index < len(self.faults):
                    record.fault = self.faults[index]
                elif self.fault_rate > 0 and self._rng.random() < self.fault_rate:
                    record.fault = self._rng.choice(self.fault_kinds)
                else:
                    record.fault = "ok"
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(record)
            return record.fault

    def _release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def reply_text(self, body: dict[str, Any], path: str) -> str:
        """The reply text for a request (the configured reply or the default verdict)."""
        if callable(self.replies):
            return self.replies(body, path)
        return self.replies if self.replies is not None else DEFAULT_REPLY

    def wait(self, seconds: float) -> None:
        """Sleep, but return early when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeLLMServer) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (killed, cancelled, timed out) is expected; anything else is printed."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeLLM/1.0"
    disable_nagle_algorithm = (
        True  # headers and body go out separately: without this each reply waits for a delayed ACK
    )
    timeout = 60  # idle keep-alive connections end after a minute
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
        """Keep test output quiet."""

    # -- plumbing ---------------------------------------------------------------------------

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (e.g. after its timeout)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), headers)

    def _reset_connection(self) -> None:
        """Close the socket with SO_LINGER 0: the client sees a TCP reset and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # -- routing ----------------------------------------------------------------------------

    def do_GET(self) -> None:  # the stdlib's name
        """Record and refuse: the fake serves model calls only."""
        self.server.fake._admit(RecordedRequest("GET", self.path, self._headers(), None, None, "not_found"))
        self._send_json(404, {"error": {"message": f"no route for GET {self.path}", "type": "not_found_error"}})

    def do_POST(self) -> None:  # the stdlib's name
        """Serve a chat completion or a message, with this request's fault."""
        fake = self.server.fake
        body = self._read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        api = "openai" if path.endswith("/chat/completions") else "anthropic" if path.endswith("/messages") else None
        if path.endswith("/api/chat") and fake.structured is not None:
            api = "ollama"
        record = RecordedRequest("POST", self.path, self._headers(), body, api, "not_found")
        fault = fake._admit(record)
        if api is not None and fake.on_request is not None:
            fake.on_request(record, record.number)
        if api is None:
            self._send_json(404, {"error": {"message": f"no route for POST {self.path}", "type": "not_found_error"}})
            return
        try:
            self._serve(fake, api, body if isinstance(body, dict) else {}, fault)
        finally:
            fake._release()

    def _credentials(self) -> str:
        """The request's credentials as sent: its Authorization header, else its x-api-key header."""
        return self.headers.get("Authorization") or self.headers.get("x-api-key") or ""

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _serve(self, fake: FakeLLMServer, api: str, body: dict[str, Any], fault: str) -> None:
        fake.wait(fake.latency)
        if fault == "reset":
            self._reset_connection()
            return
        if fault == "timeout":
            fake.wait(fake.hang_s)
            fault = "ok"
        if fault.isdigit():
            self._send_error(api, int(fault), fake)
            return
        if fault == "malformed":
            self._send(200, MALFORMED_BODY)
            return
        if body.get("stream"):
            self._send_error(api, 400, fake, "streaming is not supported by the fake server")
            return
        text = INVALID_SCHEMA_REPLY if fault == "invalid_schema" else fake.reply_text(body, self.path)
        if fake.structured is not None:
            outcome = structured_outcome(fake.structured, api, body)
            if isinstance(outcome, tuple):
                self._send_error("openai", outcome[0], fake, outcome[1])
                return
            text = {"schema": text, "some_json": SOME_JSON_REPLY, "free_text": FREE_TEXT_REPLY}[outcome]
        text = text.replace(CREDENTIALS_MARK, self._credentials())
        truncated = fault == "truncated"
        if truncated:
            text = text[: max(1, len(text) // 2)]
        prompt_tokens = _word_count(body.get("messages")) + _word_count(body.get("system"))
        completion_tokens = max(1, _word_count(text))
        cached = min(fake.cached_tokens, prompt_tokens)
        if api == "ollama":
            self._send_json(
                200, ollama_chat(body, text, "length" if truncated else "stop", prompt_tokens, completion_tokens)
            )
        elif api == "openai":
            finish = "length" if truncated else "stop"
            self._send_json(200, openai_completion(body, text, finish, prompt_tokens, completion_tokens, cached))
        else:
            stop = "max_tokens" if truncated else "end_turn"
            self._send_json(200, anthropic_message(body, text, stop, prompt_tokens - cached, completion_tokens, cached))

    def _send_error(self, api: str, status: int, fake: FakeLLMServer, message: str | None = None) -> None:
        message = message or f"fake server error {status}"
        if fake.echo_auth_in_errors:
            message += f" (request credentials: {self._credentials()})"
        headers = {"Retry-After": f"{fake.retry_after:g}"} if status == 429 else {}
        kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}.get(
            status, "api_error"
        )
        if api == "anthropic":
            self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)
        else:
            self._send_json(
                status, {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}, headers
            )


def openai_completion(
    body: dict[str, Any],
    text: str,
    finish_reason: str,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
) -> dict[str, Any]:
    """An OpenAI `chat.completion` object (`cached_tokens` of the prompt tokens read from the prompt cache)."""
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "system_fingerprint": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def ollama_chat(
    body: dict[str, Any], text: str, done_reason: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    """An answer of Ollama's native `POST /api/chat` (not streamed)."""
    return {
        "model": body.get("model", "fake"),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "message": {"role": "assistant", "content": text},
        "done": True,
        "done_reason": done_reason,
        "prompt_eval_count": prompt_tokens,
        "eval_count": completion_tokens,
    }


def anthropic_message(
    body: dict[str, Any], text: str, stop_reason: str, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0
) -> dict[str, Any]:
    """An Anthropic `message` object (`cache_read_tokens` read from the prompt cache, not among `input_tokens`)."""
    return {
        "id": f"msg_fake_{time.monotonic_ns()}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache_read_tokens,
        },
    }
