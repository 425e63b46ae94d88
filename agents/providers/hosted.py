"""Hosted and self-hosted providers through AutoGen's clients: OpenAI, OpenAI-compatible, Anthropic.

Keys are read from the environment only. The clients' own retries are switched off: moot's
gateway retries, so that every retry is counted in the trace. An OpenAI-style model given
several base URLs gets a `BalancedClient`, which spreads its requests over them
(`moot.agents.providers.balancer`).
"""

from __future__ import annotations

import os
from typing import Any

from autogen_core.models import ChatCompletionClient, ModelFamily, ModelInfo

from moot.agents.providers.balancer import BalancedClient
from moot.errors import UserError
from moot.protocols.spec import ProviderSettings, base_url_problem

GENERIC_INFO = ModelInfo(
    vision=False, function_calling=True, json_output=True, structured_output=True, family=ModelFamily.UNKNOWN
)

DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "openai-compatible": "OPENAI_COMPATIBLE_API_KEY"}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL", "openai-compatible": "MOOT_OPENAI_COMPATIBLE_BASE_URL"}


def api_key(provider: str, settings: ProviderSettings, required: bool) -> str | None:
    """The provider's key from the environment; a UserError naming the variable when it is required and unset."""
    variable = settings.api_key_env or DEFAULT_KEY_ENV[provider]
    key = os.environ.get(variable)
    if not key and required:
        raise UserError(f"provider '{provider}' needs an API key in the environment variable {variable}")
    return key or None


def base_urls(provider: str, settings: ProviderSettings) -> list[str]:
    """The base URLs from the settings, else from the environment (comma-separated); [] for none.

    A UserError names the variable when one of its URLs is not an http(s) URL with a host (the
    spec's URLs are checked when it is validated).
    """
    if settings.base_url:
        return [settings.base_url] if isinstance(settings.base_url, str) else list(settings.base_url)
    variable = BASE_URL_ENV[provider]
    urls = [url.strip() for url in os.environ.get(variable, "").split(",") if url.strip()]
    for url in urls:
        problem = base_url_problem(url)
        if problem:
            raise UserError(f"environment variable {variable}: base URL {url!r} {problem}")
    return urls


def check_settings(provider: str, model: str, settings: ProviderSettings) -> tuple[list[str], str | None]:
    """The base URLs and key of a hosted provider; a UserError when one it needs is missing."""
    urls = base_urls(provider, settings)
    if provider == "openai-compatible" and not urls:
        raise UserError(
            f"model 'openai-compatible:{model}' needs a base URL: set providers.openai-compatible.base_url "
            f"in the spec or the environment variable {BASE_URL_ENV[provider]}"
        )
    if provider == "anthropic" and len(urls) > 1:
        raise UserError(f"provider 'anthropic' takes one base URL, not {len(urls)}: load balancing is for OpenAI-style servers")
    return urls, api_key(provider, settings, required=provider in ("openai", "anthropic"))


def _info(lookup: Any, model: str) -> ModelInfo:
    try:
        return lookup(model)
    except (KeyError, ValueError):
        return GENERIC_INFO


def create_openai(provider: str, model: str, settings: ProviderSettings) -> ChatCompletionClient:
    """An OpenAIChatCompletionClient for `openai:` or `openai-compatible:` models."""
    from autogen_ext.models.openai import OpenAIChatCompletionClient
    from autogen_ext.models.openai._model_info import get_info

    urls, key = check_settings(provider, model, settings)
    info = GENERIC_INFO if provider == "openai-compatible" else _info(get_info, model)

    def client(url: str | None) -> ChatCompletionClient:
        return OpenAIChatCompletionClient(
            model=model,
            api_key=key or "none",
            base_url=url,
            timeout=settings.timeout_s,
            max_retries=0,
            model_info=info,
        )

    if len(urls) > 1:
        return BalancedClient({url: client(url) for url in urls})
    return client(urls[0] if urls else None)


def create_anthropic(model: str, settings: ProviderSettings) -> ChatCompletionClient:
    """An AnthropicChatCompletionClient."""
    from autogen_ext.models.anthropic import AnthropicChatCompletionClient
    from autogen_ext.models.anthropic._model_info import get_info

    urls, key = check_settings("anthropic", model, settings)
    kwargs: dict[str, Any] = {
        "model": model,
        "api_key": key,
        "timeout": settings.timeout_s,
        "max_retries": 0,
        "model_info": _info(get_info, model),
    }
    if urls:
        kwargs["base_url"] = urls[0]
    client = AnthropicChatCompletionClient(**kwargs)
    _route_sampling_args_via_extra_body(client)
    return client


ANTHROPIC_SAMPLING_ARGS = ("temperature", "top_p", "top_k")


def _route_sampling_args_via_extra_body(client: Any) -> None:
    """Let AutoGen's Anthropic client work with anthropic>=1.0.

    autogen-ext 0.7 passes `temperature=` to `messages.create`, which anthropic 1.0 and later
    refuse with a TypeError before any request is sent. Their migration guide passes such
    arguments in `extra_body`; the request on the wire is the same.
    """
    import inspect

    messages = client._client.messages
    create = messages.create
    accepted = set(inspect.signature(create).parameters)
    if all(arg in accepted for arg in ANTHROPIC_SAMPLING_ARGS):
        return

    async def create_compat(**create_kwargs: Any) -> Any:
        moved = {k: create_kwargs.pop(k) for k in ANTHROPIC_SAMPLING_ARGS if k in create_kwargs and k not in accepted}
        if moved:
            create_kwargs["extra_body"] = {**(create_kwargs.get("extra_body") or {}), **moved}
        return await create(**create_kwargs)

    messages.create = create_compat
