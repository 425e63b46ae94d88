"""How real OpenAI-compatible servers treat a request's structured-output fields, reproduced for the fake server.

`FakeLLMServer(structured=KIND)` answers each request the way the server KIND does with the
fields it was sent. These are fakes, labelled as such: each reproduces the documented request
shape and rejection of one server, not the server itself (the one real server the tests run is
llama-cpp-python's, `tests/llama_server.py`). KIND:

- `llama-cpp-python`: its request model takes `response_format` type `text` or `json_object` only:
  `json_schema` is answered HTTP 500 with the validation error (naming `response_format`);
  `{"type": "json_object", "schema": ...}` is enforced; other fields (`guided_json`, `format`) are ignored.
- `llama-server` (llama.cpp): `json_schema` and `json_object` with a schema are enforced.
- `vllm-guided-json` (vLLM before it took `json_schema`): `response_format` is a strict model, type
  `text` or `json_object` and no other key: `json_schema`, or a `schema` beside `json_object`, is answered
  HTTP 400 naming `response_format`; the `guided_json` parameter is enforced.
- `ollama-native` (Ollama whose OpenAI endpoint ignores `response_format`'s schema): `json_schema` is
  ignored (free text), `json_object` gives some JSON object (not the schema's); its native
  `POST /api/chat` enforces a `format` schema.
- `unconstrained`: every structured-output field is ignored; a prompt that describes the schema
  (moot's `instructions`) is followed.

A server of any other kind has no `/api/chat` (HTTP 404).
"""

from __future__ import annotations

from typing import Any, Literal

STRUCTURED_KINDS = ("llama-cpp-python", "llama-server", "vllm-guided-json", "ollama-native", "unconstrained")
"""The servers whose structured-output handling the fake reproduces."""

FREE_TEXT_REPLY = "I think the poster is not the one at fault here, because they set a fair boundary."
"""What a server that ignored the schema answers: prose, no JSON."""

SOME_JSON_REPLY = '{"response": "NTA", "content-type": "text/json"}'
"""What a server that was asked for any JSON object answers: JSON, not the schema's."""

Outcome = Literal["schema", "some_json", "free_text"]
"""How the reply is constrained: by the schema, to any JSON object, or not at all."""


def _describes_schema(body: dict[str, Any]) -> bool:
    """Whether the prompt describes a JSON Schema (moot's `instructions`): a model that is told follows it."""
    return any("JSON Schema" in str(message.get("content", "")) for message in body.get("messages") or [])


def _unconstrained(body: dict[str, Any]) -> Outcome:
    return "schema" if _describes_schema(body) else "free_text"


def structured_outcome(kind: str, api: str, body: dict[str, Any]) -> tuple[int, str] | Outcome:
    """How server `kind` answers a request to `api` (`openai` or `ollama`): an error (status, message) or how its
    reply is constrained."""
    if api == "ollama":
        if kind != "ollama-native":
            return 404, "404 page not found"
        return "schema" if isinstance(body.get("format"), dict) else _unconstrained(body)
    response_format = body.get("response_format")
    format_type = response_format.get("type") if isinstance(response_format, dict) else None
    with_schema = isinstance(response_format, dict) and (
        "schema" in response_format or "json_schema" in response_format
    )
    if kind == "llama-cpp-python":
        if format_type not in (None, "text", "json_object"):
            return 500, (
                "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                f"'msg': \"Input should be 'text' or 'json_object'\", 'input': '{format_type}'}}"
            )
        if format_type == "json_object":
            return "schema" if with_schema else "some_json"
        return _unconstrained(body)
    if kind == "llama-server":
        if format_type in ("json_schema", "json_object"):
            return "schema" if with_schema else "some_json"
        return _unconstrained(body)
    if kind == "vllm-guided-json":
        if format_type not in (None, "text", "json_object"):
            return (
                400,
                "1 validation error for ChatCompletionRequest\nresponse_format.type: "
                f"Input should be 'text' or 'json_object' (input: {format_type})",
            )
        if format_type == "json_object" and with_schema:
            return (
                400,
                "1 validation error for ChatCompletionRequest\nresponse_format.schema: Extra inputs are not permitted",
            )
        if isinstance(body.get("guided_json"), dict):
            return "schema"
        return "some_json" if format_type == "json_object" else _unconstrained(body)
    if kind == "ollama-native":
        if format_type == "json_object":
            return "some_json"
        return _unconstrained(body)
    if kind == "unconstrained":
        return _unconstrained(body)
    raise ValueError(f"unknown structured-output server kind {kind!r}; known: {', '.join(STRUCTURED_KINDS)}")
