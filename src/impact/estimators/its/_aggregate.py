"""Fit an interrupted time series to aggregated series: the single-series engine.

:func:`fit_aggregate` fits the treated series (or its difference from a comparison
series, or the two stacked, for counts) with the segmented design, and assembles the
effects, paths and diagnostics of the result. The pooled panel fit is in ``_pooled``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators.its._design import check_counts
from impact.estimators.its._design import scalar as _scalar
from impact.estimators.its._effects import Contrast, assemble
from impact.estimators.its._fit import fit_series_model, standard_errors
from impact.estimators.its.diagnostics import autocorrelations, residual_tests
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.result import ImpactResult

if TYPE_CHECKING:
    from impact.estimators.its.interrupted_time_series import InterruptedTimeSeries

__all__ = ["SHORT_SERIES", "fit_aggregate"]

SHORT_SERIES = 20
"""Series shorter than this get a warning with Newey-West standard errors."""


def fit_aggregate(
    its: InterruptedTimeSeries,
    times: pd.Index,
    y: np.ndarray,
    *,
    breaks: list[Any],
    exposure: np.ndarray | None,
    comparison: np.ndarray | None,
    comparison_exposure: np.ndarray | None,
    n_units: int,
    origin: str,
    n_treated: int = 1,
    covariates: pd.DataFrame | None = None,
) -> ImpactResult:
    """Fit ``its`` to one aggregated series ``y`` (and a comparison series) over ``times``.

    The engine of :meth:`InterruptedTimeSeries.fit` (treated units aggregated) and of
    :meth:`InterruptedTimeSeries.fit_series`.
    """
    design = its.design_for(times, breaks, covariates)
    counts = its.family != "gaussian"
    errors = its.errors or ("ols" if counts else "ar")
    if counts:
        check_counts(y, exposure, "the outcome")
        if comparison is not None:
            check_counts(comparison, comparison_exposure, "the comparison outcome")
    elif exposure is not None:
        raise DesignError("exposure is for count families (family='poisson' or ...)")
    keep = design.keep
    X = design.X
    terms = {t: t for t in design.effect_terms}
    if comparison is not None and counts:
        # stacked two-series GLM: shared terms plus treated-group interactions
        if errors != "ols":
            raise DesignError(
                "a controlled ITS of counts supports errors='ols' (model-based, with the "
                "quasi-Poisson scale or the negative binomial); set errors='ols'"
            )
        gX = X.add_prefix("treated:")
        stacked = pd.concat(
            [pd.concat([X, gX], axis=1), pd.concat([X, gX * 0.0], axis=1)], ignore_index=True
        )
        rows = np.r_[keep, keep]
        expo_t = np.ones(len(y)) if exposure is None else exposure
        expo_c = np.ones(len(y)) if comparison_exposure is None else comparison_exposure
        stacked_expo = np.r_[expo_t, expo_c]
        fit = fit_series_model(
            np.r_[y, comparison][rows],
            stacked.loc[rows].reset_index(drop=True),
            family=its.family,
            errors="ols",
            dispersion=its.dispersion,
            exposure=stacked_expo[rows],
        )
        X1 = stacked.iloc[: len(y)].to_numpy()
        cf_g = design.counterfactual.add_prefix("treated:")
        X0 = pd.concat([X, cf_g], axis=1).to_numpy()
        contrast = Contrast(X1, X0, exposure=expo_t)
        terms = {t: f"treated:{t}" for t in design.effect_terms}
        resid = fit.resid[: int(keep.sum())]
    else:
        target = y if comparison is None else y - comparison
        if errors == "ar":
            # the state-space likelihood skips excluded periods as missing values,
            # keeping the time between the observations around them
            target = np.where(keep, target, np.nan)
            rows_in = np.ones(len(target), dtype=bool)
        else:
            rows_in = keep
        fit = fit_series_model(
            target[rows_in],
            X.loc[rows_in].reset_index(drop=True),
            family=its.family,
            errors=errors,
            hac_lags=its.hac_lags,
            ar_order=its.ar_order,
            dispersion=its.dispersion,
            exposure=None if exposure is None else exposure[keep],
        )
        contrast = Contrast(
            X.to_numpy(),
            design.counterfactual.to_numpy(),
            base=comparison,
            exposure=exposure,
        )
        resid = fit.resid[keep] if errors == "ar" else fit.resid
    if errors == "hac" and int(keep.sum()) < SHORT_SERIES:
        warn(
            f"Newey-West standard errors from {int(keep.sum())} periods are unreliable "
            f"(too small) in series shorter than {SHORT_SERIES}; prefer errors='ols' or "
            "'ar', or pooled=True with several units",
            InferenceWarning,
        )
    in_att = design.post.copy()
    if its.phase_in and its.phase_in_mode == "exclude":
        in_att &= keep
    effects, paths = assemble(
        fit,
        contrast,
        times=times,
        observed=y,
        post=design.post,
        in_att=in_att,
        fitted_rows=keep,
        terms=terms,
        alpha=its.alpha,
    )
    if comparison is not None:
        paths["comparison"] = comparison
    coefficients = pd.DataFrame(
        {
            "term": fit.params.index,
            "estimate": fit.params.to_numpy(),
            "std_error": standard_errors(fit.cov.to_numpy()),
        }
    )
    diagnostics = {"coefficients": coefficients}
    if len(resid) >= 8:
        diagnostics["residual_tests"] = residual_tests(resid)
        diagnostics["autocorrelation"] = autocorrelations(resid, alpha=its.alpha)
    diagnostics["residuals"] = pd.DataFrame(
        {"time": np.asarray(times)[keep][: len(resid)], "residual": resid}
    )
    settings = {
        **its.get_params(),
        "design": "controlled" if comparison is not None else "single",
        "source": origin,
        "interruption_periods": tuple(_scalar(times[p]) for p in design.positions),
        "n_treated_units": n_treated,
        "errors_used": errors,
        "df_inference": fit.df,
        **fit.info,
    }
    return ImpactResult(
        estimator=its.name or "its",
        effects=effects,
        settings=settings,
        paths=paths,
        diagnostics=diagnostics,
        n_obs=int(keep.sum()) * (2 if comparison is not None else 1),
        n_units=n_units,
    )
