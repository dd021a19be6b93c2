"""Robust confidence sets under restricted violations of parallel trends (Rambachan-Roth).

The functions here take the event-study coefficients ``betahat`` (``n_pre``
pre-periods, earliest first, then ``n_post`` post-periods; the reference period just
before adoption omitted) and their covariance ``sigma``. The parameter is
``theta = l' tau_post``, a combination of the post-period effects; ``target`` picks
``l``. The violation of parallel trends ``delta`` is restricted to a set Delta
(:mod:`impact.sensitivity._restrictions`), and the sets are:

``"FLCI"`` (smoothness only)
    The optimal fixed-length confidence interval (:mod:`impact.sensitivity._flci`).
``"Conditional"``
    The conditional moment-inequality test of Andrews, Roth and Pakes, inverted over a
    grid of ``theta`` (:mod:`impact.sensitivity._arp`).
``"C-F"`` (smoothness only)
    Its hybrid with the FLCI at level ``1 - kappa`` as first stage (``kappa =
    alpha / 10``): a ``theta`` outside that FLCI is rejected, the others are tested
    conditionally on lying inside it at level ``(alpha - kappa) / (1 - kappa)``. The
    default for smoothness with a sign or monotonicity restriction, as in HonestDiD.
``"C-LF"``
    Its hybrid with a least-favourable first stage of size ``alpha / 10``: the default
    for relative magnitudes, as in HonestDiD.

The grids follow HonestDiD (1000 points over ``+-20`` standard errors of
``l' beta_post`` around 0 for relative magnitudes, around the identified set at
``beta = 0`` for smoothness). Two safeguards HonestDiD lacks: when no point of that
grid is accepted (an effect many standard errors from 0 lies outside it; HonestDiD
then reports an empty or wrong set) the grid is laid again around the identified set
at the estimates; and when the set reaches an end of the grid the grid is extended on
that side, so that the set is never cut off by it. ``"C-F"`` lays its grid over the
level ``1 - kappa`` FLCI, outside which it rejects everything (as HonestDiD).
HonestDiD simulates the least-favourable critical value with 1,000 draws;
``lf_draws`` (default 10,000) sets the number here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.sensitivity._arp import MomentTest
from impact.sensitivity._flci import optimal_flci
from impact.sensitivity._restrictions import identified_bounds, polyhedra, restriction_name

__all__ = [
    "METHODS",
    "breakdown_value",
    "identified_set",
    "original_interval",
    "robust_confidence_sets",
    "target_vector",
]

METHODS: tuple[str, ...] = ("FLCI", "C-F", "C-LF", "Conditional")
_GRID_EXTENSIONS = 8


# ---------------------------------------------------------------------- input checks
def _check_inputs(betahat, sigma, n_pre, n_post) -> tuple[np.ndarray, np.ndarray]:
    for name, value in (("n_pre", n_pre), ("n_post", n_post)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise DesignError(f"{name}={value!r} must be a positive integer")
    beta = np.asarray(betahat, dtype=float).ravel()
    if len(beta) != n_pre + n_post:
        raise DesignError(
            f"betahat has {len(beta)} coefficients but n_pre + n_post = {n_pre + n_post}; "
            "pass the pre- and post-period coefficients without the reference period"
        )
    if not np.isfinite(beta).all():
        raise DesignError(f"betahat holds a missing or infinite value at position(s) "
                          f"{np.flatnonzero(~np.isfinite(beta)).tolist()}")  # fmt: skip
    cov = np.asarray(sigma, dtype=float)
    if cov.shape != (len(beta), len(beta)):
        raise DesignError(f"sigma has shape {cov.shape}; expected {(len(beta), len(beta))}")
    if not np.isfinite(cov).all():
        raise DesignError("sigma holds a missing or infinite value")
    scale = max(float(np.abs(cov).max()), np.finfo(float).tiny)
    if np.abs(cov - cov.T).max() > 1e-8 * scale:
        raise DesignError("sigma is not symmetric")
    if np.any(np.diag(cov) <= 0):
        bad = np.flatnonzero(np.diag(cov) <= 0).tolist()
        raise DesignError(f"sigma has a zero or negative variance at position(s) {bad}")
    if np.linalg.eigvalsh((cov + cov.T) / 2).min() < -1e-8 * scale:
        raise DesignError("sigma is not positive semi-definite")
    return beta, (cov + cov.T) / 2


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise DesignError(f"alpha={alpha!r} must lie strictly between 0 and 1 (e.g. 0.05)")


def target_vector(target: str | int | Sequence[float] | np.ndarray, n_post: int) -> np.ndarray:
    """The weights ``l`` on the post-period effects that define ``theta``.

    Parameters
    ----------
    target : "first", "average", int or array-like
        ``"first"``: the first post-period (event time 0); ``"average"``: the mean of
        the ``n_post`` post-periods; an integer ``e``: the post-period ``e`` periods
        after the first (event time ``e``); an array: the weights themselves.
    n_post : int
        Number of post-periods.

    Examples
    --------
    >>> target_vector("average", 2).tolist()
    [0.5, 0.5]
    """
    if isinstance(target, str):
        if target == "first":
            return np.eye(n_post)[0]
        if target == "average":
            return np.full(n_post, 1.0 / n_post)
        raise DesignError(f"target={target!r} is not valid; use 'first', 'average', an event "
                          "time or a vector of weights on the post-periods")  # fmt: skip
    if isinstance(target, int | np.integer) and not isinstance(target, bool):
        if not 0 <= target < n_post:
            raise DesignError(f"target={target} is not a post-period event time: the study has "
                              f"event times 0 to {n_post - 1} after adoption")  # fmt: skip
        return np.eye(n_post)[int(target)]
    l_vec = np.asarray(target, dtype=float).ravel()
    if len(l_vec) != n_post or not np.isfinite(l_vec).all() or not np.any(l_vec != 0):
        raise DesignError(f"target={target!r} must hold {n_post} finite weights, not all zero")
    return l_vec


def _method(restriction: str, method: str | None, sign, monotonic) -> str:
    if method is None:  # HonestDiD's defaults
        if restriction == "smoothness":
            return "FLCI" if sign is None and monotonic is None else "C-F"
        return "C-LF"
    canonical = {m.lower(): m for m in METHODS}
    if not isinstance(method, str) or method.lower() not in canonical:
        raise DesignError(f"method={method!r} is not valid; choose one of {METHODS}")
    method = canonical[method.lower()]
    if method == "FLCI" and restriction != "smoothness":
        raise DesignError(f"method='FLCI' applies to the smoothness restriction only, not "
                          f"{restriction!r}; use 'C-LF' or 'Conditional'")  # fmt: skip
    if method == "FLCI" and (sign is not None or monotonic is not None):
        raise DesignError("method='FLCI' ignores sign and monotonicity restrictions; use "
                          "'C-LF' or 'Conditional' with them")  # fmt: skip
    if method == "C-F" and restriction != "smoothness":
        raise DesignError(f"method='C-F' (the FLCI hybrid) applies to the smoothness "
                          f"restriction only, not {restriction!r}; use 'C-LF' or "
                          "'Conditional'")  # fmt: skip
    return method


def _check_shape(sign, monotonic) -> None:
    if sign not in (None, "positive", "negative"):
        raise DesignError(f"sign={sign!r} is not valid; use None, 'positive' or 'negative'")
    if monotonic not in (None, "increasing", "decreasing"):
        raise DesignError(
            f"monotonic={monotonic!r} is not valid; use None, 'increasing' or 'decreasing'"
        )


def _check_bounds(values) -> np.ndarray:
    grid = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if len(grid) == 0 or not np.isfinite(grid).all() or (grid < 0).any():
        raise DesignError(f"M={values!r} must be finite non-negative bounds")
    return grid


def _default_bounds(restriction, beta, cov, n_pre, alpha) -> np.ndarray:
    """HonestDiD's default grids: Mbar in [0, 2]; M up to a bound on pre-period curvature."""
    if restriction != "smoothness":
        return np.linspace(0.0, 2.0, 10)
    if n_pre == 1:
        return np.linspace(0.0, float(np.sqrt(cov[0, 0])), 10)
    from scipy import special

    second = np.zeros((n_pre - 1, n_pre))  # second differences of delta_pre with delta_0 = 0
    full = np.zeros((n_pre - 1, n_pre + 1))
    for r in range(n_pre - 1):
        full[r, r : r + 3] = (1.0, -2.0, 1.0)
    second = full[:, :n_pre]
    est = second @ beta[:n_pre]
    se = np.sqrt(np.diag(second @ cov[:n_pre, :n_pre] @ second.T))
    upper = float(np.max(np.abs(est) + special.ndtri(1 - alpha / 2) * se))
    return np.linspace(0.0, upper, 10)


