"""Synthetic control weights: unit weights on the simplex and predictor weights V.

The inner problem of the synthetic control method is a quadratic programme on the
simplex,

    min_w  ||D w||^2   subject to  w >= 0,  sum(w) = 1,

with ``D = sqrt(V) (X0 - x1 1')`` (the predictor gaps, weighted; a ridge penalty
``lambda ||w||^2`` appends the rows ``sqrt(lambda) I``). Because ``sum(w) = 1``,
``||x1 - X0 w||_V^2 = ||D w||^2``: the problem is the point of least norm in the convex
hull of the columns of ``D``. It is solved exactly by one non-negative least squares
problem (the Lawson-Hanson active-set algorithm of :func:`scipy.optimize.nnls`):

    u* = argmin_{u >= 0} ||D u||^2 + (1'u - 1)^2,   w* = u* / 1'u*.

For ``u = s w`` with ``w`` on the simplex the objective is ``s^2 ||D w||^2 + (s - 1)^2``,
minimised over ``w`` by the least-norm weights whatever ``s > 0`` is, and over ``s`` at
``s = 1 / (1 + ||D w*||^2) > 0``; so the normalised solution is the exact minimiser. An
active-set method ends at an exact vertex of the solution's face (weights that are zero
are exactly zero), in a few dozen microseconds for tens of donors.

The outer problem chooses the diagonal V that minimises the pre-period outcome MSPE of
the synthetic unit the weights build (Abadie, Diamond and Hainmueller 2010), by
Nelder-Mead from several starts (equal weights, the regression-based start of R's
``Synth``, and seeded random draws), keeping the best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["VFit", "optimize_v", "regression_start", "simplex_weights", "weights_for_v"]


TIE_BREAK = 1e-8
"""Penalty on ``||w||^2``, relative to the largest squared column norm of the gaps,
that picks one solution where several weight vectors fit equally well."""


def simplex_weights(gaps: np.ndarray, *, ridge: float = 0.0) -> np.ndarray:
    """Weights on the simplex minimising ``||gaps @ w||^2 + ridge * ||w||^2``.

    Where several weight vectors fit equally well (more comparison units than
    predictors, and a treated unit inside their hull) the fit alone does not pick the
    weights, and an active-set solver would return a vertex that depends on the order
    of the units. A tie-breaking penalty of :data:`TIE_BREAK` times the largest
    squared column norm of ``gaps`` makes the solution unique: among the weights that
    fit (to about ``1e-4`` of the gaps' scale), the least concentrated. It keeps the
    least squares system well conditioned (condition number about ``1e4``).

    Parameters
    ----------
    gaps : numpy.ndarray, shape (k, J)
        Column ``j`` is the (weighted) gap between donor ``j``'s predictors and the
        treated unit's.
    ridge : float, default 0
        Ridge penalty on the weights, in the units of ``||gaps @ w||^2``.

    Returns
    -------
    numpy.ndarray, shape (J,)
        Non-negative weights summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> donors = np.array([[0.0, 2.0, 5.0], [0.0, 2.0, 5.0]])
    >>> np.round(simplex_weights(donors - np.array([[6.0], [6.0]])), 6).tolist()
    [0.0, 0.0, 1.0]
    >>> w = simplex_weights(donors - np.array([[1.0], [1.0]]))  # many exact fits
    >>> np.round(w, 3).tolist(), round(float(w @ donors[0]), 6)
    ([0.579, 0.368, 0.053], 1.0)
    """
    from scipy.optimize import nnls  # deferred: importing impact stays fast

    gaps = np.asarray(gaps, dtype=float)
    k, n_donors = gaps.shape
    if n_donors == 1:
        return np.ones(1)
    norms = np.einsum("ij,ij->j", gaps, gaps)
    top = float(norms.max()) if gaps.size else 0.0
    if top == 0.0 or not np.isfinite(top):
        # every donor matches exactly (or nothing to match): no donor is preferred
        return np.full(n_donors, 1.0 / n_donors)
    system = np.zeros((k + n_donors + 1, n_donors))
    np.multiply(gaps, 1.0 / np.sqrt(top), out=system[:k])
    diagonal = np.sqrt(ridge / top + TIE_BREAK)
    system[np.arange(k, k + n_donors), np.arange(n_donors)] = diagonal
    system[-1] = 1.0
    target = np.zeros(k + n_donors + 1)
    target[-1] = 1.0
    u, _ = nnls(system, target, maxiter=50 * n_donors)
    total = u.sum()
    if total <= 0:  # pragma: no cover - the optimum has sum 1 / (1 + m) > 0
        return np.full(n_donors, 1.0 / n_donors)
    return u / total


def weights_for_v(
    donors: np.ndarray, treated: np.ndarray, v: np.ndarray, *, ridge: float = 0.0
) -> np.ndarray:
    """Unit weights matching ``treated`` (k,) by ``donors`` (k, J) under diagonal ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> donors = np.array([[0.0, 4.0], [1.0, 1.0]])
    >>> np.round(weights_for_v(donors, np.array([1.0, 1.0]), np.array([1.0, 1.0])), 6).tolist()
    [0.75, 0.25]
    """
    root = np.sqrt(np.asarray(v, dtype=float))[:, None]
    return simplex_weights(root * (donors - treated[:, None]), ridge=ridge)


@dataclass(frozen=True)
class VFit:
    """The outcome of the outer optimisation: V, W and the outcome MSPE they give."""

    v: np.ndarray
    w: np.ndarray
    loss: float
    starts: int


def _to_v(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    total = a.sum()
    if total == 0 or not np.isfinite(total):
        return np.full(len(x), 1.0 / len(x))
    return a / total


def regression_start(
    donors: np.ndarray, treated: np.ndarray, z_donors: np.ndarray, z_treated: np.ndarray
) -> np.ndarray | None:
    """The regression-based starting V of R ``Synth``: squared OLS coefficients.

    The fitted-period outcomes of every unit are regressed on its (scaled) predictors
    with an intercept; V starts proportional to the row sums of the squared
    coefficients. None when the regression is rank deficient.
    """
    x = np.hstack([donors, treated[:, None]]).T
    x = np.hstack([np.ones((x.shape[0], 1)), x])
    z = np.hstack([z_donors, z_treated[:, None]]).T
    if np.linalg.matrix_rank(x) < x.shape[1]:
        return None
    beta = np.linalg.lstsq(x, z, rcond=None)[0][1:]
    start = (beta**2).sum(axis=1)
    return None if start.sum() <= 0 else start / start.sum()


class _VWeights:
    """:func:`simplex_weights` of ``sqrt(v) * diff`` for many ``v``, the system built once.

    The same arithmetic as :func:`simplex_weights` without a ridge, with the parts that
    do not depend on ``v`` (the tie-break rows, the row of ones, the squared gaps)
    prepared once for the outer optimisation's thousands of calls.
    """

    def __init__(self, diff: np.ndarray) -> None:
        from scipy.optimize import nnls

        self.nnls = nnls
        k, n = diff.shape
        self.diff = diff
        self.squares = diff**2
        self.k = k
        self.template = np.zeros((k + n + 1, n))
        self.template[np.arange(k, k + n), np.arange(n)] = np.sqrt(TIE_BREAK)
        self.template[-1] = 1.0
        self.target = np.zeros(k + n + 1)
        self.target[-1] = 1.0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        n = self.diff.shape[1]
        if n == 1:
            return np.ones(1)
        top = float((v @ self.squares).max())
        if top == 0.0 or not np.isfinite(top):
            return np.full(n, 1.0 / n)
        system = self.template.copy()
        np.multiply(np.sqrt(v / top)[:, None], self.diff, out=system[: self.k])
        u, _ = self.nnls(system, self.target, maxiter=50 * n)
        total = u.sum()
        if total <= 0:  # pragma: no cover - the optimum has sum 1 / (1 + m) > 0
            return np.full(n, 1.0 / n)
        return u / total


def optimize_v(
    donors: np.ndarray,
    treated: np.ndarray,
    z_donors: np.ndarray,
    z_treated: np.ndarray,
    *,
    starts: Sequence[np.ndarray] = (),
    max_evaluations: int = 4000,
) -> VFit:
    """Choose diagonal V minimising the outcome MSPE over the fitted periods.

    Parameters
    ----------
    donors, treated : numpy.ndarray
        Scaled predictors, shapes (k, J) and (k,).
    z_donors, z_treated : numpy.ndarray
        Outcomes over the periods whose MSPE chooses V, shapes (T, J) and (T,).
    starts : sequence of numpy.ndarray
        Starting points (on the simplex) besides the equal and regression-based ones.
    max_evaluations : int
        Nelder-Mead function evaluations per start.

    Returns
    -------
    VFit
    """
    from scipy.optimize import minimize

    k = donors.shape[0]
    diff = donors - treated[:, None]
    solve = _VWeights(diff)

    def loss_of(w: np.ndarray) -> float:
        r = z_treated - z_donors @ w
        return float(r @ r) / len(r)

    def objective(x: np.ndarray) -> float:
        return loss_of(solve(_to_v(x)))

    points: list[np.ndarray] = [np.full(k, 1.0 / k)]
    ols = regression_start(donors, treated, z_donors, z_treated)
    if ols is not None:
        points.append(ols)
    points.extend(np.asarray(p, dtype=float) for p in starts)
    if k == 1:
        w = solve(np.ones(1))
        return VFit(v=np.ones(1), w=w, loss=loss_of(w), starts=1)
    # the stopping rule is relative to the outcome's spread over the fitted periods, so
    # that shifting or rescaling the outcome leaves the chosen V unchanged
    spread = float(np.var(z_treated)) or float(np.mean(z_treated**2)) or 1.0
    best_value, best_v = np.inf, points[0]
    for point in points:
        res = minimize(
            objective,
            point,
            method="Nelder-Mead",
            options={
                "maxfev": max_evaluations,
                "xatol": 1e-4,
                "fatol": 1e-10 * spread,
            },
        )
        value = float(res.fun)
        if value < best_value:
            best_value, best_v = value, _to_v(res.x)
    v = best_v
    w = solve(v)
    return VFit(v=v, w=w, loss=loss_of(w), starts=len(points))
