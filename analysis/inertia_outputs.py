"""The deliberation study's inertia/conformity outputs: the per-player fit of a run (or comparison) written out.

The table has the paper's shape (parameter, player, estimate, 95% interval, odds ratio), in
`metrics.json`, `tables/inertia_conformity.csv` and a forest plot; the method and every note on
a term (not estimable, separation, flat likelihood, degenerate interval) are written beside it
and as notes the CLI and the report show.

Method options (`--method`): `inertia_slopes` `player` (the paper's: each player's own slopes) or
`pooled` (one of each slope shared by every player); `inertia_dilemma_effects` `random` (moot's
default: the effects' sd estimated from the data, the better-behaved choice with few rounds per
dilemma) or `fixed` (the paper's: free effects with a weak prior); `inertia_intervals` `bootstrap`
(percentile intervals from resampling dilemmas, every parameter re-estimated in each) or `wald`
(from the Hessian at the estimate, the dilemma sd held).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moot.analysis.arms import ArmTable
from moot.analysis.inertia import (
    InertiaFit,
    PriorSD,
    bootstrap_inertia_conformity,
    fit_inertia_conformity,
    observations_from_events,
)
from moot.analysis.methods import MethodOptions
from moot.analysis.outputs import AnalysisWriter
from moot.analysis.plot_style import interval_text
from moot.analysis.plots import plot_forest
from moot.trace.events import Event

__all__ = ["MAX_INERTIA_BOOT", "MIN_INERTIA_OBSERVATIONS", "inertia_outputs"]

MIN_INERTIA_OBSERVATIONS = 20
"""Fewer parsed verdicts after round 1 than this, and the inertia model is not fitted."""
MAX_INERTIA_BOOT = 200
"""Bootstrap resamples of the fit at most (each one re-estimates the whole model)."""


def inertia_outputs(
    events: Sequence[Event],
    verdicts: Sequence[str],
    writer: AnalysisWriter,
    arms: ArmTable,
    n_boot: int,
    seed: int,
    methods: MethodOptions | None = None,
) -> dict[str, Any]:
    """Fit the model to a run's verdicts (players from `arms`; the form `methods` picks, per player with random
    dilemma effects and bootstrap intervals by default); write its table, plot and notes."""
    methods = methods if methods is not None else MethodOptions()
    by_player = methods.choice("inertia_slopes", "player", ("player", "pooled")) == "player"
    effects = methods.choice("inertia_dilemma_effects", "random", ("random", "fixed"))
    intervals = methods.choice("inertia_intervals", "bootstrap", ("bootstrap", "wald"))
    prior = PriorSD.fixed_effects() if effects == "fixed" else PriorSD()
    observations = observations_from_events(events, arms)
    later = [o for o in observations if o.round > 1]
    if len(later) < MIN_INERTIA_OBSERVATIONS:
        writer.note(
            f"inertia and conformity: not fitted, {len(later)} parsed verdicts after round 1 "
            f"(at least {MIN_INERTIA_OBSERVATIONS} needed)"
        )
        return {"fitted": False, "observations": len(observations), "observations_after_round_1": len(later)}
    try:
        if intervals == "wald":
            fit = fit_inertia_conformity(observations, tuple(verdicts), prior, by_player=by_player)
        else:
            fit = bootstrap_inertia_conformity(
                observations,
                n_boot=min(n_boot, MAX_INERTIA_BOOT),
                seed=seed,
                verdicts=tuple(verdicts),
                prior_sd=prior,
                by_player=by_player,
            )
    except (ValueError, RuntimeError) as exc:
        writer.note(f"inertia and conformity: the fit failed: {exc}")
        return {"fitted": False, "observations": len(observations), "error": str(exc)}
    table = fit.table()
    writer.table("inertia_conformity", table)
    _forest(fit, writer)
    for note in fit.notes:
        writer.note(f"inertia and conformity: {note}")
    return {
        "fitted": True,
        "observations": len(observations),
        "dilemmas": fit.n_dilemmas,
        "players": fit.players,
        "method": fit.method,
        "dilemma_sd": fit.dilemma_sd,
        "n_boot": fit.n_boot,
        "log_likelihood": fit.log_likelihood,
        "notes": fit.notes,
        "terms": table,
    }


def _forest(fit: InertiaFit, writer: AnalysisWriter) -> None:
    """Odds ratios (log scale axis in log-odds) of every estimable term, grouped by parameter."""
    rows = [
        (term.parameter, term.player, term.estimate, term.interval) for term in fit.terms if term.estimate is not None
    ]
    if rows:
        plot_forest(
            rows,
            writer.plot_path("inertia_conformity"),
            title="Inertia and conformity per player" if fit.by_player else "Inertia and conformity (pooled)",
            xlabel=f"log odds ratio ({fit.level:.0%} interval)",
            reference=0.0,
            interval=interval_text(
                f"{fit.level:.0%} {'Wald' if fit.interval_method == 'wald' else 'bootstrap'} interval",
                fit.n_observations,
                "observations",
            ),
        )
