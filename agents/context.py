"""The call context: which run, conversation, round and agent a model call is made for.

The node adapter sets it around each turn; providers that need it (the scripted one) read it,
so that model clients keep AutoGen's `ChatCompletionClient` interface unchanged.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallContext:
    """Where a model call comes from."""

    conversation_id: str
    scenario_id: str
    round: int
    agent: str
    role: str
    attempt: int = 0
    visible: tuple[dict[str, Any], ...] = ()
    """The transcript messages the agent was shown (`id`, `round`, `agent`, `role`, `parsed`), for
    providers that simulate an agent from what it saw rather than from prompt text."""


current_call: ContextVar[CallContext | None] = ContextVar("moot_current_call", default=None)
"""The context of the model call being made in this task, if any."""