# ---------------------------------------------------------------------- the sets
class _Problem:
    """One restriction, target and data: builds the tests of each bound ``M``."""

    def __init__(self, beta, cov, n_pre, n_post, restriction, l_vec, sign, monotonic):
        self.beta, self.cov, self.n_pre, self.n_post = beta, cov, n_pre, n_post
        self.restriction, self.l_vec = restriction, l_vec
        self.sign, self.monotonic = sign, monotonic
        self.sd_theta = float(np.sqrt(l_vec @ cov[n_pre:, n_pre:] @ l_vec))
        u, _, _ = np.linalg.svd(l_vec[:, None])
        self.nuisance = u[:, 1:]  # orthonormal basis of the complement of l

    def pieces(self, bound: float):
        return polyhedra(self.restriction, bound, n_pre=self.n_pre, n_post=self.n_post,
                         sign=self.sign, monotonic=self.monotonic)  # fmt: skip

    def tests(self, bound: float, flci_weights: np.ndarray | None = None) -> list[MomentTest]:
        """The tests of each piece; ``flci_weights`` (``v``) for the FLCI hybrid."""
        out = []
        for piece in self.pieces(bound):
            A = piece.A[piece.rows]
            post = A[:, self.n_pre :]
            out.append(
                MomentTest(
                    base=A @ self.beta - piece.d[piece.rows],
                    a=post @ self.l_vec / float(self.l_vec @ self.l_vec),
                    X=post @ self.nuisance,
                    cov=A @ self.cov @ A.T,
                    cross=None if flci_weights is None else A @ self.cov @ flci_weights,
                )
            )
        return out

    def first_stage(self, bound: float, alpha: float) -> tuple[np.ndarray, tuple[float, float]]:
        """The FLCI hybrid's first stage: the level ``1 - alpha / 10`` FLCI.

        Returns its weights ``v`` and its estimate and half-length.
        """
        flci = optimal_flci(self.beta, self.cov, n_pre=self.n_pre, l_vec=self.l_vec,
                            M=bound, alpha=alpha / 10)  # fmt: skip
        return flci.weights, (flci.estimate, flci.half_length)

    def grid(self, bound: float, points: int) -> np.ndarray:
        if self.restriction == "smoothness":
            zero = np.zeros_like(self.beta)
            lo, hi = identified_bounds(self.pieces(bound), zero, self.l_vec, self.n_pre)
        else:
            lo = hi = 0.0
        return np.linspace(lo - 20 * self.sd_theta, hi + 20 * self.sd_theta, points)

    def grid_at_estimates(self, bound: float, points: int) -> np.ndarray:
        """A grid around the identified set at the estimates (the point estimate if empty)."""
        try:
            lo, hi = identified_bounds(self.pieces(bound), self.beta, self.l_vec, self.n_pre)
        except DesignError:  # the restriction contradicts the pre-period estimates
            lo = hi = float(self.l_vec @ self.beta[self.n_pre :])
        lo = lo if np.isfinite(lo) else float(self.l_vec @ self.beta[self.n_pre :])
        hi = hi if np.isfinite(hi) else float(self.l_vec @ self.beta[self.n_pre :])
        return np.linspace(lo - 20 * self.sd_theta, hi + 20 * self.sd_theta, points)


