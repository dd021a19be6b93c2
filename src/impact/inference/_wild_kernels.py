"""The arithmetic of the wild cluster restricted bootstrap, arranged for speed.

:func:`impact.inference.wild.wild_cluster_bootstrap` reduces every bootstrap sample to
five numbers (Roodman et al. 2019): the numerator of its t-statistic at the null
``r``, ``num0 - r num1``, and the sum of squared cluster scores, ``q00 - 2 r q01 +
r^2 q11``. This module computes them and inverts the test.

Draw statistics
    With ``k`` regressors and ``G`` clusters, the bootstrap score of cluster ``h`` is
    ``a_h v_h - d_h' S' v`` (``S`` the ``G x k`` cluster sums of the regressors times
    the restricted residuals). Its sum of squares over clusters expands into ``4k``
    weighted sums of the cluster weights per draw, ``E v`` for one ``4k x G`` matrix
    ``E``, plus ``k x k`` quadratic forms, when ``4k < 2G``; otherwise the ``2G``
    scores of each draw are formed directly (``2G x G`` times ``G x B``). Either way
    one matrix product over the draws carries the work.

Weights
    Weight matrices drawn from an integer seed are kept (read-only, a few of at most
    8 MB at a time),
    so that a Monte Carlo study whose estimator has a fixed seed, or an event study's
    coefficients, share the draws instead of drawing them again. The draws are those
    of ``Generator.choice`` (the same stream, drawn as ``integers`` and looked up).

Test inversion
    The bisection of :func:`impact.inference.wild._invert` (the same steps, the same
    end points), with the p-value at each step counted from the five numbers of each
    draw in squared form (one product of a 6-row matrix with a 6-vector) and, once the
    bracket is narrow, only over the draws whose decision differs at its two ends;
    the final bracket is checked over every draw, and the plain bisection is run
    whenever the check fails.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

#: bisection steps counted over every draw before only the undecided ones are
FULL_STEPS = 4
#: undecided draws few enough to be counted with Python floats
SCALAR_DRAWS = 3
_CACHE: OrderedDict[tuple, tuple[np.ndarray, bool, bool]] = OrderedDict()
_CACHE_SIZE = 6
_CACHE_BYTES = 8_000_000  # larger matrices (over 100 clusters at 9,999 draws) are not kept
_LOCK = threading.Lock()  # the cache is shared by the threads of a Dask worker


def draw_weights(
    support: np.ndarray,
    n_clusters: int,
    draws: int,
    seed: int | np.random.Generator | None,
) -> tuple[np.ndarray, bool]:
    """``(G x B)`` weights: every vector when ``len(support)^G <= draws``, else random.

    The random draws equal ``default_rng(seed).choice(support, size=(G, draws))``.
    """
    m = len(support)
    if m**n_clusters <= draws:
        # the order of itertools.product: the first cluster varies slowest
        index = np.indices((m,) * n_clusters).reshape(n_clusters, -1)
        return support.take(index), True
    rng = np.random.default_rng(seed)
    return support.take(rng.integers(0, m, size=(n_clusters, draws))), False


def shared_weights(
    kind: str,
    support: np.ndarray,
    n_clusters: int,
    draws: int,
    seed: int | np.random.Generator | None,
) -> tuple[np.ndarray, bool, bool]:
    """:func:`draw_weights`, kept for integer seeds; also whether every weight is +-1.

    The arrays returned are read-only (they may be shared with later calls).
    """
    cacheable = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    key = (kind, n_clusters, draws, int(seed)) if cacheable else None
    if key is not None:
        with _LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
    v, enumerated = draw_weights(support, n_clusters, draws, seed)
    v.flags.writeable = False
    out = (v, enumerated, kind == "rademacher")
    if key is not None and v.nbytes <= _CACHE_BYTES:
        with _LOCK:
            _CACHE[key] = out
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return out


def draw_statistics(
    c: np.ndarray,
    d: np.ndarray,
    s0: np.ndarray,
    s1: np.ndarray,
    v: np.ndarray,
    unit_weights: bool,
) -> tuple[np.ndarray, ...]:
    """``num0, num1, q00, q01, q11`` of every draw (columns of ``v``).

    ``c`` is the row of the bread for the coefficient, ``d`` (``G x k``) the rows
    ``c' M X_h'X_h M``, ``s0``/``s1`` (``G x k``) the cluster sums of the regressors
    times the two parts of the restricted residuals (``u0 - r z``). ``unit_weights``
    says that every weight is +1 or -1 (``v^2 = 1``).
    """
    n_clusters, k = d.shape
    a0, a1 = s0 @ c, s1 @ c
    if 4 * k >= 2 * n_clusters:
        m = np.vstack([np.diag(a0) - d @ s0.T, np.diag(a1) - d @ s1.T]) @ v
        m0, m1 = m[:n_clusters], m[n_clusters:]
        num = np.vstack([a0, a1]) @ v
        return (
            num[0],
            num[1],
            np.einsum("gb,gb->b", m0, m0),
            np.einsum("gb,gb->b", m0, m1),
            np.einsum("gb,gb->b", m1, m1),
        )
    # score of cluster h: a_h v_h - d_h . w with w = S'v; expand the sums of squares
    e = np.vstack([s0.T, s1.T, (d * a0[:, None]).T, (d * a1[:, None]).T]) @ v
    w0, w1, e0, e1 = e[:k], e[k : 2 * k], e[2 * k : 3 * k], e[3 * k :]
    dd = d.T @ d
    dw0, dw1 = dd @ w0, dd @ w1
    if unit_weights:
        base = np.array([a0 @ a0, a0 @ a1, a1 @ a1])[:, None]
    else:
        base = np.vstack([a0 * a0, a0 * a1, a1 * a1]) @ (v * v)
    q00 = base[0] + np.einsum("kb,kb->b", w0, dw0 - 2 * e0)
    q01 = base[1] + np.einsum("kb,kb->b", w0, dw1 - e1) - np.einsum("kb,kb->b", w1, e0)
    q11 = base[2] + np.einsum("kb,kb->b", w1, dw1 - 2 * e1)
    return c @ w0, c @ w1, q00, q01, q11


class Counter:
    """Count the draws whose ``|t*(r)|`` reaches the observed ``|t(r)|``.

    The rule of the p-value in :func:`impact.inference.wild.wild_cluster_bootstrap`
    (``|t*| >= |t| (1 - 1e-10) - 1e-12``, an undefined ``t*`` counting as 0), in
    squared form: ``N(r) >= c^2 s Q(r)`` with ``N = (num0 - r num1)^2`` and ``Q`` the
    sum of squared scores, both quadratic in ``r``: one product of the ``6 x B``
    matrix of their coefficients with a 6-vector per null. Draws giving every cluster
    the same weight (``q01 = q11 = 0``) reproduce the observed statistic at every null,
    a tie up to rounding that the expanded square would lose next to the estimate:
    they are counted apart, with the numerator squared directly.
    """

    def __init__(self, num0, num1, q00, q01, q11, small: float, estimate: float, se: float):
        self.num0, self.num1, self.q = num0, num1, np.vstack([q00, q01, q11])
        self.dead = (num0 == 0) & (num1 == 0)  # a zero numerator at every null
        parts = np.vstack([num0 * num0, num0 * num1, num1 * num1, self.q])
        parts[3:, self.dead] = np.array([[1.0], [0.0], [0.0]])  # never counted
        flat = (q01 == 0) & (q11 == 0)
        self.parts = parts[:, ~flat] if flat.any() else parts
        self.flat = np.flatnonzero(flat)
        self.small, self.estimate, self.se = small, estimate, se
        self.n_draws = len(num0)

    def kappa(self, r: float) -> float:
        """``c^2 s`` at ``r``; ``0`` when every draw counts (``c <= 0``)."""
        bar = abs(self.estimate - r) / self.se * (1 - 1e-10) - 1e-12
        return bar * bar * self.small if bar > 0 else 0.0

    def weights(self, r: float, kappa: float) -> np.ndarray:
        return np.array([1.0, -2 * r, r * r, -kappa, 2 * kappa * r, -kappa * r * r])

    def flat_count(self, r: float, kappa: float) -> int:
        if not len(self.flat) or kappa == 0:
            return len(self.flat)
        f = self.flat
        diff = self.num0[f] - r * self.num1[f]
        return int(np.count_nonzero((diff * diff >= kappa * self.q[0, f]) & ~self.dead[f]))

    def count(self, r: float) -> int:
        """Draws counted at ``r``, every numerator squared directly."""
        kappa = self.kappa(r)
        if kappa == 0:
            return self.n_draws
        diff = self.num0 - r * self.num1
        q = np.array([1.0, -2 * r, r * r]) @ self.q
        return int(np.count_nonzero((diff * diff >= kappa * q) & ~self.dead))


def invert(
    counter: Counter,
    estimate: float,
    scale: float,
    alpha: float,
    fallback: Callable[[], tuple[float, float]],
) -> tuple[float, float]:
    """The bisection of ``wild._invert`` with counted p-values (see the module docstring)."""
    n = counter.n_draws
    parts = counter.parts
    everyone = np.ones(parts.shape[1], dtype=bool)

    def full(r: float) -> tuple[np.ndarray, int]:
        kappa = counter.kappa(r)
        if kappa == 0:
            return everyone, n
        passed = counter.weights(r, kappa) @ parts >= 0
        return passed, int(np.count_nonzero(passed)) + counter.flat_count(r, kappa)

    bounds = []
    for sign in (-1.0, 1.0):
        inner, step = estimate, scale
        outer = estimate + sign * step
        at_inner = everyone
        at_outer, count = full(outer)
        tries = 0
        while count / n > alpha and tries < 60:
            inner, at_inner = outer, at_outer
            step *= 2
            outer = estimate + sign * step
            at_outer, count = full(outer)
            tries += 1
        if tries == 60:
            bounds.append(sign * np.inf)
            continue
        sub = None  # the coefficients of the undecided draws, once the bracket is narrow
        scalars = None  # the same as Python floats, once they are few
        settled = 0
        for index in range(60):
            mid = (inner + outer) / 2
            if sub is None:
                at_mid, count = full(mid)
            elif scalars is not None:
                kappa = counter.kappa(mid)
                at_mid = [
                    kappa == 0
                    or p0
                    - 2 * mid * p1
                    + mid * mid * p2
                    - kappa * (p3 - 2 * mid * p4 + mid * mid * p5)
                    >= 0
                    for p0, p1, p2, p3, p4, p5 in scalars
                ]
                count = settled + sum(at_mid) + counter.flat_count(mid, kappa)
            else:
                kappa = counter.kappa(mid)
                if kappa == 0:
                    at_mid = np.ones(sub.shape[1], dtype=bool)
                else:
                    at_mid = counter.weights(mid, kappa) @ sub >= 0
                count = settled + int(np.count_nonzero(at_mid)) + counter.flat_count(mid, kappa)
            if count / n > alpha:
                inner, at_inner = mid, at_mid
            else:
                outer, at_outer = mid, at_mid
            if abs(outer - inner) <= 1e-9 * scale:
                break
            if scalars is not None:
                differ = [a != b for a, b in zip(at_inner, at_outer, strict=True)]
                settled += sum(a and not m for a, m in zip(at_inner, differ, strict=True))
                scalars = [p for p, m in zip(scalars, differ, strict=True) if m]
                at_inner = [a for a, m in zip(at_inner, differ, strict=True) if m]
                at_outer = [a for a, m in zip(at_outer, differ, strict=True) if m]
            elif index + 1 >= FULL_STEPS:
                differ = at_inner != at_outer
                settled += int(np.count_nonzero(at_inner & ~differ))
                sub = (parts if sub is None else sub)[:, differ]
                at_inner, at_outer = at_inner[differ], at_outer[differ]
                if sub.shape[1] <= SCALAR_DRAWS:
                    scalars = [tuple(column) for column in sub.T.tolist()]
                    at_inner, at_outer = at_inner.tolist(), at_outer.tolist()
        # the bracket, checked over every draw
        if not (counter.count(inner) / n > alpha >= counter.count(outer) / n):
            return fallback()
        bounds.append((inner + outer) / 2)
    return float(bounds[0]), float(bounds[1])
