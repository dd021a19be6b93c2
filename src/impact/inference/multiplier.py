"""Inference from influence functions: analytic clustered variance and the multiplier bootstrap.

An asymptotically linear estimator ``theta_hat`` has ``theta_hat - theta ~
mean(psi_i)`` for an influence function ``psi``. With ``n`` observations grouped in
clusters, ``S_c`` the sum of ``psi`` over cluster ``c``,

* the analytic covariance is ``sum_c S_c S_c' / n**2`` (with one observation per
  cluster this is R ``did``'s ``t(psi) %*% psi / n**2``);
* the multiplier bootstrap draws ``sum_c v_c S_c / n`` with independent Rademacher
  multipliers ``v_c`` (Callaway and Sant'Anna 2021, Algorithm 1), or Mammen's
  two-point or Webb's six-point multipliers (mean 0, variance 1; Webb's suit fewer
  than about ten clusters, where Rademacher draws take few distinct values); standard errors are
  the draws' interquartile range over that of the standard normal, and the uniform
  (simultaneous) band's critical value is the ``1 - alpha`` quantile of the largest
  absolute t-statistic across the parameters, as R ``did``'s ``mboot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact._distributions import Normal
from impact.inference.wald import undefined_se

__all__ = [
    "MULTIPLIER_WEIGHTS",
    "BootstrapResult",
    "cluster_sums",
    "multiplier_bootstrap",
]

MULTIPLIER_WEIGHTS = ("rademacher", "mammen", "webb")
_SQ5 = float(np.sqrt(5.0))
_MAMMEN = np.array([-(_SQ5 - 1) / 2, (_SQ5 + 1) / 2])
_MAMMEN_P = (_SQ5 + 1) / (2 * _SQ5)
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])

_IQR_NORMAL = float(Normal().ppf(0.75) - Normal().ppf(0.25))
_CHUNK = 64


def cluster_sums(psi: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Sum the rows of ``psi`` within clusters.

    Parameters
    ----------
    psi : ndarray, shape (n,) or (n, k)
        Influence function values.
    clusters : ndarray of int, shape (n,), or None
        Cluster code ``0..C-1`` of each row; ``None`` leaves every row its own cluster.

    Returns
    -------
    ndarray, shape (C,) or (C, k)

    Examples
    --------
    >>> import numpy as np
    >>> cluster_sums(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1])).tolist()
    [3.0, 3.0]
    """
    if clusters is None:
        return psi
    n_clusters = int(clusters.max()) + 1
    if psi.ndim == 1:
        return np.bincount(clusters, weights=psi, minlength=n_clusters)
    out = np.empty((n_clusters, psi.shape[1]))
    for j in range(psi.shape[1]):
        out[:, j] = np.bincount(clusters, weights=psi[:, j], minlength=n_clusters)
    return out


@dataclass(frozen=True)
class BootstrapResult:
    """Multiplier bootstrap summary for ``k`` parameters.

    Attributes
    ----------
    std_error : ndarray, shape (k,)
        Interquartile-range standard errors (NaN for degenerate parameters).
    crit_value : float
        Critical value of the uniform band over the ``k`` parameters.
    draws : ndarray, shape (n_boot, k)
        Bootstrap draws of ``theta* - theta_hat``.
    """

    std_error: np.ndarray
    crit_value: float
    draws: np.ndarray


def multiplier_bootstrap(
    sums: np.ndarray,
    n: int,
    *,
    n_boot: int,
    alpha: float,
    rng: np.random.Generator,
    weights: str = "rademacher",
    scale: float | None = None,
) -> BootstrapResult:
    """Multiplier bootstrap of estimators with influence-function sums ``sums``.

    Parameters
    ----------
    sums : ndarray, shape (C, k)
        Cluster sums of the influence functions.
    n : int
        Number of observations behind the influence functions.
    n_boot : int
        Number of draws.
    alpha : float
        One minus the band's coverage.
    rng : numpy.random.Generator
        Source of the multipliers.
    weights : {"rademacher", "mammen", "webb"}
        Distribution of the cluster multipliers.
    scale : float, optional
        The outcome's scale in the estimators' units: standard errors zero up to
        rounding relative to it are missing (NaN; see :mod:`impact.inference.wald`).
        Without it, R ``did``'s absolute rule (``se * sqrt(n)`` at most
        ``10 sqrt(eps)``), which depends on the outcome's units.

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> psi = rng.normal(size=(2000, 1))
    >>> out = multiplier_bootstrap(psi, 2000, n_boot=999, alpha=0.05, rng=rng)
    >>> bool(abs(out.std_error[0] * np.sqrt(2000) - 1) < 0.1)
    True
    """
    s = sums[:, None] if sums.ndim == 1 else sums
    n_clusters, k = s.shape
    draws = np.empty((n_boot, k))
    for start in range(0, n_boot, _CHUNK):
        stop = min(n_boot, start + _CHUNK)
        v = _multipliers(rng, (stop - start, n_clusters), weights)
        draws[start:stop] = (v @ s) / float(n)
    q75 = np.quantile(draws, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(draws, 0.25, axis=0, method="inverted_cdf")
    se = (q75 - q25) / _IQR_NORMAL
    if scale is None:
        se = np.where(se > np.sqrt(np.finfo(float).eps) * 10 / np.sqrt(n), se, np.nan)
    else:
        se = np.where(undefined_se(se, scale), np.nan, se)
    ok = np.isfinite(se)
    if ok.any():
        tmax = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
        crit = float(np.quantile(tmax, 1 - alpha, method="inverted_cdf"))
    else:
        crit = float("nan")
    return BootstrapResult(std_error=se, crit_value=crit, draws=draws)


def _multipliers(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    """Independent multipliers with mean 0 and variance 1."""
    if kind == "rademacher":
        return 2.0 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1.0
    if kind == "mammen":
        return np.where(rng.random(shape) < _MAMMEN_P, _MAMMEN[0], _MAMMEN[1])
    if kind == "webb":
        return _WEBB[rng.integers(0, 6, size=shape)]
    raise ValueError(f"unknown multiplier weights {kind!r}; choose one of {MULTIPLIER_WEIGHTS}")
