"""Model providers: the embedded llama.cpp model, hosted APIs through AutoGen's clients, and scripted replies for tests.

Its public names (`__all__`) are imported from their modules on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moot.lazy import lazy_exports

if TYPE_CHECKING:
    from moot.agents.providers.balancer import BalancedClient
    from moot.agents.providers.base import SimpleChatCompletionClient
    from moot.agents.providers.local import LlamaCppClient
    from moot.agents.providers.replay import ReplayClient
    from moot.agents.providers.scripted import ScriptedClient, register_responder
    from moot.agents.providers.simulated import SimulatedClient
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "moot.agents.providers.balancer": ("BalancedClient",),
            "moot.agents.providers.base": ("SimpleChatCompletionClient",),
            "moot.agents.providers.local": ("LlamaCppClient",),
            "moot.agents.providers.replay": ("ReplayClient",),
            "moot.agents.providers.scripted": ("ScriptedClient", "register_responder"),
            "moot.agents.providers.simulated": ("SimulatedClient",),
        },
    )

__all__ = [
    "BalancedClient",
    "LlamaCppClient",
    "ReplayClient",
    "ScriptedClient",
    "SimpleChatCompletionClient",
    "SimulatedClient",
    "register_responder",
]
