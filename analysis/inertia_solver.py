"""The inertia/conformity model's penalised likelihood, its Newton solver and the dilemma-sd estimate.

The parameter vector is the baselines (players x verdicts), the dilemma effects (dilemmas x
verdicts) and the estimable slope columns of a `Design`. The objective is the negative log
likelihood of the multinomial logit plus Gaussian priors (weak on baselines and slopes; on the
dilemma effects an sd that is either held fixed or estimated). The Hessian is handled in blocks:
the dilemma effects are block-diagonal, and a Schur complement eliminates them, so every solve
costs time linear in the number of dilemmas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import minimize_scalar

from moot.analysis.bradley_terry import ConvergenceError
from moot.analysis.inertia_design import Design

__all__ = [
    "DILEMMA_SD_BOUNDS",
    "Hessian",
    "Precisions",
    "estimate_dilemma_sd",
    "hessian",
    "log_likelihood",
    "objective",
    "optimise",
    "split",
]

DILEMMA_SD_BOUNDS = (0.01, 10.0)
"""Range of the estimated standard deviation of the dilemma effects."""


@dataclass(frozen=True)
class Precisions:
    """Prior precisions (1 / sd^2) of the baselines, the dilemma effects and the slopes."""

    baseline: float
    dilemma: float
    slope: float

    @classmethod
    def of(cls, baseline_sd: float, dilemma_sd: float, slope_sd: float) -> Precisions:
        """Precisions from standard deviations."""
        return cls(baseline_sd**-2, dilemma_sd**-2, slope_sd**-2)

    def vector(self, design: Design) -> np.ndarray:
        """The precision of each parameter, in the order of the parameter vector."""
        K = len(design.verdicts)
        return np.concatenate(
            [
                np.full(len(design.models) * K, self.baseline),
                np.full(len(design.dilemmas) * K, self.dilemma),
                np.full(len(design.active), self.slope),
            ]
        )


def split(theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parameter vector as baselines (M, K), dilemma effects (D, K) and slopes (S,)."""
    K = len(design.verdicts)
    n_base = len(design.models) * K
    n_dilemma = len(design.dilemmas) * K
    return theta[:n_base].reshape(-1, K), theta[n_base : n_base + n_dilemma].reshape(-1, K), theta[n_base + n_dilemma :]


