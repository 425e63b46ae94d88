"""The models of a run: one client per model, one limiter per provider, one shared cache.

With a matrix, the pool covers every arm: each arm's agents get their gateways from the arm's
spec, and the keys and prices are those of every arm's models.

The pool also knows the run's keys (`secrets`): its gateways keep a reply that quotes one out of
the cache, and the run's trace writer redacts them (`moot.trace.redaction`). A key shorter than
8 characters is announced with one warning line on stderr when the pool is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from moot.agents.cache import ResponseCache
from moot.agents.gateway import ModelGateway
from moot.agents.limits import Limiter, ProviderLimiter
from moot.agents.negotiation import StructuredNegotiation, negotiation_key
from moot.agents.registry import create_client, parse_model_name, provider_record
from moot.agents.requests import StructuredMode
from moot.agents.retry import RetryPolicy
from moot.protocols.matrix import arm_specs
from moot.protocols.spec import AgentSpec, ProtocolSpec, ProviderSettings
from moot.trace.redaction import Redactor, warn_short_keys

LimiterFactory = Callable[[str, int, "float | None"], Limiter]
"""Builds the limiter of a provider from (provider, max requests in flight, requests per minute)."""


class ModelPool:
    """Builds and shares the gateways of a run. Create it inside the run's event loop.

    By default each provider's limits hold within this process; `limiters` replaces that (a
    cluster executor passes limiters shared by every worker of the cluster).
    """

    def __init__(
        self,
        spec: ProtocolSpec,
        cache: ResponseCache | None,
        limiters: LimiterFactory | None = None,
        structured_found: dict[str, str] | None = None,
    ) -> None:
        """`structured_found`: the structured-output mode each server was found to take earlier in the run
        (`negotiation_key` -> mode), so that a resumed run does not find it out again."""
        self.spec = spec
        self.arms = arm_specs(spec)
        """The spec of every arm of the spec's matrix (the spec alone without one)."""
        self.structured_found = dict(structured_found or {})
        self.cache = cache
        self._make_limiter: LimiterFactory = limiters or (
            lambda provider, concurrency, rpm: ProviderLimiter(concurrency, rpm)
        )
        self._limiters: dict[str, Limiter] = {}
        self._gateways: dict[tuple[str, str, str], ModelGateway] = {}
        keys = self.key_variables()
        self.redactor = Redactor(keys.values())
        """The run's keys, as every gateway of the pool looks for them in replies."""
        warn_short_keys(keys)

    def settings(self, provider: str, spec: ProtocolSpec | None = None) -> ProviderSettings:
        """The settings of a provider in `spec` (default: the pool's spec); defaults when it gives none."""
        return (spec or self.spec).providers.get(provider) or ProviderSettings()

    def limiter(self, provider: str) -> Limiter:
        """The limiter shared by every model of a provider."""
        if provider not in self._limiters:
            settings = self.settings(provider)
            cap_of = provider_record(provider).max_concurrency
            cap = cap_of() if cap_of is not None else None
            concurrency = min(settings.max_concurrency, cap) if cap else settings.max_concurrency
            self._limiters[provider] = self._make_limiter(provider, concurrency, settings.requests_per_minute)
        return self._limiters[provider]

    def gateway(self, agent: AgentSpec, spec: ProtocolSpec | None = None) -> ModelGateway:
        """The gateway of an agent's model as `spec` gives it (default: the pool's spec; a matrix arm's spec for an
        agent of that arm). Scripted and simulated models get one per agent spec: the script or parameters are the
        agent's, and may differ between arms."""
        spec = spec or self.spec
        ref = parse_model_name(spec.model_of(agent))
        provider = provider_record(ref.provider)
        settings = self.settings(ref.provider, spec)
        key = (ref.name, agent.model_dump_json() if provider.per_agent else "", settings.model_dump_json())
        if key not in self._gateways:
            structured: StructuredMode = settings.structured_output
            negotiation = None
            if structured == "auto" and provider.auto_modes and provider.endpoint is not None:
                server = ", ".join(provider.endpoint.base_urls(settings))
                found = self.structured_found.get(negotiation_key(ref.name, server))
                negotiation = StructuredNegotiation(
                    ref.name, server, provider.auto_modes, found=found if found in provider.auto_modes else None
                )
            elif structured == "auto":
                structured = provider.structured
            self._gateways[key] = ModelGateway(
                ref,
                create_client(ref, settings, agent),
                self.limiter(ref.provider),
                structured,
                cache=self.cache if provider.cacheable else None,
                policy=RetryPolicy.from_settings(settings),
                timeout_s=settings.timeout_s,
                redactor=self.redactor,
                negotiation=negotiation,
            )
        return self._gateways[key]

    def key_variables(self) -> dict[str, str]:
        """The run's API keys by the environment variable that holds each (variables that are unset or empty left out).

        The variables are those of the remote providers the agents of every arm use (the spec's
        `api_key_env`, else the provider's own) and every `api_key_env` under the specs' `providers`.
        """
        variables = []
        for spec in self.arms:
            for agent in spec.agents:
                provider = parse_model_name(spec.model_of(agent)).provider
                endpoint = provider_record(provider).endpoint
                if endpoint is not None:
                    variables.append(endpoint.key_variable(self.settings(provider, spec)))
            variables += [settings.api_key_env for settings in spec.providers.values() if settings.api_key_env]
        return {variable: os.environ[variable] for variable in dict.fromkeys(variables) if os.environ.get(variable)}

    def secrets(self) -> list[str]:
        """API keys in use, to be redacted from everything the run writes."""
        return list(dict.fromkeys(self.key_variables().values()))

    def prices(self) -> dict[str, tuple[float, float]]:
        """Price per 1k tokens in and out of each model (of every arm) whose provider has a price."""
        return model_prices(self.spec)

    async def close(self) -> None:
        """Close every client."""
        for gateway in self._gateways.values():
            await gateway.client.close()


def model_prices(spec: ProtocolSpec) -> dict[str, tuple[float, float]]:
    """Price per 1k tokens in and out of each model of a spec (of every arm) whose provider has a price."""
    out = {}
    for arm in arm_specs(spec):
        for agent in arm.agents:
            ref = parse_model_name(arm.model_of(agent))
            settings = arm.providers.get(ref.provider) or ProviderSettings()
            if settings.price_per_1k_in is not None and settings.price_per_1k_out is not None:
                out[ref.name] = (settings.price_per_1k_in, settings.price_per_1k_out)
    return out
