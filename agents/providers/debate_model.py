"""The generative model of AITA debaters: inertia, conformity and per-dilemma tastes.

A debater choosing a verdict in a round weighs each candidate verdict v by the utility

    U(v) = baseline[v] + dilemma_effect[dilemma, v] + inertia * 1[v == own previous verdict]
           + conformity * share_prev(v) + conformity_within * share_within(v)

and picks v with probability softmax(U). `share_prev(v)` is the fraction of the other agents'
verdicts it was shown from earlier rounds (each other agent's latest one) that equal v;
`share_within(v)` the same for verdicts shown from the current round (round-robin turns).

The same model drives the `simulated` provider, the pure-Python `simulate_debates`, and the
features that `moot.analysis.inertia` fits, so that a fit can be checked against known truth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

AITA_VERDICTS: tuple[str, ...] = ("NTA", "YTA", "NAH", "ESH", "INFO")
"""The five AITA verdicts, in the order the fit uses (the first is the reference category)."""


@dataclass(frozen=True)
class VerdictObservation:
    """One verdict given by one agent in one round, with what the agent had been shown."""

    conversation: str
    """Conversation id."""
    dilemma: str
    """The dilemma (scenario) the conversation is about; dilemma effects are shared across its conversations."""
    round: int
    """Round number, from 1."""
    agent: str
    """Agent name."""
    model: str
    """Agent-model key, `<agent>|<model>` (e.g. `alice|local`): baselines are fitted per key."""
    verdict: str
    """The verdict the agent gave."""
    own_previous: str | None
    """The agent's own verdict of the previous round as it was shown to it; None in round 1 or if unparsed."""
    seen_prev: tuple[str, ...]
    """Verdicts of the other agents shown from earlier rounds (each agent's latest message)."""
    seen_within: tuple[str, ...]
    """Verdicts of the other agents shown from the current round."""


@dataclass
class DebaterParams:
    """The parameters of one simulated debater."""

    baseline: dict[str, float] = field(default_factory=dict)
    """Utility of each verdict; verdicts not listed get 0."""
    inertia: float = 0.0
    """Added utility of the agent's own previous verdict."""
    conformity: float = 0.0
    """Slope on the share of others' verdicts seen from earlier rounds."""
    conformity_within: float = 0.0
    """Slope on the share of others' verdicts seen earlier within the same round."""
    dilemma_sd: float = 0.0
    """Standard deviation of the per-dilemma, per-verdict effects (shared by all agents of a dilemma)."""


@dataclass(frozen=True)
class ShownMessage:
    """A transcript message as an agent was shown it: who said it, when, and its verdict (None if unparsed)."""

    round: int
    agent: str
    verdict: str | None


@dataclass(frozen=True)
class SeenVerdicts:
    """What an agent had been shown before choosing: the inputs of `choice_probabilities`."""

    own_previous: str | None
    seen_prev: tuple[str, ...]
    seen_within: tuple[str, ...]


def seen_verdicts(shown: Iterable[ShownMessage], agent: str, round: int) -> SeenVerdicts:
    """Reduce the messages an agent was shown in `round` to its own previous verdict and the others' verdicts.

    For each other agent only its latest message from earlier rounds counts; an unparsed
    message (verdict None) contributes nothing, even when an older parsed one was shown.
    """
    own_previous = None
    latest: dict[str, ShownMessage] = {}
    within: list[str] = []
    for message in shown:
        if message.agent == agent:
            if message.round == round - 1:
                own_previous = message.verdict
        elif message.round == round:
            if message.verdict is not None:
                within.append(message.verdict)
        elif message.round < round and (message.agent not in latest or message.round > latest[message.agent].round):
            latest[message.agent] = message
    prev = tuple(m.verdict for m in latest.values() if m.verdict is not None)
    return SeenVerdicts(own_previous, prev, tuple(within))


def verdict_shares(seen: Sequence[str], verdicts: Sequence[str]) -> np.ndarray:
    """Fraction of `seen` equal to each verdict (all zeros when nothing was seen)."""
    if not seen:
        return np.zeros(len(verdicts))
    return np.array([sum(1 for s in seen if s == v) / len(seen) for v in verdicts])