def _utilities(theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Utilities (n, K), their log-normalisers (n,) and the choice probabilities (n, K)."""
    base, effect, slopes = split(theta, design)
    utility = base[design.model] + effect[design.dilemma]
    if len(slopes):
        utility += design.features @ slopes
    top = utility.max(axis=1)
    weights = np.exp(utility - top[:, None])
    total = weights.sum(axis=1)
    return utility, top + np.log(total), weights / total[:, None]


def log_likelihood(theta: np.ndarray, design: Design) -> float:
    """The log-likelihood of the observations (without the priors)."""
    utility, log_norm, _ = _utilities(theta, design)
    return float(np.sum(utility[np.arange(len(design.choice)), design.choice] - log_norm))


def _group_sum(design: Design, by: Literal["model", "dilemma", "dilemma_model"], values: np.ndarray) -> np.ndarray:
    """Sum the rows of `values` (any trailing shape) by the observations' group (see `Design.grouping`)."""
    grouping = design.grouping(by)
    flat = values.reshape(len(values), -1)
    return np.asarray(grouping @ flat).reshape(grouping.shape[0], *values.shape[1:])


def objective(theta: np.ndarray, design: Design, precision: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log posterior and its gradient."""
    utility, log_norm, residual = _utilities(theta, design)
    rows = np.arange(len(design.choice))
    log_lik = np.sum(utility[rows, design.choice] - log_norm)
    residual[rows, design.choice] -= 1.0  # d(-log lik)/dU
    grad = np.concatenate(
        [
            _group_sum(design, "model", residual).ravel(),
            _group_sum(design, "dilemma", residual).ravel(),
            np.einsum("nk,nks->s", residual, design.features),
        ]
    )
    return float(-log_lik + 0.5 * np.sum(precision * theta**2)), grad + precision * theta


@dataclass
class Hessian:
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

    def small_covariance(self) -> np.ndarray:
        """The (baselines, slopes) block of the Hessian's inverse."""
        return np.linalg.inv(self.schur)

    def solve(self, grad: np.ndarray, design: Design) -> np.ndarray:
        """H^-1 grad, with `grad` in the order of the parameter vector."""
        K, M = len(design.verdicts), len(design.models)
        n_base, n_dilemma = M * K, len(design.dilemmas) * K
        g_dilemma = grad[n_base : n_base + n_dilemma].reshape(-1, K)
        g_small = np.concatenate([grad[:n_base], grad[n_base + n_dilemma :]])
        a_solve_g = np.linalg.solve(self.a_blocks, g_dilemma[:, :, None])[:, :, 0]
        step_small = np.linalg.solve(self.schur, g_small - np.einsum("dkq,dk->q", self.cross, a_solve_g))
        step_dilemma = a_solve_g - np.einsum("dkq,q->dk", self.a_solve_cross, step_small)
        return np.concatenate([step_small[:n_base], step_dilemma.ravel(), step_small[n_base:]])


def hessian(theta: np.ndarray, design: Design, precisions: Precisions) -> Hessian:
    """The Hessian of the negative log posterior at `theta`, in blocks (see `Hessian`)."""
    _, _, probs = _utilities(theta, design)
    K, M, D, S = len(design.verdicts), len(design.models), len(design.dilemmas), len(design.active)
    weight = -probs[:, :, None] * probs[:, None, :]
    weight[:, np.arange(K), np.arange(K)] += probs
    # weight @ features without the batched matmul: p_k (F_ks - sum_j p_j F_js).
    weight_x = probs[:, :, None] * (design.features - np.einsum("nj,njs->ns", probs, design.features)[:, None, :])
    eye = np.eye(K)
    # Hessian blocks: A (dilemma effects, block-diagonal), `cross` (dilemma effects x small), C (small x small),
    # where small = baselines then slopes.
    a_blocks = _group_sum(design, "dilemma", weight) + eye * precisions.dilemma
    cross_base = (
        _group_sum(design, "dilemma_model", weight).reshape(D, M, K, K).transpose(0, 2, 1, 3).reshape(D, K, M * K)
    )
    cross = np.concatenate([cross_base, _group_sum(design, "dilemma", weight_x)], axis=2)
    q = M * K + S
    c_block = np.zeros((q, q))
    base_blocks = _group_sum(design, "model", weight) + eye * precisions.baseline
    for m in range(M):
        c_block[m * K : (m + 1) * K, m * K : (m + 1) * K] = base_blocks[m]
    base_slope = _group_sum(design, "model", weight_x).reshape(M * K, S)
    c_block[: M * K, M * K :] = base_slope
    c_block[M * K :, : M * K] = base_slope.T
    c_block[M * K :, M * K :] = (
        design.features.reshape(len(design.choice) * K, S).T @ weight_x.reshape(len(design.choice) * K, S)
        + np.eye(S) * precisions.slope
    )
    a_solve_cross = np.linalg.solve(a_blocks, cross)
    schur = c_block - cross.reshape(-1, q).T @ a_solve_cross.reshape(-1, q)
    return Hessian(a_blocks, cross, schur, a_solve_cross)


def optimise(
    design: Design, precisions: Precisions, maxiter: int, start: np.ndarray | None = None, gtol: float = 1e-6
) -> tuple[np.ndarray, int, Hessian | None]:
    """The penalised maximum-likelihood estimate, the number of iterations it took and the Hessian of the last step.

    The last step's Hessian was taken one (converged, so tiny) step before the estimate: close
    enough for a log-determinant, not for intervals. None when the start had already converged.

    Newton's method with a backtracking line search: the objective is strictly convex (the
    priors make it so), and the block structure of the Hessian (`Hessian`) makes each step
    cost about as much as a few gradient evaluations. It stops when no gradient component
    exceeds `gtol`.
    """
    precision = precisions.vector(design)
    theta = np.zeros(design.n_params) if start is None else np.array(start, dtype=float)
    value, grad = objective(theta, design, precision)
    if np.max(np.abs(grad)) <= gtol:
        return theta, 0, None
    for iteration in range(1, maxiter + 1):
        last = hessian(theta, design, precisions)
        step = last.solve(grad, design)
        decrease = float(grad @ step)  # > 0: the Hessian is positive definite
        scale = 1.0
        while True:
            candidate = theta - scale * step
            new_value, new_grad = objective(candidate, design, precision)
            if new_value <= value - 1e-4 * scale * decrease or scale < 1e-10:
                break
            scale *= 0.5
        theta, value, grad = candidate, new_value, new_grad
        # Converged on a vanishing gradient, or when rounding stops any further decrease.
        if np.max(np.abs(grad)) <= gtol or decrease < 1e-12 * max(1.0, abs(value)):
            return theta, iteration, last
    raise ConvergenceError(
        f"inertia/conformity fit did not converge after {maxiter} iterations (maxiter {maxiter}): "
        f"largest gradient component {np.max(np.abs(grad)):.3g}"
    )


class _LaplaceMarginal:
    """The negative Laplace-approximate log marginal likelihood as a function of the log dilemma sd.

    Each evaluation fits the model at that sd by Newton's method, warm-started from the fit at the
    nearest sd evaluated so far; the fits are kept, so the estimate at the chosen sd costs nothing more.
    """

    def __init__(
        self, design: Design, baseline_sd: float, slope_sd: float, maxiter: int, start: np.ndarray | None, gtol: float
    ) -> None:
        self.design, self.baseline_sd, self.slope_sd, self.maxiter, self.gtol = (
            design,
            baseline_sd,
            slope_sd,
            maxiter,
            gtol,
        )
        self.start = start
        self.fits: dict[float, tuple[np.ndarray, float]] = {}

    def __call__(self, log_sd: float) -> float:
        if log_sd in self.fits:
            return self.fits[log_sd][1]
        precisions = Precisions.of(self.baseline_sd, math.exp(log_sd), self.slope_sd)
        theta, _, last = optimise(self.design, precisions, self.maxiter, self._start_at(log_sd), gtol=self.gtol)
        value, _ = objective(theta, self.design, precisions.vector(self.design))
        n_effects = len(self.design.dilemmas) * len(self.design.verdicts)
        value += n_effects * log_sd + 0.5 * (last or hessian(theta, self.design, precisions)).log_det
        self.fits[log_sd] = (theta, value)
        return value

    def _start_at(self, log_sd: float) -> np.ndarray | None:
        """Where to start the fit at `log_sd`: the line through the fits at the two nearest sds evaluated
        (the estimate moves smoothly with the sd), the nearest fit when there is one, else the given start."""
        nearest = sorted(self.fits, key=lambda x: abs(x - log_sd))[:2]
        if len(nearest) == 2:
            (x0, x1), (t0, t1) = nearest, (self.fits[nearest[0]][0], self.fits[nearest[1]][0])
            return t0 + (t1 - t0) * (log_sd - x0) / (x1 - x0)
        return self.fits[nearest[0]][0] if nearest else self.start

    def best(self) -> tuple[float, np.ndarray]:
        """The log sd evaluated with the smallest value, and the fit there."""
        log_sd = min(self.fits, key=lambda x: self.fits[x][1])
        return log_sd, self.fits[log_sd][0]


def _parabola_vertex(marginal: _LaplaceMarginal, centre: float, step: float) -> tuple[float, np.ndarray] | None:
    """The minimum of the parabola through the marginal at centre - step, centre, centre + step, and the estimate
    there interpolated (quadratically) from the fits at the three points; None unless the parabola is convex and
    its minimum lies between the outer points."""
    below, middle, above = marginal(centre - step), marginal(centre), marginal(centre + step)
    curvature = below - 2 * middle + above
    if curvature <= 0:
        return None
    offset = (below - above) / (2 * curvature)  # in steps from the centre
    if abs(offset) > 1:
        return None
    fits = [marginal.fits[centre - step][0], marginal.fits[centre][0], marginal.fits[centre + step][0]]
    # Lagrange weights of the three points at the offset.
    weights = (offset * (offset - 1) / 2, 1 - offset**2, offset * (offset + 1) / 2)
    return centre + step * offset, weights[0] * fits[0] + weights[1] * fits[1] + weights[2] * fits[2]


def estimate_dilemma_sd(
    design: Design,
    baseline_sd: float,
    slope_sd: float,
    maxiter: int,
    *,
    start: np.ndarray | None = None,
    start_sd: float | None = None,
    gtol: float = 1e-6,
) -> tuple[np.ndarray, float, int]:
    """The dilemma-effect sd that maximises the Laplace approximation of the marginal likelihood, with the fit at it.

    The dilemma effects are then random effects with an estimated variance (empirical Bayes),
    which keeps the few observations per dilemma from biasing the slopes as free fixed effects do.
    A bounded scalar search over the log sd within `DILEMMA_SD_BOUNDS`. With `start_sd` (a resample
    of data already fitted, whose sd lies near it) it first tries the vertex of a parabola through
    three points around it, which needs four fits instead of about fifteen, and searches only when
    the vertex falls outside them. Returns the estimate at the sd, the sd and the number of fits.
    """
    marginal = _LaplaceMarginal(design, baseline_sd, slope_sd, maxiter, start, gtol)
    low, high = (math.log(b) for b in DILEMMA_SD_BOUNDS)
    if start_sd is not None:
        step = 0.25
        centre = min(high - step, max(low + step, math.log(start_sd)))
        vertex = _parabola_vertex(marginal, centre, step)
        if vertex is not None:
            return vertex[1], math.exp(vertex[0]), len(marginal.fits)
    result = minimize_scalar(marginal, bounds=(low, high), method="bounded", options={"xatol": 0.05, "maxiter": 60})
    if not result.success:
        raise ConvergenceError(f"dilemma sd estimate did not converge after {result.nit} iterations: {result.message}")
    marginal(float(result.x))
    log_sd, theta = marginal.best()
    return theta, math.exp(log_sd), len(marginal.fits)
