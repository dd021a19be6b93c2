"""Synthetic DiD on a block of units: weights and estimates for many replications at once.

One call estimates ``R`` problems side by side: problem ``r`` uses the units
``controls[r]`` as comparisons and ``treated[r]`` as treated (rows of one outcome
matrix, repeats allowed, padded rows marked invalid), with the same periods (the first
``n_pre`` before adoption). The main fit is ``R = 1``; placebo and bootstrap
replications are the others. The estimates are R ``synthdid``'s ``synthdid_estimate``,
``sc_estimate`` and ``did_estimate`` (see :mod:`._sdid_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact.estimators.synthetic._sc_weights import simplex_weights
from impact.estimators.synthetic._sdid_dual import dual_newton_weights
from impact.estimators.synthetic._sdid_weights import (
    SolverOptions,
    accelerated_weights,
    solve_weights,
)

__all__ = ["Block", "BlockFit", "fit_block", "solver_options"]

METHODS = ("sdid", "sc", "did")


@dataclass(frozen=True)
class Block:
    """``R`` problems on one outcome matrix ``y`` (units x periods), ``n_pre`` pre-periods.

    ``controls``/``treated``: row indices of ``y`` per problem, shape ``(R, n)``, with
    ``*_valid`` masks for padding (None when every entry is used).
    """

    y: np.ndarray
    n_pre: int
    controls: np.ndarray
    treated: np.ndarray
    controls_valid: np.ndarray | None = None
    treated_valid: np.ndarray | None = None


@dataclass(frozen=True)
class BlockFit:
    """Unit weights ``(R, n_controls)``, time weights ``(R, n_pre)``, effect curves ``(R, T1)``."""

    omega: np.ndarray
    lam: np.ndarray
    curve: np.ndarray
    trajectory_gap: np.ndarray  # treated mean minus weighted controls, every period

    @property
    def estimate(self) -> np.ndarray:
        return self.curve.mean(axis=1)


def solver_options(
    y_pre_controls: np.ndarray, n_treated: int, n_post: int, method: str
) -> SolverOptions:
    """The default regularisation of R ``synthdid_estimate`` / ``sc_estimate`` / ``did_estimate``.

    ``zeta_omega = (N_tr T_post)^(1/4) sigma`` for ``"sdid"`` (``1e-6 sigma`` for ``"sc"``),
    ``zeta_lambda = 1e-6 sigma``, ``min_decrease = 1e-5 sigma``, with ``sigma`` the
    standard deviation of the first differences of the controls' pre-period outcomes.
    """
    from impact.estimators.synthetic._sdid_weights import MIN_DECREASE, noise_level

    sigma = noise_level(y_pre_controls)
    eta_omega = (n_treated * n_post) ** 0.25 if method == "sdid" else 1e-6
    return SolverOptions(
        zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma, min_decrease=MIN_DECREASE * sigma
    )


def _weight_matrix(
    index: np.ndarray, values: np.ndarray, valid: np.ndarray | None, size: int
) -> np.ndarray:
    """``(size, R)`` matrix with ``values[r, k]`` added at row ``index[r, k]`` of column ``r``."""
    n_problems = index.shape[0]
    out = np.zeros((size, n_problems))
    v = values if valid is None else np.where(valid, values, 0.0)
    np.add.at(out, (index, np.broadcast_to(np.arange(n_problems)[:, None], index.shape)), v)
    return out


def _uniform(valid: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    if valid is None:
        return np.full(shape, 1.0 / shape[1])
    return valid / valid.sum(axis=1, keepdims=True)


def _exact_unit_weights(
    design: np.ndarray,
    target: np.ndarray,
    eta: np.ndarray,
    start: np.ndarray,
    valid: np.ndarray | None,
    *,
    newton: bool,
) -> np.ndarray:
    """Unit weights solved to convergence: dual Newton where the ridge is material, else FISTA.

    The synthetic DiD penalty (``zeta_omega`` of the order of the noise) makes the dual
    well conditioned; the synthetic control's ``1e-6`` penalty does not, and problems the
    dual method leaves unconverged are finished by the accelerated projected gradient.
    """
    omega = np.asarray(start, dtype=float).copy()
    outer = np.matmul(design.transpose(0, 2, 1), design)
    largest = np.linalg.eigvalsh(outer)[:, -1]
    todo = np.ones(len(eta), dtype=bool)
    if newton:
        # the dual is well posed when the ridge is not negligible against A'A
        posed = np.flatnonzero(eta > 1e-6 * largest)
        if posed.size:
            solved, converged = dual_newton_weights(
                design=design[posed],
                target=target[posed],
                eta=eta[posed],
                x0=omega[posed],
                valid=None if valid is None else valid[posed],
            )
            omega[posed] = solved
            todo[posed[converged]] = False
    if todo.any():
        omega[todo] = accelerated_weights(
            design=design[todo],
            target=target[todo],
            eta=eta[todo],
            lipschitz=float(largest[todo].max()),
            x0=omega[todo],
            valid=None if valid is None else valid[todo],
        )
    return omega


def _frank_wolfe_time_weights(
    gram: np.ndarray,
    cross: np.ndarray,
    bb: np.ndarray,
    n_rows: np.ndarray,
    start: np.ndarray,
    options: SolverOptions,
) -> np.ndarray:
    """Time weights by R ``synthdid``'s truncated Frank-Wolfe (the main fit)."""
    rows = np.arange(len(gram))

    def column(i: np.ndarray) -> np.ndarray:
        return gram[rows, :, i]

    def matvec(x: np.ndarray) -> np.ndarray:
        return np.einsum("rij,rj->ri", gram, x)

    return solve_weights(
        column=column,
        matvec=matvec,
        diag=np.diagonal(gram, axis1=1, axis2=2),
        c=cross,
        bb=bb,
        n_rows=n_rows,
        zeta=options.zeta_lambda,
        x0=start,
        valid=None,
        options=options,
        dense=gram[0] if len(gram) == 1 else None,
    )


