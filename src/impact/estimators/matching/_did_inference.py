"""Inference for matched difference-in-differences through the package's common entry point.

The matched DiD on a single-adoption panel is the regression of each matched unit's
change (mean post minus mean pre outcome) on treatment, weighted by the matching
weights (times the sampling weights). Written on two rows per unit (pre-programme mean
and post-programme mean) with unit effects absorbed, it is the regression
``y ~ att * D * post + post (+ covariates * post)`` that
:func:`~impact.inference.coefficient.infer_coefficient` handles for every other
regression estimator of the package, with clusters the matched sets (pairs, 1:k sets or
CEM strata). The estimate is the same as the change regression; the small-sample
corrections are those of :func:`~impact.inference.regression.within_regression`.

``"auto"`` applies the package's few-clusters rule to the number of matched sets:
every set holds treated and control units, so the rule's "treated and control
clusters" are both the number of sets (CR1 from ``min_clusters`` sets of similar
sizes, the wild cluster restricted bootstrap otherwise, with an
:class:`~impact.exceptions.InferenceWarning`).

When the Panel has clusters (pupils in schools), the matched sets are merged with them
(:mod:`impact.estimators.matching._clusters`: each matched set and each Panel cluster
lies within one cluster) and the rule counts the merged clusters; with weighting, the
clusters are the Panel's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from impact.estimators.matching._clusters import (
    Clustering,
    merge_clusters,
    plan_clusters,
    require_two,
)
from impact.estimators.matching.variance import PointEstimate
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.inference.coefficient import (
    MANY_CLUSTERS,
    MAX_SIZE_CV,
    CoefficientInference,
    choose_method,
    infer_coefficient,
)

if TYPE_CHECKING:
    from impact.estimators.matching.matched_comparison import Matched
    from impact.estimators.matching.matched_did import MatchedDiD

__all__ = ["matched_set_inference", "uses_matched_sets"]


def uses_matched_sets(est: MatchedDiD) -> bool:
    """Whether the design has disjoint matched sets to cluster on."""
    return est.method == "cem" or (est.method == "nearest" and not est.replace)


def check_inference(est: MatchedDiD) -> None:
    """Raise a DesignError for an ``inference`` the design cannot support."""
    if est.inference == "auto":
        return
    if est.inference == "randomization":
        raise DesignError(
            "inference='randomization' re-assigns treatment across clusters, but every "
            "matched set holds treated and control units; the within-set permutation "
            "analysis is in diagnostics['sensitivity'] (Rosenbaum bounds at Gamma = 1)"
        )
    if est.method == "nearest" and est.replace:
        raise DesignError(
            f"inference={est.inference!r} needs disjoint matched sets, but with replace=True a "
            "control can belong to several; use inference='auto' (Abadie-Imbens variance) "
            "or replace=False"
        )
    if est.method == "weighting" and est.inference not in ("hc1", "iid"):
        raise DesignError(
            f"inference={est.inference!r} clusters on matched sets, which weighting does not "
            "form; use inference='auto' (sandwich variance), 'hc1' or 'iid'"
        )


def matched_set_inference(
    est: MatchedDiD,
    matched: Matched,
    *,
    covariates: bool,
    announce: bool = True,
    unit_cluster: np.ndarray | None = None,
    cluster_name: str | None = None,
) -> tuple[PointEstimate, CoefficientInference, dict[str, Any]]:
    """The matched DiD and its inference from :func:`infer_coefficient`.

    Parameters
    ----------
    est : MatchedDiD
        The estimator (its ``inference``, ``alpha``, ``min_clusters``, ``draws``,
        ``bootstrap_weights`` and ``seed``).
    matched : Matched
        The matching step's output (a panel: ``data.pre_outcome`` is set).
    covariates : bool
        Adjust for the matching covariates (interacted with ``post``).
    announce : bool
        Issue the few-matched-sets warning of ``"auto"``.
    unit_cluster : ndarray of int, optional
        The Panel's cluster of each unit (see
        :func:`~impact.estimators.matching._clusters.unit_clusters`).
    cluster_name : str, optional
        The Panel's cluster column, for messages and settings.

    Returns
    -------
    tuple
        The estimate as a :class:`PointEstimate` (``df`` None for the resampling
        methods), the full inference and the settings that record it.
    """
    data = matched.data
    w = matched.weights
    if data.sampling_weights is not None:
        w = w * data.sampling_weights
    keep = w > 0
    n = int(keep.sum())
    d = data.treated[keep].astype(float)
    pre = np.asarray(data.pre_outcome, dtype=float)[keep]
    post_y = np.asarray(data.outcome, dtype=float)[keep]
    y = np.concatenate([pre, post_y])
    post = np.repeat([0.0, 1.0], n)
    cols = [np.tile(d, 2) * post, post]
    names = ["att", "post"]
    if covariates:
        Xm = data.model.to_numpy(dtype=float)[keep]
        tw = w[keep] * d
        centre = (Xm * tw[:, None]).sum(axis=0) / tw.sum()
        Xc = Xm - centre
        # scaled to unit standard deviation: the effect's coefficient does not depend on
        # the covariates' units, but a regression solver does (outcome lags in the
        # billions next to the 0/1 treatment column would look collinear with it)
        magnitude = np.abs(Xm).max(axis=0, initial=0.0)
        for j, name in enumerate(data.model.columns):
            sd = Xc[:, j].std()
            if sd > 1e-12 * magnitude[j]:
                cols.append(np.tile(Xc[:, j] / sd, 2) * post)
                names.append(f"{name}:post")
    unit_codes = np.tile(np.arange(n), 2)
    method = est.inference
    if est.method == "weighting":  # no matched sets: each unit its own cluster
        cluster_codes = unit_codes
        sets = np.arange(n)
        what = "units"
        if unit_cluster is not None:
            sets = np.unique(unit_cluster[keep], return_inverse=True)[1]
            cluster_codes = np.tile(sets, 2)
            what = f"clusters of {cluster_name!r}"
        n_sets = n_matched_sets = int(sets.max()) + 1
        label = f"{what} ({n_sets})"
    else:
        sets = np.unique(matched.subclass[keep], return_inverse=True)[1]
        n_matched_sets = int(sets.max()) + 1
        clusters = None if unit_cluster is None else unit_cluster[keep]
        plan = plan_clusters(sets, clusters, cluster_name)
        what = "matched sets"
        if plan.two_way and method == "auto":
            return _two_way(
                est, y, cols, names, unit_codes, w[keep], plan, n_matched_sets, announce
            )
        if plan.two_way:  # a one-way method asked for: the sets merged with the clusters
            merged, n_merged = merge_clusters(sets, clusters)
            label = f"matched sets merged with the clusters of {cluster_name!r} ({n_merged})"
            plan = Clustering(merged, None, n_merged, label)
            require_two(plan, cluster_name, merged=True)
            what = f"clusters (matched sets merged with the clusters of {cluster_name!r})"
        elif clusters is not None:
            require_two(plan, cluster_name)
            what = f"clusters of {cluster_name!r}"
        sets = plan.first
        cluster_codes = np.tile(sets, 2)
        n_sets = plan.n_clusters
        label = plan.label
    reason = None
    if method == "auto":
        sizes = np.bincount(sets)
        size_cv = float(sizes.std() / sizes.mean())
        method, reason, message = choose_method(
            "auto", n_sets, n_sets, est.min_clusters, size_cv, MAX_SIZE_CV, MANY_CLUSTERS
        )
        reason = reason.replace(
            f"{n_sets} treated and {n_sets} control clusters", f"{n_sets} {what}"
        )
        if message is not None and announce:
            message = message.replace(
                f"{n_sets} treated and {n_sets} control clusters", f"{n_sets} {what}"
            ).replace(" on either side", f" {what.split(' (')[0]}")
            warn(message, InferenceWarning)
    inference = infer_coefficient(
        y,
        np.column_stack(cols),
        names,
        unit_codes=unit_codes,
        cluster_codes=cluster_codes,
        weights=np.tile(w[keep], 2),
        term="att",
        method=method,
        alpha=est.alpha,
        seed=est.seed,
        draws=est.draws,
        bootstrap_weights=est.bootstrap_weights,
        min_clusters=est.min_clusters,
        warn_few_clusters=False,
    )
    settings = {
        **inference.to_settings(),
        "inference_reason": reason or inference.reason,
        "n_treated_clusters": n_sets,
        "n_control_clusters": n_sets,
        "n_matched_sets": n_matched_sets,
        "inference_clusters": label,
        "n_inference_clusters": n_sets,
        "df_inference": inference.df,
        "dropped_terms": inference.fit.dropped,
    }
    df = inference.df if np.isfinite(inference.df) else None
    return PointEstimate(inference.estimate, inference.std_error, df), inference, settings


def _two_way(
    est: MatchedDiD,
    y: np.ndarray,
    cols: list[np.ndarray],
    names: list[str],
    unit_codes: np.ndarray,
    weights: np.ndarray,
    plan: Clustering,
    n_matched_sets: int,
    announce: bool,
) -> tuple[PointEstimate, CoefficientInference, dict[str, Any]]:
    """Two-way CR1 by matched set and Panel cluster (Cameron, Gelbach and Miller 2011).

    ``V = V_sets + V_clusters - V_both`` from the one-way CR1 variances (each with its
    own small-sample correction), t with ``min(G_sets, G_clusters) - 1`` degrees of
    freedom, and never below either one-way variance (see
    :func:`~impact.estimators.matching.variance.weighted_regression`). No
    wild bootstrap exists for two-way clusters: with fewer than ``min_clusters`` in
    either dimension an :class:`~impact.exceptions.InferenceWarning` says so.
    """
    from scipy import stats  # on first use

    second = np.asarray(plan.second)
    both = np.unique(plan.first * (int(second.max()) + 1) + second, return_inverse=True)[1]
    fits = [
        infer_coefficient(
            y,
            np.column_stack(cols),
            names,
            unit_codes=unit_codes,
            cluster_codes=np.tile(codes, 2),
            weights=np.tile(weights, 2),
            term="att",
            method="cr1",
            alpha=est.alpha,
            min_clusters=est.min_clusters,
            warn_few_clusters=False,
        )
        for codes in (plan.first, second, both)
    ]
    var_sets, var_clusters, var_both = (f.std_error**2 for f in fits)
    var = max(var_sets + var_clusters - var_both, var_sets, var_clusters)
    se = float(np.sqrt(var))
    df = float(plan.n_clusters - 1)
    estimate = fits[0].estimate
    half = float(stats.t.ppf(1 - est.alpha / 2, df)) * se
    p_value = float(2 * stats.t.sf(abs(estimate) / se, df)) if se > 0 else float("nan")
    n_sets, n_clusters = n_matched_sets, int(second.max()) + 1
    reason = (
        f"auto: the {n_sets} matched sets cross the {n_clusters} Panel clusters: two-way "
        "CR1 by matched set and cluster"
    )
    if plan.n_clusters < est.min_clusters and announce:
        warn(
            f"only {plan.n_clusters} clusters in the smaller dimension of the two-way "
            f"clustering ({plan.label}): two-way CR1 intervals with t({plan.n_clusters - 1}) "
            f"may be too narrow with fewer than {est.min_clusters}, and no wild bootstrap "
            "exists for two-way clusters; match within the clusters (exact= on a covariate "
            "holding the cluster) to cluster on them alone with the wild bootstrap",
            InferenceWarning,
        )
    inference = replace(
        fits[0],
        std_error=se,
        ci_lower=estimate - half,
        ci_upper=estimate + half,
        p_value=p_value,
        df=df,
        method="cr1 two-way",
        reason=reason,
        n_treated_clusters=plan.n_clusters,
        n_control_clusters=plan.n_clusters,
    )
    settings = {
        **inference.to_settings(),
        "n_matched_sets": n_sets,
        "inference_clusters": plan.label,
        "n_inference_clusters": plan.n_clusters,
        "df_inference": df,
    }
    return PointEstimate(estimate, se, df), inference, settings
