"""The conversations of an experiment: a protocol x scenarios x agent orders x repeats,
each with its own id and seed."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any, Protocol

from moot.protocols.spec import ProtocolSpec
from moot.scenarios import ScenarioSet


class Planned(Protocol):
    """What expanding an experiment needs of its compiled protocol."""

    spec: ProtocolSpec

    @property
    def default_order(self) -> tuple[str, ...]:
        """Speakers in the order the spec lists them."""
        ...


def stable_int(*parts: Any) -> int:
    """A deterministic 31-bit integer from any parts (seeds, ids)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class ConversationPlan:
    """One conversation of an experiment: a scenario, an agent order, a repeat and a seed."""

    conversation_id: str
    scenario_index: int
    order: tuple[str, ...]
    repeat: int
    seed: int


def speaker_orders(order: tuple[str, ...], mode: str) -> list[tuple[str, ...]]:
    """The agent orders an experiment runs: the given one, every rotation, or every permutation."""
    if mode == "permutations":
        return list(itertools.permutations(order))
    if mode == "rotations":
        return [order[i:] + order[:i] for i in range(len(order))]
    return [order]


def expand(protocol: Planned, scenarios: ScenarioSet, seed: int) -> list[ConversationPlan]:
    """Every conversation of the experiment, with a deterministic id and seed."""
    plans = []
    for index, scenario in enumerate(scenarios.scenarios):
        for order in speaker_orders(protocol.default_order, protocol.spec.orders):
            for repeat in range(protocol.spec.repeats):
                key = (protocol.spec.name, scenario.id, ">".join(order), repeat, seed)
                conversation_id = "c" + hashlib.sha256("|".join(map(str, key)).encode("utf-8")).hexdigest()[:12]
                plans.append(ConversationPlan(conversation_id, index, order, repeat, stable_int(*key)))
    return plans
