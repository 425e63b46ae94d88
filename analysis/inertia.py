"""Inertia and conformity of AITA debaters: observations from a trace, and a multinomial logistic fit.

Each verdict a debater gives is one observation of a multinomial choice among the verdicts,
with utility (see `moot.agents.providers.debate_model`)

    U(v) = baseline[agent-model, v] + effect[dilemma, v] + inertia * 1[v == own previous]
           + conformity * share_prev(v) + conformity_within * share_within(v)

The fit is penalised maximum likelihood with Gaussian priors: weak ones on the baselines and
slopes (they also pin down what the likelihood leaves free: a shift of all verdicts' utilities,
and a shift between baselines and dilemma effects), and on the dilemma effects one whose sd is
estimated from the data by default. With a handful of verdicts per dilemma, and debates that
stop at consensus, free dilemma effects (a flat or weak prior) soak up the agents' persistence
and bias every slope towards zero; the estimated sd makes them random effects instead.
Intervals are Wald intervals from the Hessian (`fit_inertia_conformity`) or percentile
intervals from resampling dilemmas (`bootstrap_inertia_conformity`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from moot.agents.providers.debate_model import (
    AITA_VERDICTS,
    DebaterParams,
    ShownMessage,
    VerdictObservation,
    seen_verdicts,
    simulate_debates,
    verdict_shares,
)
from moot.analysis.bradley_terry import ConvergenceError
from moot.trace.events import Event, MessageAdded, parse_event
from moot.trace.reading import effective_events

__all__ = [
    "SLOPES",
    "ConvergenceError",
    "InertiaFit",
    "InertiaPower",
    "PriorSD",
    "VerdictObservation",
    "bootstrap_inertia_conformity",
    "choice_features",
    "fit_inertia_conformity",
    "observations_from_events",
    "power_inertia",
]

SLOPES: tuple[str, ...] = ("inertia", "conformity", "conformity_within")
"""The three slopes of the model, in the order of the design's feature axis."""


@dataclass(frozen=True)
class PriorSD:
    """Standard deviations of the Gaussian priors (penalties) on the parameters."""

    baseline: float = 3.0
    """Baseline utility of each verdict per agent-model."""
    dilemma: float | None = None
    """Effect of each verdict per dilemma; None estimates it from the data (empirical Bayes)."""
    slope: float = 5.0
    """Inertia, conformity and conformity_within."""


# --- observations from a trace --------------------------------------------------------------


def _parse_message_id(message_id: str) -> tuple[int, str] | None:
    """`r<round>:<agent>` as (round, agent); None for anything else."""
    head, sep, agent = message_id.partition(":")
    if not sep or not head.startswith("r") or not head[1:].isdigit():
        return None
    return int(head[1:]), agent


def observations_from_events(events: Iterable[Event | dict[str, Any]]) -> list[VerdictObservation]:
    """Every parsed speaker verdict of a run, with what its agent had been shown (in trace order).

    What an agent saw comes from its `turn_started.visible` ids; a shown message's verdict is
    its `message_added.parsed["verdict"]`. Unparsed messages are never outcomes and count as
    nothing seen. The model key is `<agent>|<model>` from the agent's `model_call` events.
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
        model = models.get((conversation, agent), "")
        observations.append(
            VerdictObservation(
                conversation,
                event.scenario_id,
                round_,
                agent,
                f"{agent}|{model}",
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


@dataclass
class _Design:
    """Observations as index arrays: choice, agent-model, dilemma and the slope features."""

    verdicts: tuple[str, ...]
    models: list[str]
    dilemmas: list[str]
    choice: np.ndarray
    """(n,) index of the chosen verdict."""
    model: np.ndarray
    """(n,) index into `models`."""
    dilemma: np.ndarray
    """(n,) index into `dilemmas`."""
    features: np.ndarray
    """(n, K, S) value of each slope's feature for each candidate verdict (S = active slopes)."""
    active: tuple[str, ...]
    """The slopes whose feature is not identically zero (the others are not identifiable)."""

    @property
    def n_params(self) -> int:
        """Baselines (M x K), dilemma effects (D x K) and active slopes."""
        return (len(self.models) + len(self.dilemmas)) * len(self.verdicts) + len(self.active)