def _accept(tests, thetas, method, alpha, lf_draws, seed, flci=None) -> np.ndarray:
    accept = np.zeros(len(thetas), dtype=bool)
    kappa = alpha / 10
    standard: dict[int, np.ndarray] = {}  # the same draws for every piece (as HonestDiD)
    for test in tests:
        lf_cv = None
        if method == "C-LF":
            m = len(test.base)
            if m not in standard:
                standard[m] = np.random.default_rng(seed).standard_normal((lf_draws, m))
            lf_cv = test.least_favorable_cv(kappa, standard[m])
        accept |= test.accepts(thetas, alpha=alpha, lf_cv=lf_cv, kappa=kappa, flci=flci)
    return accept


def _flci_hybrid_set(problem, bound, alpha, points) -> tuple[float, float]:
    """C-F: the grid over the first stage's FLCI, outside which every value is rejected."""
    weights, flci = problem.first_stage(bound, alpha)
    tests = problem.tests(bound, weights)
    grid = np.linspace(flci[0] - flci[1], flci[0] + flci[1], points)
    accept = _accept(tests, grid, "C-F", alpha, 0, 0, flci)
    if not accept.any():
        warn(
            f"the robust set at M={bound:g} is empty: the data reject every violation the "
            "restriction allows (the pre-period coefficients are inconsistent with it)",
            InferenceWarning,
        )
        return float("nan"), float("nan")
    return float(grid[accept].min()), float(grid[accept].max())


