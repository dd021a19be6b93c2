"""Fixed-length confidence intervals (FLCI) under smoothness, Delta^SD(M).

The interval is ``v' beta +- chi`` for an affine estimator ``v' beta`` of
``theta = l' tau_post`` whose pre-period weights ``v_pre`` are chosen to minimise
the half-length ``chi = sd(v) * cv_alpha(bias(v) / sd(v))``, with ``bias(v)`` the
worst-case bias over Delta^SD(M) and ``cv_alpha(t)`` the ``1 - alpha`` quantile of
``|N(t, 1)|`` (Armstrong and Kolesar 2018; Rambachan and Roth 2023, Section 4.1).

Following HonestDiD, the weights are parametrised by ``w`` with ``v_pre = D w``
(``w`` the running sums of ``v_pre``), ``sum(w) = sum_t t l_t`` (unbiased for a linear
trend) and the worst-case bias is
``M * (sum_s |sum_{j<=s} j l_{T-s+j}| - sum_t t l_t + sum_i |w_1 + ... + w_i|)``.
HonestDiD minimises over the standard deviation ``h`` an inner second-order cone
programme; here ``chi`` is minimised directly: it is the perspective of the convex,
increasing ``cv_alpha`` composed with the convex ``bias`` and ``sd``, hence convex in
``(w, U)`` with ``U >= |running sums|`` linear constraints (SLSQP, analytic
gradients). ``cv_alpha`` is solved exactly (HonestDiD simulates it with a million
draws, which moves the printed bounds by about 1e-5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from impact.exceptions import EstimationError

__all__ = ["FLCI", "folded_normal_quantile", "optimal_flci", "worst_case_bias"]


def folded_normal_quantile(t: float, alpha: float) -> float:
    """``c`` with ``P(|N(t, 1)| <= c) = 1 - alpha`` (``cv_alpha(t)``).

    Examples
    --------
    >>> round(folded_normal_quantile(0.0, 0.05), 4)
    1.96
    """
    from scipy.optimize import brentq

    t = abs(float(t))
    lo = t + float(special.ndtri(1 - alpha))
    hi = t + float(special.ndtri(1 - alpha / 2))
    if hi - lo < 1e-14:
        return hi

    def excess(c: float) -> float:
        return float(special.ndtr(c - t) - special.ndtr(-c - t)) - (1 - alpha)

    if excess(lo) >= 0:
        return lo
    return float(brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15))


def _cv_slope(t: float, c: float) -> float:
    """``d cv_alpha / dt`` at ``t`` (implicit differentiation)."""
    up, down = np.exp(-0.5 * (c - t) ** 2), np.exp(-0.5 * (c + t) ** 2)
    return float((up - down) / (up + down))


@dataclass(frozen=True)
class FLCI:
    """An optimal FLCI: weights, estimate, half-length."""

    weights: np.ndarray
    estimate: float
    half_length: float

    @property
    def lower(self) -> float:
        return self.estimate - self.half_length

    @property
    def upper(self) -> float:
        return self.estimate + self.half_length


def _bias_constant(l_vec: np.ndarray) -> float:
    n_post = len(l_vec)
    t = np.arange(1, n_post + 1)
    total = 0.0
    for s in range(1, n_post + 1):
        total += abs(float(np.arange(1, s + 1) @ l_vec[n_post - s :]))
    return total - float(t @ l_vec)


def worst_case_bias(v_pre: np.ndarray, l_vec: np.ndarray, M: float) -> float:
    """Largest bias of ``v_pre' beta_pre + l' beta_post`` for ``theta`` over Delta^SD(M).

    Infinite unless the estimator is unbiased for a linear trend.
    """
    t = np.arange(1, len(l_vec) + 1)
    periods = np.arange(-len(v_pre), 0)
    if abs(v_pre @ periods + t @ l_vec) > 1e-8 * (1 + np.abs(v_pre).sum()):
        return np.inf
    w = np.cumsum(v_pre)
    return float(M * (_bias_constant(l_vec) + np.abs(np.cumsum(w)).sum()))


def optimal_flci(
    beta: np.ndarray, sigma: np.ndarray, *, n_pre: int, l_vec: np.ndarray, M: float, alpha: float
) -> FLCI:
    """The shortest fixed-length interval for ``l' tau_post`` over Delta^SD(M)."""
    # the weights do not depend on the outcome's units: optimise on a unit scale
    unit = float(np.sqrt(np.mean(np.diag(sigma))))
    if not unit > 0:
        raise EstimationError("the covariance of the event-study coefficients is zero")
    v = _optimal_unit_flci(sigma / unit**2, n_pre=n_pre, l_vec=l_vec, M=M / unit, alpha=alpha)
    h = float(np.sqrt(v @ sigma @ v))
    chi = h * folded_normal_quantile(worst_case_bias(v[:n_pre], l_vec, M) / h, alpha)
    return FLCI(weights=v, estimate=float(v @ beta), half_length=float(chi))


