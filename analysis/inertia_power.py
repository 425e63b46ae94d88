"""Power of the inertia/conformity fit for a design, from repeated simulation with the debaters' generative model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from moot.agents.providers.debate_model import AITA_VERDICTS, DebaterParams, simulate_debates
from moot.analysis.inertia import InertiaFit, PriorSD, bootstrap_inertia_conformity, fit_inertia_conformity

__all__ = ["InertiaPower", "power_inertia"]


@dataclass(frozen=True)
class InertiaPower:
    """Power of the inertia/conformity fit for a design, from repeated simulation."""

    n_dilemmas: int
    n_sims: int
    interval: Literal["wald", "bootstrap"]
    """How each simulated fit's interval was made."""
    level: float
    power: dict[str, float | None]
    """Per term key (`inertia`, or `inertia[player]` per player), the fraction of simulations whose interval
    excludes 0; None when no simulation could estimate it."""
    estimable: dict[str, int]
    """Per term key, in how many simulations it had an interval."""
    reasons: dict[str, str]
    """Why a term no simulation could estimate has no power (the fit's reason)."""


def power_inertia(
    agents: Mapping[str, DebaterParams],
    n_dilemmas: int,
    n_sims: int = 100,
    seed: int = 0,
    *,
    turns: Literal["synchronous", "round_robin"] = "round_robin",
    max_rounds: int = 4,
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD | None = None,
    by_player: bool = False,
    level: float = 0.95,
    interval: Literal["wald", "bootstrap"] = "wald",
    n_boot: int = 100,
    maxiter: int = 2000,
) -> InertiaPower:
    """Simulate `n_sims` experiments of `n_dilemmas` debates with the given true parameters, fit each,
    and report how often each slope's interval excludes 0.

    Every turn policy and round count works: a slope the design cannot identify (anything with
    `max_rounds=1`, within-round conformity with synchronous turns) has power None and its reason.
    Wald intervals (the default) come from the Hessian of one fit; bootstrap intervals need
    `n_boot` further fits per simulation and are that many times slower. `prior_sd` defaults to `PriorSD()`.
    """
    if interval not in ("wald", "bootstrap"):
        raise ValueError(f"interval must be 'wald' or 'bootstrap', not {interval!r}")
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    prior_sd = prior_sd or PriorSD()
    rng = np.random.default_rng(seed)
    hits: dict[str, int] = {}
    estimable: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for sim in range(n_sims):
        observations = simulate_debates(agents, n_dilemmas, rng, turns=turns, max_rounds=max_rounds, verdicts=verdicts)
        fit: InertiaFit
        if interval == "wald":
            fit = fit_inertia_conformity(
                observations, verdicts, prior_sd, by_player=by_player, level=level, maxiter=maxiter
            )
        else:
            fit = bootstrap_inertia_conformity(
                observations, n_boot, seed + sim, verdicts, prior_sd, by_player=by_player, level=level, maxiter=maxiter
            )
        for term in fit.terms:
            hits.setdefault(term.key, 0)
            estimable.setdefault(term.key, 0)
            if term.interval is None:
                reasons.setdefault(term.key, "; ".join(term.notes))
                continue
            estimable[term.key] += 1
            low, high = term.interval
            hits[term.key] += low > 0 or high < 0
    power = {key: hits[key] / estimable[key] if estimable[key] else None for key in hits}
    return InertiaPower(
        n_dilemmas,
        n_sims,
        interval,
        level,
        power,
        estimable,
        {key: reason for key, reason in reasons.items() if not estimable[key]},
    )
