"""Unit and time weights of synthetic difference-in-differences (Frank-Wolfe on the simplex).

The weights solve, on the probability simplex, the penalised least-squares problems of
Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021, Algorithm 1), as the R package
``synthdid`` solves them: ``min_x ||A x - b||^2 + eta ||x||^2`` by Frank-Wolfe with an
exact line search, started from uniform weights, run for at most 100 iterations, then
sparsified (weights at most a quarter of the largest set to zero) and run again until
an iteration lowers the penalised mean squared error by less than ``min_decrease^2``
(at most 10,000 iterations).

The solver works on the Gram matrix ``G = A'A``: each iteration then costs one column
of ``G`` (``O(n)``) instead of two products with ``A`` (``O(n T)``), and many problems
of the same size (the placebo and bootstrap replications) run side by side as rows of
arrays, each stopping at its own iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from impact.estimators.synthetic._sdid_dual import project_simplex

__all__ = ["SolverOptions", "frank_wolfe", "noise_level", "sparsify"]

PRE_SPARSIFY_ITERATIONS = 100
MAX_ITERATIONS = 10_000
MIN_DECREASE = 1e-5  # times the noise level


@dataclass(frozen=True)
class SolverOptions:
    """Regularisation and stopping of the weight problems of one fit.

    ``zeta_omega`` and ``zeta_lambda`` are the ridge penalties (in outcome units) of the
    unit and time weights; ``min_decrease`` the stopping threshold (outcome units).
    """

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    sparsify: bool = True
    max_iter: int = MAX_ITERATIONS
    max_iter_pre_sparsify: int = PRE_SPARSIFY_ITERATIONS


def noise_level(y_pre_controls: np.ndarray) -> float:
    """Standard deviation of the first differences over time of the controls' pre-period outcomes.

    ``y_pre_controls``: controls in rows, pre-periods in columns (as R
    ``sd(apply(Y[1:N0, 1:T0], 1, diff))``; 0 with a single pre-period).
    """
    diffs = np.diff(y_pre_controls, axis=1).ravel()
    if diffs.size < 2:
        return 0.0
    return float(np.std(diffs, ddof=1))


def sparsify(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` with entries at most a quarter of the row's largest set to 0, renormalised."""
    out = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return out / out.sum(axis=1, keepdims=True)


