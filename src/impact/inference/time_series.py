"""Least squares with Newey-West (HAC) covariance for many series at once.

Evaluators fit the same segmented regression to every school's series. When the
series share their periods they share the design matrix ``X``, so the fits reduce to
a few matrix products over all series together instead of one statsmodels fit per
series. The numbers equal ``statsmodels.OLS(y, X).fit(cov_type="HAC",
cov_kwds={"maxlags": L, "use_correction": use_correction})`` for each series: the
Bartlett-weighted sum of score autocovariances ``Omega = G_0 + sum_l (1 - l/(L+1))
(G_l + G_l')`` in the sandwich ``(X'X)^-1 Omega (X'X)^-1``, times ``n / (n - k)`` with
the correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BatchFit", "ols_hac_many"]


@dataclass(frozen=True)
class BatchFit:
    """Coefficients and covariances of many regressions on one design.

    Attributes
    ----------
    params : ndarray, shape (m, k)
        Coefficients of each series.
    cov : ndarray, shape (m, k, k)
        Their covariance matrices.
    resid : ndarray, shape (m, n)
        Residuals.
    df_resid : int
        ``n - k``, the degrees of freedom of t intervals.
    """

    params: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    df_resid: int

    @property
    def std_errors(self) -> np.ndarray:
        """Standard errors, shape (m, k).

        A negative diagonal entry is rounding around a zero variance (a series the design
        fits exactly, e.g. three pre-period points on a line): its standard error is NaN,
        as in the ITS coefficient table, without numpy's "invalid value" warning.
        """
        variances = np.einsum("mii->mi", self.cov)
        return np.sqrt(np.where(variances >= 0, variances, np.nan))


def ols_hac_many(
    Y: np.ndarray,
    X: np.ndarray,
    *,
    maxlags: int | None,
    use_correction: bool = True,
) -> BatchFit:
    """Regress every row of ``Y`` on ``X`` with Newey-West (or conventional) covariance.

    Parameters
    ----------
    Y : ndarray, shape (m, n)
        One series per row, all observed on the same ``n`` periods.
    X : ndarray, shape (n, k)
        The shared design matrix.
    maxlags : int or None
        Newey-West lag ``L`` (Bartlett kernel); ``None`` gives the conventional
        covariance ``s^2 (X'X)^-1``.
    use_correction : bool, default True
        Multiply the HAC covariance by ``n / (n - k)``.

    Returns
    -------
    BatchFit

    Examples
    --------
    >>> import numpy as np, statsmodels.api as sm
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(30), np.arange(30.0)])
    >>> Y = rng.normal(size=(3, 30))
    >>> batch = ols_hac_many(Y, X, maxlags=2)
    >>> one = sm.OLS(Y[1], X).fit(cov_type="HAC",
    ...                           cov_kwds={"maxlags": 2, "use_correction": True})
    >>> bool(np.allclose(batch.cov[1], one.cov_params(), rtol=1e-10, atol=0))
    True
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    if Y.shape[1] != n:
        raise ValueError(f"Y has {Y.shape[1]} periods per series but X has {n} rows")
    # pseudo-inverse through the QR of X: stable, and (X'X)^-1 = R^-1 R^-T
    q, r = np.linalg.qr(X)
    r_inv = np.linalg.inv(r)
    bread = r_inv @ r_inv.T
    params = (Y @ q) @ r_inv.T
    resid = Y - params @ X.T
    if maxlags is None:
        s2 = np.einsum("mt,mt->m", resid, resid) / (n - k)
        cov = s2[:, None, None] * bread[None]
        return BatchFit(params=params, cov=cov, resid=resid, df_resid=n - k)
    # scores u_t x_t of every series: (m, n, k)
    scores = resid[:, :, None] * X[None, :, :]
    lead = scores.transpose(0, 2, 1)  # (m, k, n)
    omega = lead @ scores
    for lag in range(1, int(maxlags) + 1):
        gamma = lead[:, :, lag:] @ scores[:, :-lag]
        omega += (1.0 - lag / (maxlags + 1.0)) * (gamma + gamma.transpose(0, 2, 1))
    cov = bread[None] @ omega @ bread[None]
    if use_correction:
        cov *= n / (n - k)
    return BatchFit(params=params, cov=cov, resid=resid, df_resid=n - k)
