"""The inertia/conformity model's data: verdict observations from a trace, and the design the fit works on.

A verdict observation (`VerdictObservation`) is one verdict of one debater with what it had been
shown. Its `model` key names the *player* whose baseline (and, in the per-player form, whose slopes)
the verdict informs: `<agent>|<model>` as read from a trace, or the player name of the run's arms
(`moot.analysis.arms`) when they are given. The design turns observations into index arrays and
the feature of each slope column for each candidate verdict, and says which columns the data
cannot identify and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy import sparse

from moot.agents.providers.debate_model import ShownMessage, VerdictObservation, seen_verdicts, verdict_shares
from moot.analysis.arms import ArmTable
from moot.trace.events import Event, MessageAdded, parse_event
from moot.trace.reading import effective_events

__all__ = [
    "POOLED",
    "SLOPES",
    "Column",
    "Design",
    "SlopeForm",
    "build_design",
    "choice_features",
    "observations_from_events",
]

SLOPES: tuple[str, ...] = ("inertia", "conformity", "conformity_within")
"""The three slopes of the model, in the order of the feature axis."""
POOLED = "all"
"""The player of a slope shared by every player (the pooled form)."""

SlopeForm = Literal["player", "pooled"]
"""Slopes per player (the paper's model) or one of each slope shared by every player."""


# --- observations from a trace --------------------------------------------------------------


def _parse_message_id(message_id: str) -> tuple[int, str] | None:
    """`r<round>:<agent>` as (round, agent); None for anything else."""
    head, sep, agent = message_id.partition(":")
    if not sep or not head.startswith("r") or not head[1:].isdigit():
        return None
    return int(head[1:]), agent


def observations_from_events(
    events: Iterable[Event | dict[str, Any]], arms: ArmTable | None = None
) -> list[VerdictObservation]:
    """Every parsed speaker verdict of a run, with what its agent had been shown (in trace order).

    What an agent saw comes from its `turn_started.visible` ids; a shown message's verdict is
    its `message_added.parsed["verdict"]`. Unparsed messages are never outcomes and count as
    nothing seen. The model key is the agent's player in `arms` (`ConversationArm.players()`)
    when the conversation is there, else `<agent>|<model>` from the agent's `model_call` events.
    Judge events, and events superseded by a resume, are ignored.
    """
    visible: dict[tuple[str, int, str], list[str]] = {}
    verdicts: dict[tuple[str, str], str | None] = {}
    models: dict[tuple[str, str], str] = {}
    messages: list[tuple[MessageAdded, str]] = []
    for event in effective_events(parse_event(raw) if isinstance(raw, dict) else raw for raw in events):
        agent = event.agent
        if agent is None:
            # Only conversation-level events lack an agent; a speaker's turn, call and message name theirs.
            continue
        if event.event == "turn_started":
            visible[(event.conversation_id, event.round, agent)] = list(event.visible)
        elif event.event == "model_call":
            models.setdefault((event.conversation_id, agent), event.model)
        elif event.event == "message_added":
            verdict = (event.parsed or {}).get("verdict")
            verdicts[(event.conversation_id, f"r{event.round}:{agent}")] = verdict if isinstance(verdict, str) else None
            messages.append((event, agent))
    players: dict[str, dict[str, str]] = {}
    observations = []
    for event, agent in messages:
        conversation, round_ = event.conversation_id, event.round
        verdict = verdicts[(conversation, f"r{round_}:{agent}")]
        if verdict is None:
            continue
        shown = []
        for message_id in visible.get((conversation, round_, agent), []):
            where = _parse_message_id(message_id)
            if where is not None and (conversation, message_id) in verdicts:
                shown.append(ShownMessage(where[0], where[1], verdicts[(conversation, message_id)]))
        seen = seen_verdicts(shown, agent, round_)
        if conversation not in players:
            entry = arms.get(conversation) if arms is not None else None
            players[conversation] = entry.players() if entry is not None else {}
        player = players[conversation].get(agent) or f"{agent}|{models.get((conversation, agent), '')}"
        observations.append(
            VerdictObservation(
                conversation,
                event.scenario_id,
                round_,
                agent,
                player,
                verdict,
                seen.own_previous,
                seen.seen_prev,
                seen.seen_within,
            )
        )
    return observations


# --- the design ---------------------------------------------------------------------------


def choice_features(observation: VerdictObservation, verdicts: Sequence[str]) -> np.ndarray:
    """The slope features of each candidate verdict, shape (K, 3): own-previous indicator, share_prev, share_within."""
    features = np.zeros((len(verdicts), len(SLOPES)))
    features[:, 0] = [v == observation.own_previous for v in verdicts]
    features[:, 1] = verdict_shares(observation.seen_prev, verdicts)
    features[:, 2] = verdict_shares(observation.seen_within, verdicts)
    return features


@dataclass(frozen=True)
class Column:
    """One slope parameter of the design: a slope, of one player or (pooled) of all."""

    parameter: str
    """One of `SLOPES`."""
    player: str
    """The player (`POOLED` for a slope every player shares)."""

    @property
    def key(self) -> str:
        """`inertia` for a pooled slope, `inertia[player]` for a player's."""
        return self.parameter if self.player == POOLED else f"{self.parameter}[{self.player}]"


@dataclass
class Design:
    """Observations as index arrays: choice, player, dilemma and the feature of each estimable slope column."""

    verdicts: tuple[str, ...]
    models: list[str]
    """The players (baselines are per player and verdict)."""
    dilemmas: list[str]
    choice: np.ndarray
    """(n,) index of the chosen verdict."""
    model: np.ndarray
    """(n,) index into `models`."""
    dilemma: np.ndarray
    """(n,) index into `dilemmas`."""
    features: np.ndarray
    """(n, K, S) value of each estimable column's feature for each candidate verdict."""
    active: tuple[Column, ...]
    """The estimable columns, in the order of the feature axis."""
    missing: dict[Column, str]
    """The columns the data cannot identify, each with the reason."""

    @property
    def n_params(self) -> int:
        """Baselines (M x K), dilemma effects (D x K) and estimable slopes."""
        return (len(self.models) + len(self.dilemmas)) * len(self.verdicts) + len(self.active)

    @property
    def columns(self) -> list[Column]:
        """Every column, estimable or not, in the order of the table: by slope, then by player."""
        return sorted([*self.active, *self.missing], key=lambda c: (SLOPES.index(c.parameter), c.player))

    def grouping(self, by: Literal["model", "dilemma", "dilemma_model"]) -> sparse.csr_matrix:
        """The (groups x n) indicator matrix of the observations' player, dilemma or (dilemma, player)."""
        return self._groupings[by]

    @cached_property
    def _groupings(self) -> dict[str, sparse.csr_matrix]:
        n, M = len(self.choice), len(self.models)
        rows = {
            "model": (self.model, M),
            "dilemma": (self.dilemma, len(self.dilemmas)),
            "dilemma_model": (self.dilemma * M + self.model, len(self.dilemmas) * M),
        }
        ones = np.ones(n)
        return {
            name: sparse.csr_matrix((ones, (index, np.arange(n))), shape=(groups, n))
            for name, (index, groups) in rows.items()
        }

    def dilemmas_informing(self, column: int) -> int:
        """How many dilemmas have an observation where the column's feature is not zero."""
        informative = np.any(self.features[:, :, column] != 0, axis=1)
        return len(np.unique(self.dilemma[informative]))


def _not_identified_reason(parameter: str, observations: Sequence[VerdictObservation]) -> str:
    """Why a slope's feature is zero in all of a player's (or every) observation."""
    if parameter == "conformity_within":
        return "not estimable: never shown another's verdict from the same round (synchronous turns, or always first)"
    if not any(o.round > 1 for o in observations):
        return "not estimable: no verdict after round 1"
    if parameter == "inertia":
        return "not estimable: never shown its own previous verdict"
    return "not estimable: never shown another's verdict from an earlier round"


def build_design(
    observations: Sequence[VerdictObservation], verdicts: Sequence[str], slopes: SlopeForm = "pooled"
) -> Design:
    """The design of a fit: slopes per player (`player`) or shared (`pooled`); raises ValueError on unusable input."""
    verdicts = tuple(verdicts)
    if len(verdicts) < 2:
        raise ValueError("the fit needs at least two verdicts")
    if not observations:
        raise ValueError("no observations to fit")
    if slopes not in ("player", "pooled"):
        raise ValueError(f"slopes must be 'player' or 'pooled', not {slopes!r}")
    position = {v: i for i, v in enumerate(verdicts)}
    unknown = sorted({o.verdict for o in observations} - set(position))
    if unknown:
        raise ValueError(f"observed verdict '{unknown[0]}' is not among the verdicts {list(verdicts)}")
    models = sorted({o.model for o in observations})
    dilemmas = sorted({o.dilemma for o in observations})
    model_index = {m: i for i, m in enumerate(models)}
    dilemma_index = {d: i for i, d in enumerate(dilemmas)}
    model = np.array([model_index[o.model] for o in observations])
    base = np.stack([choice_features(obs, verdicts) for obs in observations])
    groups = models if slopes == "player" else [POOLED]
    columns: list[tuple[Column, np.ndarray]] = []
    missing: dict[Column, str] = {}
    for s, parameter in enumerate(SLOPES):
        for g, player in enumerate(groups):
            mine = model == g if slopes == "player" else np.ones(len(observations), dtype=bool)
            feature = np.where(mine[:, None], base[:, :, s], 0.0)
            column = Column(parameter, player)
            if np.any(feature != 0):
                columns.append((column, feature))
            else:
                missing[column] = _not_identified_reason(
                    parameter, [o for o, m in zip(observations, mine, strict=True) if m]
                )
    features = np.stack([f for _, f in columns], axis=2) if columns else np.zeros((len(observations), len(verdicts), 0))
    return Design(
        verdicts=verdicts,
        models=models,
        dilemmas=dilemmas,
        choice=np.array([position[o.verdict] for o in observations]),
        model=model,
        dilemma=np.array([dilemma_index[o.dilemma] for o in observations]),
        features=np.ascontiguousarray(features),
        active=tuple(c for c, _ in columns),
        missing=missing,
    )
