"""Inertia and conformity of AITA debaters: the multinomial logistic fit, per player or pooled, with its intervals.

Each verdict a debater gives is one observation of a multinomial choice among the verdicts,
with utility (see `moot.agents.providers.debate_model`)

    U(v) = baseline[player, v] + effect[dilemma, v] + inertia[player] * 1[v == own previous]
           + conformity[player] * share_prev(v) + conformity_within[player] * share_within(v)

The slopes are per player (`by_player=True`: the deliberation paper's model, asking which model is
more inertial or more conformist) or shared by every player (the pooled form). The fit is penalised
maximum likelihood with Gaussian priors: weak ones on the baselines and slopes (they also pin down
what the likelihood leaves free: a shift of all verdicts' utilities, and a shift between baselines
and dilemma effects), and on the dilemma effects either one whose sd is estimated from the data
(random effects: the default, and the better-behaved choice with few rounds per dilemma, where free
effects soak up the players' persistence and bias every slope towards zero) or a fixed weak one
(`PriorSD.fixed_effects()`: the paper's fixed effects with weak regularisation).

Intervals are Wald intervals from the Hessian (`fit_inertia_conformity`) or percentile intervals
from resampling dilemmas (`bootstrap_inertia_conformity`), which re-estimates every parameter,
the dilemma sd included, in each resample: holding the sd at its full-data estimate makes the
intervals too narrow, as the sd is estimated low and correlated with the slopes. Slopes the data
cannot identify are reported as not estimable with the reason; separation, flat likelihoods and
degenerate intervals are notes on the term and on the fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy.stats import norm

from moot.agents.providers.debate_model import AITA_VERDICTS, VerdictObservation
from moot.analysis.bradley_terry import ConvergenceError
from moot.analysis.inertia_design import (
    POOLED,
    SLOPES,
    Column,
    Design,
    build_design,
    choice_features,
    observations_from_events,
)
from moot.analysis.inertia_solver import (
    DILEMMA_SD_BOUNDS,
    Precisions,
    estimate_dilemma_sd,
    hessian,
    log_likelihood,
    optimise,
    split,
)

__all__ = [
    "FIXED_DILEMMA_SD",
    "POOLED",
    "SEPARATION_ODDS_RATIO",
    "SLOPES",
    "ConvergenceError",
    "InertiaFit",
    "PriorSD",
    "SlopeEstimate",
    "VerdictObservation",
    "bootstrap_inertia_conformity",
    "choice_features",
    "fit_inertia_conformity",
    "observations_from_events",
]

FIXED_DILEMMA_SD = 10.0
"""Prior sd of the dilemma effects in the fixed-effects form: a weak regularisation, as in the paper."""
SEPARATION_ODDS_RATIO = 1000.0
"""An odds ratio above this (or below its inverse) is reported as separation."""
RESAMPLE_GTOL = 1e-3
"""Newton's stopping rule (largest gradient component) in a bootstrap resample: its slopes then agree with a
tighter fit's to far below their sampling error, at one Newton step less per fit."""
RELAXED_PRIOR_FACTOR = 10.0
"""Separation check: how many times weaker the slope prior of the refit is."""
SEPARATION_DRIFT = 1.0
"""Separation check: a slope whose size grows by more than this (log-odds) under the weaker prior is separated."""
FLAT_LIKELIHOOD_SHARE = 0.8
"""A standard error above this share of the slope prior's sd is reported as a flat likelihood."""


@dataclass(frozen=True)
class PriorSD:
    """Standard deviations of the Gaussian priors (penalties) on the parameters."""

    baseline: float = 3.0
    """Baseline utility of each verdict per player."""
    dilemma: float | None = None
    """Effect of each verdict per dilemma; None estimates it from the data (random effects, empirical Bayes)."""
    slope: float = 5.0
    """Inertia, conformity and conformity_within."""

    @classmethod
    def fixed_effects(cls, baseline: float = 3.0, slope: float = 5.0) -> PriorSD:
        """Fixed dilemma effects with a weak prior (`FIXED_DILEMMA_SD`), the paper's form."""
        return cls(baseline, FIXED_DILEMMA_SD, slope)


