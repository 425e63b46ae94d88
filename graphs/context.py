"""Per-conversation runtime context handed to every node (LangGraph `context`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moot.agents.gateway import ModelGateway
from moot.graphs.turns import RoundPlan
from moot.scenarios import Scenario
from moot.trace.events import Event


@dataclass
class ConversationContext:
    """Everything a node needs besides the graph state: ids, scenario, models, the trace."""

    run_id: str
    conversation_id: str
    scenario: Scenario
    order: tuple[str, ...]
    repeat: int
    seed: int
    plan: RoundPlan
    gateways: dict[str, ModelGateway]
    """Gateway of each agent's model, by agent name."""
    agent_seeds: dict[str, int]
    """Sampling seed of each agent in this conversation."""
    emit: Callable[[Event], Event]
    """Append an event to the run's trace."""

    def ids(self, round: int, agent: str | None = None) -> dict[str, Any]:
        """The identifying fields every event of this conversation carries."""
        return {
            "run_id": self.run_id,
            "conversation_id": self.conversation_id,
            "scenario_id": self.scenario.id,
            "round": round,
            "agent": agent,
        }


class ConversationFailed(Exception):
    """A conversation cannot go on (a model failed after its retries, a prompt failed to render)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