def _design(observations: Sequence[VerdictObservation], verdicts: Sequence[str]) -> _Design:
    verdicts = tuple(verdicts)
    if len(verdicts) < 2:
        raise ValueError("the fit needs at least two verdicts")
    if not observations:
        raise ValueError("no observations to fit")
    position = {v: i for i, v in enumerate(verdicts)}
    unknown = sorted({o.verdict for o in observations} - set(position))
    if unknown:
        raise ValueError(f"observed verdict '{unknown[0]}' is not among the verdicts {list(verdicts)}")
    models = sorted({o.model for o in observations})
    dilemmas = sorted({o.dilemma for o in observations})
    model_index = {m: i for i, m in enumerate(models)}
    dilemma_index = {d: i for i, d in enumerate(dilemmas)}
    features = np.stack([choice_features(obs, verdicts) for obs in observations])
    active = [s for i, s in enumerate(SLOPES) if np.any(features[:, :, i] != 0)]
    keep = [SLOPES.index(s) for s in active]
    return _Design(
        verdicts=verdicts,
        models=models,
        dilemmas=dilemmas,
        choice=np.array([position[o.verdict] for o in observations]),
        model=np.array([model_index[o.model] for o in observations]),
        dilemma=np.array([dilemma_index[o.dilemma] for o in observations]),
        features=np.ascontiguousarray(features[:, :, keep]),
        active=tuple(active),
    )


@dataclass(frozen=True)
class _Precisions:
    """Prior precisions (1 / sd^2) of the baselines, the dilemma effects and the slopes."""

    baseline: float
    dilemma: float
    slope: float

    @classmethod
    def of(cls, baseline_sd: float, dilemma_sd: float, slope_sd: float) -> _Precisions:
        """Precisions from standard deviations."""
        return cls(baseline_sd**-2, dilemma_sd**-2, slope_sd**-2)

    def vector(self, design: _Design) -> np.ndarray:
        """The precision of each parameter, in the order of the parameter vector."""
        K = len(design.verdicts)
        return np.concatenate(
            [
                np.full(len(design.models) * K, self.baseline),
                np.full(len(design.dilemmas) * K, self.dilemma),
                np.full(len(design.active), self.slope),
            ]
        )


