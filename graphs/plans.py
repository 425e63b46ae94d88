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
    """One conversation of an experiment: a scenario, an agent order, a repeat, a seed, and its matrix arm."""

    conversation_id: str
    scenario_index: int
    order: tuple[str, ...]
    repeat: int
    seed: int
    arm: tuple[tuple[str, str], ...] | None = None
    """The matrix arm it runs in (each dimension and its level); None for a spec without a matrix."""

    @property
    def arm_label(self) -> str | None:
        """`dim=level, dim=level` of its arm; None without a matrix."""
        return arm_label(self.arm)


def arm_label(arm: tuple[tuple[str, str], ...] | None) -> str | None:
    """`dim=level, dim=level` of a matrix arm; None for no arm (a spec without a matrix)."""
    return None if arm is None else ", ".join(f"{dim}={level}" for dim, level in arm)


def speaker_orders(order: tuple[str, ...], mode: str) -> list[tuple[str, ...]]:
    """The agent orders an experiment runs: the given one, every rotation, or every permutation."""
    if mode == "permutations":
        return list(itertools.permutations(order))
    if mode == "rotations":
        return [order[i:] + order[:i] for i in range(len(order))]
    return [order]


def expand(
    protocol: Planned, scenarios: ScenarioSet, seed: int, arm: tuple[tuple[str, str], ...] | None = None
) -> list[ConversationPlan]:
    """Every conversation of the experiment (of one matrix arm, when `arm` is given), with a deterministic id and seed.

    An arm's label goes into its conversations' ids, not into their seeds: the conversations of every arm for the
    same scenario, order and repeat share their seed, so arms are compared on paired conversations. Without a
    matrix, ids and seeds are what they always were."""
    plans = []
    label = arm_label(arm)
    for index, scenario in enumerate(scenarios.scenarios):
        for order in speaker_orders(protocol.default_order, protocol.spec.orders):
            for repeat in range(protocol.spec.repeats):
                key = (protocol.spec.name, scenario.id, ">".join(order), repeat, seed)
                id_key = key if label is None else (*key, label)
                conversation_id = "c" + hashlib.sha256("|".join(map(str, id_key)).encode("utf-8")).hexdigest()[:12]
                plans.append(ConversationPlan(conversation_id, index, order, repeat, stable_int(*key), arm))
    return plans
