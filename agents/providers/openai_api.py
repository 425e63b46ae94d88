"""The `openai` provider, and the client of every OpenAI-style server: the `openai` SDK's chat completions.

`OpenAIChatClient` sends a request with `AsyncOpenAI(...).chat.completions.create`, its own retries
switched off (moot's gateway retries, so that every retry is counted in the trace), and asks for
structured output with `response_format`: `json_schema` with the role's schema, or `json_object`.
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

    A schema whose every field is required is sent as `strict` (OpenAI refuses strict schemas with
    optional fields).
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
    if request.structured == "json_object":
        return {"type": "json_object"}
    return None


class OpenAIChatClient:
    """A `ModelClient` on one OpenAI-style server, through the `openai` SDK."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        from openai import AsyncOpenAI

        self.model = model
        # A server that takes no key still needs one from the SDK: any text will do.
        self._client = AsyncOpenAI(api_key=api_key or "none", base_url=base_url, timeout=timeout_s, max_retries=0)

    async def complete(self, request: ModelRequest) -> ModelResult:
        """One chat completion: the reply text, its finish reason and the server's usage record."""
        extra: dict[str, Any] = {}
        format_ = response_format(request)
        if format_ is not None:
            extra["response_format"] = format_
        completion = await self._client.chat.completions.create(
            model=self.model,
            messages=request.messages,  # type: ignore[arg-type]  # the SDK's typed messages are such dicts
            **request.params,
            **extra,
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