def dilemma_effects(dilemma_id: str, verdicts: Sequence[str], sd: float) -> dict[str, float]:
    """Per-verdict effects of a dilemma: normal with sd `sd`, derived from a hash of the id and verdict.

    Deterministic, so every agent of a conversation, every conversation of the dilemma and
    every rerun agree; each verdict's effect does not depend on which other verdicts are listed.
    """
    if sd <= 0:
        return {verdict: 0.0 for verdict in verdicts}
    return {verdict: sd * _standard_normal_of(dilemma_id, verdict) for verdict in verdicts}


@lru_cache(maxsize=1 << 16)
def _standard_normal_of(dilemma_id: str, verdict: str) -> float:
    digest = hashlib.sha256(f"{dilemma_id}\x00{verdict}".encode()).digest()
    return float(np.random.default_rng(int.from_bytes(digest[:8], "big")).standard_normal())


def choice_utilities(
    params: DebaterParams,
    verdicts: Sequence[str],
    dilemma_id: str,
    own_previous: str | None,
    seen_prev: Sequence[str],
    seen_within: Sequence[str],
) -> np.ndarray:
    """The utility U(v) of each verdict, in the order of `verdicts`."""
    effects = dilemma_effects(dilemma_id, verdicts, params.dilemma_sd)
    utility = np.array([params.baseline.get(v, 0.0) + effects[v] for v in verdicts], dtype=float)
    utility += params.inertia * np.array([v == own_previous for v in verdicts], dtype=float)
    utility += params.conformity * verdict_shares(seen_prev, verdicts)
    utility += params.conformity_within * verdict_shares(seen_within, verdicts)
    return utility


def choice_probabilities(
    params: DebaterParams,
    verdicts: Sequence[str],
    dilemma_id: str,
    own_previous: str | None,
    seen_prev: Sequence[str],
    seen_within: Sequence[str],
) -> dict[str, float]:
    """P(v) = softmax(U(v)) over `verdicts`."""
    utility = choice_utilities(params, verdicts, dilemma_id, own_previous, seen_prev, seen_within)
    weights = np.exp(utility - utility.max())
    return dict(zip(verdicts, (weights / weights.sum()).tolist(), strict=True))


def simulate_debates(
    agents: Mapping[str, DebaterParams],
    n_dilemmas: int,
    rng: np.random.Generator,
    *,
    turns: Literal["synchronous", "round_robin"] = "round_robin",
    max_rounds: int = 4,
    verdicts: Sequence[str] = AITA_VERDICTS,
    model: str = "simulated",
    prefix: str = "d",
    players: Mapping[str, str] | None = None,
    rotate: bool = False,
) -> list[VerdictObservation]:
    """Simulate one debate per dilemma and return every verdict as an observation.

    Agents speak in the order of `agents` (with `rotate`, dilemma `i` starts with the agent
    `i` places further on, so every agent speaks in every position) and see everything said
    before (full history); a debate stops after a round in which all agents gave the same
    verdict, or at `max_rounds`. Dilemma `i` is named `<prefix><i>` (also the conversation id);
    each agent's model key is its entry in `players` (the player it plays, e.g. a model two agents
    share), else `<agent>|<model>`, as `observations_from_events` builds it.
    """
    if turns not in ("synchronous", "round_robin"):
        raise ValueError(f"turns must be 'synchronous' or 'round_robin', not {turns!r}")
    keys = {name: (players or {}).get(name) or f"{name}|{model}" for name in agents}
    observations: list[VerdictObservation] = []
    for index in range(n_dilemmas):
        shift = index % len(agents) if rotate and agents else 0
        names = list(agents)[shift:] + list(agents)[:shift]
        dilemma = f"{prefix}{index}"
        said: list[ShownMessage] = []
        for round_ in range(1, max_rounds + 1):
            this_round: list[ShownMessage] = []
            for name in names:
                shown = said + (this_round if turns == "round_robin" else [])
                seen = seen_verdicts(shown, name, round_)
                probs = choice_probabilities(
                    agents[name], verdicts, dilemma, seen.own_previous, seen.seen_prev, seen.seen_within
                )
                verdict = verdicts[rng.choice(len(verdicts), p=list(probs.values()))]
                this_round.append(ShownMessage(round_, name, verdict))
                observations.append(
                    VerdictObservation(
                        dilemma,
                        dilemma,
                        round_,
                        name,
                        keys[name],
                        verdict,
                        seen.own_previous,
                        seen.seen_prev,
                        seen.seen_within,
                    )
                )
            said += this_round
            if len({m.verdict for m in this_round}) == 1:
                break
    return observations
