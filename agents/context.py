"""The caller of a model call: which conversation, round and agent it is made for, and what the agent was shown.

The agent puts it in every `ModelRequest` (`moot.agents.requests`); the providers that answer from
it rather than from the prompt text (scripted, simulated, replay) read it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallContext:
    """Where a model call comes from (the defaults: a call made outside any conversation, as tests make them)."""

    conversation_id: str = ""
    scenario_id: str = ""
    round: int = 1
    agent: str = ""
    role: str = ""
    attempt: int = 0
    """0 for the first ask of a turn, 1.. for the re-asks after an invalid reply."""
    visible: tuple[dict[str, Any], ...] = ()
    """The transcript messages the agent was shown (`id`, `round`, `agent`, `role`, `parsed`), for
    providers that simulate an agent from what it saw rather than from prompt text."""