def _grid_set(problem, bound, method, alpha, points, lf_draws, seed) -> tuple[float, float]:
    if method == "C-F":
        return _flci_hybrid_set(problem, bound, alpha, points)
    tests = problem.tests(bound)
    grid = problem.grid(bound, points)
    accept = _accept(tests, grid, method, alpha, lf_draws, seed)
    if not accept.any():
        # HonestDiD's grid lies around 0 (around the identified set at beta = 0 for
        # smoothness): an effect far from 0 relative to its standard error falls
        # outside it. Look again around the identified set at the estimates.
        grid = problem.grid_at_estimates(bound, points)
        accept = _accept(tests, grid, method, alpha, lf_draws, seed)
    for _ in range(_GRID_EXTENSIONS):  # never let the grid cut the set off
        grow_low, grow_high = bool(accept[0]), bool(accept[-1])
        if not (grow_low or grow_high):
            break
        step = grid[1] - grid[0]
        if grow_low:
            more = grid[0] - step * np.arange(points, 0, -1)
            grid = np.concatenate([more, grid])
            accept = np.concatenate([_accept(tests, more, method, alpha, lf_draws, seed), accept])
        if grow_high:
            more = grid[-1] + step * np.arange(1, points + 1)
            grid = np.concatenate([grid, more])
            accept = np.concatenate([accept, _accept(tests, more, method, alpha, lf_draws, seed)])
    else:
        if accept[0] or accept[-1]:
            warn(
                f"the robust set at M={bound:g} reaches the end of a grid extended "
                f"{_GRID_EXTENSIONS} times: it is unbounded on that side",
                InferenceWarning,
            )
            lo = -np.inf if accept[0] else grid[accept].min()
            hi = np.inf if accept[-1] else grid[accept].max()
            return float(lo), float(hi)
    if not accept.any():
        warn(
            f"the robust set at M={bound:g} is empty: the data reject every violation the "
            "restriction allows (the pre-period coefficients are inconsistent with it)",
            InferenceWarning,
        )
        return float("nan"), float("nan")
    return float(grid[accept].min()), float(grid[accept].max())