def _exact_time_weights(
    gram: np.ndarray, cross: np.ndarray, bb: np.ndarray, eta: np.ndarray
) -> np.ndarray:
    """Time weights solved exactly, one active-set NNLS per problem (replications).

    ``min ||A l - b||^2 + eta ||l||^2`` on the simplex, from ``G = A'A``, ``c = A'b`` and
    ``b'b``: on the simplex ``A l - b = (A - b 1') l``, whose Gram matrix
    ``G - c 1' - 1 c' + b'b 1 1'`` is factored as ``R'R`` (``R`` from its eigenvalues);
    :func:`~impact.estimators.synthetic._sc_weights.simplex_weights` then solves
    ``min ||R l||^2 + eta ||l||^2`` exactly. The time-weight problems have a handful of
    pre-periods and a ridge of ``1e-6`` of the noise, where Frank-Wolfe zigzags for its
    10,000 steps.
    """
    moment = gram - cross[:, :, None] - cross[:, None, :] + bb[:, None, None]
    values, vectors = np.linalg.eigh(moment)
    roots = np.sqrt(np.clip(values, 0.0, None))[:, :, None] * vectors.transpose(0, 2, 1)
    return np.array([simplex_weights(r, ridge=float(e)) for r, e in zip(roots, eta, strict=True)])