def _split(theta: np.ndarray, design: _Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parameter vector as baselines (M, K), dilemma effects (D, K) and slopes (S,)."""
    K = len(design.verdicts)
    n_base = len(design.models) * K
    n_dilemma = len(design.dilemmas) * K
    return theta[:n_base].reshape(-1, K), theta[n_base : n_base + n_dilemma].reshape(-1, K), theta[n_base + n_dilemma :]


def _utilities(theta: np.ndarray, design: _Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Utilities (n, K), their log-normalisers (n,) and the choice probabilities (n, K)."""
    base, effect, slopes = _split(theta, design)
    utility = base[design.model] + effect[design.dilemma]
    if len(slopes):
        utility += design.features @ slopes
    top = utility.max(axis=1)
    weights = np.exp(utility - top[:, None])
    total = weights.sum(axis=1)
    return utility, top + np.log(total), weights / total[:, None]


def _log_likelihood(theta: np.ndarray, design: _Design) -> float:
    utility, log_norm, _ = _utilities(theta, design)
    return float(np.sum(utility[np.arange(len(design.choice)), design.choice] - log_norm))


def _group_sum(index: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Sum the rows of `values` (any trailing shape) by group index; the result has `groups` rows."""
    flat = values.reshape(len(values), -1)
    out = np.stack([np.bincount(index, flat[:, j], groups) for j in range(flat.shape[1])], axis=1)
    return out.reshape(groups, *values.shape[1:])


def _objective(theta: np.ndarray, design: _Design, precision: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log posterior and its gradient."""
    utility, log_norm, residual = _utilities(theta, design)
    rows = np.arange(len(design.choice))
    log_lik = np.sum(utility[rows, design.choice] - log_norm)
    residual[rows, design.choice] -= 1.0  # d(-log lik)/dU
    grad = np.concatenate(
        [
            _group_sum(design.model, residual, len(design.models)).ravel(),
            _group_sum(design.dilemma, residual, len(design.dilemmas)).ravel(),
            np.einsum("nk,nks->s", residual, design.features),
        ]
    )
    return float(-log_lik + 0.5 * np.sum(precision * theta**2)), grad + precision * theta


@dataclass
class _Hessian:
    """The Hessian of the negative log posterior in blocks.

    Parameters split into the dilemma effects (D blocks of K, the Hessian block-diagonal over
    them) and the small rest (baselines then slopes, q of them). Eliminating the dilemma blocks
    by a Schur complement makes every solve cost linear in the number of dilemmas.
    """

    a_blocks: np.ndarray
    """(D, K, K) the dilemma-effect blocks."""
    cross: np.ndarray
    """(D, K, q) dilemma effects x the small parameters."""
    schur: np.ndarray
    """(q, q) the small block minus cross' A^-1 cross."""
    a_solve_cross: np.ndarray
    """(D, K, q) A^-1 cross, per dilemma."""

    @property
    def log_det(self) -> float:
        """Log-determinant of the whole Hessian."""
        return float(np.sum(np.linalg.slogdet(self.a_blocks)[1]) + np.linalg.slogdet(self.schur)[1])

    def solve(self, grad: np.ndarray, design: _Design) -> np.ndarray:
        """H^-1 grad, with `grad` in the order of the parameter vector."""
        K, M = len(design.verdicts), len(design.models)
        n_base, n_dilemma = M * K, len(design.dilemmas) * K
        g_dilemma = grad[n_base : n_base + n_dilemma].reshape(-1, K)
        g_small = np.concatenate([grad[:n_base], grad[n_base + n_dilemma :]])
        a_solve_g = np.linalg.solve(self.a_blocks, g_dilemma[:, :, None])[:, :, 0]
        step_small = np.linalg.solve(self.schur, g_small - np.einsum("dkq,dk->q", self.cross, a_solve_g))
        step_dilemma = a_solve_g - np.einsum("dkq,q->dk", self.a_solve_cross, step_small)
        return np.concatenate([step_small[:n_base], step_dilemma.ravel(), step_small[n_base:]])


def _hessian(theta: np.ndarray, design: _Design, precisions: _Precisions) -> _Hessian:
    """The Hessian of the negative log posterior at `theta`, in blocks (see `_Hessian`)."""
    _, _, probs = _utilities(theta, design)
    K, M, D, S = len(design.verdicts), len(design.models), len(design.dilemmas), len(design.active)
    weight = -probs[:, :, None] * probs[:, None, :]
    weight[:, np.arange(K), np.arange(K)] += probs
    weight_x = weight @ design.features
    eye = np.eye(K)
    # Hessian blocks: A (dilemma effects, block-diagonal), `cross` (dilemma effects x small), C (small x small),
    # where small = baselines then slopes.
    a_blocks = _group_sum(design.dilemma, weight, D) + eye * precisions.dilemma
    cross_base = (
        _group_sum(design.dilemma * M + design.model, weight, D * M)
        .reshape(D, M, K, K)
        .transpose(0, 2, 1, 3)
        .reshape(D, K, M * K)
    )
    cross = np.concatenate([cross_base, _group_sum(design.dilemma, weight_x, D)], axis=2)
    q = M * K + S
    c_block = np.zeros((q, q))
    base_blocks = _group_sum(design.model, weight, M) + eye * precisions.baseline
    for m in range(M):
        c_block[m * K : (m + 1) * K, m * K : (m + 1) * K] = base_blocks[m]
    base_slope = _group_sum(design.model, weight_x, M).reshape(M * K, S)
    c_block[: M * K, M * K :] = base_slope
    c_block[M * K :, : M * K] = base_slope.T
    c_block[M * K :, M * K :] = (
        design.features.reshape(len(design.choice) * K, S).T @ weight_x.reshape(len(design.choice) * K, S)
        + np.eye(S) * precisions.slope
    )
    a_solve_cross = np.linalg.solve(a_blocks, cross)
    schur = c_block - cross.reshape(-1, q).T @ a_solve_cross.reshape(-1, q)
    return _Hessian(a_blocks, cross, schur, a_solve_cross)


def _hessian_summary(theta: np.ndarray, design: _Design, precisions: _Precisions) -> tuple[float, np.ndarray]:
    """Log-determinant of the Hessian of the negative log posterior, and the slopes' covariance.

    The covariance is the slope block of the Hessian's inverse.
    """
    hessian = _hessian(theta, design, precisions)
    M, K = len(design.models), len(design.verdicts)
    return hessian.log_det, np.linalg.inv(hessian.schur)[M * K :, M * K :]


def _optimise(
    design: _Design, precisions: _Precisions, maxiter: int, start: np.ndarray | None = None, gtol: float = 1e-6
) -> tuple[np.ndarray, int]:
    """The penalised maximum-likelihood estimate and the number of iterations it took.

    Newton's method with a backtracking line search: the objective is strictly convex (the
    priors make it so), and the block structure of the Hessian (`_Hessian`) makes each step
    cost about as much as a few gradient evaluations. It stops when no gradient component
    exceeds `gtol`.
    """
    precision = precisions.vector(design)
    theta = np.zeros(design.n_params) if start is None else np.array(start, dtype=float)
    value, grad = _objective(theta, design, precision)
    for iteration in range(1, maxiter + 1):
        step = _hessian(theta, design, precisions).solve(grad, design)
        decrease = float(grad @ step)  # > 0: the Hessian is positive definite
        scale = 1.0
        while True:
            candidate = theta - scale * step
            new_value, new_grad = _objective(candidate, design, precision)
            if new_value <= value - 1e-4 * scale * decrease or scale < 1e-10:
                break
            scale *= 0.5
        theta, value, grad = candidate, new_value, new_grad
        # Converged on a vanishing gradient, or when rounding stops any further decrease.
        if np.max(np.abs(grad)) <= gtol or decrease < 1e-12 * max(1.0, abs(value)):
            return theta, iteration
    raise ConvergenceError(
        f"inertia/conformity fit did not converge after {maxiter} iterations (maxiter {maxiter}): "
        f"largest gradient component {np.max(np.abs(grad)):.3g}"
    )


DILEMMA_SD_BOUNDS = (0.01, 10.0)
"""Search range of the estimated standard deviation of the dilemma effects."""


def _estimate_dilemma_sd(design: _Design, prior: PriorSD, maxiter: int) -> float:
    """The dilemma-effect sd that maximises the Laplace approximation of the marginal likelihood.

    The dilemma effects are then random effects with an estimated variance (empirical Bayes),
    which keeps the few observations per dilemma from biasing the slopes as free fixed effects do.
    """
    n_effects = len(design.dilemmas) * len(design.verdicts)
    warm: list[np.ndarray] = []

    def negative_log_marginal(log_sd: float) -> float:
        precisions = _Precisions.of(prior.baseline, math.exp(log_sd), prior.slope)
        theta, _ = _optimise(design, precisions, maxiter, warm[-1] if warm else None, gtol=1e-5)
        warm.append(theta)
        value, _ = _objective(theta, design, precisions.vector(design))
        log_det, _ = _hessian_summary(theta, design, precisions)
        return value + n_effects * log_sd + 0.5 * log_det

    low, high = (math.log(b) for b in DILEMMA_SD_BOUNDS)
    result = minimize_scalar(
        negative_log_marginal, bounds=(low, high), method="bounded", options={"xatol": 0.05, "maxiter": 60}
    )
    if not result.success:
        raise ConvergenceError(f"dilemma sd estimate did not converge after {result.nit} iterations: {result.message}")
    return math.exp(result.x)


# --- the fit ------------------------------------------------------------------------------


@dataclass
class InertiaFit:
    """A fitted inertia/conformity model."""

    verdicts: tuple[str, ...]
    """Verdicts of the choice."""
    slopes: dict[str, float | None]
    """Estimates of inertia, conformity and conformity_within; None when not identifiable from the data."""
    std_errors: dict[str, float | None]
    """Wald standard errors of the slopes, from the Hessian of the penalised log-likelihood (dilemma sd held fixed)."""
    intervals: dict[str, tuple[float, float] | None]
    """Confidence intervals of the slopes (see `interval_method` and `level`)."""
    baselines: dict[str, dict[str, float]]
    """Baseline utility per agent-model and verdict (only differences between verdicts are identified;
    the prior centres each agent-model's baselines on 0)."""
    dilemma_effects: dict[str, dict[str, float]]
    """Effect per dilemma and verdict (shrunken towards 0 by the dilemma prior)."""
    dilemma_sd: float
    """The sd of the dilemma effects' prior: as given, or estimated."""
    dilemma_sd_estimated: bool
    """Whether `dilemma_sd` was estimated from the data."""
    log_likelihood: float
    """Log-likelihood (without the priors) at the estimate."""
    n_observations: int
    n_dilemmas: int
    iterations: int
    """Optimiser iterations of the point fit."""
    prior_sd: PriorSD = field(default_factory=PriorSD)
    level: float = 0.95
    interval_method: Literal["wald", "bootstrap"] = "wald"
    n_boot: int | None = None
    """Bootstrap resamples behind the intervals, when bootstrapped."""

    @property
    def inertia(self) -> float | None:
        """Added log-odds of repeating one's own previous verdict."""
        return self.slopes["inertia"]

    @property
    def conformity(self) -> float | None:
        """Added log-odds of a verdict all others gave in earlier rounds (per unit share)."""
        return self.slopes["conformity"]

    @property
    def conformity_within(self) -> float | None:
        """Added log-odds of a verdict all earlier speakers of the round gave (per unit share)."""
        return self.slopes["conformity_within"]

    @property
    def odds_ratios(self) -> dict[str, float | None]:
        """exp(slope) for each slope."""
        return {name: None if value is None else math.exp(value) for name, value in self.slopes.items()}

    def odds_ratio_interval(self, name: str) -> tuple[float, float] | None:
        """The slope's interval on the odds-ratio scale."""
        interval = self.intervals[name]
        return None if interval is None else (math.exp(interval[0]), math.exp(interval[1]))

    def table(self) -> list[dict[str, Any]]:
        """One row per slope, then per baseline.

        Columns: term, estimate, std_error, ci_low, ci_high, odds ratio and its interval.
        """
        rows = []
        for name in SLOPES:
            estimate, interval = self.slopes[name], self.intervals[name]
            or_interval = self.odds_ratio_interval(name)
            rows.append(
                {
                    "term": name,
                    "estimate": estimate,
                    "std_error": self.std_errors[name],
                    "ci_low": interval[0] if interval else None,
                    "ci_high": interval[1] if interval else None,
                    "odds_ratio": self.odds_ratios[name],
                    "odds_ratio_ci_low": or_interval[0] if or_interval else None,
                    "odds_ratio_ci_high": or_interval[1] if or_interval else None,
                    "interval": self.interval_method if interval else None,
                }
            )
        for model, values in self.baselines.items():
            for verdict, value in values.items():
                rows.append(
                    {
                        "term": f"baseline[{model},{verdict}]",
                        "estimate": value,
                        "std_error": None,
                        "ci_low": None,
                        "ci_high": None,
                        "odds_ratio": math.exp(value),
                        "odds_ratio_ci_low": None,
                        "odds_ratio_ci_high": None,
                        "interval": None,
                    }
                )
        return rows


def _fit_design(design: _Design, prior: PriorSD, level: float, maxiter: int) -> tuple[InertiaFit, np.ndarray]:
    dilemma_sd = prior.dilemma if prior.dilemma is not None else _estimate_dilemma_sd(design, prior, maxiter)
    precisions = _Precisions.of(prior.baseline, dilemma_sd, prior.slope)
    theta, iterations = _optimise(design, precisions, maxiter)
    base, effect, slopes = _split(theta, design)
    _, covariance = _hessian_summary(theta, design, precisions)
    z = norm.ppf(0.5 + level / 2)
    estimates: dict[str, float | None] = dict.fromkeys(SLOPES)
    errors: dict[str, float | None] = dict.fromkeys(SLOPES)
    intervals: dict[str, tuple[float, float] | None] = dict.fromkeys(SLOPES)
    for i, name in enumerate(design.active):
        estimates[name] = float(slopes[i])
        errors[name] = float(math.sqrt(covariance[i, i]))
        intervals[name] = (estimates[name] - z * errors[name], estimates[name] + z * errors[name])
    fit = InertiaFit(
        verdicts=design.verdicts,
        slopes=estimates,
        std_errors=errors,
        intervals=intervals,
        baselines={m: dict(zip(design.verdicts, base[i].tolist(), strict=True)) for i, m in enumerate(design.models)},
        dilemma_effects={
            d: dict(zip(design.verdicts, effect[i].tolist(), strict=True)) for i, d in enumerate(design.dilemmas)
        },
        dilemma_sd=dilemma_sd,
        dilemma_sd_estimated=prior.dilemma is None,
        log_likelihood=_log_likelihood(theta, design),
        n_observations=len(design.choice),
        n_dilemmas=len(design.dilemmas),
        iterations=iterations,
        prior_sd=prior,
        level=level,
    )
    return fit, theta


def fit_inertia_conformity(
    observations: Sequence[VerdictObservation],
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD = PriorSD(),
    *,
    level: float = 0.95,
    maxiter: int = 2000,
) -> InertiaFit:
    """Fit the inertia/conformity model by penalised maximum likelihood, with Wald intervals.

    Unless `prior_sd.dilemma` is given, the sd of the dilemma effects is estimated first by
    maximising the Laplace-approximate marginal likelihood (about 10-20 fits). A slope whose
    feature is zero in every observation (conformity_within without round-robin turns, inertia
    with no second rounds) is reported as None. Raises `ConvergenceError`, naming the iteration
    count, when the Newton iterations do not converge within `maxiter`.
    """
    fit, _ = _fit_design(_design(observations, verdicts), prior_sd, level, maxiter)
    return fit


def _resample(design: _Design, rows_of: list[np.ndarray], picks: np.ndarray) -> _Design:
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


def bootstrap_inertia_conformity(
    observations: Sequence[VerdictObservation],
    n_boot: int = 200,
    seed: int = 0,
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD = PriorSD(),
    *,
    level: float = 0.95,
    maxiter: int = 2000,
) -> InertiaFit:
    """The point fit with percentile intervals from resampling dilemmas with replacement.

    Each resampled dilemma gets its own effects, even when drawn twice. The dilemma sd is
    estimated once, on the full data, and held fixed in the resamples. Wald standard errors of
    the point fit are kept alongside.
    """
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2")
    design = _design(observations, verdicts)
    fit, theta = _fit_design(design, prior_sd, level, maxiter)
    precisions = _Precisions.of(prior_sd.baseline, fit.dilemma_sd, prior_sd.slope)
    rows_of = [np.flatnonzero(design.dilemma == d) for d in range(len(design.dilemmas))]
    base, effect, slopes = _split(theta, design)
    rng = np.random.default_rng(seed)
    draws = np.zeros((n_boot, len(design.active)))
    for b in range(n_boot):
        picks = rng.integers(len(design.dilemmas), size=len(design.dilemmas))
        start = np.concatenate([base.ravel(), effect[picks].ravel(), slopes])
        resampled = _resample(design, rows_of, picks)
        draws[b] = _split(_optimise(resampled, precisions, maxiter, start, gtol=1e-5)[0], resampled)[2]
    tail = 100 * (1 - level) / 2
    intervals = dict(fit.intervals)
    for i, name in enumerate(design.active):
        low, high = np.percentile(draws[:, i], [tail, 100 - tail])
        intervals[name] = (float(low), float(high))
    return replace(fit, intervals=intervals, interval_method="bootstrap", n_boot=n_boot)


# --- power ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InertiaPower:
    """Power of the inertia/conformity fit for a design, from repeated simulation."""

    n_dilemmas: int
    n_sims: int
    interval: Literal["wald", "bootstrap"]
    """How each simulated fit's interval was made."""
    level: float
    power: dict[str, float | None]
    """Per slope, the fraction of simulations whose interval excludes 0; None when the slope is not identifiable."""


def power_inertia(
    agents: Mapping[str, DebaterParams],
    n_dilemmas: int,
    n_sims: int = 100,
    seed: int = 0,
    *,
    turns: Literal["synchronous", "round_robin"] = "round_robin",
    max_rounds: int = 4,
    verdicts: Sequence[str] = AITA_VERDICTS,
    prior_sd: PriorSD = PriorSD(),
    level: float = 0.95,
    interval: Literal["wald", "bootstrap"] = "wald",
    n_boot: int = 100,
    maxiter: int = 2000,
) -> InertiaPower:
    """Simulate `n_sims` experiments of `n_dilemmas` debates with the given true parameters, fit each,
    and report how often each slope's interval excludes 0.

    Wald intervals (the default) come from the Hessian of one fit; bootstrap intervals need
    `n_boot` further fits per simulation and are that many times slower.
    """
    if interval not in ("wald", "bootstrap"):
        raise ValueError(f"interval must be 'wald' or 'bootstrap', not {interval!r}")
    rng = np.random.default_rng(seed)
    hits: dict[str, int] = dict.fromkeys(SLOPES, 0)
    identified: dict[str, int] = dict.fromkeys(SLOPES, 0)
    for sim in range(n_sims):
        observations = simulate_debates(agents, n_dilemmas, rng, turns=turns, max_rounds=max_rounds, verdicts=verdicts)
        if interval == "wald":
            fit = fit_inertia_conformity(observations, verdicts, prior_sd, level=level, maxiter=maxiter)
        else:
            fit = bootstrap_inertia_conformity(
                observations, n_boot, seed + sim, verdicts, prior_sd, level=level, maxiter=maxiter
            )
        for name in SLOPES:
            bounds = fit.intervals[name]
            if bounds is not None:
                identified[name] += 1
                hits[name] += bounds[0] > 0 or bounds[1] < 0
    power = {name: hits[name] / identified[name] if identified[name] else None for name in SLOPES}
    return InertiaPower(n_dilemmas, n_sims, interval, level, power)
