"""Model providers, one module each with its record (`moot.agents.providers.record`): the embedded llama.cpp model,
the hosted APIs on their SDKs, scripted, simulated and replayed replies.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.agents.providers.balancer import BalancedClient
    from moot.agents.providers.local import LlamaCppClient
    from moot.agents.providers.record import Endpoint, ModelRef, ProviderRecord
    from moot.agents.providers.replay import ReplayClient
    from moot.agents.providers.scripted import ScriptedClient, register_responder
    from moot.agents.providers.simulated import SimulatedClient
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.agents.providers.balancer": ("BalancedClient",),
            "moot.agents.providers.local": ("LlamaCppClient",),
            "moot.agents.providers.record": ("Endpoint", "ModelRef", "ProviderRecord"),
            "moot.agents.providers.replay": ("ReplayClient",),
            "moot.agents.providers.scripted": ("ScriptedClient", "register_responder"),
            "moot.agents.providers.simulated": ("SimulatedClient",),
        },
    )

__all__ = [
    "BalancedClient",
    "Endpoint",
    "LlamaCppClient",
    "ModelRef",
    "ProviderRecord",
    "ReplayClient",
    "ScriptedClient",
    "SimulatedClient",
    "register_responder",
]
