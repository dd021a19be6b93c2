"""Panel interrupted time series: pooled segmented regression with unit effects.

Every unit's rows share the segmented terms of its period; unit effects are absorbed by
within-unit demeaning and the standard errors are clustered by unit (CR1, through
:func:`impact.inference.regression.within_regression`). With a comparison group the
treated units' interruption terms are interactions with the treated indicator, next to
a trend and interruption terms shared by all units (the background), so the effects are
differences in level and slope change. Each treated unit's own effects are fitted in
one batch (:func:`impact.inference.time_series.ols_hac_many`), with Newey-West
standard errors (conventional ones with ``errors="ols"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators._its_design import check_times, period_label
from impact.estimators._its_design import scalar as _scalar
from impact.estimators._its_fit import newey_west_lags
from impact.inference.regression import within_regression
from impact.inference.time_series import ols_hac_many
from impact.result import ImpactResult, effect_row

if TYPE_CHECKING:
    from impact.data import Panel
    from impact.estimators.its import InterruptedTimeSeries

__all__ = ["fit_pooled"]


def fit_pooled(
    est: InterruptedTimeSeries, panel: Panel, *, breaks: list[Any], use_comparison: bool
) -> ImpactResult:
    """Fit the pooled panel ITS (see the module docstring)."""
    times = check_times(panel.periods, name=f"time column {panel.time!r}")
    design = est.design_for(times, breaks)
    full = panel.frame
    treated_units = set(panel.treated_units)
    full_treated = full[panel.unit].isin(treated_units).to_numpy()
    full_pos = times.get_indexer(full[panel.time])
    sel = (full_treated | use_comparison) & design.keep[full_pos]
    frame = full.loc[sel].reset_index(drop=True)
    covariates = panel.covariate_matrix().loc[sel].reset_index(drop=True)
    pos = full_pos[sel]
    is_treated = full_treated[sel]
    eff_cols = design.effect_terms
    base_cols = [c for c in design.X.columns if c not in eff_cols and c != "const"]
    Xp = design.X
    g = is_treated.astype(float)[:, None]
    blocks = [Xp[eff_cols].to_numpy()[pos] * (g if use_comparison else 1.0)]
    names = list(eff_cols)
    if use_comparison:
        blocks.append(Xp[eff_cols].to_numpy()[pos])
        names += [f"background:{c}" for c in eff_cols]
        if est.trend:
            blocks.append(Xp[["trend"]].to_numpy()[pos] * g)
            names.append("treated:trend")
    blocks.append(Xp[base_cols].to_numpy()[pos])
    names += base_cols
    if covariates.shape[1]:
        blocks.append(covariates.to_numpy(dtype=float))
        names += list(covariates.columns)
    X = np.column_stack(blocks)
    unit_codes = pd.factorize(frame[panel.unit], sort=True)[0]
    cluster_codes = (
        pd.factorize(frame[panel.cluster], sort=True)[0] if panel.cluster else unit_codes
    )
    fit = within_regression(
        frame[panel.outcome].to_numpy(dtype=float),
        X,
        names,
        unit_codes=unit_codes,
        cluster_codes=cluster_codes,
        weights=frame[panel.weights].to_numpy(dtype=float) if panel.weights else None,
        inference="iid" if est.errors == "ols" else "cr1",
        keep_first=len(eff_cols),
    )
    beta = fit.params[eff_cols].to_numpy()
    cov = fit.cov.loc[eff_cols, eff_cols].to_numpy()
    E = Xp[eff_cols].to_numpy()
    effect = E @ beta
    in_att = design.post & (design.keep if est.phase_in_mode == "exclude" else True)
    rows = [
        effect_row(
            t, fit.params[t], fit.std_error(t), df=fit.df_inference, alpha=est.alpha, kind="segment"
        )
        for t in eff_cols
    ]
    for label, w in (("att", in_att / in_att.sum()), ("cumulative", in_att.astype(float))):
        grad = w @ E
        rows.append(
            effect_row(
                label,
                float(w @ effect),
                float(np.sqrt(grad @ cov @ grad)),
                df=fit.df_inference,
                alpha=est.alpha,
                kind="summary",
            )
        )
    se_t = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", E, cov, E), 0.0))
    for i in np.flatnonzero(design.post):
        rows.append(
            effect_row(
                f"period[{period_label(times[i])}]",
                float(effect[i]),
                float(se_t[i]),
                df=fit.df_inference,
                alpha=est.alpha,
                kind="period",
            )
        )
    wide = panel.wide()
    treated_mean = wide.loc[:, wide.columns.isin(treated_units)].mean(axis=1).to_numpy()
    paths = pd.DataFrame(
        {
            "time": np.asarray(times),
            "observed": treated_mean,
            "counterfactual": treated_mean - effect,
            "effect": effect,
            "model_effect": effect,
            "post": design.post,
            "in_fit": design.keep,
        }
    )
    diagnostics = {
        "coefficients": pd.DataFrame(
            {
                "term": fit.params.index,
                "estimate": fit.params.to_numpy(),
                "std_error": np.sqrt(np.diag(fit.cov.to_numpy())),
            }
        )
    }
    if panel.is_balanced and not panel.is_repeated_cross_section:
        diagnostics["unit_effects"] = _unit_effects(
            est, wide, treated_units, use_comparison, design, in_att
        )
    settings = {
        **est.get_params(),
        "design": "pooled controlled" if use_comparison else "pooled",
        "source": "panel",
        "interruption_periods": tuple(_scalar(times[p]) for p in design.positions),
        "errors_used": "ols" if est.errors == "ols" else "clustered",
        "cluster": None if est.errors == "ols" else (panel.cluster or panel.unit),
        "df_inference": fit.df_inference,
        "dropped_terms": fit.dropped,
    }
    return ImpactResult(
        estimator=est.name or "its",
        effects=pd.DataFrame(rows),
        settings=settings,
        paths=paths,
        diagnostics=diagnostics,
        n_obs=fit.n_obs,
        n_units=int(unit_codes.max()) + 1,
        n_clusters=fit.n_clusters,
    )


def _unit_effects(est, wide, treated_units, use_comparison, design, in_att) -> pd.DataFrame:
    """Each treated unit's own segmented regression (minus the comparison mean)."""
    cols = [u for u in wide.columns if u in treated_units]
    Y = wide[cols].to_numpy().T
    if use_comparison:
        Y = Y - wide.loc[:, ~wide.columns.isin(treated_units)].mean(axis=1).to_numpy()[None, :]
    keep = design.keep
    X = design.X.to_numpy()[keep]
    lags = est.hac_lags if est.hac_lags is not None else newey_west_lags(int(keep.sum()))
    batch = ols_hac_many(Y[:, keep], X, maxlags=None if est.errors == "ols" else lags)
    names = list(design.X.columns)
    out = pd.DataFrame({"unit": cols})
    se = batch.std_errors
    for term in design.effect_terms:
        j = names.index(term)
        out[term] = batch.params[:, j]
        out[f"{term}_std_error"] = se[:, j]
    E = design.X[design.effect_terms].to_numpy()
    w = (in_att / in_att.sum()) @ E
    idx = [names.index(t) for t in design.effect_terms]
    out["att"] = batch.params[:, idx] @ w
    out["att_std_error"] = np.sqrt(np.einsum("j,mjk,k->m", w, batch.cov[:, idx][:, :, idx], w))
    return out