def fit_block(
    block: Block,
    *,
    method: str,
    options: SolverOptions,
    omega0: np.ndarray | None = None,
    lambda0: np.ndarray | None = None,
    update: bool = True,
    exact: bool = False,
) -> BlockFit:
    """Weights, effect curves and estimates of every problem of ``block``.

    ``omega0``/``lambda0``: starting (or, with ``update=False``, fixed) weights; uniform
    by default. ``"sc"`` fixes the time weights at 0, ``"did"`` both at uniform.
    ``exact``: solve the unit-weight problems to convergence (dual Newton, or the
    accelerated projected gradient) instead of by R ``synthdid``'s truncated
    Frank-Wolfe (replications).
    """
    y = block.y
    n_units = y.shape[0]
    n_pre = block.n_pre
    ctrl, trt = block.controls, block.treated
    cvalid, tvalid = block.controls_valid, block.treated_valid
    n_problems, n_ctrl = ctrl.shape
    rows = np.arange(n_problems)
    n_ctrl_r = (
        np.full(n_problems, float(n_ctrl)) if cvalid is None else cvalid.sum(axis=1).astype(float)
    )
    treated_weights = _uniform(tvalid, trt.shape)
    w_trt = _weight_matrix(trt, treated_weights, tvalid, n_units)  # (units, R)

    omega = _uniform(cvalid, ctrl.shape) if omega0 is None else np.asarray(omega0, dtype=float)
    if method == "sc":
        lam = np.zeros((n_problems, n_pre))
    elif lambda0 is None:
        lam = np.full((n_problems, n_pre), 1.0 / n_pre)
    else:
        lam = np.asarray(lambda0, dtype=float)

    if update and exact and method in ("sdid", "sc"):
        paths = y[:, :n_pre]
        if method == "sdid":
            paths = paths - paths.mean(axis=1, keepdims=True)
        design = paths[ctrl]  # (R, n, T0)
        if cvalid is not None:
            design = np.where(cvalid[:, :, None], design, 0.0)
        target = np.einsum("ur,ut->rt", w_trt, paths)
        eta = np.full(n_problems, n_pre * options.zeta_omega**2)
        omega = _exact_unit_weights(design, target, eta, omega, cvalid, newton=method == "sdid")
    elif update and method in ("sdid", "sc"):
        # unit weights: pre-period paths (centred over time with an intercept)
        paths = y[:, :n_pre]
        if method == "sdid":
            paths = paths - paths.mean(axis=1, keepdims=True)
        gram = paths @ paths.T  # (units, units)
        cross = gram @ w_trt  # (units, R): each unit's path . the treated mean path
        c = cross[ctrl, rows[:, None]]
        bb = np.einsum("ur,ur->r", w_trt, cross)
        diag = np.diagonal(gram)[ctrl]

        def column(i: np.ndarray) -> np.ndarray:
            return gram[ctrl, ctrl[rows, i][:, None]]

        def matvec(x: np.ndarray) -> np.ndarray:
            full = _weight_matrix(ctrl, x, cvalid, n_units)
            return (gram @ full)[ctrl, rows[:, None]]

        omega = solve_weights(
            column=column,
            matvec=matvec,
            diag=diag,
            c=c,
            bb=bb,
            n_rows=np.full(n_problems, float(n_pre)),
            zeta=options.zeta_omega,
            x0=omega,
            valid=cvalid,
            options=options,
            dense=gram[np.ix_(ctrl[0], ctrl[0])] if n_problems == 1 else None,
        )
    if update and method == "sdid":
        # time weights: controls' pre-period outcomes and post-period mean, centred
        # across each problem's controls
        z = np.column_stack([y[:, :n_pre], y[:, n_pre:].mean(axis=1)])
        z = z - z.mean(axis=0)  # a common shift, for precision: the centring removes it
        counts = _weight_matrix(ctrl, np.ones(ctrl.shape), cvalid, n_units).T  # (R, units)
        k = z.shape[1]
        raw = (counts @ (z[:, :, None] * z[:, None, :]).reshape(n_units, k * k)).reshape(-1, k, k)
        mean = (counts @ z) / n_ctrl_r[:, None]
        second = raw - n_ctrl_r[:, None, None] * mean[:, :, None] * mean[:, None, :]
        g = np.ascontiguousarray(second[:, :n_pre, :n_pre])
        c = second[:, :n_pre, n_pre]
        bb = second[:, n_pre, n_pre]

        if exact:
            lam = _exact_time_weights(g, c, bb, n_ctrl_r * options.zeta_lambda**2)
        else:
            lam = _frank_wolfe_time_weights(g, c, bb, n_ctrl_r, lam, options)
    w_ctrl = _weight_matrix(ctrl, omega, cvalid, n_units)
    gap = (w_trt - w_ctrl).T @ y  # (R, periods)
    curve = gap[:, n_pre:] - np.einsum("rt,rt->r", gap[:, :n_pre], lam)[:, None]
    return BlockFit(omega=omega, lam=lam, curve=curve, trajectory_gap=gap)
