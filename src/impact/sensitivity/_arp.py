"""The conditional and hybrid moment-inequality tests of Andrews, Roth and Pakes (ARP).

For one polyhedron ``A delta <= d`` and a candidate value ``theta`` of ``l' tau_post``,
the null is that some nuisance vector ``x`` makes ``E[y - X x] <= 0``, with
``y = A beta - d - a theta`` (``a`` and ``X`` from a change of basis of the
post-period columns that puts ``theta`` first). The statistic is the value of the
linear programme ``eta = min_{eta, x} eta`` subject to ``y - X x <= eta * sd`` (``sd``
the standard deviations of ``y``). By duality ``eta = max_lambda lambda' y`` over the
polytope ``{lambda >= 0, sd' lambda = 1, X' lambda = 0}``, whose vertices do not
depend on ``y`` or ``theta``.

This module enumerates those vertices once (each is the solution of a small linear
system on a support of ``k + 1`` moments, ``k`` the nuisance dimension), so that:

- ``eta(theta)`` over a whole grid is a maximum of a few lines (no programme per
  value);
- the conditioning event of the test (the optimal vertex ``gamma`` stays optimal as
  ``gamma' y`` moves with the rest of ``y`` fixed) gives the truncation bounds
  ``[v_lo, v_up]`` in closed form; this is ARP's dual approach, which HonestDiD
  computes by bisection over repeated linear programmes, and in the non-degenerate
  case their primal approach, which yields the same bounds;
- the least-favourable critical value of the hybrid test, the ``1 - kappa``
  quantile of ``eta`` under ``y ~ N(0, Sigma_y)``, is a maximum over vertices per draw.

When the supports are too many to enumerate, the vertices met by HiGHS's solutions
(:func:`scipy.optimize.linprog`) are used instead, each test point solving the
programme once and the truncation bounds following from Newton steps over the
supporting lines (see :func:`_test_by_programmes`).

The critical value is ``max(0, c)`` with ``c`` the ``1 - alpha`` quantile of the
standard normal truncated to ``[v_lo, v_up] / sigma_gamma`` (ARP 2023); the hybrid
("C-LF") first rejects when ``eta`` exceeds the least-favourable critical value at
level ``kappa`` and otherwise truncates above at it, at level
``(alpha - kappa) / (1 - kappa)``. The FLCI hybrid ("C-F", Rambachan and Roth 2023,
Section 5.3) first rejects a ``theta`` outside the level ``1 - kappa`` fixed-length
interval ``v' beta +- chi`` and otherwise adds ``|v' beta - theta| <= chi`` to the
conditioning event: with ``v' beta`` moving with ``gamma' y`` by
``rho = Cov(v' beta, gamma' y) / Var(gamma' y)`` (the rest of the data fixed), the
event bounds ``gamma' y`` on both sides, and ``[v_lo, v_up]`` is cut to it. HonestDiD
writes the same event through a vector ``vbar`` with ``A' vbar = v``; only the
covariance ``A Sigma v`` of the moments with ``v' beta`` is needed here.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from scipy import special

__all__ = ["MomentTest", "truncated_normal_quantile"]

MAX_SUPPORTS = 250_000
"""Most supports enumerated before falling back to linear programmes."""

_TIE = 1e-9


def truncated_normal_quantile(p: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of the standard normal truncated to ``[lower, upper]``.

    Computed on the tail nearer the interval (in logs in the upper tail), so that
    truncation far out in a tail keeps its precision.

    Examples
    --------
    >>> float(np.round(truncated_normal_quantile(0.95, 0.0, np.inf), 4))  # half-normal
    1.96
    """
    p, lower, upper = np.broadcast_arrays(
        np.asarray(p, float), np.asarray(lower, float), np.asarray(upper, float)
    )
    out = np.empty(p.shape)
    # upper region (lower >= 0): solve in log survival probabilities
    up = lower >= 0
    if up.any():
        out[up] = _upper_tail_quantile(p[up], lower[up], upper[up])
    down = upper <= 0
    if down.any():  # reflect: the (1 - p) quantile of the interval [-upper, -lower]
        out[down] = -_upper_tail_quantile(1 - p[down], -upper[down], -lower[down])
    mid = ~up & ~down
    if mid.any():
        lo, hi = special.ndtr(lower[mid]), special.ndtr(upper[mid])
        out[mid] = special.ndtri(lo + p[mid] * (hi - lo))
    return np.clip(out, lower, upper)


