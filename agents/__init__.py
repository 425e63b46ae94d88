"""Agents and models: the AutoGen agent of every role, the model registry, providers,
the gateway (cache, limits, retries).

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.agents.cache import ResponseCache, check_cache_file, default_cache_path
    from moot.agents.context import CallContext
    from moot.agents.gateway import ModelGateway, ModelReply
    from moot.agents.limits import ProviderLimiter
    from moot.agents.pool import ModelPool
    from moot.agents.protocol_agent import ProtocolAgent, TurnResult
    from moot.agents.registry import ModelRef, check_model, create_client, parse_model_name
    from moot.agents.retry import RetryPolicy
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.agents.cache": ("ResponseCache", "check_cache_file", "default_cache_path"),
            "moot.agents.context": ("CallContext",),
            "moot.agents.gateway": ("ModelGateway", "ModelReply"),
            "moot.agents.limits": ("ProviderLimiter",),
            "moot.agents.pool": ("ModelPool",),
            "moot.agents.protocol_agent": ("ProtocolAgent", "TurnResult"),
            "moot.agents.registry": ("ModelRef", "check_model", "create_client", "parse_model_name"),
            "moot.agents.retry": ("RetryPolicy",),
        },
    )

__all__ = [
    "CallContext",
    "ModelGateway",
    "ModelPool",
    "ModelRef",
    "ModelReply",
    "ProtocolAgent",
    "ProviderLimiter",
    "ResponseCache",
    "RetryPolicy",
    "TurnResult",
    "check_cache_file",
    "check_model",
    "create_client",
    "default_cache_path",
    "parse_model_name",
]
