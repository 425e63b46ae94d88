"""Finding out how an OpenAI-style server takes a schema (`structured_output: auto`).

Servers that speak OpenAI's chat completions differ in how they are sent a schema to enforce:
OpenAI, recent vLLM, llama.cpp's `llama-server` and LM Studio take `response_format` `json_schema`;
llama-cpp-python's server refuses that type (HTTP 500) but enforces `{"type": "json_object", "schema":
...}`; older vLLM takes its own `guided_json` parameter; older Ollama ignores `response_format`'s
schema on its OpenAI endpoint and enforces the `format` of its native chat API. A model's gateway
holds one `StructuredNegotiation` per server: it tries the modes in order (`AUTO_MODES`) and moves
to the next when the server rejects one, with an HTTP error that names the field the mode sends
(`mode_rejection`), or when its first reply under a mode (the probe) does not fit the schema
(`probe_problem`: a server that ignores the field). The first mode that passes is kept for the run;
`instructions` (the schema in the prompt alone, replies unconstrained) is the last resort. Requests
sent while the mode is not known yet all probe (none waits): the mode moves once, and a request
whose mode was left meanwhile is sent again in the current one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from moot.agents.requests import AUTO_MODES, SERVER_SCHEMA_MODES, ModelRequest, StructuredMode
from moot.agents.retry import classify, http_status
from moot.protocols.outputs.schema import OutputSchema

MODE_FIELDS: dict[str, str] = {
    "json_schema": "response_format",
    "json_object_schema": "response_format",
    "json_object": "response_format",
    "guided_json": "guided_json",
    "ollama_format": "format",
}
"""The request field each mode sends the schema (or the JSON constraint) in."""

NOT_ABOUT_THE_REQUEST = {401, 403, 407, 429}
"""Error statuses that say nothing of the request's shape (credentials, rate limits)."""


def negotiation_key(model: str, server: str) -> str:
    """How run.json and a resumed run name the mode found for a model on a server."""
    return f"{model} at {server}"


def mode_rejection(exc: BaseException, mode: StructuredMode) -> str | None:
    """Why the server refused the request's structured-output field, when that is what `exc` says; else None.

    A refusal is an HTTP error (4xx or 5xx, credentials and rate limits aside) whose text names the
    field the mode sends (llama-cpp-python: HTTP 500 naming `response_format`; vLLM: HTTP 400 naming
    `response_format` or `guided_json`), or, for `ollama_format`, a server with no native chat API
    (HTTP 404 or 405 on `/api/chat`).
    """
    request_field = MODE_FIELDS.get(mode)
    status = http_status(exc)
    if request_field is None or status is None or status < 400 or status in NOT_ABOUT_THE_REQUEST:
        return None
    message = classify(exc).message  # the error's first line (servers put the validation error on the next ones)
    naming = [line.strip() for line in str(exc).splitlines() if request_field in line]
    if naming:
        return message if request_field in message else f"{message} {naming[0]}"
    if mode == "ollama_format" and status in (404, 405):
        return message
    return None


def rejection_advice(mode: StructuredMode, provider: str) -> str:
    """What to change when a server rejects a forced mode: the field it sends and the setting that chooses it."""
    others = [other for other in AUTO_MODES if other != mode]
    return (
        f"the server rejects the {MODE_FIELDS.get(mode, 'structured-output')} field that structured_output "
        f"'{mode}' sends; set providers.{provider}.structured_output to auto (or one of {', '.join(others)})"
    )


def probe_problem(schema: OutputSchema, text: str, finish_reason: str | None) -> str | None:
    """Why a probe's reply shows the server did not enforce the schema; None when it fits (or was cut at max tokens,
    which says nothing of the mode)."""
    if finish_reason in ("length", "max_tokens"):
        return None
    _, error = schema.parse_json(text)
    return f"the reply did not fit the schema ({error})" if error is not None else None


def wire_request(request: ModelRequest, mode: StructuredMode) -> ModelRequest:
    """The request as it is sent in `mode`: with that mode, and under `instructions` with the schema described in
    its system message (no server constrains the reply then)."""
    wired = dataclasses.replace(request, structured=mode)
    if mode != "instructions" or request.schema is None or not request.messages:
        return wired
    first, *rest = request.messages
    if first.get("role") == "system":
        described = {**first, "content": f"{first['content']}\n\n{request.schema.instructions()}"}
        return dataclasses.replace(wired, messages=[described, *rest])
    return dataclasses.replace(wired, messages=[{"role": "system", "content": request.schema.instructions()}, *rest])


@dataclass
class StructuredNegotiation:
    """The structured-output mode of one model on one server: tried in order until the server takes one."""

    model: str
    """The model, as `provider:model`."""
    server: str
    """The server's base URL (several, comma-separated, for a balanced model)."""
    modes: Sequence[StructuredMode] = AUTO_MODES
    """The modes to try, in order; the last one is kept whatever happens."""
    found: StructuredMode | None = None
    """The mode the server took (known from an earlier part of the run, on resume); None until one passes."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Why each mode was left, by mode."""
    _index: int = 0

    def __post_init__(self) -> None:
        if self.found is not None and self.found in self.modes:
            self._index = list(self.modes).index(self.found)

    @property
    def key(self) -> str:
        """The model on the server, as run.json names it."""
        return negotiation_key(self.model, self.server)

    @property
    def mode(self) -> StructuredMode:
        """The mode to send requests in now."""
        return self.modes[self._index]

    @property
    def settled(self) -> bool:
        """Whether the mode is known: a reply passed under it, or it is the last one."""
        return self.found is not None or self._index == len(self.modes) - 1

    @property
    def constrains(self) -> bool:
        """Whether the server is sent the schema to enforce (False under `instructions`: replies are unconstrained)."""
        return self.mode in SERVER_SCHEMA_MODES

    def reject(self, mode: StructuredMode, reason: str) -> bool:
        """Leave `mode` for the next one; False when `mode` is the last (it stays) or is no longer the current one."""
        if mode != self.mode or self._index == len(self.modes) - 1:
            return mode != self.mode
        self.rejected[mode] = reason
        self._index += 1
        self.found = None
        return True

    def settle(self, mode: StructuredMode) -> None:
        """Keep `mode` for the rest of the run, when it is still the current one (a reply passed under it)."""
        if mode == self.mode:
            self.found = mode
