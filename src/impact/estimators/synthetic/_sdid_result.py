"""The result of a synthetic DiD fit: effects, paths and diagnostic tables."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators.synthetic._sdid_data import SdidData, plain
from impact.estimators.synthetic._sdid_variance import CohortFit, Replicates, spread
from impact.exceptions import DesignWarning, warn
from impact.inference import outcome_scale, wald
from impact.result import ImpactResult
from impact.terms import calendar_term, group_term

if TYPE_CHECKING:
    from impact import Panel

__all__ = ["FIT_WARNING", "assemble"]

FIT_WARNING = 0.25
"""Pre-period RMSPE, relative to the outcome's standard deviation, above which a fit warns."""


def _pre_rmspe(fit: CohortFit, method: str) -> float:
    gap = fit.fit.trajectory_gap[0, : fit.start]
    if method != "sc":  # intercept: the level difference is not a misfit
        gap = gap - gap.mean()
    return float(np.sqrt(np.mean(gap**2)))


def assemble(
    *,
    estimator: str,
    panel: Panel,
    data: SdidData,
    order: np.ndarray,
    y: np.ndarray,
    controls: np.ndarray,
    fits: list[CohortFit],
    replicates: Replicates | None,
    method: str,
    alpha: float,
    settings: dict[str, Any],
    undefined: str | None = None,
) -> ImpactResult:
    """Build the :class:`ImpactResult` of a fit (see ``SyntheticDiD.fit``)."""
    n_periods = y.shape[1]
    periods = data.periods
    units = data.units[order]
    sizes = np.array([len(f.treated) for f in fits], dtype=float)
    n_post = np.array([n_periods - f.start for f in fits], dtype=float)
    cohort_weight = sizes * n_post / (sizes * n_post).sum()
    taus = np.array([float(f.fit.estimate[0]) for f in fits])
    att = float(cohort_weight @ taus)
    scale = outcome_scale(data.y_raw)
    if replicates is None:
        undefined = undefined or (
            "the jackknife is undefined here (a single treated unit, or a single comparison "
            "unit carrying all the weight)"
        )
        se_att, se_cohort, se_curve = np.nan, np.full(len(fits), np.nan), None
    else:
        se_att = float(spread(replicates.att, replicates.se_scale)[0])
        se_cohort = spread(replicates.cohort, replicates.se_scale)
        se_curve = (
            None if replicates.curve is None else spread(replicates.curve, replicates.se_scale)
        )
    n_tr = int(sizes.sum())
    terms = ["att"]
    estimates = [att]
    ses = [se_att]
    if len(fits) == 1:
        curve = fits[0].fit.curve[0]
        post_periods = periods[fits[0].start :]
        terms += [calendar_term(p) for p in post_periods]
        estimates += list(curve)
        ses += list(np.full(len(curve), np.nan) if se_curve is None else se_curve)
    se, lower, upper, p = wald(
        estimates, ses, None, alpha, scale=scale, terms=terms, undefined=undefined
    )
    effects = {
        "term": terms,
        "estimate": [float(e) for e in estimates],
        "std_error": se.tolist(),
        "ci_lower": lower.tolist(),
        "ci_upper": upper.tolist(),
        "p_value": p.tolist(),
        "n_treated_units": [n_tr] * len(terms),
        "n_control_units": [len(controls)] * len(terms),
    }
    cohort_se, cohort_lo, cohort_hi, cohort_p = wald(
        taus, se_cohort, None, alpha, scale=scale, announce=False, undefined=undefined
    )
    cohort_table = pd.DataFrame(
        {
            "term": [group_term(periods[f.start]) for f in fits],
            "cohort": [periods[f.start] for f in fits],
            "estimate": taus,
            "std_error": cohort_se,
            "ci_lower": cohort_lo,
            "ci_upper": cohort_hi,
            "p_value": cohort_p,
            "n_treated_units": sizes.astype(int),
            "n_post_periods": n_post.astype(int),
            "weight": cohort_weight,
        }
    )
    fit_rows = []
    for f in fits:
        rmspe = _pre_rmspe(f, method)
        spread_y = float(np.std(data.y_raw[:, : f.start]))
        relative = rmspe / spread_y if spread_y > 0 else np.nan
        fit_rows.append(
            {
                "cohort": periods[f.start],
                "pre_rmspe": rmspe,
                "outcome_sd": spread_y,
                "relative_rmspe": relative,
                "n_pre_periods": f.start,
                "zeta_omega": f.options.zeta_omega,
                "zeta_lambda": f.options.zeta_lambda,
            }
        )
        if relative > FIT_WARNING:
            warn(
                f"the synthetic comparison of the units adopting in {plain(periods[f.start])!r} "
                f"misses their pre-period path by an RMSPE of {rmspe:.4g}, {relative:.2f} "
                "times the outcome's standard deviation: the treated units lie outside "
                "what a weighted average of the comparison units can reproduce (outside "
                "their convex hull, up to a level shift for sdid/did). The estimate "
                "extrapolates; check the paths plot and consider other comparison units",
                DesignWarning,
            )
    diagnostics: dict[str, Any] = {
        "unit_weights": partial(_unit_weights, fits, units, controls, periods),
        "time_weights": partial(_time_weights, fits, periods),
        "fit": pd.DataFrame(fit_rows),
        "cohorts": cohort_table,
    }
    if replicates is not None:
        kind = settings["se_method_used"]
        diagnostics["replicates"] = partial(
            lambda r, k: pd.DataFrame(
                {"replicate": np.arange(len(r.att)), "method": k, "estimate": r.att}
            ),
            replicates,
            kind,
        )
    if data.covariate_coefficients is not None:
        coefs = data.covariate_coefficients
        diagnostics["covariates"] = pd.DataFrame(
            {"covariate": list(coefs.index), "coefficient": coefs.to_numpy()}
        )
    paths = partial(_paths, fits[0], y, periods, units) if len(fits) == 1 else None
    if len(fits) > 1:
        diagnostics["cohort_paths"] = partial(_cohort_paths, fits, y, periods, units)
    return ImpactResult._from_parts(
        estimator=estimator,
        effects=effects,
        settings=settings,
        paths=paths,
        diagnostics=diagnostics,
        n_obs=panel.n_obs,
        n_units=len(units),
    )