@dataclass(frozen=True)
class SlopeEstimate:
    """One slope of one player (or pooled): its estimate and interval, or why it has none, and any warnings."""

    parameter: str
    player: str
    estimate: float | None
    std_error: float | None
    """Wald standard error from the Hessian of the penalised log-likelihood."""
    interval: tuple[float, float] | None
    notes: tuple[str, ...] = ()
    """Why it is not estimable, or what is degenerate about it (separation, flat likelihood, interval)."""

    @property
    def key(self) -> str:
        """`inertia` pooled, `inertia[player]` per player."""
        return Column(self.parameter, self.player).key

    @property
    def odds_ratio(self) -> float | None:
        """exp(estimate)."""
        return None if self.estimate is None else _exp(self.estimate)

    @property
    def odds_ratio_interval(self) -> tuple[float, float] | None:
        """The interval on the odds-ratio scale."""
        return None if self.interval is None else (_exp(self.interval[0]), _exp(self.interval[1]))


def _exp(value: float) -> float:
    return math.exp(min(value, 700.0))


@dataclass
class InertiaFit:
    """A fitted inertia/conformity model."""

    verdicts: tuple[str, ...]
    """Verdicts of the choice."""
    terms: list[SlopeEstimate]
    """Every slope of every player (one player, `all`, when pooled), estimable or not, by slope then player."""
    baselines: dict[str, dict[str, float]]
    """Baseline utility per player and verdict (only differences between verdicts are identified;
    the prior centres each player's baselines on 0)."""
    dilemma_effects: dict[str, dict[str, float]]
    """Effect per dilemma and verdict (shrunken towards 0 by the dilemma prior)."""
    dilemma_sd: float
    """The sd of the dilemma effects' prior: as given, or estimated."""
    dilemma_sd_estimated: bool
    """Whether `dilemma_sd` was estimated from the data (random effects)."""
    dilemma_sd_interval: tuple[float, float] | None
    """The bootstrap interval of the estimated dilemma sd (None unless bootstrapped with the sd estimated)."""
    log_likelihood: float
    """Log-likelihood (without the priors) at the estimate."""
    n_observations: int
    n_dilemmas: int
    iterations: int
    """Optimiser iterations (or, with the dilemma sd estimated, fits) of the point fit."""
    by_player: bool = False
    """Slopes per player (True) or shared by every player."""
    prior_sd: PriorSD = field(default_factory=PriorSD)
    level: float = 0.95
    interval_method: Literal["wald", "bootstrap"] = "wald"
    n_boot: int | None = None
    """Bootstrap resamples behind the intervals, when bootstrapped."""
    notes: list[str] = field(default_factory=list)
    """What the user should know about the fit: every term's note, named, and fit-level warnings."""

    @property
    def players(self) -> list[str]:
        """The players, as the baselines name them."""
        return list(self.baselines)

    def term(self, parameter: str, player: str = POOLED) -> SlopeEstimate:
        """The estimate of one slope of one player (`all` for a pooled slope); KeyError when there is none."""
        for term in self.terms:
            if term.parameter == parameter and term.player == player:
                return term
        raise KeyError(Column(parameter, player).key)

    @property
    def slopes(self) -> dict[str, float | None]:
        """Estimate per term key (`inertia`, or `inertia[player]` per player); None when not estimable."""
        return {t.key: t.estimate for t in self.terms}

    @property
    def std_errors(self) -> dict[str, float | None]:
        """Wald standard error per term key (dilemma sd held at its estimate)."""
        return {t.key: t.std_error for t in self.terms}

    @property
    def intervals(self) -> dict[str, tuple[float, float] | None]:
        """Confidence interval per term key (see `interval_method` and `level`)."""
        return {t.key: t.interval for t in self.terms}

    @property
    def inertia(self) -> float | None:
        """Pooled added log-odds of repeating one's own previous verdict (None per player: see `term`)."""
        return self.slopes.get("inertia")

    @property
    def conformity(self) -> float | None:
        """Pooled added log-odds of a verdict all others gave in earlier rounds (per unit share)."""
        return self.slopes.get("conformity")

    @property
    def conformity_within(self) -> float | None:
        """Pooled added log-odds of a verdict all earlier speakers of the round gave (per unit share)."""
        return self.slopes.get("conformity_within")

    @property
    def odds_ratios(self) -> dict[str, float | None]:
        """exp(slope) per term key."""
        return {t.key: t.odds_ratio for t in self.terms}

    def odds_ratio_interval(self, key: str) -> tuple[float, float] | None:
        """The term's interval on the odds-ratio scale."""
        return next(t.odds_ratio_interval for t in self.terms if t.key == key)

    @property
    def method(self) -> str:
        """The model and the interval method, in words (the table's notes)."""
        slopes = "slopes per player" if self.by_player else "slopes pooled over players"
        if self.dilemma_sd_estimated:
            effects = (
                f"dilemma effects per dilemma and verdict random, sd estimated ({self.dilemma_sd:.3g}; "
                "the better-behaved choice with few rounds per dilemma)"
            )
        else:
            effects = f"dilemma effects per dilemma and verdict with a fixed prior sd {self.dilemma_sd:.3g}"
        if self.interval_method == "bootstrap":
            intervals = (
                f"{self.level:.0%} percentile intervals from {self.n_boot} resamples of dilemmas, every parameter "
                "re-estimated in each" + (" (the dilemma sd included)" if self.dilemma_sd_estimated else "")
            )
        else:
            intervals = f"{self.level:.0%} Wald intervals from the Hessian"
        return (
            f"multinomial logit: {slopes}; baselines per player and verdict; {effects}; "
            f"weak priors (sd {self.prior_sd.baseline:g} baselines, {self.prior_sd.slope:g} slopes); {intervals}"
        )

    def table(self) -> list[dict[str, Any]]:
        """The paper's table: one row per slope and player (parameter, player, estimate, interval, odds ratio
        and its interval, notes), then one per baseline. `term` repeats the parameter (or names the baseline)."""
        rows = []
        for term in self.terms:
            interval, or_interval = term.interval, term.odds_ratio_interval
            rows.append(
                {
                    "term": term.parameter,
                    "parameter": term.parameter,
                    "player": term.player,
                    "estimate": term.estimate,
                    "std_error": term.std_error,
                    "ci_low": interval[0] if interval else None,
                    "ci_high": interval[1] if interval else None,
                    "odds_ratio": term.odds_ratio,
                    "odds_ratio_ci_low": or_interval[0] if or_interval else None,
                    "odds_ratio_ci_high": or_interval[1] if or_interval else None,
                    "interval": self.interval_method if interval else None,
                    "note": "; ".join(term.notes),
                }
            )
        for player, values in self.baselines.items():
            for verdict, value in values.items():
                rows.append(
                    {
                        "term": f"baseline[{player},{verdict}]",
                        "parameter": f"baseline[{verdict}]",
                        "player": player,
                        "estimate": value,
                        "std_error": None,
                        "ci_low": None,
                        "ci_high": None,
                        "odds_ratio": _exp(value),
                        "odds_ratio_ci_low": None,
                        "odds_ratio_ci_high": None,
                        "interval": None,
                        "note": "",
                    }
                )
        return rows


