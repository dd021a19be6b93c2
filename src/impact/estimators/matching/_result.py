"""Effects, sensitivity, diagnostics and paths of a matched design.

Shared by :class:`~impact.estimators.matching.matched_comparison.MatchedComparison` and
:class:`~impact.estimators.matching.matched_did.MatchedDiD`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from impact.estimators.matching import algorithms
from impact.estimators.matching._clusters import plan_clusters, require_two, unit_clusters
from impact.estimators.matching.balance import balance_table, sample_sizes
from impact.estimators.matching.sensitivity import bounds_and_critical_gamma, e_value
from impact.estimators.matching.variance import (
    PointEstimate,
    abadie_imbens,
    ipw_att,
    weighted_regression,
)
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.inference.coefficient import MIN_CLUSTERS
from impact.inference.wald import outcome_scale
from impact.result import ImpactResult, effect_row

if TYPE_CHECKING:
    from impact.estimators.matching.matched_comparison import Matched, MatchedComparison
    from impact.panel.container import Panel

__all__ = [
    "build_result",
    "estimate_effects",
    "in_background",
    "result_parts",
    "sensitivity_tables",
    "set_differences",
    "variance_neighbours",
    "whitened_tree",
]

T = TypeVar("T")


def variance_neighbours(est: MatchedComparison, matched: Matched) -> tuple[np.ndarray, object]:
    """Whitened covariates and a k-d tree of the controls for the Abadie-Imbens variance.

    The conditional variances match controls to controls on the covariates: the
    matching's own whitened covariates and tree when it used the same metric.
    """
    if matched.neighbours is not None:
        return matched.neighbours.result()
    if est.distance == "mahalanobis" and matched.points is not None:
        metric = matched.points
        if matched.tree is not None:
            return metric, matched.tree
    else:
        metric = algorithms.whiten(matched.data.model_array, "mahalanobis")
    controls = ~matched.data.treated & ~matched.discarded
    return metric, algorithms.control_tree(metric[controls])


def whitened_tree(X: np.ndarray, controls: np.ndarray) -> tuple[np.ndarray, object]:
    """Mahalanobis-whitened ``X`` and a k-d tree of its ``controls`` rows."""
    metric = algorithms.whiten(X, "mahalanobis")
    return metric, algorithms.control_tree(metric[controls])


def in_background(function: Callable[..., T], *args: object) -> Future[T]:
    """Run ``function(*args)`` on another thread (numpy and the k-d tree release the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


def estimate_effects(
    est: MatchedComparison,
    matched: Matched,
    y: np.ndarray,
    neighbours: tuple[np.ndarray, object] | None = None,
    *,
    clusters: tuple[np.ndarray, np.ndarray | None] | None = None,
    unit_cluster: np.ndarray | None = None,
) -> tuple[PointEstimate, PointEstimate | None]:
    """The unadjusted and (when asked) regression-adjusted ATT with valid SEs.

    ``neighbours``: :func:`variance_neighbours`, when the caller prepared them.
    ``clusters``: the clusters of the matched-set regression per unit, one-way or
    two-way (see :mod:`impact.estimators.matching._clusters`; the matched sets when
    None). ``unit_cluster``: the Panel's cluster of each unit, for weighting (None:
    units are independent).
    """
    data = matched.data
    treated = data.treated
    X = _standardized(data.model_array)
    w = matched.weights
    sw = data.sampling_weights
    adjusted = None
    if est.method == "nearest" and est.replace:
        t_index = np.flatnonzero(treated)
        controls = ~treated & ~matched.discarded
        metric, tree = neighbours or variance_neighbours(est, matched)
        mm = matched.match_matrix
        plain = abadie_imbens(y, t_index, mm, metric, controls, tree=tree)
        if est.adjustment == "regression":
            mu0 = _control_regression(y, X, w, treated)
            adjusted = abadie_imbens(y, t_index, mm, metric, controls, mu0=mu0, tree=tree)
    elif est.method == "weighting":
        ps = matched.propensity
        ww = w if sw is None else w * sw
        if matched.discarded.any() or sw is not None or ps.design is None:  # type: ignore[union-attr]
            # trimmed, survey-weighted or a learned score (no logit's score equations to
            # stack): HC1 or clustered with the weights held fixed
            plain = weighted_regression(y, treated, None, ww, clusters=unit_cluster)
        else:
            plain = ipw_att(
                y,
                treated,
                ps.design,  # type: ignore[union-attr]
                ps.linear_predictor,  # type: ignore[union-attr]
                clusters=unit_cluster,
            )
        if est.adjustment == "regression":
            adjusted = weighted_regression(y, treated, X, ww, clusters=unit_cluster)
    else:
        first, second = (matched.subclass, None) if clusters is None else clusters
        ww = w if sw is None else w * sw
        plain = weighted_regression(y, treated, None, ww, clusters=first, second_clusters=second)
        if est.adjustment == "regression":
            adjusted = weighted_regression(
                y, treated, X, ww, clusters=first, second_clusters=second
            )
    return plain, adjusted


def _standardized(X: np.ndarray) -> np.ndarray:
    """Covariates centred and scaled to unit standard deviation for the adjustment.

    The effect of treatment adjusted for covariates does not depend on their units, but
    the least-squares solvers do: they treat singular values below a fraction of the
    largest as zero, so a covariate in the trillions (a pre-programme outcome mean)
    next to the intercept and the 0/1 treatment column would wipe out the effect.
    Columns that do not vary beyond rounding are only centred (and then dropped as
    constant by the regressions).
    """
    X = np.asarray(X, dtype=float)
    centred = X - X.mean(axis=0)
    sd = centred.std(axis=0)
    magnitude = np.abs(X).max(axis=0, initial=0.0)
    varies = sd > 1e-12 * magnitude
    centred[:, ~varies] = 0.0
    centred[:, varies] /= sd[varies]
    return centred


def _control_regression(
    y: np.ndarray, X: np.ndarray, w: np.ndarray, treated: np.ndarray
) -> np.ndarray:
    """Fitted values of a weighted regression of ``y`` on ``X`` among matched controls."""
    use = ~treated & (w > 0)
    Z = np.column_stack([np.ones(len(y)), X - X[use].mean(axis=0)])
    sw = np.sqrt(w[use])
    coef, *_ = np.linalg.lstsq(Z[use] * sw[:, None], y[use] * sw, rcond=None)
    return Z @ coef


def set_differences(matched: Matched, y: np.ndarray) -> np.ndarray | None:
    """Each matched treated unit's outcome minus the weighted mean of its matched set."""
    treated = matched.data.treated
    if matched.match_matrix is not None:
        mm = matched.match_matrix
        valid = mm >= 0
        has = valid.any(axis=1)
        safe = np.where(valid, mm, 0)
        y0 = (y[safe] * valid).sum(axis=1)[has] / valid.sum(axis=1)[has]
        return y[np.flatnonzero(treated)][has] - y0
    sub = matched.subclass
    if (sub >= 0).any():
        w = matched.weights
        ctrl = ~treated & (sub >= 0)
        n_s = sub.max() + 1
        num = np.bincount(sub[ctrl], weights=w[ctrl] * y[ctrl], minlength=n_s)
        den = np.bincount(sub[ctrl], weights=w[ctrl], minlength=n_s)
        t = treated & (sub >= 0)
        return y[t] - num[sub[t]] / den[sub[t]]
    return None


def sensitivity_tables(
    est: MatchedComparison,
    matched: Matched,
    y: np.ndarray,
    att: dict[str, float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rosenbaum bounds over ``est.gammas`` and a summary with critical Gamma and E-values."""
    diffs = set_differences(matched, y)
    direction = 1.0 if att["estimate"] >= 0 else -1.0
    rows = []
    if diffs is not None and len(diffs):
        bounds, gamma_star = bounds_and_critical_gamma(
            direction * diffs, est.gammas, alpha=est.alpha
        )
        note = (
            "signed-rank test on matched pairs"
            if est.method == "nearest" and est.ratio == 1
            else "signed-rank test on treated minus matched-set means (approximation)"
        )
    else:
        bounds = pd.DataFrame(
            {
                "gamma": list(map(float, est.gammas)),
                "p_value_lower": np.nan,
                "p_value_upper": np.nan,
            }
        )
        gamma_star = float("nan")
        note = "Rosenbaum bounds need matched sets; not defined for weighting"
    rows.append({"quantity": "critical_gamma", "value": gamma_star, "note": note})
    treated = matched.data.treated
    w = matched.weights
    binary = bool(np.all((y == 0) | (y == 1)))
    p1 = float(np.average(y[treated & (w > 0)], weights=w[treated & (w > 0)]))
    ctrl = ~treated & (w > 0)
    if binary:
        p0 = p1 - att["estimate"]
        rr = p1 / p0 if p0 > 0 else float("inf")
        limit = att["ci_lower"] if att["estimate"] >= 0 else att["ci_upper"]
        crosses = att["ci_lower"] <= 0 <= att["ci_upper"]
        rr_limit = 1.0 if crosses else (p1 / (p1 - limit) if p1 - limit > 0 else np.inf)
        e_note = "risk ratio of the matched treated against their counterfactual risk"
    else:
        sd = float(np.sqrt(np.cov(y[ctrl], aweights=w[ctrl]))) if ctrl.sum() > 1 else np.nan
        crosses = att["ci_lower"] <= 0 <= att["ci_upper"]
        limit = att["ci_lower"] if att["estimate"] >= 0 else att["ci_upper"]
        with np.errstate(over="ignore"):  # an effect of many SDs: infinite, reported as NaN
            rr = float(np.exp(0.91 * att["estimate"] / sd)) if sd > 0 else np.nan
            rr_limit = 1.0 if crosses else float(np.exp(0.91 * limit / sd)) if sd > 0 else np.nan
        e_note = "continuous outcome: approximate risk ratio exp(0.91 d), d = ATT / SD(control)"
    finite = np.isfinite(rr) and rr > 0
    rows.append({"quantity": "risk_ratio", "value": rr if finite else np.nan, "note": e_note})
    rows.append({"quantity": "e_value", "value": e_value(rr) if finite else np.nan, "note": e_note})
    ok_limit = np.isfinite(rr_limit) and rr_limit > 0
    rows.append(
        {
            "quantity": "e_value_ci",
            "value": e_value(rr_limit) if ok_limit else np.nan,
            "note": "for the confidence limit closest to no effect",
        }
    )
    return bounds, pd.DataFrame(rows, columns=["quantity", "value", "note"])


def build_result(
    est: MatchedComparison,
    panel: Panel,
    matched: Matched,
    y: np.ndarray,
    *,
    design: str,
    name: str,
    difference: bool = False,
    warn_few_clusters: bool = True,
    level: float | None = None,
) -> ImpactResult:
    """Effects, balance, sensitivity and per-unit matches for a matched design.

    The result of :func:`result_parts` (same arguments); its paths are built when
    first read.
    """
    return ImpactResult._from_parts(
        **result_parts(
            est,
            panel,
            matched,
            y,
            design=design,
            name=name,
            difference=difference,
            warn_few_clusters=warn_few_clusters,
            level=level,
        )
    )


def result_parts(
    est: MatchedComparison,
    panel: Panel,
    matched: Matched,
    y: np.ndarray,
    *,
    design: str,
    name: str,
    difference: bool = False,
    warn_few_clusters: bool = True,
    level: float | None = None,
) -> dict[str, Any]:
    """The parts of a matched design's result (for ``ImpactResult._from_parts``).

    Effects (as columns), settings, diagnostics (balance, sample sizes, sensitivity,
    per-unit matches) and the paths as a function building them when first read.

    ``level``: the largest absolute outcome ``y`` was computed from, when ``y`` is a
    change (it sets the rounding floor of the zero standard error rule: see
    :func:`~impact.inference.wald.outcome_scale`).

    ``warn_few_clusters``: warn when the Panel's clusters leave fewer than 12 clusters
    for the standard errors (off when the caller makes its own inference).
    """
    data = matched.data
    treated = data.treated
    w = matched.weights
    unit_cluster = unit_clusters(panel, data.units)
    clusters, clustering, n_inference = _clustering(est, panel, matched, unit_cluster)
    if n_inference is not None and unit_cluster is not None and warn_few_clusters:
        if n_inference < MIN_CLUSTERS:
            warn(
                f"only {n_inference} clusters for the standard errors ({clustering}): "
                f"cluster-robust (CR1) intervals with t({n_inference - 1}) may be too narrow "
                f"with fewer than {MIN_CLUSTERS}, and no wild bootstrap is available here; "
                "read the interval as approximate (MatchedDiD's inference='auto' uses the "
                "wild bootstrap when the matched sets lie within the Panel's clusters)",
                InferenceWarning,
            )
    neighbours = None
    if est.method == "nearest" and est.replace:
        # the k-d tree of the variance estimate is built on another thread (unless the
        # matching started it) while this one computes the balance table
        neighbours = in_background(variance_neighbours, est, matched)
    balance_cols = list(data.balance.items())
    if matched.score is not None:
        balance_cols.insert(0, ("distance", matched.score))
    balance = balance_table(balance_cols, treated, w, base_weights=data.sampling_weights)
    sizes = sample_sizes(treated, w, matched.discarded)
    plain, adjusted = estimate_effects(
        est,
        matched,
        y,
        None if neighbours is None else neighbours.result(),
        clusters=clusters,
        unit_cluster=unit_cluster,
    )
    n_t = int((treated & (w > 0)).sum())
    n_c = int((~treated & (w > 0)).sum())
    extra = {"n_treated": n_t, "n_control": n_c}
    head = adjusted if adjusted is not None else plain
    scale = outcome_scale(y, level=level)  # the effects are in the outcome's units
    rows = [
        effect_row(
            "att",
            head.estimate,
            head.std_error,
            df=head.df,
            alpha=est.alpha,
            scale=scale,
            **extra,
        )
    ]
    if adjusted is not None:
        rows.append(
            effect_row(
                "att_unadjusted",
                plain.estimate,
                plain.std_error,
                df=plain.df,
                alpha=est.alpha,
                scale=scale,
                **extra,
            )
        )
    effects = {column: [row[column] for row in rows] for column in rows[0]}
    bounds, summary = sensitivity_tables(est, matched, y, rows[0])
    matches = pd.DataFrame(
        {
            "unit": data.units.to_numpy(),
            "treated": treated,
            "score": matched.score if matched.score is not None else np.nan,
            "weight": w,
            "subclass": matched.subclass,
            "matched": w > 0,
            "discarded": matched.discarded,
        }
    )
    settings = {
        **est.get_params(),
        "design": design,
        "order_used": matched.order,
        "n_treated_unmatched": matched.n_caliper_dropped,
        "adoption_period": data.adoption,
        "matching_covariates": list(data.raw.columns),
        "inference": _inference_label(est, matched, clusters, unit_cluster is not None),
        "inference_clusters": clustering,
        "n_inference_clusters": n_inference,
    }
    n_clusters = None
    if head.df is not None:
        n_clusters = int(head.df) + 1
    paths = None
    if not panel.is_cross_section:
        unit_weights = matched.weights.copy()  # as matched now, whenever the paths are read
        if data.sampling_weights is not None:
            unit_weights = unit_weights * data.sampling_weights
        paths = partial(
            _paths, panel, data.units, data.treated.copy(), unit_weights, data.adoption,
            difference=difference,
        )  # fmt: skip
    return {
        "estimator": name,
        "effects": effects,
        "settings": settings,
        "paths": paths,
        "diagnostics": {
            "balance": balance,
            "sample_sizes": sizes,
            "sensitivity": bounds,
            "sensitivity_summary": summary,
            "matches": matches,
        },
        "n_obs": n_t + n_c,
        "n_units": len(treated),
        "n_clusters": n_clusters,
    }


def _clustering(
    est: MatchedComparison, panel: Panel, matched: Matched, unit_cluster: np.ndarray | None
) -> tuple[tuple[np.ndarray, np.ndarray | None] | None, str, int | None]:
    """Clusters of the matched-set regression, their description and their number.

    Matched sets (matching without replacement, exact, CEM) with the Panel's clusters
    (:mod:`impact.estimators.matching._clusters`); weighting uses the
    Panel's clusters; the Abadie-Imbens variance of matching with replacement treats
    units as independent and says so when the Panel has clusters.
    """
    data = matched.data
    w = matched.weights
    if data.sampling_weights is not None:
        w = w * data.sampling_weights
    if est.method == "nearest" and est.replace:
        if unit_cluster is not None:
            warn(
                "matching with replacement uses the Abadie-Imbens (2006) variance, which "
                f"treats units as independent: the Panel's clusters of {panel.cluster!r} are "
                "not used, and the standard error is too small if outcomes are correlated "
                "within them; match without replacement (replace=False) to cluster on them",
                InferenceWarning,
            )
        return None, "none: units independent (Abadie-Imbens)", None
    if est.method == "weighting":
        if unit_cluster is None:
            return None, "none: units independent", None
        n = len(np.unique(unit_cluster[w > 0]))
        if n < 2:
            raise DesignError(
                f"every weighted unit lies in one cluster of {panel.cluster!r}: clustered "
                "standard errors need at least two; build the Panel without cluster= if "
                "its units are independent"
            )
        return unit_cluster, f"{panel.cluster!r} ({n} clusters)", n
    keep = w > 0
    plan = plan_clusters(
        matched.subclass[keep],
        None if unit_cluster is None else unit_cluster[keep],
        panel.cluster,
    )
    require_two(plan, panel.cluster)
    if unit_cluster is None:
        return None, plan.label, plan.n_clusters
    first = np.full(len(w), -1, dtype=np.int64)
    first[keep] = plan.first
    second = None
    if plan.second is not None:
        second = np.full(len(w), -1, dtype=np.int64)
        second[keep] = plan.second
    if plan.label.startswith("matched sets"):  # the Panel's clusters are the units
        return None, plan.label, plan.n_clusters
    return (first, second), plan.label, plan.n_clusters


def _inference_label(
    est: MatchedComparison,
    matched: Matched,
    clusters: tuple[np.ndarray, np.ndarray | None] | None = None,
    panel_clusters: bool = False,
) -> str:
    if est.method == "nearest" and est.replace:
        return "Abadie-Imbens (2006)"
    if est.method == "weighting":
        plain = not matched.discarded.any() and matched.data.sampling_weights is None
        if est.adjustment == "none" and plain:
            return "sandwich (M-estimation)" + (", clustered" if panel_clusters else "")
        return "CR1, weights fixed" if panel_clusters else "HC1, weights fixed"
    if clusters is not None and clusters[1] is not None:
        return "two-way CR1 by matched set and the Panel's cluster"
    if clusters is not None:
        return "CR1 clustered by the Panel's clusters (holding the matched sets)"
    return "CR1 clustered by matched set"


def _paths(
    panel: Panel,
    units: pd.Index,
    treated: np.ndarray,
    unit_weights: np.ndarray,
    adoption: object,
    *,
    difference: bool,
) -> pd.DataFrame:
    """Per-period means of the matched treated units and their weighted comparison.

    ``unit_weights``: each unit's matching weight (times its sampling weight). With
    ``difference`` the counterfactual is the comparison path shifted by the
    pre-programme gap between the groups (difference-in-differences).
    """
    frame = panel.view()  # read only
    unit_w = pd.Series(unit_weights, index=units)
    unit_t = pd.Series(treated, index=units)
    w = frame[panel.unit].map(unit_w).to_numpy(dtype=float)
    t = frame[panel.unit].map(unit_t).to_numpy(dtype=bool)
    y = frame[panel.outcome].to_numpy(dtype=float)
    table = pd.DataFrame({"time": frame[panel.time].to_numpy(), "t": t, "wy": w * y, "w": w})
    sums = table.groupby(["time", "t"], sort=True)[["wy", "w"]].sum()
    means = (sums["wy"] / sums["w"]).unstack("t")
    observed = means[True].to_numpy()
    control = means[False].to_numpy()
    pre = means.index.to_numpy() < adoption
    shift = (observed[pre].mean() - control[pre].mean()) if difference else 0.0
    counterfactual = control + shift
    out = pd.DataFrame(
        {"time": means.index.to_numpy(), "observed": observed, "counterfactual": counterfactual}
    )
    out["effect"] = out["observed"] - out["counterfactual"]
    out["control"] = control
    out["post"] = out["time"].to_numpy() >= adoption
    return out