def _unit_weights(
    fits: list[CohortFit], units: pd.Index, controls: np.ndarray, periods: pd.Index
) -> pd.DataFrame:
    frames = []
    for f in fits:
        frame = pd.DataFrame(
            {"unit": units[controls], "weight": f.fit.omega[0], "cohort": periods[f.start]}
        )
        frames.append(frame.sort_values(["weight", "unit"], ascending=[False, True]))
    out = pd.concat(frames, ignore_index=True)
    return out if len(fits) > 1 else out.drop(columns="cohort")


def _time_weights(fits: list[CohortFit], periods: pd.Index) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {"time": periods[: f.start], "weight": f.fit.lam[0], "cohort": periods[f.start]}
        )
        for f in fits
    ]
    out = pd.concat(frames, ignore_index=True)
    return out if len(fits) > 1 else out.drop(columns="cohort")


def _paths(fit: CohortFit, y: np.ndarray, periods: pd.Index, units: pd.Index) -> pd.DataFrame:
    observed = y[fit.treated].mean(axis=0)
    gap = fit.fit.trajectory_gap[0]
    synthetic = observed - gap
    offset = float(gap[: fit.start] @ fit.fit.lam[0])
    counterfactual = synthetic + offset
    lam = np.zeros(len(periods))
    lam[: fit.start] = fit.fit.lam[0]
    return pd.DataFrame(
        {
            "time": np.asarray(periods),
            "observed": observed,
            "counterfactual": counterfactual,
            "effect": observed - counterfactual,
            "synthetic": synthetic,
            "time_weight": lam,
            "post": np.arange(len(periods)) >= fit.start,
        }
    )


def _cohort_paths(
    fits: list[CohortFit], y: np.ndarray, periods: pd.Index, units: pd.Index
) -> pd.DataFrame:
    frames = []
    for f in fits:
        frame = _paths(f, y, periods, units)
        frame.insert(0, "cohort", periods[f.start])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