def _point_fit(design: Design, prior: PriorSD, maxiter: int) -> tuple[np.ndarray, float, int]:
    """The estimate, the dilemma sd (estimated unless the prior gives it) and the iterations it took."""
    if prior.dilemma is not None:
        precisions = Precisions.of(prior.baseline, prior.dilemma, prior.slope)
        theta, iterations, _ = optimise(design, precisions, maxiter)
        return theta, prior.dilemma, iterations
    return estimate_dilemma_sd(design, prior.baseline, prior.slope, maxiter)


def _relaxed_slopes(design: Design, theta: np.ndarray, dilemma_sd: float, prior: PriorSD, maxiter: int) -> np.ndarray:
    """The slopes refitted with a slope prior `RELAXED_PRIOR_FACTOR` times weaker (the dilemma sd held):
    a slope the data separate runs further out; one the data pin down barely moves."""
    relaxed = Precisions.of(prior.baseline, dilemma_sd, prior.slope * RELAXED_PRIOR_FACTOR)
    return split(optimise(design, relaxed, maxiter, theta, gtol=1e-5)[0], design)[2]


def _term_warnings(
    design: Design, column: int, estimate: float, relaxed: float, std_error: float, prior: PriorSD
) -> list[str]:
    """Separation, a flat likelihood or a single informing dilemma of one estimable column."""
    warnings = []
    if abs(relaxed) - abs(estimate) > SEPARATION_DRIFT:
        warnings.append(
            f"separation: the estimate runs to where the prior holds it (odds ratio {_exp(estimate):.3g}; "
            f"{_exp(relaxed):.3g} with a {RELAXED_PRIOR_FACTOR:g}x weaker prior)"
        )
    elif abs(estimate) > math.log(SEPARATION_ODDS_RATIO):
        side = "above 1,000" if estimate > 0 else "below 1/1,000"
        warnings.append(f"separation: odds ratio {_exp(estimate):.3g} {side}")
    if std_error > FLAT_LIKELIHOOD_SHARE * prior.slope:
        warnings.append(
            f"flat likelihood: standard error {std_error:.3g} near the prior's {prior.slope:g}, "
            "the data barely inform it"
        )
    if design.dilemmas_informing(column) == 1:
        warnings.append("informed by one dilemma only: its interval is not a sampling interval")
    return warnings


