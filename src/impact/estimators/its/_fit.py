"""Interrupted time series: fitting one segmented regression with statsmodels.

Every coefficient and covariance here is exactly what statsmodels gives for the same
design matrix and covariance choice:

``errors="ols"``
    ``statsmodels.OLS``, conventional covariance, t(n - k) intervals.
``errors="hac"``
    ``statsmodels.OLS`` with ``cov_type="HAC"`` (Newey-West, Bartlett kernel) and the
    ``n / (n - k)`` small-sample correction (as Stata ``newey``), t(n - k) intervals.
    The lag is :func:`newey_west_lags` unless given.
``errors="ar"``
    Regression with AR(p) errors by exact maximum likelihood,
    ``statsmodels.tsa.arima.model.ARIMA(y, exog=X, order=(p, 0, 0), trend="n")``;
    normal intervals. With ``ar_order="aic"`` or ``"bic"`` the order ``p`` in
    ``0..MAX_AR_ORDER`` minimising the criterion is used.
count families
    ``statsmodels.GLM`` with a log link, ``Poisson`` (its scale estimated by Pearson's
    chi-squared over ``n - k`` when ``dispersion="pearson"``, i.e. quasi-Poisson, as R
    ``family=quasipoisson``) or ``NegativeBinomial(alpha)`` with ``alpha`` estimated
    by maximum likelihood (``statsmodels.NegativeBinomial``, NB2); ``log(exposure)`` as
    offset; normal intervals. ``errors="hac"`` uses the GLM's HAC covariance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, EstimationError, InferenceWarning, warn

__all__ = ["MAX_AR_ORDER", "SeriesFit", "fit_series_model", "newey_west_lags", "standard_errors"]

MAX_AR_ORDER = 4
"""Largest AR order searched when ``ar_order`` is an information criterion."""


def newey_west_lags(n: int) -> int:
    """Automatic Newey-West lag: ``floor(4 (n / 100) ** (2 / 9))``.

    The rule of thumb of Newey and West (1994), also Stata's and the default of
    R ``sandwich::NeweyWest`` without pre-whitening.

    Examples
    --------
    >>> newey_west_lags(100), newey_west_lags(60), newey_west_lags(8)
    (4, 3, 2)
    """
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


@dataclass(frozen=True)
class SeriesFit:
    """A fitted segmented regression.

    Attributes
    ----------
    params : pandas.Series
        Coefficients of the design's columns.
    cov : pandas.DataFrame
        Their covariance.
    df : float or None
        Degrees of freedom of the t reference distribution; None for normal.
    resid : ndarray
        Residuals on the fitted rows (response residuals for ``gaussian``, deviance
        residuals for counts; for ``"ar"`` the regression residuals ``y - X b``).
    sigma2 : float
        Variance of a new observation around its mean (Gaussian families); for
        ``"ar"`` the marginal variance of the AR process.
    family : str
    scale : float
        Dispersion of a count model (1 for fixed Poisson).
    alpha_nb : float or None
        Negative binomial ``alpha``.
    info : dict
        What was chosen (lags, AR order, criterion values).
    """

    params: pd.Series
    cov: pd.DataFrame
    df: float | None
    resid: np.ndarray
    sigma2: float
    family: str
    scale: float
    alpha_nb: float | None
    info: dict


_GRID = 2.0**30


def _constant_columns(X: pd.DataFrame) -> np.ndarray:
    """Positions of the columns of ``X`` that equal 1 in every row."""
    values = X.to_numpy(dtype=float)
    return np.flatnonzero((values == 1.0).all(axis=0)) if len(values) else np.array([], int)


def _standardisation(y: np.ndarray, X: pd.DataFrame) -> tuple[float, float]:
    """``(centre, spread)`` standardising the finite values of ``y``.

    Mean 0 when ``X`` has a constant to absorb the centre; unit standard deviation
    (a spread of 1 for a constant series).
    """
    finite = y[np.isfinite(y)]
    centre = float(finite.mean()) if finite.size and len(_constant_columns(X)) else 0.0
    spread = float(np.std(finite - centre)) if finite.size else 0.0
    if not (np.isfinite(spread) and spread > 0):
        spread = 1.0
    return centre, spread


def _arima(y: np.ndarray, X: pd.DataFrame, p: int):
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = ARIMA(y, exog=X, order=(p, 0, 0), trend="n").fit()
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise EstimationError(
                f"the regression with AR({p}) errors could not be fitted ({exc}); try "
                "errors='ols' or 'hac', or a lower ar_order"
            ) from exc
    if not res.mle_retvals.get("converged", True):
        warn(
            f"the maximum likelihood fit with AR({p}) errors did not converge; its "
            "standard errors may be unreliable",
            InferenceWarning,
        )
    return res


def fit_series_model(
    y: np.ndarray,
    X: pd.DataFrame,
    *,
    family: str = "gaussian",
    errors: str = "hac",
    hac_lags: int | None = None,
    ar_order: int | str = 1,
    dispersion: str = "pearson",
    exposure: np.ndarray | None = None,
) -> SeriesFit:
    """Fit ``y`` on the design ``X`` (rows already restricted to the fitted periods).

    Parameters
    ----------
    y : ndarray
        Outcome.
    X : pandas.DataFrame
        Design, including the constant.
    family : {"gaussian", "poisson", "negative_binomial"}
    errors : {"ols", "hac", "ar"}
    hac_lags : int, optional
        Newey-West lag; :func:`newey_west_lags` of the series length when omitted.
    ar_order : int or {"aic", "bic"}
        AR order for ``errors="ar"``.
    dispersion : {"pearson", "fixed"}
        Poisson scale: estimated (quasi-Poisson) or fixed at 1.
    exposure : ndarray, optional
        Positive exposure (population) of each period, for count families.

    Returns
    -------
    SeriesFit

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"const": 1.0, "trend": np.arange(10.0)})
    >>> y = 1 + 2 * np.arange(10.0) + np.random.default_rng(0).normal(0, 0.01, 10)
    >>> fit = fit_series_model(y, X, errors="ols")
    >>> round(float(fit.params["trend"]), 2)
    2.0
    """
    import statsmodels.api as sm  # imported on first use: a second of start-up

    y = np.asarray(y, dtype=float)
    names = list(X.columns)
    n, k = X.shape
    n = int(np.isfinite(y).sum())  # missing values only reach the AR likelihood
    info: dict = {}
    if n - k < 1:
        raise EstimationError(f"{n} periods cannot identify {k} coefficients")
    if hac_lags is not None and hac_lags >= n:
        raise DesignError(f"hac_lags={hac_lags} must be smaller than the {n} periods fitted")
    lags = newey_west_lags(n) if hac_lags is None else int(hac_lags)
    if family == "gaussian":
        if errors in ("ols", "hac"):
            model = sm.OLS(y, X.to_numpy())
            if errors == "hac":
                res = model.fit(
                    cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
                )
                info["hac_lags_used"] = lags
            else:
                res = model.fit()
            params = np.asarray(res.params)
            cov = np.asarray(res.cov_params())
            resid = np.asarray(res.resid)
            return SeriesFit(
                params=pd.Series(params, index=names),
                cov=pd.DataFrame(cov, index=names, columns=names),
                df=float(n - k),
                resid=resid,
                sigma2=float(res.scale),
                family=family,
                scale=1.0,
                alpha_nb=None,
                info=info,
            )
        # AR(p) errors by maximum likelihood, on the outcome centred (when the design
        # has a constant) and scaled to unit spread: the optimiser's starting values and
        # tolerances are absolute, so on the raw outcome the fit depended on its units
        # (standard errors 1,000 times too large at 1e-6, nothing at 1e12, and short
        # of the maximum on the Nile's flows near 1,000)
        y_raw = y
        centre, spread = _standardisation(y, X)
        # on a grid of 2^-30 standard deviations: the same data in other units then give
        # the optimiser bit-identical values (otherwise rounding differences of 1e-16,
        # amplified by its stopping rule and numerical Hessian, moved the standard
        # errors by 1e-6); a change of at most 5e-10 standard deviations per value
        y = np.round((y_raw - centre) / spread * _GRID) / _GRID
        if isinstance(ar_order, str):
            scores = {}
            fits = {}
            for p in range(MAX_AR_ORDER + 1):
                if n - k - p < 2:
                    break
                fits[p] = _arima(y, X, p)
                # the criterion of the outcome in its own units: the log-likelihood
                # of n observations scaled by 1/spread gains n log(spread)
                scores[p] = float(getattr(fits[p], ar_order)) + 2 * n * np.log(spread)
            p_best = min(scores, key=scores.__getitem__)
            res = fits[p_best]
            info["ar_order_used"] = p_best
            info[f"ar_{ar_order}"] = scores
        else:
            res = _arima(y, X, int(ar_order))
            info["ar_order_used"] = int(ar_order)
        all_params = pd.Series(np.asarray(res.params), index=res.model.param_names)
        exog_names = list(res.model.exog_names)
        cov_all = pd.DataFrame(
            np.asarray(res.cov_params()), index=res.model.param_names, columns=res.model.param_names
        )
        params = all_params[exog_names].to_numpy() * spread
        params[_constant_columns(X)[:1]] += centre
        cov = cov_all.loc[exog_names, exog_names].to_numpy() * spread**2
        ar = [1.0] + [-all_params[f"ar.L{i}"] for i in range(1, info["ar_order_used"] + 1)]
        from statsmodels.tsa.arima_process import arma_acovf

        sigma2 = spread**2 * float(
            arma_acovf(np.array(ar), np.array([1.0]), nobs=1, sigma2=all_params["sigma2"])[0]
        )
        y = y_raw
        info["ar_coefficients"] = [float(-a) for a in ar[1:]]
        return SeriesFit(
            params=pd.Series(params, index=names),
            cov=pd.DataFrame(cov, index=names, columns=names),
            df=None,
            resid=y - X.to_numpy() @ params,
            sigma2=sigma2,
            family=family,
            scale=1.0,
            alpha_nb=None,
            info=info,
        )
    # count families
    offset = None if exposure is None else np.log(np.asarray(exposure, dtype=float))
    alpha_nb = None
    if family == "poisson":
        fam = sm.families.Poisson()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = sm.NegativeBinomial(y, X.to_numpy(), offset=offset, loglike_method="nb2").fit(
                disp=0, maxiter=200
            )
        alpha_nb = float(nb.params[-1])
        if not np.isfinite(alpha_nb) or alpha_nb <= 0:
            raise EstimationError(
                "the negative binomial dispersion could not be estimated (no overdispersion?); "
                "use family='poisson'"
            )
        fam = sm.families.NegativeBinomial(alpha=alpha_nb)
        info["nb_alpha"] = alpha_nb
    model = sm.GLM(y, X.to_numpy(), family=fam, offset=offset)
    if errors == "hac":
        res = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
        info["hac_lags_used"] = lags
        scale = float(res.pearson_chi2 / res.df_resid) if family == "poisson" else 1.0
    elif family == "poisson" and dispersion == "pearson":
        res = model.fit(scale="X2")
        scale = float(res.scale)
    else:
        res = model.fit()
        scale = 1.0
    info["dispersion_scale"] = scale
    params = np.asarray(res.params)
    return SeriesFit(
        params=pd.Series(params, index=names),
        cov=pd.DataFrame(np.asarray(res.cov_params()), index=names, columns=names),
        df=None,
        resid=np.asarray(res.resid_deviance),
        sigma2=float("nan"),
        family=family,
        scale=scale,
        alpha_nb=alpha_nb,
        info=info,
    )


def standard_errors(cov: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of ``cov``; NaN where rounding made a variance negative."""
    variances = np.diag(cov)
    return np.sqrt(np.where(variances >= 0, variances, np.nan))
