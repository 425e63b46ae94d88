"""What moot knows about one model provider: its `ProviderRecord`.

Each provider module defines one record, `PROVIDER`, and the registry (`moot.agents.registry`)
lists the module. Everything that asks about a provider (the spec checks, the pool, the gateway,
the cluster executor) reads its record. A provider reached over the network has an `Endpoint`:
where its key and base URLs come from, and which of them it needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from moot.agents.requests import ModelClient, StructuredMode
from moot.errors import UserError
from moot.protocols.spec import AgentSpec, ProviderSettings, base_url_problem


@dataclass(frozen=True)
class ModelRef:
    """A parsed model name."""

    provider: str
    model: str

    @property
    def name(self) -> str:
        """The canonical `provider:model` text (`provider` alone when the model part is empty)."""
        return f"{self.provider}:{self.model}" if self.model else self.provider


@dataclass(frozen=True)
class Endpoint:
    """How a provider is reached over the network. Keys come from the environment only."""

    key_env: str
    """The environment variable that holds its key, unless the spec's `api_key_env` names another."""
    base_url_env: str
    """The environment variable of its base URLs (comma-separated), used when the spec gives none."""
    key_required: bool = True
    """Whether a call cannot go without a key."""
    needs_base_url: bool = False
    """Whether there is no default base URL (a self-hosted server)."""
    balanced: bool = True
    """Whether it takes several base URLs of servers of the same model."""

    def key_variable(self, settings: ProviderSettings) -> str:
        """The variable that holds the key: the spec's `api_key_env`, else the provider's own."""
        return settings.api_key_env or self.key_env

    def api_key(self, provider: str, settings: ProviderSettings) -> str | None:
        """The key from the environment; a UserError naming the variable when it is required and unset."""
        variable = self.key_variable(settings)
        key = os.environ.get(variable)
        if not key and self.key_required:
            raise UserError(f"provider '{provider}' needs an API key in the environment variable {variable}")
        return key or None

    def base_urls(self, settings: ProviderSettings) -> list[str]:
        """The base URLs from the settings, else from the environment (comma-separated); [] for none.

        A UserError names the variable when one of its URLs is not an http(s) URL with a host (the
        spec's URLs are checked when it is validated).
        """
        if settings.base_url:
            return [settings.base_url] if isinstance(settings.base_url, str) else list(settings.base_url)
        urls = [url.strip() for url in os.environ.get(self.base_url_env, "").split(",") if url.strip()]
        for url in urls:
            problem = base_url_problem(url)
            if problem:
                raise UserError(f"environment variable {self.base_url_env}: base URL {url!r} {problem}")
        return urls

    def resolve(self, ref: ModelRef, settings: ProviderSettings) -> tuple[list[str], str | None]:
        """The base URLs and key of a model; a UserError when one it needs is missing."""
        urls = self.base_urls(settings)
        if self.needs_base_url and not urls:
            raise UserError(
                f"model '{ref.name}' needs a base URL: set providers.{ref.provider}.base_url "
                f"in the spec or the environment variable {self.base_url_env}"
            )
        if not self.balanced and len(urls) > 1:
            balancing = "load balancing is for OpenAI-style servers"
            raise UserError(f"provider '{ref.provider}' takes one base URL, not {len(urls)}: {balancing}")
        return urls, self.api_key(ref.provider, settings)


ClientFactory = Callable[[ModelRef, ProviderSettings, AgentSpec], ModelClient]
"""Builds the client of a checked model for an agent, with the spec's settings of its provider."""


@dataclass(frozen=True)
class ProviderRecord:
    """One provider: how its names are checked, how its client is made, and how it is to be treated."""

    name: str
    """What comes before the colon of a model name."""
    create_client: ClientFactory
    """Builds a model's client (imports the provider's SDK or engine; nothing else does)."""
    structured: StructuredMode
    """The strongest way this provider offers to get schema-valid replies (what `structured_output: auto` means,
    unless it has `auto_modes`)."""
    auto_modes: tuple[StructuredMode, ...] = ()
    """For a provider whose servers differ in how they take a schema: the modes `structured_output: auto` tries,
    in order, moving to the next when a server rejects one (`moot.agents.negotiation`)."""
    extra: str | None = None
    """The pip extra that installs its dependencies."""
    modules: tuple[str, ...] = ()
    """Modules that must be importable (looked up, not imported, by the checks)."""
    needs_model: bool = True
    """Whether `provider:` must be followed by a model name."""
    check_model: Callable[[ModelRef], None] | None = None
    """Checks the model part of a name (a file, a run directory, a registered responder), raising a UserError."""
    check_agent: Callable[[ModelRef, AgentSpec], None] | None = None
    """Checks that depend on the agent using the model (its script, its parameters), raising a UserError."""
    endpoint: Endpoint | None = None
    """How it is reached over the network; None for a provider that runs in-process."""
    unsupported_params: frozenset[str] = frozenset()
    """Sampling parameters its API refuses (left out of the request, kept in the cache key)."""
    cacheable: bool = True
    """Whether its replies are cached (scripted, simulated and replayed ones are not)."""
    per_agent: bool = False
    """Whether each agent gets a client of its own (built from the agent's script or parameters)."""
    listed: bool = True
    """Whether error messages list it among the known providers (`replay` is made by `moot replay`)."""
    max_concurrency: Callable[[], int] | None = None
    """A hard cap on requests in flight, read when a run starts (the local model serves `engine_count()` at a time)."""

    @property
    def in_process(self) -> bool:
        """Whether it runs in the worker's process (no limiter shared over a cluster): it has no endpoint."""
        return self.endpoint is None

    def check_settings(self, ref: ModelRef, settings: ProviderSettings) -> None:
        """Check that a remote provider's base URLs and key are there (nothing to check in-process)."""
        if self.endpoint is not None:
            self.endpoint.resolve(ref, settings)
