"""Ridge-penalised simplex least squares solved exactly through its dual (semismooth Newton).

The placebo and bootstrap replications of synthetic DiD re-estimate unit weights,
``min ||A x - b||^2 + eta ||x||^2`` over the probability simplex, once per replication,
with ``A`` a few dozen pre-periods by up to thousands of comparison units. The dual of
that problem lives in the pre-period space: with ``y`` in ``R^T``,

    D(y) = min_{x in simplex} (eta ||x||^2 + y'A x) - y'b - ||y||^2 / 4,

attained at ``x(y) = proj_simplex(-A'y / (2 eta))``; ``D`` is concave and continuously
differentiable, ``grad D(y) = A x(y) - b - y / 2``, and the duality gap at ``(x(y), y)``
is ``||grad D(y)||^2``. Its generalised Hessian on the support ``S`` of ``x(y)`` is
``-(A_S A_S' - s s' / |S| + eta I) / (2 eta)`` with ``s = A_S 1`` (Li, Sun and Toh 2018,
semismooth Newton for projections onto polyhedra), so Newton's method with a backtracking
line search converges in a handful of ``T x T`` solves where a first-order method needs
thousands of ``n``-dimensional projections. At the optimum ``y = 2 (A x - b)``, which
gives the warm start from any primal guess.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dual_newton_weights", "project_simplex"]


def project_simplex(v: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Euclidean projection of each row of ``v`` onto the simplex (entries not ``valid``: 0)."""
    if valid is not None:
        v = np.where(valid, v, -np.inf)
    u = -np.sort(-v, axis=1)
    finite = np.isfinite(u)
    css = np.cumsum(np.where(finite, u, 0.0), axis=1)
    k = np.arange(1, v.shape[1] + 1)
    cond = finite & (u - (css - 1.0) / k > 0)
    rho = v.shape[1] - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = (css[np.arange(len(v)), rho] - 1.0) / (rho + 1)
    return np.maximum(v - theta[:, None], 0.0)


def _dual_value(design, target, eta, y, x) -> np.ndarray:
    """``D(y)`` for each problem, given ``x = x(y)``."""
    fitted = np.matmul(x[:, None, :], design)[:, 0, :]  # (R, T): A x
    return (
        eta * np.einsum("rn,rn->r", x, x)
        + np.einsum("rt,rt->r", y, fitted - target)
        - np.einsum("rt,rt->r", y, y) / 4
    )


def _primal(design, eta, y, valid) -> np.ndarray:
    scores = -np.matmul(design, y[:, :, None])[:, :, 0] / (2 * eta[:, None])
    return project_simplex(scores, valid)


def dual_newton_weights(
    *,
    design: np.ndarray,
    target: np.ndarray,
    eta: np.ndarray,
    x0: np.ndarray,
    valid: np.ndarray | None,
    tolerance: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``||A_r x - b_r||^2 + eta_r ||x||^2`` on the simplex, for many ``r`` at once.

    Parameters
    ----------
    design : ndarray, shape (R, n, T)
        ``A_r'`` stacked: comparison units in rows, pre-periods in columns.
    target : ndarray, shape (R, T)
        ``b_r``.
    eta : ndarray, shape (R,)
        Ridge penalties, positive.
    x0 : ndarray, shape (R, n)
        Starting weights (only their fitted values ``A x0`` are used).
    valid : ndarray of bool, shape (R, n), optional
        Entries that are weights; the others stay 0.
    tolerance : float
        Stop once the duality gap is at most ``(tolerance * scale)^2``, ``scale`` the
        largest absolute entry of the targets (outcome units).
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    x : ndarray, shape (R, n)
        The weights.
    converged : ndarray of bool, shape (R,)
        Problems whose duality gap met the tolerance.
    """
    eta = np.asarray(eta, dtype=float)
    n_problems, _, n_rows = design.shape
    scale = max(float(np.max(np.abs(target))), 1e-300)
    gap_tol = (tolerance * scale) ** 2
    start = project_simplex(np.asarray(x0, dtype=float), valid)
    y = 2 * (np.matmul(start[:, None, :], design)[:, 0, :] - target)
    x = _primal(design, eta, y, valid)
    value = _dual_value(design, target, eta, y, x)
    converged = np.zeros(n_problems, dtype=bool)
    eye = np.eye(n_rows)
    for _ in range(max_iter):
        fitted = np.matmul(x[:, None, :], design)[:, 0, :]
        grad = fitted - target - y / 2
        converged = np.einsum("rt,rt->r", grad, grad) <= gap_tol
        todo = np.flatnonzero(~converged)
        if todo.size == 0:
            break
        d_sub = design[todo]
        support = (x[todo] > 0).astype(float)
        size = support.sum(axis=1)
        inner = np.matmul(d_sub.transpose(0, 2, 1) * support[:, None, :], d_sub)  # A_S A_S'
        s = np.einsum("rn,rnt->rt", support, d_sub)
        hessian = (
            inner
            - s[:, :, None] * s[:, None, :] / size[:, None, None]
            + eta[todo, None, None] * eye
        )
        direction = np.linalg.solve(hessian, (2 * eta[todo])[:, None, None] * grad[todo, :, None])
        direction = direction[:, :, 0]
        slope = np.einsum("rt,rt->r", grad[todo], direction)  # > 0: an ascent direction
        step = np.ones(todo.size)
        pending = np.ones(todo.size, dtype=bool)
        new_y = y[todo].copy()
        new_x = x[todo].copy()
        new_value = value[todo].copy()
        sub_valid = None if valid is None else valid[todo]
        for _ in range(40):
            idx = np.flatnonzero(pending)
            trial_y = y[todo[idx]] + step[idx, None] * direction[idx]
            trial_x = _primal(
                d_sub[idx], eta[todo[idx]], trial_y, None if sub_valid is None else sub_valid[idx]
            )
            trial_value = _dual_value(
                d_sub[idx], target[todo[idx]], eta[todo[idx]], trial_y, trial_x
            )
            ok = trial_value >= value[todo[idx]] + 1e-4 * step[idx] * slope[idx]
            ok |= step[idx] < 1e-12
            accept = idx[ok]
            new_y[accept] = trial_y[ok]
            new_x[accept] = trial_x[ok]
            new_value[accept] = trial_value[ok]
            pending[accept] = False
            if not pending.any():
                break
            step[pending] /= 2
        y[todo] = new_y
        x[todo] = new_x
        value[todo] = new_value
    return x, converged