def _upper_tail_quantile(p: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    log_a = special.log_ndtr(-lower)  # log P(Z > lower)
    log_b = special.log_ndtr(-upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.exp(log_b - log_a)  # P(Z > upper) / P(Z > lower) in [0, 1]
        log_target = log_a + np.log1p(-p * (1.0 - ratio))
        return -special.ndtri_exp(log_target)


def _factor(cov: np.ndarray) -> np.ndarray:
    """A square root ``F`` of a positive semi-definite matrix (``F F' = cov``)."""
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


class MomentTest:
    """ARP tests of ``E[y - X x] <= 0`` for ``y = base - a * theta``, ``y ~ N(., cov)``.

    Parameters
    ----------
    base : ndarray, shape (m,)
        ``A beta - d`` on the moments used.
    a : ndarray, shape (m,)
        How the moments move with ``theta``.
    X : ndarray, shape (m, k)
        The nuisance directions (``k`` may be 0).
    cov : ndarray, shape (m, m)
        Covariance of the moments.
    cross : ndarray, shape (m,), optional
        Covariance of the moments with the FLCI's estimate ``v' beta`` (``A Sigma v``),
        for the FLCI hybrid.
    """

    def __init__(
        self,
        base: np.ndarray,
        a: np.ndarray,
        X: np.ndarray,
        cov: np.ndarray,
        cross: np.ndarray | None = None,
    ) -> None:
        self.base = np.asarray(base, float)
        self.a = np.asarray(a, float)
        self.cov = np.asarray(cov, float)
        self.cross = None if cross is None else np.asarray(cross, float)
        self.sd = np.sqrt(np.clip(np.diag(self.cov), 0.0, None))
        self.X = _column_basis(np.asarray(X, float).reshape(len(self.base), -1))
        self.vertices = _enumerate_vertices(self.sd, self.X)

    # ------------------------------------------------------------------ critical values
    def least_favorable_cv(self, kappa: float, standard: np.ndarray) -> float:
        """The ``1 - kappa`` quantile of ``eta`` when ``y ~ N(0, cov)``.

        ``standard``: standard normal draws, one row per draw and a column per moment.
        """
        factor = _factor(self.cov)
        if self.vertices is not None:
            eta = (standard @ (self.vertices @ factor).T).max(axis=1)
        else:
            eta = np.array([_solve_eta(y, self.sd, self.X)[0] for y in standard @ factor.T])
        return float(np.quantile(eta, 1 - kappa))

    # ------------------------------------------------------------------ the test
    def accepts(
        self,
        thetas: np.ndarray,
        *,
        alpha: float,
        lf_cv: float | None,
        kappa: float = 0.0,
        flci: tuple[float, float] | None = None,
    ) -> np.ndarray:
        """Whether each ``theta`` is accepted (not rejected) at level ``alpha``.

        ``lf_cv``: the least-favourable critical value of the hybrid's first stage
        (None for the conditional test); ``kappa`` its size. ``flci``: the estimate
        ``v' beta`` and half-length ``chi`` of the level ``1 - kappa`` FLCI for the FLCI
        hybrid (needs ``cross``); not together with ``lf_cv``.
        """
        thetas = np.atleast_1d(np.asarray(thetas, float))
        hybrid = lf_cv is not None or flci is not None
        size = (alpha - kappa) / (1 - kappa) if hybrid else alpha
        if flci is not None and self.cross is None:
            from impact.exceptions import DesignError

            raise DesignError("the FLCI hybrid needs the moments' covariance with v' beta")
        if self.vertices is None:
            eta, var, v_lo, v_up, lam_cross = _test_by_programmes(self, thetas)
        else:
            V = self.vertices
            if len(V) == 0:  # the programme is unbounded below: the conditional test
                accept = np.ones(len(thetas), dtype=bool)  # rejects nothing
                if flci is not None:
                    accept &= np.abs(flci[0] - thetas) <= flci[1]
                return accept
            values = (V @ self.base)[None, :] - thetas[:, None] * (V @ self.a)[None, :]
            best = np.argmax(values, axis=1)
            rows = np.arange(len(thetas))
            eta = values[rows, best]
            gram = V @ self.cov @ V.T
            var = np.diag(gram)[best]
            with np.errstate(divide="ignore", invalid="ignore"):
                u = gram[best] / var[:, None]  # lambda_w' Sigma gamma / gamma' Sigma gamma
                r = values - u * eta[:, None]
                slack = 1.0 - u
                ratio = r / slack
                v_lo = np.where(slack > _TIE, ratio, -np.inf).max(axis=1)
                v_up = np.where(slack < -_TIE, ratio, np.inf).min(axis=1)
            lam_cross = None if self.cross is None else (V @ self.cross)[best]
        if not np.isfinite(eta).all():  # unbounded below: the conditional test rejects nothing
            accept = np.ones(len(thetas), dtype=bool)
            if flci is not None:
                accept &= np.abs(flci[0] - thetas) <= flci[1]
            return accept
        if flci is None:
            return _decide(eta, var, v_lo, v_up, size, lf_cv)
        return _decide_flci_hybrid(eta, var, v_lo, v_up, size, lam_cross, thetas, flci)


def _decide_flci_hybrid(eta, var, v_lo, v_up, size, lam_cross, thetas, flci) -> np.ndarray:
    """The FLCI hybrid: reject outside the FLCI, else condition on being inside it too.

    ``gamma' y`` moved to ``c`` moves ``v' beta`` to ``v' beta + rho (c - eta)``; the
    event ``|v' beta + rho (c - eta) - theta| <= chi`` bounds ``c``.
    """
    estimate, half = flci
    z = estimate - thetas  # v' beta - theta
    inside_flci = np.abs(z) <= half
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = lam_cross / np.where(var > 0, var, np.inf)
        end_a = eta + (half - z) / rho  # where v' beta - theta reaches +chi
        end_b = eta + (-half - z) / rho  # ... and -chi
    up = np.where(rho > 0, end_a, np.where(rho < 0, end_b, np.inf))
    lo = np.where(rho > 0, end_b, np.where(rho < 0, end_a, -np.inf))
    accept = _decide(eta, var, np.maximum(v_lo, lo), np.minimum(v_up, up), size, None)
    return accept & inside_flci


def _decide(
    eta: np.ndarray,
    var: np.ndarray,
    v_lo: np.ndarray,
    v_up: np.ndarray,
    size: float,
    lf_cv: float | None,
) -> np.ndarray:
    """Accept or reject given the statistic, its variance and the truncation bounds."""
    accept = np.ones(len(eta), dtype=bool)
    degenerate = var < np.finfo(float).eps
    accept[degenerate] = eta[degenerate] <= 0
    ok = ~degenerate
    if lf_cv is not None:
        first = ok & (eta > lf_cv)
        accept[first] = False
        ok &= ~first
        v_up = np.minimum(v_up, lf_cv)
    sigma = np.sqrt(np.where(ok, var, 1.0))
    stat, z_lo, z_up = eta / sigma, v_lo / sigma, v_up / sigma
    inside = ok & (z_lo <= stat + 1e-12) & (stat <= z_up + 1e-12)
    # outside its own truncation interval only through rounding: not rejected (HonestDiD)
    if inside.any():
        cval = np.maximum(0.0, truncated_normal_quantile(1 - size, z_lo[inside], z_up[inside]))
        accept[inside] = stat[inside] <= cval
    return accept


def _column_basis(X: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the column space of ``X`` (the nuisance directions)."""
    if X.shape[1] == 0:
        return X
    u, s, _ = np.linalg.svd(X, full_matrices=False)
    keep = s > 1e-10 * max(s.max(), 1.0)
    return u[:, keep]


def _enumerate_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray | None:
    """Vertices of ``{lambda >= 0, sd' lambda = 1, X' lambda = 0}``; None if too many."""
    m, k = X.shape
    W = np.column_stack([sd, X])
    if np.linalg.matrix_rank(W) < k + 1:  # sd in the span of X: eta unbounded below
        return np.zeros((0, m))
    n_supports = comb(m, k + 1)
    if n_supports > MAX_SUPPORTS:
        return None
    supports = np.fromiter(
        (i for c in combinations(range(m), k + 1) for i in c), dtype=np.intp
    ).reshape(-1, k + 1)
    systems = np.transpose(W[supports], (0, 2, 1))  # (n, k + 1, k + 1): W_S' lambda_S = e1
    singular = np.linalg.svd(systems, compute_uv=False)
    regular = singular[:, -1] > 1e-10 * np.maximum(singular[:, 0], 1e-300)
    systems, supports = systems[regular], supports[regular]
    rhs = np.zeros((len(systems), k + 1, 1))
    rhs[:, 0, 0] = 1.0
    lam = np.linalg.solve(systems, rhs)[:, :, 0]
    feasible = np.all(lam >= -1e-10, axis=1)
    out = np.zeros((int(feasible.sum()), m))
    rows = np.repeat(np.arange(len(out)), k + 1)
    out[rows, supports[feasible].ravel()] = np.clip(lam[feasible], 0.0, None).ravel()
    return np.unique(np.round(out, 12), axis=0)


# ---------------------------------------------------------------------- programme fallback
def _solve_eta(y: np.ndarray, sd: np.ndarray, X: np.ndarray) -> tuple[float, np.ndarray]:
    """``max lambda' y`` over the dual polytope and its maximiser (a vertex), by HiGHS."""
    from scipy.optimize import linprog

    m, k = X.shape
    A_eq = np.vstack([sd, X.T])
    b_eq = np.zeros(k + 1)
    b_eq[0] = 1.0
    res = linprog(-y, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs-ds")
    if res.status == 2:  # infeasible dual: eta is unbounded below
        return -np.inf, np.zeros(m)
    if res.status != 0:
        from impact.exceptions import EstimationError

        raise EstimationError(f"the ARP test programme failed: {res.message}")
    return float(-res.fun), res.x


def _test_by_programmes(
    test: MomentTest, thetas: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The pieces of the test of :meth:`MomentTest.accepts` with one programme per step.

    Returns ``eta``, ``gamma' Sigma gamma``, the truncation bounds and ``gamma' cross``
    (None without ``cross``) at each ``theta``. The optimal value
    ``g(c) = max_lambda lambda'(s + b c)`` is convex and piecewise linear in ``c``
    (``gamma' y`` moved along ``b = Sigma gamma / gamma' Sigma gamma`` with ``s``
    fixed); ``gamma`` stays optimal while ``g(c) <= c``. Each end of that interval is
    reached by Newton steps: the root of the supporting line at the current point.
    """
    eta = np.empty(len(thetas))
    var = np.empty(len(thetas))
    v_lo = np.empty(len(thetas))
    v_up = np.empty(len(thetas))
    lam_cross = np.zeros(len(thetas))
    for i, theta in enumerate(thetas):
        y = test.base - test.a * theta
        eta[i], gamma = _solve_eta(y, test.sd, test.X)
        var[i] = gamma @ test.cov @ gamma
        if test.cross is not None:
            lam_cross[i] = gamma @ test.cross
        if not np.isfinite(eta[i]) or var[i] < np.finfo(float).eps:
            v_lo[i], v_up[i] = -np.inf, np.inf
            continue
        b = test.cov @ gamma / var[i]
        s = y - b * eta[i]
        v_up[i] = _newton_end(s, b, eta[i], test, +1)
        v_lo[i] = _newton_end(s, b, eta[i], test, -1)
    return eta, var, v_lo, v_up, (lam_cross if test.cross is not None else None)


def _newton_end(s: np.ndarray, b: np.ndarray, c0: float, test: MomentTest, side: int) -> float:
    """The end (``side=+1`` upper, ``-1`` lower) of ``{c : g(c) <= c}`` around ``c0``."""
    # the steepest supporting line on that side decides whether the end is infinite
    _, lam = _solve_eta(side * b, test.sd, test.X)
    slope = float(lam @ b)
    if side * (slope - 1.0) <= _TIE:
        return side * np.inf
    c = float(lam @ s) / (1.0 - slope)
    c = c0 + side * max(side * (c - c0), 1e-12 * (1 + abs(c0)))
    for _ in range(100):
        value, lam = _solve_eta(s + b * c, test.sd, test.X)
        if value - c <= 1e-9 * (1 + abs(c)):
            return c
        slope = float(lam @ b)
        if abs(1.0 - slope) <= _TIE:
            return c
        c = float(lam @ s) / (1.0 - slope)
    return c
