"""The `openai` provider, and the client of every OpenAI-style server: the `openai` SDK's chat completions.

`OpenAIChatClient` sends a request with `AsyncOpenAI(...).chat.completions.create`, its own retries
switched off (moot's gateway retries, so that every retry is counted in the trace), and asks for
structured output the way the request's mode says (`structured_body`): `response_format` `json_schema`
or `json_object` with the schema, vLLM's `guided_json`, Ollama's native `format`, or `json_object`.
The SDK's errors reach the gateway as they are raised (`moot.agents.retry.classify` reads their
status and headers). The usage record comes back as the server sent it, cached prompt tokens
(`usage.prompt_tokens_details.cached_tokens`) included. A model given several base URLs gets a
`BalancedClient` over one client per URL (`moot.agents.providers.balancer`).

The SDK is imported when a client is built, never when the provider is named.
"""

from __future__ import annotations

from typing import Any

from moot.agents.providers.balancer import BalancedClient
from moot.agents.providers.record import Endpoint, ModelRef, ProviderRecord
from moot.agents.requests import ModelClient, ModelRequest, ModelResult
from moot.protocols.spec import AgentSpec, ProviderSettings

FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "function_calls": "function_calls",
    "tool_calls": "function_calls",
}
"""The finish reasons of a chat completion as moot records them (any other: `unknown`)."""


def response_format(request: ModelRequest) -> dict[str, Any] | None:
    """The `response_format` that asks for the request's schema, None when none is asked this way.

    `json_schema`: OpenAI's shape; a schema whose every field is required is sent as `strict` (OpenAI
    refuses strict schemas with optional fields). `json_object_schema`: `{"type": "json_object", "schema":
    ...}`, the shape llama-cpp-python's server (and llama.cpp's `llama-server`) enforce. `json_object`:
    any JSON object, the schema being in the prompt.
    """
    schema = request.schema
    if schema is None:
        return None
    if request.structured == "json_schema":
        strict = set(schema.json_schema["required"]) == set(schema.fields)
        return {
            "type": "json_schema",
            "json_schema": {"name": f"output_{schema.name}", "schema": schema.json_schema, "strict": strict},
        }
    if request.structured == "json_object_schema":
        return {"type": "json_object", "schema": schema.json_schema}
    if request.structured == "json_object":
        return {"type": "json_object"}
    return None


def structured_body(request: ModelRequest) -> dict[str, Any]:
    """The keyword arguments of a chat completion that ask for the request's schema the way its mode says."""
    format_ = response_format(request)
    if format_ is not None:
        return {"response_format": format_}
    if request.schema is not None and request.structured == "guided_json":
        return {"extra_body": {"guided_json": request.schema.json_schema}}
    return {}


OLLAMA_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "max_tokens": "num_predict",
    "stop": "stop",
}
"""Sampling parameters as Ollama's native chat API names them (under `options`); others are not sent there."""


class ServerRejection(Exception):
    """An error answer of a server's native endpoint: its status and body (`moot.agents.retry.classify` reads both)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def native_root(base_url: str | None) -> str:
    """The server's root URL: its OpenAI base URL without the trailing `/v1` (Ollama's native API is beside it)."""
    root = (base_url or "").rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


class OpenAIChatClient:
    """A `ModelClient` on one OpenAI-style server, through the `openai` SDK.

    A request in `ollama_format` mode goes to the server's native `/api/chat` with the schema as its
    `format` (Ollama enforces it there, whatever its OpenAI endpoint does with `response_format`).
    """

    def __init__(self, model: str, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self.base_url = base_url
        # A server that takes no key still needs one from the SDK: any text will do.
        self._client = AsyncOpenAI(api_key=api_key or "none", base_url=base_url, timeout=timeout_s, max_retries=0)
        self._api_key = api_key
        self._timeout_s = timeout_s

    async def complete(self, request: ModelRequest) -> ModelResult:
        """One chat completion: the reply text, its finish reason and the server's usage record."""
        if request.structured == "ollama_format" and request.schema is not None:
            return await self._complete_native_ollama(request)
        completion = await self._client.chat.completions.create(
            model=self.model,
            messages=request.messages,  # type: ignore[arg-type]  # the SDK's typed messages are such dicts
            **request.params,
            **structured_body(request),
        )
        choice = completion.choices[0]
        usage = completion.usage
        details = usage.prompt_tokens_details if usage is not None else None
        return ModelResult(
            text=choice.message.content or "",
            finish_reason=FINISH_REASONS.get((choice.finish_reason or "").lower(), "unknown"),
            tokens_in=(usage.prompt_tokens or 0) if usage is not None else 0,
            tokens_out=(usage.completion_tokens or 0) if usage is not None else 0,
            tokens_cached_in=details.cached_tokens if details is not None else None,
            usage=usage.model_dump(mode="json", exclude_unset=True) if usage is not None else None,
        )

    async def _complete_native_ollama(self, request: ModelRequest) -> ModelResult:
        """One reply from Ollama's native chat API, the schema sent as `format`."""
        import httpx

        assert request.schema is not None
        options = {OLLAMA_OPTIONS[k]: v for k, v in request.params.items() if k in OLLAMA_OPTIONS}
        body = {
            "model": self.model,
            "messages": request.messages,
            "stream": False,
            "format": request.schema.json_schema,
            "options": options,
        }
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        async with httpx.AsyncClient(timeout=self._timeout_s) as http:
            response = await http.post(f"{native_root(self.base_url)}/api/chat", json=body, headers=headers)
        if response.status_code >= 400:
            raise ServerRejection(response.status_code, f"/api/chat: {response.text[:500]}")
        data = response.json()
        prompt_tokens, completion_tokens = data.get("prompt_eval_count") or 0, data.get("eval_count") or 0
        return ModelResult(
            text=(data.get("message") or {}).get("content") or "",
            finish_reason=FINISH_REASONS.get(str(data.get("done_reason") or "").lower(), "unknown"),
            tokens_in=prompt_tokens,
            tokens_out=completion_tokens,
            usage={"prompt_eval_count": prompt_tokens, "eval_count": completion_tokens},
        )

    async def close(self) -> None:
        """Close the SDK's connections."""
        await self._client.close()


def create_openai_style_client(ref: ModelRef, settings: ProviderSettings, endpoint: Endpoint) -> ModelClient:
    """The client of an OpenAI-style model: one server's, or a balanced one over several base URLs."""
    urls, key = endpoint.resolve(ref, settings)
    if len(urls) > 1:
        return BalancedClient({url: OpenAIChatClient(ref.model, key, url, settings.timeout_s) for url in urls})
    return OpenAIChatClient(ref.model, key, urls[0] if urls else None, settings.timeout_s)


ENDPOINT = Endpoint(key_env="OPENAI_API_KEY", base_url_env="OPENAI_BASE_URL")
"""OpenAI's API: a key is needed; the SDK's default URL unless one is given."""


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> ModelClient:
    return create_openai_style_client(ref, settings, ENDPOINT)


PROVIDER = ProviderRecord(
    name="openai",
    create_client=_create_client,
    structured="json_schema",
    extra="openai",
    modules=("openai",),
    endpoint=ENDPOINT,
)
"""`openai:MODEL`, OpenAI's hosted models."""
