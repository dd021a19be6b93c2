"""Diagnostics of interrupted time series: residual autocorrelation and placebo dates.

- :func:`residual_tests`: Durbin-Watson and Ljung-Box statistics of the residuals
  (statsmodels' ``durbin_watson`` and ``acorr_ljungbox``).
- :func:`autocorrelations`: the residual ACF and PACF by lag (statsmodels ``acf``,
  ``pacf``) with the ``+-z / sqrt(n)`` white-noise band.
- :func:`placebo_interruptions`: refit with the interruption moved to earlier dates
  inside the pre-period (the post-period dropped) and report the distribution of
  placebo level changes; a real interruption should stand out from them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._distributions import Normal
from impact.exceptions import DesignError, InferenceWarning

if TYPE_CHECKING:
    from impact.estimators.its.interrupted_time_series import InterruptedTimeSeries
    from impact.panel.container import Panel
    from impact.result import ImpactResult

__all__ = ["autocorrelations", "placebo_interruptions", "residual_tests"]


def _lags(n: int, lags: int | None) -> int:
    return max(1, min(10, n // 5)) if lags is None else int(lags)


def residual_tests(resid: np.ndarray, *, lags: int | None = None) -> pd.DataFrame:
    """Durbin-Watson and Ljung-Box tests of residual autocorrelation.

    Parameters
    ----------
    resid : ndarray
        Residuals in time order.
    lags : int, optional
        Lags of the Ljung-Box test; ``min(10, n // 5)`` (at least 1) by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``test, statistic, df, p_value`` (Durbin-Watson has no p-value: values
        near 2 mean no first-order autocorrelation, below 2 positive).

    Examples
    --------
    >>> import numpy as np
    >>> table = residual_tests(np.random.default_rng(0).normal(size=50))
    >>> table["test"].tolist()
    ['durbin_watson', 'ljung_box']
    """
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.stats.stattools import durbin_watson

    resid = np.asarray(resid, dtype=float)
    h = _lags(len(resid), lags)
    lb = acorr_ljungbox(resid, lags=[h], return_df=True)
    return pd.DataFrame(
        {
            "test": ["durbin_watson", "ljung_box"],
            "statistic": [float(durbin_watson(resid)), float(lb["lb_stat"].iloc[0])],
            "df": [np.nan, float(h)],
            "p_value": [np.nan, float(lb["lb_pvalue"].iloc[0])],
        }
    )


def autocorrelations(
    resid: np.ndarray, *, lags: int | None = None, alpha: float = ALPHA
) -> pd.DataFrame:
    """Residual autocorrelation and partial autocorrelation by lag.

    Parameters
    ----------
    resid : ndarray
        Residuals in time order.
    lags : int, optional
        Largest lag; ``min(10, n // 5)`` by default (and below ``n / 2``).
    alpha : float
        For the white-noise band ``z_{1-alpha/2} / sqrt(n)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``lag, acf, pacf, band``.

    Examples
    --------
    >>> import numpy as np
    >>> autocorrelations(np.random.default_rng(0).normal(size=40))["lag"].tolist()
    [1, 2, 3, 4, 5, 6, 7, 8]
    """
    from statsmodels.tsa.stattools import acf, pacf

    resid = np.asarray(resid, dtype=float)
    n = len(resid)
    h = min(_lags(n, lags), n // 2 - 1)
    if h < 1:
        raise DesignError(f"{n} residuals are too few for autocorrelations")
    band = float(Normal().ppf(1 - alpha / 2) / np.sqrt(n))
    return pd.DataFrame(
        {
            "lag": np.arange(1, h + 1),
            "acf": acf(resid, nlags=h, fft=False)[1:],
            "pacf": pacf(resid, nlags=h, method="ywadjusted")[1:],
            "band": band,
        }
    )


def placebo_interruptions(
    estimator: InterruptedTimeSeries,
    data: Panel | Sequence[float] | np.ndarray,
    time: Sequence[Any] | pd.Index | np.ndarray | None = None,
    *,
    interruption: Any = None,
    term: str = "level_change",
    min_pre: int | None = None,
    exposure: Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Move the interruption to earlier dates within the pre-period and refit.

    Only the pre-period (periods before ``interruption``) is used, so the real
    programme cannot leak into the placebo estimates. Every placebo date leaving at
    least ``min_pre`` points before it and two after it is tried.

    Parameters
    ----------
    estimator : InterruptedTimeSeries
        The configured estimator (its hyperparameters are reused).
    data : Panel or array-like
        A Panel (its treated units are moved to each placebo date; the comparison
        units stay untreated), or a plain series with its periods in ``time``.
    time : array-like, optional
        Periods of a plain series.
    interruption : period, optional
        The real interruption; the Panel's adoption period by default.
    term : str, default "level_change"
        The term compared (``"slope_change"``, ``"att"``...).
    min_pre : int, optional
        Points required before a placebo date; the design's minimum by default.
    exposure : array-like, optional
        Exposure of a plain series, for count families.

    Returns
    -------
    pandas.DataFrame
        One row per placebo date (``placebo_time``, ``estimate``, ``std_error``,
        ``p_value``, ``kind="placebo"``), then a row ``kind="actual"`` for the real
        interruption with its ``rank_p_value``: the share of all estimates (placebos
        and actual) at least as large in absolute value as the actual one.

    Examples
    --------
    >>> import numpy as np
    >>> from impact.estimators import InterruptedTimeSeries
    >>> t = np.arange(2000, 2030)
    >>> y = 0.5 * (t - 2000) + 3.0 * (t >= 2020) + np.random.default_rng(0).normal(0, .3, 30)
    >>> table = placebo_interruptions(InterruptedTimeSeries(errors="ols"), y, t,
    ...                               interruption=2020)
    >>> bool(table["rank_p_value"].iloc[-1] < 0.2)
    True
    """
    from impact.estimators.its._design import MIN_PRE_PERIODS, check_times
    from impact.panel.container import Panel

    if isinstance(data, Panel):
        times = check_times(data.periods, name=f"time column {data.time!r}")
        if interruption is None:
            if len(data.cohorts) != 1:
                raise DesignError("give interruption=...: the Panel has no single adoption period")
            interruption = data.cohorts[0]
        frame = data.frame
        treated_unit = frame[data.unit].isin(set(data.treated_units)).to_numpy()

        def fit_at(placebo: Any) -> ImpactResult:
            pre = (frame[data.time] < interruption).to_numpy()
            part = frame.loc[pre].copy()
            part[data.treated] = (treated_unit[pre] & (part[data.time] >= placebo)).astype(int)
            panel = Panel.from_frame(
                part,
                unit=data.unit,
                time=data.time,
                outcome=data.outcome,
                treated=data.treated,
                covariates=data.covariates,
                cluster=data.cluster,
                weights=data.weights,
            )
            return estimator.fit(panel)

        def fit_actual() -> ImpactResult:
            return estimator.fit(data)
    else:
        if time is None or interruption is None:
            raise DesignError("a plain series needs time=... and interruption=...")
        y = np.asarray(data, dtype=float)
        order = np.argsort(np.asarray(time), kind="stable")
        times = check_times(pd.Index(np.asarray(time)[order]))
        y = y[order]
        expo = None if exposure is None else np.asarray(exposure, dtype=float)[order]
        cut_series = int(times.searchsorted(interruption))

        def fit_at(placebo: Any) -> ImpactResult:
            return estimator.fit_series(
                y[:cut_series],
                times[:cut_series],
                interruption=placebo,
                exposure=None if expo is None else expo[:cut_series],
            )

        def fit_actual() -> ImpactResult:
            return estimator.fit_series(y, times, interruption=interruption, exposure=expo)

    cut = int(times.searchsorted(interruption))
    need = MIN_PRE_PERIODS if min_pre is None else int(min_pre)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        for pos in range(need, cut - 1):
            try:
                eff = fit_at(times[pos]).effect(term)
            except DesignError:
                continue
            rows.append(
                {
                    "placebo_time": times[pos],
                    "estimate": eff.estimate,
                    "std_error": eff.std_error,
                    "p_value": eff.p_value,
                }
            )
    if not rows:
        raise DesignError(
            f"the pre-period ({cut} points) is too short for placebo interruptions; it "
            f"needs at least {need + 2}"
        )
    actual = fit_actual().effect(term)
    table = pd.DataFrame(rows)
    values = np.abs(np.append(table["estimate"].to_numpy(), actual.estimate))
    rank_p = float(np.mean(values >= abs(actual.estimate) - 1e-12))
    actual_row = {
        "placebo_time": interruption,
        "estimate": actual.estimate,
        "std_error": actual.std_error,
        "p_value": actual.p_value,
    }
    table = pd.concat([table, pd.DataFrame([actual_row])], ignore_index=True)
    table["kind"] = ["placebo"] * (len(table) - 1) + ["actual"]
    table["rank_p_value"] = np.nan
    table.loc[len(table) - 1, "rank_p_value"] = rank_p
    return table