def _fit_design(
    design: Design, prior: PriorSD, level: float, maxiter: int, by_player: bool
) -> tuple[InertiaFit, np.ndarray]:
    theta, dilemma_sd, iterations = _point_fit(design, prior, maxiter)
    precisions = Precisions.of(prior.baseline, dilemma_sd, prior.slope)
    base, effect, slopes = split(theta, design)
    M, K = len(design.models), len(design.verdicts)
    covariance = hessian(theta, design, precisions).small_covariance()[M * K :, M * K :]
    relaxed = _relaxed_slopes(design, theta, dilemma_sd, prior, maxiter) if design.active else slopes
    z = float(norm.ppf(0.5 + level / 2))
    active = {column: i for i, column in enumerate(design.active)}
    terms = []
    for column in design.columns:
        if column not in active:
            terms.append(SlopeEstimate(column.parameter, column.player, None, None, None, (design.missing[column],)))
            continue
        i = active[column]
        estimate, error = float(slopes[i]), float(math.sqrt(covariance[i, i]))
        notes = tuple(_term_warnings(design, i, estimate, float(relaxed[i]), error, prior))
        interval = (estimate - z * error, estimate + z * error)
        terms.append(SlopeEstimate(column.parameter, column.player, estimate, error, interval, notes))
    fit = InertiaFit(
        verdicts=design.verdicts,
        terms=terms,
        baselines={m: dict(zip(design.verdicts, base[i].tolist(), strict=True)) for i, m in enumerate(design.models)},
        dilemma_effects={
            d: dict(zip(design.verdicts, effect[i].tolist(), strict=True)) for i, d in enumerate(design.dilemmas)
        },
        dilemma_sd=dilemma_sd,
        dilemma_sd_estimated=prior.dilemma is None,
        dilemma_sd_interval=None,
        log_likelihood=log_likelihood(theta, design),
        n_observations=len(design.choice),
        n_dilemmas=len(design.dilemmas),
        iterations=iterations,
        by_player=by_player,
        prior_sd=prior,
        level=level,
    )
    fit.notes = _fit_notes(fit)
    return fit, theta


def _fit_notes(fit: InertiaFit) -> list[str]:
    """Every term's notes, named, and what is degenerate about the fit as a whole."""
    notes = [f"{term.key}: {note}" for term in fit.terms for note in term.notes]
    if fit.n_dilemmas == 1:
        notes.append("one dilemma only: the dilemma effects and the baselines cannot be told apart")
    if fit.dilemma_sd_estimated and fit.dilemma_sd <= DILEMMA_SD_BOUNDS[0] * 1.01:
        notes.append(f"dilemma sd estimated at its lower bound {DILEMMA_SD_BOUNDS[0]}: no spread between dilemmas")
    return notes


def fit_inertia_conformity(
    observations: Sequence[VerdictObservation],
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD = PriorSD(),
    *,
    by_player: bool = False,
    level: float = 0.95,
    maxiter: int = 2000,
) -> InertiaFit:
    """Fit the inertia/conformity model by penalised maximum likelihood, with Wald intervals.

    Slopes are per player (the observations' `model` key) with `by_player`, else pooled. Unless
    `prior_sd.dilemma` is given, the sd of the dilemma effects is estimated with the fit (random
    effects; see `estimate_dilemma_sd`). A slope whose feature is zero in every observation of its
    player (conformity_within without round-robin turns, anything without a second round) has no
    estimate and says why. Raises `ConvergenceError`, naming the iteration count, when the Newton
    iterations do not converge within `maxiter`, and ValueError on observations it cannot fit.
    """
    design = build_design(observations, verdicts, "player" if by_player else "pooled")
    fit, _ = _fit_design(design, prior_sd, level, maxiter, by_player)
    return fit


def _resample(design: Design, rows_of: list[np.ndarray], picks: np.ndarray) -> Design:
    """The design of a resample of dilemmas; each pick becomes a dilemma of its own."""
    rows = np.concatenate([rows_of[d] for d in picks])
    return replace(
        design,
        dilemmas=[f"{design.dilemmas[d]}#{i}" for i, d in enumerate(picks)],
        choice=design.choice[rows],
        model=design.model[rows],
        dilemma=np.repeat(np.arange(len(picks)), [len(rows_of[d]) for d in picks]),
        features=design.features[rows],
    )