def frank_wolfe(
    *,
    column: Callable[[np.ndarray], np.ndarray],
    matvec: Callable[[np.ndarray], np.ndarray],
    diag: np.ndarray,
    c: np.ndarray,
    bb: np.ndarray,
    n_rows: np.ndarray,
    zeta: float,
    x0: np.ndarray,
    valid: np.ndarray | None,
    min_decrease: float,
    max_iter: int,
    dense: np.ndarray | None = None,
) -> np.ndarray:
    """Frank-Wolfe with exact line search for ``R`` problems side by side.

    Problem ``r`` is ``min ||A_r x - b_r||^2 + eta_r ||x||^2`` over the simplex, with
    ``eta_r = n_rows[r] * zeta^2``, given through its Gram matrix ``G_r = A_r'A_r``:
    ``column(i)`` returns ``G_r[:, i[r]]`` for every ``r`` (shape ``(R, n)``),
    ``matvec(x)`` returns ``G_r x[r]``, ``diag`` the diagonals, ``c = A_r'b_r``,
    ``bb = b_r'b_r``. ``valid`` marks the entries of each row that are weights (rows of
    different sizes are padded); padded entries stay 0. Stops a problem once an
    iteration lowers ``(eta ||x||^2 + ||A x - b||^2) / n_rows`` by at most
    ``min_decrease^2``, as R ``synthdid``'s ``sc.weight.fw``.
    """
    x = np.array(x0, dtype=float, copy=True)
    n_problems, _ = x.shape
    rows = np.arange(n_problems)
    eta = np.asarray(n_rows, dtype=float) * zeta**2
    gx = matvec(x)
    xgx = np.einsum("ri,ri->r", x, gx)
    xc = np.einsum("ri,ri->r", x, c)
    xx = np.einsum("ri,ri->r", x, x)
    # the half-gradient G x - c + eta x, kept up to date (padded entries never chosen)
    grad = gx - c + eta[:, None] * x
    if valid is not None:
        grad[~valid] = np.inf
        x = np.where(valid, x, 0.0)
    del gx
    if n_problems == 1:

        def minus_c(i: int) -> np.ndarray:
            index = np.array([i])
            return column(index)[0] - c[0]

        one = minus_c if dense is None else _rows_of(dense - c[0][None, :])
        # padded entries are never chosen and stay 0: solve on the others
        keep = slice(None) if valid is None else np.flatnonzero(valid[0])
        if valid is not None:
            full = one

            def one(i: int) -> np.ndarray:
                return full(int(keep[i]))[keep]

        out = np.zeros_like(x[0])
        out[keep] = _one_problem(
            one,
            diag[0][keep],
            c[0][keep],
            float(bb[0]),
            float(n_rows[0]),
            float(eta[0]),
            x[0][keep],
            grad[0][keep],
            float(xgx[0]),
            float(xc[0]),
            float(xx[0]),
            min_decrease**2,
            max_iter,
        )
        return out[None, :]
    active = np.ones(n_problems, dtype=bool)
    threshold = min_decrease**2
    previous = np.full(n_problems, np.inf)
    finite = np.isfinite
    for t in range(max_iter):
        i = np.argmin(grad, axis=1)
        grad_i = grad[rows, i]
        x_i = x[rows, i]
        c_i = c[rows, i]
        g_ii = diag[rows, i]
        gx_i = grad_i + c_i - eta * x_i
        dot = np.einsum("ri,ri->r", np.where(finite(grad), grad, 0.0), x)
        slope = grad_i - dot
        curvature = (g_ii - 2 * gx_i + xgx) + eta * (xx - 2 * x_i + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(curvature > 0, -slope / curvature, 0.0)
        step = np.clip(step, 0.0, 1.0)
        step[~active] = 0.0
        keep = 1.0 - step
        x *= keep[:, None]
        x[rows, i] += step
        with np.errstate(invalid="ignore"):  # inf * 0 at padded entries after a full step
            grad *= keep[:, None]
        grad += step[:, None] * (column(i) - c)
        grad[rows, i] += eta * step
        if valid is not None:
            grad[~valid] = np.inf  # padded entries are never chosen
        xgx = keep**2 * xgx + 2 * step * keep * gx_i + step**2 * g_ii
        xc = keep * xc + step * c_i
        xx = keep**2 * xx + 2 * step * keep * x_i + step**2
        value = (eta * xx + xgx - 2 * xc + bb) / n_rows
        if t >= 1:
            active &= previous - value > threshold
            if not active.any():
                break
        previous = np.where(active, value, previous)
    return x


def _rows_of(matrix: np.ndarray) -> Callable[[int], np.ndarray]:
    matrix = np.ascontiguousarray(matrix)
    return matrix.__getitem__


def _one_problem(
    column: Callable[[int], np.ndarray],
    diag: np.ndarray,
    c: np.ndarray,
    bb: float,
    n_rows: float,
    eta: float,
    x: np.ndarray,
    grad: np.ndarray,
    xgx: float,
    xc: float,
    xx: float,
    threshold: float,
    max_iter: int,
) -> np.ndarray:
    """:func:`frank_wolfe` for a single problem, scalars in Python (fewer array calls).

    ``column(i)``: column ``i`` of the Gram matrix minus ``c``. ``x`` and the gradient
    are kept as scalar times vector: each step scales both by ``1 - step``, so kept as
    a scalar factor the step costs three array operations (argmin, a dot product, one
    BLAS ``axpy``) instead of eight; the factors are folded back before they underflow.
    """
    from scipy.linalg.blas import daxpy

    xt = np.array(x, dtype=float, copy=True)
    gt = np.array(grad, dtype=float, copy=True)
    sx = sg = 1.0
    previous = np.inf
    for t in range(max_iter):
        i = int(gt.argmin())
        grad_i = sg * float(gt[i])
        x_i = sx * float(xt[i])
        c_i = float(c[i])
        g_ii = float(diag[i])
        gx_i = grad_i + c_i - eta * x_i
        slope = grad_i - sg * sx * float(gt.dot(xt))
        curvature = (g_ii - 2 * gx_i + xgx) + eta * (xx - 2 * x_i + 1)
        step = -slope / curvature if curvature > 0 else 0.0
        step = min(1.0, max(0.0, step))
        keep = 1.0 - step
        if step == 1.0:  # all the weight on unit i
            xt[:] = 0.0
            xt[i] = 1.0
            gt[:] = column(i)
            gt[i] += eta
            sx = sg = 1.0
        elif step:
            sx *= keep
            xt[i] += step / sx
            sg *= keep
            gt = daxpy(column(i), gt, a=step / sg)  # in place: gt is contiguous
            gt[i] += eta * step / sg
            if sx < 1e-100 or sg < 1e-100:
                xt *= sx
                gt *= sg
                sx = sg = 1.0
        xgx = keep * keep * xgx + 2 * step * keep * gx_i + step * step * g_ii
        xc = keep * xc + step * c_i
        xx = keep * keep * xx + 2 * step * keep * x_i + step * step
        value = (eta * xx + xgx - 2 * xc + bb) / n_rows
        if t >= 1 and not previous - value > threshold:
            break
        previous = value
    return xt * sx


def solve_weights(
    *,
    column: Callable[[np.ndarray], np.ndarray],
    matvec: Callable[[np.ndarray], np.ndarray],
    diag: np.ndarray,
    c: np.ndarray,
    bb: np.ndarray,
    n_rows: np.ndarray,
    zeta: float,
    x0: np.ndarray,
    valid: np.ndarray | None,
    options: SolverOptions,
    dense: np.ndarray | None = None,
) -> np.ndarray:
    """Frank-Wolfe as R ``synthdid_estimate``: a first round, sparsify, a second round."""
    common = {
        "column": column,
        "matvec": matvec,
        "diag": diag,
        "c": c,
        "bb": bb,
        "n_rows": n_rows,
        "zeta": zeta,
        "valid": valid,
        "min_decrease": options.min_decrease,
        "dense": dense,
    }
    if not options.sparsify:
        return frank_wolfe(x0=x0, max_iter=options.max_iter, **common)
    x = frank_wolfe(x0=x0, max_iter=options.max_iter_pre_sparsify, **common)
    return frank_wolfe(x0=sparsify(x), max_iter=options.max_iter, **common)


def accelerated_weights(
    *,
    design: np.ndarray,
    target: np.ndarray,
    eta: np.ndarray,
    lipschitz: float,
    x0: np.ndarray,
    valid: np.ndarray | None,
    tolerance: float = 1e-8,
    max_iter: int = 2_000,
) -> np.ndarray:
    """Minimise ``||A_r x - b_r||^2 + eta_r ||x||^2`` on the simplex to convergence, for many ``r``.

    Projected gradient with Nesterov momentum and adaptive restart (FISTA), used for the
    placebo and bootstrap replications, whose unit-weight problems the truncated
    Frank-Wolfe of the main fit would need thousands of iterations each to approach.
    ``design``: ``A_r'`` stacked, shape ``(R, n, rows)``; ``target``: ``b_r``, shape
    ``(R, rows)``; ``lipschitz``: an upper bound of the largest eigenvalue of every
    ``A_r'A_r``. Stops when no weight moves by more than ``tolerance``.
    """
    step = 1.0 / (lipschitz + float(np.max(eta)))
    x = project_simplex(np.asarray(x0, dtype=float), valid)
    z = x.copy()
    momentum = np.ones(len(x))
    eta_col = np.asarray(eta, dtype=float)[:, None]
    for _ in range(max_iter):
        residual = np.matmul(z[:, None, :], design)[:, 0, :] - target
        grad = np.matmul(design, residual[:, :, None])[:, :, 0] + eta_col * z
        x_new = project_simplex(z - step * grad, valid)
        change = np.abs(x_new - x).max()
        next_momentum = (1 + np.sqrt(1 + 4 * momentum**2)) / 2
        restart = np.einsum("rn,rn->r", z - x_new, x_new - x) > 0
        beta = (momentum - 1) / next_momentum
        z = x_new + np.where(restart, 0.0, beta)[:, None] * (x_new - x)
        momentum = np.where(restart, 1.0, next_momentum)
        x = x_new
        if change <= tolerance:
            break
    return x