def robust_confidence_sets(
    betahat: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    restriction: str = "relative_magnitudes",
    M: float | Sequence[float] | None = None,
    method: str | None = None,
    target: str | int | Sequence[float] = "first",
    alpha: float = ALPHA,
    sign: str | None = None,
    monotonic: str | None = None,
    grid_points: int = 1000,
    lf_draws: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Confidence sets for ``l' tau_post`` robust to restricted violations of parallel trends.

    Parameters
    ----------
    betahat : array-like, shape (n_pre + n_post,)
        Event-study coefficients: pre-periods (earliest first), then post-periods, the
        reference period (just before adoption) omitted.
    sigma : ndarray, shape (n_pre + n_post, n_pre + n_post)
        Their covariance.
    n_pre, n_post : int
        Numbers of pre- and post-period coefficients.
    restriction : {"relative_magnitudes", "smoothness", "smoothness_relative_magnitudes"}
        Delta^RM(Mbar), Delta^SD(M) or Delta^SDRM(Mbar) (aliases ``"rm"``, ``"sd"``,
        ``"sdrm"``).
    M : float or sequence of float, optional
        The bounds (``Mbar`` for the relative restrictions). Default as HonestDiD: ten
        values of ``Mbar`` from 0 to 2; for smoothness ten values from 0 to the upper
        ``1 - alpha`` confidence bound of the largest pre-period second difference.
    method : {"FLCI", "C-F", "C-LF", "Conditional"}, optional
        Default (as HonestDiD) ``"FLCI"`` for smoothness, ``"C-F"`` for smoothness
        with a sign or monotonicity restriction, ``"C-LF"`` otherwise. ``"FLCI"`` and
        ``"C-F"`` apply to smoothness only.
    target : "first", "average", int or array-like, default "first"
        ``l``: see :func:`target_vector`.
    alpha : float, default 0.05
        One minus the coverage.
    sign : {"positive", "negative"}, optional
        Also restrict the post-period violation's sign.
    monotonic : {"increasing", "decreasing"}, optional
        Also restrict the violation to be monotone.
    grid_points : int, default 1000
        Points of the grid of ``theta`` the tests are inverted over.
    lf_draws : int, default 10000
        Draws for the least-favourable critical value of ``"C-LF"``.
    seed : int, default 0
        Seed of those draws.

    Returns
    -------
    pandas.DataFrame
        Columns ``restriction, M, lb, ub, method``: one row per bound. A set the
        data reject entirely has missing bounds (with an
        :class:`~impact.exceptions.InferenceWarning`).

    Raises
    ------
    DesignError
        For inputs of the wrong shape, a covariance that is not one, a bound that is
        negative, or a method that does not apply to the restriction.

    Examples
    --------
    >>> import numpy as np
    >>> beta = np.array([0.01, -0.005, 0.0, 0.05, 0.06])
    >>> sigma = np.diag([0.01, 0.01, 0.01, 0.012, 0.014]) ** 2
    >>> table = robust_confidence_sets(beta, sigma, n_pre=3, n_post=2, M=[0, 1])
    >>> table.columns.tolist()
    ['restriction', 'M', 'lb', 'ub', 'method']
    >>> bool(table.lb.iloc[0] > 0)
    True
    """
    beta, cov = _check_inputs(betahat, sigma, n_pre, n_post)
    name = restriction_name(restriction)
    _check_alpha(alpha)
    _check_shape(sign, monotonic)
    chosen = _method(name, method, sign, monotonic)
    if (
        isinstance(grid_points, bool)
        or not isinstance(grid_points, int | np.integer)
        or grid_points < 10
    ):
        raise DesignError(f"grid_points={grid_points!r} must be an integer of at least 10")
    if isinstance(lf_draws, bool) or not isinstance(lf_draws, int | np.integer) or lf_draws < 100:
        raise DesignError(f"lf_draws={lf_draws!r} must be an integer of at least 100")
    l_vec = target_vector(target, n_post)
    bounds = _default_bounds(name, beta, cov, n_pre, alpha) if M is None else _check_bounds(M)
    problem = _Problem(beta, cov, n_pre, n_post, name, l_vec, sign, monotonic)
    rows = []
    for bound in bounds:
        if chosen == "FLCI":
            flci = optimal_flci(beta, cov, n_pre=n_pre, l_vec=l_vec, M=float(bound), alpha=alpha)
            lo, hi = flci.lower, flci.upper
        else:
            lo, hi = _grid_set(problem, float(bound), chosen, alpha, int(grid_points),
                               int(lf_draws), seed)  # fmt: skip
        rows.append({"restriction": name, "M": float(bound), "lb": lo, "ub": hi,
                     "method": chosen})  # fmt: skip
    return pd.DataFrame(rows, columns=["restriction", "M", "lb", "ub", "method"])


def original_interval(
    betahat: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    target: str | int | Sequence[float] = "first",
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """The ordinary interval for ``l' beta_post`` (parallel trends assumed), as a table row.

    Examples
    --------
    >>> import numpy as np
    >>> row = original_interval([0.0, 1.0], np.eye(2), n_pre=1, n_post=1)
    >>> round(float(row.ub.iloc[0]), 2)
    2.96
    """
    from scipy import special

    beta, cov = _check_inputs(betahat, sigma, n_pre, n_post)
    _check_alpha(alpha)
    l_vec = target_vector(target, n_post)
    estimate = float(l_vec @ beta[n_pre:])
    half = float(special.ndtri(1 - alpha / 2) * np.sqrt(l_vec @ cov[n_pre:, n_pre:] @ l_vec))
    return pd.DataFrame(
        [
            {
                "restriction": "none",
                "M": 0.0,
                "lb": estimate - half,
                "ub": estimate + half,
                "method": "Original",
            }
        ]
    )


def identified_set(
    betahat: Sequence[float] | np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    restriction: str = "relative_magnitudes",
    M: float = 1.0,
    target: str | int | Sequence[float] = "first",
    sign: str | None = None,
    monotonic: str | None = None,
) -> tuple[float, float]:
    """The bounds on ``l' tau_post`` were ``betahat`` known exactly (no sampling error).

    Examples
    --------
    >>> identified_set([0.0, 0.0, 1.0], n_pre=2, n_post=1, restriction="rm", M=1.0)
    (1.0, 1.0)
    """
    beta = np.asarray(betahat, dtype=float).ravel()
    _check_inputs(beta, np.eye(len(beta)), n_pre, n_post)
    _check_shape(sign, monotonic)
    bound = float(_check_bounds(M)[0])
    l_vec = target_vector(target, n_post)
    pieces = polyhedra(restriction_name(restriction), bound, n_pre=n_pre, n_post=n_post,
                       sign=sign, monotonic=monotonic)  # fmt: skip
    return identified_bounds(pieces, beta, l_vec, n_pre)


def breakdown_value(
    betahat: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    restriction: str = "relative_magnitudes",
    method: str | None = None,
    target: str | int | Sequence[float] = "first",
    alpha: float = ALPHA,
    null: float = 0.0,
    sign: str | None = None,
    monotonic: str | None = None,
    lf_draws: int = 10_000,
    seed: int = 0,
    rtol: float = 1e-4,
) -> float:
    """The largest bound (``Mbar`` or ``M``) at which the robust set excludes ``null``.

    The test of ``theta = null`` is run directly (no grid), and the bound found by
    bisection to relative precision ``rtol``; the value returned is the largest
    bound known to exclude ``null``.

    Returns
    -------
    float
        0.0 when even the set at bound 0 contains ``null``; ``inf`` when no bound up
        to ``2**40`` times the starting scale makes it contain ``null``.

    Examples
    --------
    >>> import numpy as np
    >>> beta = np.array([0.01, -0.005, 0.0, 0.05, 0.06])
    >>> sigma = np.diag([0.01, 0.01, 0.01, 0.012, 0.014]) ** 2
    >>> value = breakdown_value(beta, sigma, n_pre=3, n_post=2)
    >>> bool(value > 1)
    True
    """
    beta, cov = _check_inputs(betahat, sigma, n_pre, n_post)
    name = restriction_name(restriction)
    _check_alpha(alpha)
    _check_shape(sign, monotonic)
    chosen = _method(name, method, sign, monotonic)
    l_vec = target_vector(target, n_post)
    problem = _Problem(beta, cov, n_pre, n_post, name, l_vec, sign, monotonic)

    def excludes(bound: float) -> bool:
        if chosen == "FLCI":
            flci = optimal_flci(beta, cov, n_pre=n_pre, l_vec=l_vec, M=bound, alpha=alpha)
            return not flci.lower <= null <= flci.upper
        if chosen == "C-F":
            weights, flci = problem.first_stage(bound, alpha)
            tests = problem.tests(bound, weights)
            return not bool(_accept(tests, np.array([float(null)]), chosen, alpha, 0, 0, flci)[0])
        tests = problem.tests(bound)
        return not bool(_accept(tests, np.array([float(null)]), chosen, alpha, lf_draws, seed)[0])

    if not excludes(0.0):
        return 0.0
    scale = 1.0 if name != "smoothness" else max(problem.sd_theta, np.finfo(float).tiny)
    low, high = 0.0, scale
    for _ in range(40):
        if not excludes(high):
            break
        low, high = high, 2 * high
    else:
        return float("inf")
    while high - low > rtol * high:
        mid = (low + high) / 2
        low, high = (mid, high) if excludes(mid) else (low, mid)
    return float(low)