def _resample_slopes(
    design: Design, fit: InertiaFit, theta: np.ndarray, picks: np.ndarray, rows_of: list[np.ndarray], maxiter: int
) -> tuple[np.ndarray, float]:
    """The slopes and the dilemma sd re-estimated on one resample of dilemmas, warm-started from the full fit;
    a slope is NaN where its feature is zero in every resampled observation (that resample cannot estimate it)."""
    prior = fit.prior_sd
    base, effect, slopes = split(theta, design)
    start = np.concatenate([base.ravel(), effect[picks].ravel(), slopes])
    resampled = _resample(design, rows_of, picks)
    dilemma_sd = fit.dilemma_sd
    if fit.dilemma_sd_estimated:
        estimate, dilemma_sd, _ = estimate_dilemma_sd(
            resampled,
            prior.baseline,
            prior.slope,
            maxiter,
            start=start,
            start_sd=fit.dilemma_sd,
            gtol=RESAMPLE_GTOL,
        )
    else:
        precisions = Precisions.of(prior.baseline, fit.dilemma_sd, prior.slope)
        estimate, _, _ = optimise(resampled, precisions, maxiter, start, gtol=RESAMPLE_GTOL)
    drawn = split(estimate, resampled)[2].copy()
    drawn[~np.any(resampled.features != 0, axis=(0, 1))] = np.nan
    return drawn, dilemma_sd


def bootstrap_inertia_conformity(
    observations: Sequence[VerdictObservation],
    n_boot: int = 200,
    seed: int = 0,
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD = PriorSD(),
    *,
    by_player: bool = False,
    level: float = 0.95,
    maxiter: int = 2000,
) -> InertiaFit:
    """The point fit with percentile intervals from resampling dilemmas with replacement.

    Each resampled dilemma gets its own effects, even when drawn twice. Every parameter is
    re-estimated in each resample, the dilemma sd included when it is estimated, starting from the
    full fit. Wald standard errors of the point fit are kept alongside. Zero-width intervals,
    resamples that cannot estimate a slope and resamples that separate become notes.
    """
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2")
    design = build_design(observations, verdicts, "player" if by_player else "pooled")
    fit, theta = _fit_design(design, prior_sd, level, maxiter, by_player)
    rows_of = [np.flatnonzero(design.dilemma == d) for d in range(len(design.dilemmas))]
    rng = np.random.default_rng(seed)
    draws = np.zeros((n_boot, len(design.active)))
    sds = np.zeros(n_boot)
    for b in range(n_boot):
        picks = rng.integers(len(design.dilemmas), size=len(design.dilemmas))
        draws[b], sds[b] = _resample_slopes(design, fit, theta, picks, rows_of, maxiter)
    tail = 100 * (1 - level) / 2
    sd_interval = None
    if fit.dilemma_sd_estimated:
        sd_low, sd_high = np.percentile(sds, [tail, 100 - tail])
        sd_interval = (float(sd_low), float(sd_high))
    active = {column: i for i, column in enumerate(design.active)}
    terms = []
    for term in fit.terms:
        i = active.get(Column(term.parameter, term.player))
        if i is None:
            terms.append(term)
            continue
        column = draws[:, i]
        found = column[~np.isnan(column)]
        notes = list(term.notes)
        if len(found) < n_boot:
            notes.append(f"not estimable in {n_boot - len(found)} of {n_boot} resamples (left out of the interval)")
        if len(found) < 2:
            notes.append("too few resamples estimate it for an interval")
            terms.append(replace(term, interval=None, notes=tuple(notes)))
            continue
        low, high = (float(x) for x in np.percentile(found, [tail, 100 - tail]))
        separated = int(np.sum(np.abs(found) > math.log(SEPARATION_ODDS_RATIO)))
        if separated and not any(n.startswith("separation") for n in notes):
            notes.append(f"separation in {separated} of {len(found)} resamples (odds ratio beyond 1,000)")
        if high - low <= 1e-9 * max(1.0, abs(low)):
            notes.append("zero-width interval: every resample gives the same estimate")
        terms.append(replace(term, interval=(low, high), notes=tuple(notes)))
    result = replace(fit, terms=terms, interval_method="bootstrap", n_boot=n_boot, dilemma_sd_interval=sd_interval)
    result.notes = _fit_notes(result)
    return result
