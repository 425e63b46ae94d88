"""The `anthropic` provider: Anthropic's messages API, through the `anthropic` SDK.

`AnthropicMessagesClient` sends a request with `AsyncAnthropic(...).messages.create`, its own
retries switched off (moot's gateway retries). The API enforces no schema: the agent writes the
schema into the system prompt (`instructions`). Its system prompt goes apart from the messages,
and it takes no `seed` (left out by the gateway). Sampling arguments (`temperature`, `top_p`,
`top_k`) travel in `extra_body`: anthropic>=1.0 takes them no longer as arguments, and the
request on the wire is the same. The usage record comes back as the server sent it, prompt-cache
reads and writes (`cache_read_input_tokens`, `cache_creation_input_tokens`) included; Anthropic
counts cached prompt tokens apart from its `input_tokens`.

The SDK is imported when a client is built, never when the provider is named.
"""

from __future__ import annotations

from typing import Any

from moot.agents.providers.record import Endpoint, ModelRef, ProviderRecord
from moot.agents.requests import ModelRequest, ModelResult
from moot.protocols.spec import AgentSpec, ProviderSettings

SAMPLING_ARGS = ("temperature", "top_p", "top_k")
"""Sampling parameters sent in `extra_body`."""
DEFAULT_MAX_TOKENS = 4096
"""`max_tokens` when the request sets none (the API needs one)."""
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "function_calls"}
"""Anthropic's stop reasons as moot records them (any other: `unknown`)."""


def _text(content: str) -> str:
    """The API refuses an empty text: a space stands in for it."""
    return content if content else " "


def split_system(messages: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """The system prompt (system messages joined by newlines) and the other messages, as the API takes them."""
    system = "\n".join(m["content"] for m in messages if m["role"] == "system").rstrip()
    chat = [{"role": m["role"], "content": _text(m["content"])} for m in messages if m["role"] != "system"]
    return system, chat


class AnthropicMessagesClient:
    """A `ModelClient` on Anthropic's messages API."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        from anthropic import AsyncAnthropic

        self.model = model
        self._client = AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)

    async def complete(self, request: ModelRequest) -> ModelResult:
        """One message: the reply's text blocks, its stop reason and the server's usage record."""
        system, chat = split_system(request.messages)
        params = dict(request.params)
        sampling = {name: params.pop(name) for name in SAMPLING_ARGS if name in params}
        args: dict[str, Any] = {
            "model": self.model,
            "messages": chat,
            "max_tokens": params.get("max_tokens", DEFAULT_MAX_TOKENS),
        }
        if system:
            args["system"] = system
        if sampling:
            args["extra_body"] = sampling
        message = await self._client.messages.create(**args)
        usage = message.usage
        return ModelResult(
            text="".join(getattr(block, "text", "") for block in message.content if block.type == "text"),
            finish_reason=STOP_REASONS.get((message.stop_reason or "").lower(), "unknown"),
            tokens_in=usage.input_tokens,
            tokens_out=usage.output_tokens,
            tokens_cached_in=usage.cache_read_input_tokens,
            usage=usage.model_dump(mode="json", exclude_unset=True),
        )

    async def close(self) -> None:
        """Close the SDK's connections."""
        await self._client.close()


ENDPOINT = Endpoint(key_env="ANTHROPIC_API_KEY", base_url_env="ANTHROPIC_BASE_URL", balanced=False)
"""Anthropic's API: a key is needed; one base URL at most."""


def _create_client(ref: ModelRef, settings: ProviderSettings, agent: AgentSpec) -> AnthropicMessagesClient:
    urls, key = ENDPOINT.resolve(ref, settings)
    return AnthropicMessagesClient(ref.model, key, urls[0] if urls else None, settings.timeout_s)


PROVIDER = ProviderRecord(
    name="anthropic",
    create_client=_create_client,
    structured="instructions",
    extra="anthropic",
    modules=("anthropic",),
    endpoint=ENDPOINT,
    unsupported_params=frozenset({"seed"}),
)
"""`anthropic:MODEL`, Anthropic's hosted models."""