def _optimal_unit_flci(
    sigma: np.ndarray, *, n_pre: int, l_vec: np.ndarray, M: float, alpha: float
) -> np.ndarray:
    """The FLCI's weights ``v`` for a covariance of unit scale."""
    from scipy.optimize import minimize

    K = n_pre
    D = np.eye(K) - np.eye(K, k=-1)  # v_pre = D w
    S_pp = sigma[:K, :K]
    S_pq_l = sigma[:K, K:] @ l_vec
    var_post = float(l_vec @ sigma[K:, K:] @ l_vec)
    target_sum = float(np.arange(1, len(l_vec) + 1) @ l_vec)
    constant = _bias_constant(l_vec)
    lower_tri = np.tril(np.ones((K, K)))
    Q = D.T @ S_pp @ D
    g = D.T @ S_pq_l

    def variance(w: np.ndarray) -> float:
        return float(w @ Q @ w + 2 * g @ w + var_post)

    def half_length(x: np.ndarray) -> tuple[float, np.ndarray]:
        w, U = x[:K], x[K:]
        h = np.sqrt(max(variance(w), 1e-300))
        bias = M * (constant + U.sum())
        t = bias / h
        c = folded_normal_quantile(t, alpha)
        slope = _cv_slope(t, c)
        grad_h = (Q @ w + g) / h
        grad = np.concatenate([(c - t * slope) * grad_h, np.full(K, M * slope)])
        return h * c, grad

    constraints = [
        {"type": "eq", "fun": lambda x: np.array([x[:K].sum() - target_sum]),
         "jac": lambda x: np.concatenate([np.ones(K), np.zeros(K)])[None, :]},
        {"type": "ineq", "fun": lambda x: np.concatenate([x[K:] - lower_tri @ x[:K],
                                                          x[K:] + lower_tri @ x[:K]]),
         "jac": lambda x: np.block([[-lower_tri, np.eye(K)], [lower_tri, np.eye(K)]])},
    ]  # fmt: skip
    # starting points: the minimum-variance and the minimum-bias estimators
    ones = np.ones(K)
    kkt = np.block([[2 * Q, ones[:, None]], [ones[None, :], np.zeros((1, 1))]])
    try:
        w_var = np.linalg.lstsq(kkt, np.concatenate([-2 * g, [target_sum]]), rcond=None)[0][:K]
    except np.linalg.LinAlgError:  # pragma: no cover - lstsq does not raise on singular
        w_var = np.full(K, target_sum / K)
    w_bias = np.zeros(K)
    w_bias[-1] = target_sum
    best_w, best_length = None, np.inf
    for w0 in (w_var, w_bias):
        x0 = np.concatenate([w0, np.abs(lower_tri @ w0) + 1e-9])
        res = minimize(
            half_length,
            x0,
            jac=True,
            method="SLSQP",
            constraints=constraints,
            options={"ftol": 1e-12, "maxiter": 1000},
        )
        # SLSQP may stop short of its tolerance once no step improves (a convex
        # problem: the point is then as good as rounding allows); every end point is
        # made exactly feasible and scored by its own half-length
        for w in (res.x[:K], w0):
            w = w + (target_sum - w.sum()) / K
            if not np.isfinite(w).all():
                continue
            x = np.concatenate([w, np.abs(lower_tri @ w)])
            length = half_length(x)[0]
            if length < best_length:
                best_w, best_length = w, length
    if best_w is None:
        raise EstimationError(f"the FLCI optimisation failed at M={M}")
    return np.concatenate([D @ best_w, l_vec])
