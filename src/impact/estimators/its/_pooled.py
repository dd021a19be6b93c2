"""Panel interrupted time series: pooled segmented regression with unit effects.

Every unit's rows share the segmented terms of its period; unit effects are absorbed by
within-unit demeaning and the standard errors are clustered by unit, with the
estimator's ``inference`` option (``"auto"``: CR1 with many clusters, the wild cluster
restricted bootstrap with few; see :mod:`impact.inference.combination`). With a comparison group the
treated units' interruption terms are interactions with the treated indicator, next to
a trend and interruption terms shared by all units (the background), so the effects are
differences in level and slope change. Each treated unit's own effects are fitted in
one batch (:func:`impact.inference.time_series.ols_hac_many`), with Newey-West
standard errors (conventional ones with ``errors="ols"``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators.its._design import check_times, period_label, require_comparison_rows
from impact.estimators.its._design import scalar as _scalar
from impact.estimators.its._fit import newey_west_lags, standard_errors
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.inference.coefficient import MAX_SIZE_CV
from impact.inference.combination import infer_combinations
from impact.inference.regression import within_regression
from impact.inference.time_series import ols_hac_many
from impact.result import ImpactResult

if TYPE_CHECKING:
    from impact.estimators.its.interrupted_time_series import InterruptedTimeSeries
    from impact.panel.container import Panel

__all__ = ["fit_pooled"]


def fit_pooled(
    est: InterruptedTimeSeries, panel: Panel, *, breaks: list[Any], use_comparison: bool
) -> ImpactResult:
    """Fit the pooled panel ITS (see the module docstring)."""
    times = check_times(panel.periods, name=f"time column {panel.time!r}")
    design = est.design_for(times, breaks)
    all_units, units, all_times, periods = panel.codes()
    treated_list = panel.treated_units
    treated_units = set(treated_list)
    full_treated = units.isin(treated_list)[all_units]
    if times.equals(periods):  # the codes index the sorted periods
        full_pos = all_times
    else:
        full_pos = times.get_indexer(panel.view()[panel.time])
    sel = (full_treated | use_comparison) & design.keep[full_pos]
    pos = full_pos[sel]
    is_treated = full_treated[sel]
    eff_cols = design.effect_terms
    design_names = list(design.X.columns)
    Xv = design.X.to_numpy()
    eff_idx = [design_names.index(c) for c in eff_cols]
    base_idx = [j for j, c in enumerate(design_names) if c not in eff_cols and c != "const"]
    g = is_treated.astype(float)[:, None]
    blocks = [Xv[:, eff_idx][pos] * (g if use_comparison else 1.0)]
    names = list(eff_cols)
    if use_comparison:
        blocks.append(Xv[:, eff_idx][pos])
        names += [f"background:{c}" for c in eff_cols]
        if est.trend:
            blocks.append(Xv[:, [design_names.index("trend")]][pos] * g)
            names.append("treated:trend")
    blocks.append(Xv[:, base_idx][pos])
    names += [design_names[j] for j in base_idx]
    if panel.covariates:
        covariates = panel.covariate_matrix()
        if covariates.shape[1]:
            blocks.append(covariates.to_numpy(dtype=float)[sel])
            names += list(covariates.columns)
    X = np.column_stack(blocks)
    unit_codes = _dense(all_units[sel])
    cluster_codes = _dense(panel.cluster_codes()[sel]) if panel.cluster else unit_codes
    y = np.asarray(panel.values(panel.outcome)[sel], dtype=float)
    weights = np.asarray(panel.weight_values()[sel], dtype=float) if panel.weights else None
    if use_comparison:
        require_comparison_rows(
            times,
            pos,
            is_treated,
            weights,
            unit=panel.unit,
            time=panel.time,
            weight_name=panel.weights,
        )
    fit = within_regression(
        y,
        X,
        names,
        unit_codes=unit_codes,
        cluster_codes=cluster_codes,
        weights=weights,
        inference="iid" if est.errors == "ols" else "cr1",
        keep_first=len(eff_cols),
    )
    kept = fit.names
    X = X[:, [names.index(n) for n in kept]]
    E = Xv[:, eff_idx]
    effect_fit = E @ np.array([fit.coefficient(c) for c in eff_cols])
    in_att = design.post & (design.keep if est.phase_in_mode == "exclude" else True)
    combos: dict[str, dict[str, float]] = {}
    w_att = (in_att / in_att.sum()) @ E
    combos["att"] = dict(zip(eff_cols, w_att, strict=True))
    combos.update({t: {t: 1.0} for t in eff_cols})
    combos["cumulative"] = dict(zip(eff_cols, in_att.astype(float) @ E, strict=True))
    post_rows = np.flatnonzero(design.post)
    for i in post_rows:
        combos[f"period[{period_label(times[i])}]"] = dict(zip(eff_cols, E[i], strict=True))
    method, reason = _resolve(est, cluster_codes, use_comparison)
    inferred = infer_combinations(
        y,
        X,
        kept,
        combos,
        method=method,
        unit_codes=unit_codes,
        cluster_codes=cluster_codes,
        weights=weights,
        alpha=est.alpha,
        seed=est.seed,
        draws=est.draws,
        bootstrap_weights=est.bootstrap_weights,
        df_method=est.df_method,
        min_clusters=est.min_clusters,
    )
    head = inferred["att"]
    record = head.to_settings()
    if reason is not None:
        record["inference_reason"] = reason
    terms = [*eff_cols, "att", "cumulative"]
    terms += [f"period[{period_label(times[i])}]" for i in post_rows]
    kinds = ["segment"] * len(eff_cols) + ["summary"] * 2 + ["period"] * len(post_rows)
    rows = [inferred[t] for t in terms]
    effects = {
        "term": [r.term for r in rows],
        "estimate": [r.estimate for r in rows],
        "std_error": [r.std_error for r in rows],
        "ci_lower": [r.ci_lower for r in rows],
        "ci_upper": [r.ci_upper for r in rows],
        "p_value": [r.p_value for r in rows],
        "kind": kinds,
    }
    diagnostics = {"coefficients": partial(_coefficients, fit)}
    if panel.is_balanced and not panel.is_repeated_cross_section:
        lags = _unit_lags(est, design)
        diagnostics["unit_effects"] = partial(
            _unit_effects, est, panel, treated_units, use_comparison, design, in_att, lags
        )
    settings = {
        **est.get_params(),
        "design": "pooled controlled" if use_comparison else "pooled",
        "source": "panel",
        "interruption_periods": tuple(_scalar(times[p]) for p in design.positions),
        "errors_used": "ols" if est.errors == "ols" else "clustered",
        "cluster": None if head.method in ("hc1", "iid") else (panel.cluster or panel.unit),
        "df_inference": head.df,
        **record,
        "dropped_terms": fit.dropped,
    }
    # the paths and diagnostic tables are built when first read
    return ImpactResult._from_parts(
        estimator=est.name or "its",
        effects=effects,
        settings=settings,
        paths=partial(_paths, panel, treated_units, times, design, effect_fit),
        diagnostics=diagnostics,
        n_obs=fit.n_obs,
        n_units=len(np.unique(unit_codes if weights is None else unit_codes[weights > 0])),
        n_clusters=fit.n_clusters,
    )


def _dense(codes: np.ndarray) -> np.ndarray:
    """Codes renumbered 0, 1, ... in their order (``pd.factorize(sort=True)`` of a subset)."""
    return np.unique(codes, return_inverse=True)[1].reshape(-1)


def _paths(panel, treated_units, times, design, effect: np.ndarray) -> pd.DataFrame:
    """The treated units' mean, its counterfactual and the modelled effect per period."""
    wide = panel.wide()
    treated_mean = wide.loc[:, wide.columns.isin(treated_units)].mean(axis=1).to_numpy()
    return pd.DataFrame(
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


def _coefficients(fit) -> pd.DataFrame:
    """The pooled regression's coefficients and standard errors."""
    return pd.DataFrame(
        {
            "term": fit.params.index,
            "estimate": fit.params.to_numpy(),
            "std_error": standard_errors(fit.cov.to_numpy()),
        }
    )


def _resolve(est, cluster_codes: np.ndarray, use_comparison: bool) -> tuple[str, str | None]:
    """The inference method, resolving ``"auto"`` for a design without comparison units.

    With comparison units ``"auto"`` is resolved from the treated and comparison
    clusters by :func:`~impact.inference.coefficient.infer_coefficient`. Without them
    every cluster is treated and the effects are identified from time alone: CR1
    needs ``min_clusters`` clusters of similar sizes, the wild bootstrap serves fewer.
    """
    if est.errors == "ols":
        return "iid", "errors='ols': conventional standard errors"
    if est.inference != "auto" or use_comparison:
        return est.inference, None
    sizes = np.unique(cluster_codes, return_counts=True)[1]
    n, cv = len(sizes), float(np.std(sizes) / np.mean(sizes))
    if n >= est.min_clusters and cv <= MAX_SIZE_CV:
        return "cr1", f"auto: {n} clusters (at least {est.min_clusters}, similar sizes): CR1"
    why = f"only {n} clusters" if n < est.min_clusters else f"{n} clusters of very unequal sizes"
    warn(
        f"{why} (all treated, no comparison units): CR1 standard errors over-reject, so "
        "p-values and intervals come from the wild cluster restricted bootstrap (pass "
        "inference='cr1' to override)",
        InferenceWarning,
    )
    return "wild", f"auto: {why}, no comparison units: wild cluster restricted bootstrap"


def _unit_lags(est, design) -> int:
    """Newey-West lags of the per-unit regressions (checked when the pooled fit is made)."""
    n_fit = int(design.keep.sum())
    if est.hac_lags is not None and est.hac_lags >= n_fit:
        raise DesignError(
            f"hac_lags={est.hac_lags} must be smaller than the {n_fit} periods fitted"
        )
    return est.hac_lags if est.hac_lags is not None else newey_west_lags(n_fit)


def _unit_effects(est, panel, treated_units, use_comparison, design, in_att, lags) -> pd.DataFrame:
    """Each treated unit's own segmented regression (minus the comparison mean)."""
    wide = panel.wide()
    cols = [u for u in wide.columns if u in treated_units]
    Y = wide[cols].to_numpy().T
    if use_comparison:
        Y = Y - wide.loc[:, ~wide.columns.isin(treated_units)].mean(axis=1).to_numpy()[None, :]
    keep = design.keep
    X = design.X.to_numpy()[keep]
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
