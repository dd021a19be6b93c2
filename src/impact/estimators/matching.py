"""Matched comparison: propensity, Mahalanobis, exact and coarsened exact matching, weighting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators._matching_data import UnitData, unit_data
from impact.exceptions import DesignError, DesignWarning, warn
from impact.matching import algorithms
from impact.matching.balance import balance_table, sample_sizes
from impact.matching.propensity import fit_propensity
from impact.matching.sensitivity import DEFAULT_GAMMAS, critical_gamma, e_value, rosenbaum_bounds
from impact.matching.variance import PointEstimate, abadie_imbens, ipw_att, weighted_regression
from impact.registry import register
from impact.result import ImpactResult, effect_row

if TYPE_CHECKING:
    from impact.data import Panel

__all__ = ["Matched", "MatchedComparison"]

METHODS = ("nearest", "exact", "cem", "weighting")
DISTANCES = ("propensity", "mahalanobis", "euclidean")


@dataclass(frozen=True)
class Matched:
    """The outcome of the matching step (internal, shared with MatchedDiD)."""

    data: UnitData
    weights: np.ndarray
    subclass: np.ndarray
    discarded: np.ndarray
    match_matrix: np.ndarray | None
    points: np.ndarray | None
    score: np.ndarray | None
    propensity: object | None
    n_caliper_dropped: int
    order: str | None


@register("matching")
@dataclass(frozen=True, kw_only=True)
class MatchedComparison(Estimator):
    """Average effect on the treated (ATT) against a matched or weighted comparison group.

    Each treated unit is compared with control units that resemble it on the
    covariates (and, on a panel, on pre-programme outcomes); the result reports how
    similar the groups are (``diagnostics["balance"]``) and how strong hidden bias
    would have to be to explain the effect away (``diagnostics["sensitivity"]``).

    Parameters
    ----------
    method : {"nearest", "exact", "cem", "weighting"}, default "nearest"
        ``"nearest"``: each treated unit gets its ``ratio`` nearest controls.
        ``"exact"``: strata of identical values of the ``exact`` covariates (all
        matching covariates when ``exact`` is empty). ``"cem"``: coarsened exact
        matching, strata of binned covariates (``cutpoints``). ``"weighting"``:
        controls weighted by their odds of treatment ``p / (1 - p)`` (ATT weights).
    distance : {"propensity", "mahalanobis", "euclidean"} or str, default "propensity"
        For nearest-neighbour matching: the logistic propensity score (statsmodels,
        maximum likelihood on the covariates), the Mahalanobis distance (pooled
        covariance), a scaled Euclidean distance, or the name of a numeric covariate
        of the Panel holding a score computed elsewhere.
    scale : {"probability", "logit"}, default "probability"
        Match on the propensity score or on its logit (linear predictor).
    ratio : int, default 1
        Controls per treated unit (``1:k`` matching).
    replace : bool, default False
        Match with replacement (a control may serve several treated units).
    order : {"largest", "smallest", "data", "closest"}, optional
        Greedy order of matching without replacement. Default: ``"largest"``
        (decreasing score, R ``MatchIt``'s default) for a scalar distance, ``"closest"``
        (closest pairs first) for multivariate distances. See
        :mod:`impact.matching.algorithms`.
    caliper : float, optional
        Largest allowed distance: in standard deviations of the score (over all units)
        for a scalar distance, in units of the distance itself for Mahalanobis and
        Euclidean distances. Treated units with no control within the caliper are
        dropped and counted in ``settings["n_treated_unmatched"]`` (with a warning).
    exact : sequence of str, default ()
        Covariates to match exactly on: with ``"nearest"``, matches are restricted to
        identical values of them; with ``"exact"``, they define the strata.
    cutpoints : mapping, optional
        For ``"cem"``: per covariate, a number of equal-width bins or the cut points.
        Default: Sturges' rule for numeric covariates, binary and categorical exact.
    common_support : {"none", "treated", "both"}, default "none"
        Discard treated units whose propensity score lies outside the range of the
        controls' (``"treated"``), and also controls outside the treated range
        (``"both"``).
    adjustment : {"regression", "none"}, default "regression"
        ``"regression"``: the reported ``att`` is adjusted by a regression on the
        matching covariates in the matched sample (the bias-corrected estimator of
        Abadie and Imbens (2011) for matching with replacement); the plain matched
        difference in means is the ``att_unadjusted`` row. ``"none"``: ``att`` is the
        matched difference in means.
    pre_period_outcomes : "mean", "none" or int, default "mean"
        On a multi-period panel: match on the mean pre-programme outcome, not on
        pre-programme outcomes, or on each of the last ``k`` pre-programme outcomes.
    gammas : sequence of float
        Values of Rosenbaum's Gamma for the sensitivity table (default 1 to 3 by 0.1).
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.

    Notes
    -----
    **Data.** A cross-section is used as it is (one row per unit). A multi-period
    panel must have one adoption date and never-treated units; it is collapsed to one
    row per unit: the outcome is the unit's mean outcome from adoption on, covariates
    are their pre-programme means, and (by default) the mean pre-programme outcome is
    added to the matching covariates.

    **Standard errors.** Matching with replacement: Abadie and Imbens (2006), normal
    reference. Without replacement, exact and CEM: regression on the matched sample
    with standard errors clustered by matched pair or stratum (CR1, t with ``G - 1``
    degrees of freedom). Weighting: sandwich variance stacking the propensity model
    with the weighted means (regression-adjusted: HC1 with the weights held fixed).
    The matching itself is taken as given, as R ``MatchIt`` recommends; see
    :mod:`impact.matching.variance`.

    **Sensitivity.** Rosenbaum bounds use the signed-rank test on each treated unit's
    difference from the (weighted) mean of its matched set; they are exact for 1:1
    pairs and an approximation for larger sets; they are not defined for weighting.
    The E-value is computed on the risk-ratio scale for a binary outcome and, for a
    continuous outcome, with VanderWeele and Ding's approximation
    ``RR = exp(0.91 d)`` for the standardised effect ``d``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> d = (rng.random(400) < 1 / (1 + np.exp(-x))).astype(int)
    >>> y = 2.0 * x + 1.0 * d + rng.normal(size=400)
    >>> df = pd.DataFrame({"pupil": range(400), "year": 2024, "y": y, "d": d, "x": x})
    >>> panel = impact.Panel.from_frame(df, unit="pupil", time="year", outcome="y",
    ...                                 treated="d", covariates=["x"])
    >>> result = impact.MatchedComparison(replace=True).fit(panel)
    >>> bool(abs(result.att.estimate - 1.0) < 3 * result.att.std_error)
    True
    >>> list(result.diagnostics["balance"]["covariate"])
    ['distance', 'x']
    """

    method: Literal["nearest", "exact", "cem", "weighting"] = "nearest"
    distance: str = "propensity"
    scale: Literal["probability", "logit"] = "probability"
    ratio: int = 1
    replace: bool = False
    order: Literal["largest", "smallest", "data", "closest"] | None = None
    caliper: float | None = None
    exact: Sequence[str] = ()
    cutpoints: Mapping[str, int | Sequence[float]] | None = None
    common_support: Literal["none", "treated", "both"] = "none"
    adjustment: Literal["regression", "none"] = "regression"
    pre_period_outcomes: Literal["mean", "none"] | int = "mean"
    gammas: Sequence[float] = DEFAULT_GAMMAS
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        if not isinstance(self.distance, str) or not self.distance:
            raise DesignError(
                f"distance={self.distance!r} must be one of {DISTANCES} or a covariate name"
            )
        check_choice("scale", self.scale, ("probability", "logit"))
        check_choice("common_support", self.common_support, ("none", "treated", "both"))
        check_choice("adjustment", self.adjustment, ("regression", "none"))
        if self.order is not None:
            check_choice("order", self.order, algorithms.ORDERS)
        if not (isinstance(self.ratio, int | np.integer) and self.ratio >= 1):
            raise DesignError(f"ratio={self.ratio!r} must be a positive integer")
        if self.caliper is not None and not (
            isinstance(self.caliper, int | float) and self.caliper > 0
        ):
            raise DesignError(f"caliper={self.caliper!r} must be a positive number or None")
        if isinstance(self.exact, str):
            raise DesignError(f"exact={self.exact!r} must be a sequence of covariate names")
        pre = self.pre_period_outcomes
        if not (
            pre in ("mean", "none")
            or (isinstance(pre, int | np.integer) and not isinstance(pre, bool) and pre >= 1)
        ):
            raise DesignError(
                f"pre_period_outcomes={pre!r} must be 'mean', 'none' or a positive integer"
            )
        if any(not g >= 1 for g in self.gammas):
            raise DesignError(f"gammas={self.gammas!r} must all be at least 1")
        check_alpha(self.alpha)

    # ------------------------------------------------------------------ fit
    def fit(self, panel: Panel) -> ImpactResult:
        """Match, then estimate the ATT on ``panel``.

        Parameters
        ----------
        panel : Panel
            A cross-section with covariates, or a single-adoption panel.

        Returns
        -------
        ImpactResult
            ``effects``: ``att`` (and ``att_unadjusted``); ``diagnostics``:
            ``balance``, ``sample_sizes``, ``sensitivity`` (Rosenbaum bounds),
            ``sensitivity_summary`` (critical Gamma, E-values) and ``matches`` (per
            unit: score, weight, matched set); ``paths`` on a panel.

        Raises
        ------
        DesignError
            No treated or no control units, covariates that separate the groups, every
            treated unit dropped by the caliper, staggered adoption, no covariates.
        DataError
            Covariates that cannot be encoded.
        """
        data = unit_data(panel, pre_outcomes=self.pre_period_outcomes, design="matching")
        matched = match_units(self, data)
        return build_result(self, panel, matched, data.outcome, design="matching", name=self.name)


def match_units(est: MatchedComparison, data: UnitData) -> Matched:
    """Run the matching step configured by ``est`` on unit-level ``data``."""
    treated = data.treated
    n = len(treated)
    for name in est.exact:
        if name not in data.raw.columns:
            raise DesignError(
                f"exact={name!r} is not a matching covariate; covariates are "
                f"{list(data.raw.columns)}"
            )
    needs_score = (
        (est.method == "nearest" and est.distance == "propensity")
        or est.method == "weighting"
        or est.common_support != "none"
    )
    propensity = None
    score = None
    if needs_score:
        propensity = fit_propensity(
            data.model.to_numpy(dtype=float), treated, list(data.model.columns)
        )
        score = propensity.linear_predictor if est.scale == "logit" else propensity.probability
    if est.method == "nearest" and est.distance not in DISTANCES:
        if est.distance not in data.model.columns:
            raise DesignError(
                f"distance={est.distance!r} is neither one of {DISTANCES} nor a numeric "
                f"covariate of the Panel ({list(data.model.columns)})"
            )
        score = data.model[est.distance].to_numpy(dtype=float)
    discarded = np.zeros(n, dtype=bool)
    if est.common_support != "none":
        ps = propensity.probability  # type: ignore[union-attr]
        lo, hi = ps[~treated].min(), ps[~treated].max()
        discarded |= treated & ((ps < lo) | (ps > hi))
        if est.common_support == "both":
            tlo, thi = ps[treated].min(), ps[treated].max()
            discarded |= ~treated & ((ps < tlo) | (ps > thi))
    eligible = ~discarded
    if not (eligible & treated).any():
        raise DesignError(
            "every treated unit lies outside the common support of the propensity score; "
            "no comparison is possible on these covariates"
        )
    match_matrix = None
    points = None
    order = None
    n_dropped = 0
    if est.method == "nearest":
        scalar = est.distance not in ("mahalanobis", "euclidean")
        if scalar:
            points = np.asarray(score, dtype=float)
            sd = points.std(ddof=1)
            caliper = None if est.caliper is None else est.caliper * sd
        else:
            points = algorithms.whiten(data.model.to_numpy(dtype=float), est.distance)
            caliper = est.caliper
        order = est.order or ("largest" if scalar else "closest")
        groups = None
        if est.exact:
            groups = data.raw.groupby(list(est.exact), sort=True).ngroup().to_numpy()
        match_matrix = algorithms.nearest_neighbors(
            points,
            treated,
            ratio=int(est.ratio),
            replace=est.replace,
            caliper=caliper,
            order=order,
            eligible=eligible,
            groups=groups,
        )
        t_index = np.flatnonzero(treated)
        has = (match_matrix >= 0).any(axis=1)
        n_dropped = int((~has & eligible[t_index]).sum())
        weights = algorithms.match_weights(match_matrix, t_index, n)
        subclass = np.full(n, -1, dtype=np.int64)
        subclass[t_index[has]] = np.arange(has.sum())
        if not est.replace:
            sets = np.cumsum(has) - 1
            for j in range(match_matrix.shape[1]):
                col = match_matrix[:, j]
                ok = col >= 0
                subclass[col[ok]] = sets[ok]
    elif est.method in ("exact", "cem"):
        columns = data.raw
        if est.method == "exact" and est.exact:
            columns = data.raw.loc[:, list(est.exact)]
        if est.method == "exact":
            strata = columns.groupby(list(columns.columns), sort=True).ngroup().to_numpy()
        else:
            strata = algorithms.coarsen(columns, dict(est.cutpoints or {}))
        strata = np.where(eligible, strata, -1 - np.arange(n))
        weights, subclass = algorithms.stratum_weights(strata, treated)
        n_dropped = 0
    else:  # weighting
        odds = np.exp(propensity.linear_predictor)  # type: ignore[union-attr]
        weights = np.where(treated, 1.0, odds) * eligible
        subclass = np.full(n, -1, dtype=np.int64)
    matched_treated = treated & (weights > 0)
    if not matched_treated.any():
        if est.method == "nearest" and est.caliper is not None:
            raise DesignError(
                f"the caliper of {est.caliper} dropped every treated unit: no control lies "
                "that close to any of them; widen the caliper or drop it"
            )
        raise DesignError(
            f"{est.method} matching left no treated unit with a control: no stratum holds "
            "both treated and control units; coarsen the covariates (method='cem' with "
            "fewer bins) or match on fewer covariates"
        )
    n_unmatched_t = int((treated & eligible & (weights <= 0)).sum())
    if n_unmatched_t and est.method != "weighting":
        if est.method != "nearest":
            why = "strata without controls"
        elif est.exact and est.caliper is None:
            why = f"no control with the same {', '.join(est.exact)}"
        else:
            why = "no control within the caliper" + (
                f" and the same {', '.join(est.exact)}" if est.exact else ""
            )
        warn(
            f"{n_unmatched_t} of {int(treated.sum())} treated units have no match ({why}); "
            "the estimate is the effect on the matched treated units only",
            DesignWarning,
        )
    return Matched(
        data=data,
        weights=weights,
        subclass=subclass,
        discarded=discarded,
        match_matrix=match_matrix,
        points=points,
        score=score,
        propensity=propensity,
        n_caliper_dropped=n_dropped,
        order=order,
    )


def estimate_effects(
    est: MatchedComparison, matched: Matched, y: np.ndarray
) -> tuple[PointEstimate, PointEstimate | None]:
    """The unadjusted and (when asked) regression-adjusted ATT with valid SEs."""
    data = matched.data
    treated = data.treated
    X = data.model.to_numpy(dtype=float)
    w = matched.weights
    adjusted = None
    if est.method == "nearest" and est.replace:
        t_index = np.flatnonzero(treated)
        controls = ~treated & ~matched.discarded
        # conditional variances: controls matched to controls on the covariates
        metric = algorithms.whiten(X, "mahalanobis")
        plain = abadie_imbens(y, t_index, matched.match_matrix, metric, controls)
        if est.adjustment == "regression":
            mu0 = _control_regression(y, X, w, treated)
            adjusted = abadie_imbens(y, t_index, matched.match_matrix, metric, controls, mu0=mu0)
    elif est.method == "weighting":
        ps = matched.propensity
        if matched.discarded.any():  # trimmed: the score equations no longer hold, use HC1
            plain = weighted_regression(y, treated, None, w, clusters=None)
        else:
            plain = ipw_att(y, treated, ps.design, ps.linear_predictor)  # type: ignore[union-attr]
        if est.adjustment == "regression":
            adjusted = weighted_regression(y, treated, X, w, clusters=None)
    else:
        clusters = matched.subclass
        plain = weighted_regression(y, treated, None, w, clusters=clusters)
        if est.adjustment == "regression":
            adjusted = weighted_regression(y, treated, X, w, clusters=clusters)
    return plain, adjusted


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
        bounds = rosenbaum_bounds(direction * diffs, est.gammas)
        gamma_star = critical_gamma(direction * diffs, alpha=est.alpha)
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
        rr = float(np.exp(0.91 * att["estimate"] / sd)) if sd > 0 else np.nan
        crosses = att["ci_lower"] <= 0 <= att["ci_upper"]
        limit = att["ci_lower"] if att["estimate"] >= 0 else att["ci_upper"]
        rr_limit = 1.0 if crosses else float(np.exp(0.91 * limit / sd))
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
) -> ImpactResult:
    """Effects, balance, sensitivity and per-unit matches for a matched design."""
    data = matched.data
    treated = data.treated
    w = matched.weights
    plain, adjusted = estimate_effects(est, matched, y)
    n_t = int((treated & (w > 0)).sum())
    n_c = int((~treated & (w > 0)).sum())
    extra = {"n_treated": n_t, "n_control": n_c}
    head = adjusted if adjusted is not None else plain
    rows = [effect_row("att", head.estimate, head.std_error, df=head.df, alpha=est.alpha, **extra)]
    if adjusted is not None:
        rows.append(
            effect_row(
                "att_unadjusted",
                plain.estimate,
                plain.std_error,
                df=plain.df,
                alpha=est.alpha,
                **extra,
            )
        )
    effects = pd.DataFrame(rows)
    balance_cols = data.balance
    if matched.score is not None:
        balance_cols = pd.concat(
            [pd.DataFrame({"distance": matched.score}, index=data.units), balance_cols], axis=1
        )
    balance = balance_table(balance_cols, treated, w)
    sizes = sample_sizes(treated, w, matched.discarded)
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
        "inference": _inference_label(est),
    }
    n_clusters = None
    if head.df is not None:
        n_clusters = int(head.df) + 1
    return ImpactResult(
        estimator=name,
        effects=effects,
        settings=settings,
        paths=_paths(panel, matched, difference=difference),
        diagnostics={
            "balance": balance,
            "sample_sizes": sizes,
            "sensitivity": bounds,
            "sensitivity_summary": summary,
            "matches": matches,
        },
        n_obs=n_t + n_c,
        n_units=len(treated),
        n_clusters=n_clusters,
    )


def _inference_label(est: MatchedComparison) -> str:
    if est.method == "nearest" and est.replace:
        return "Abadie-Imbens (2006)"
    if est.method == "weighting":
        return "sandwich (M-estimation)" if est.adjustment == "none" else "HC1, weights fixed"
    return "CR1 clustered by matched set"


def _paths(panel: Panel, matched: Matched, *, difference: bool) -> pd.DataFrame | None:
    """Per-period means of the matched treated units and their weighted comparison.

    With ``difference`` the counterfactual is the comparison path shifted by the
    pre-programme gap between the groups (difference-in-differences).
    """
    if panel.is_cross_section:
        return None
    frame = panel.frame
    data = matched.data
    unit_w = pd.Series(matched.weights, index=data.units)
    unit_t = pd.Series(data.treated, index=data.units)
    w = frame[panel.unit].map(unit_w).to_numpy(dtype=float)
    t = frame[panel.unit].map(unit_t).to_numpy(dtype=bool)
    y = frame[panel.outcome].to_numpy(dtype=float)
    table = pd.DataFrame({"time": frame[panel.time].to_numpy(), "t": t, "wy": w * y, "w": w})
    sums = table.groupby(["time", "t"], sort=True)[["wy", "w"]].sum()
    means = (sums["wy"] / sums["w"]).unstack("t")
    observed = means[True].to_numpy()
    control = means[False].to_numpy()
    pre = means.index.to_numpy() < data.adoption
    shift = (observed[pre].mean() - control[pre].mean()) if difference else 0.0
    counterfactual = control + shift
    out = pd.DataFrame(
        {"time": means.index.to_numpy(), "observed": observed, "counterfactual": counterfactual}
    )
    out["effect"] = out["observed"] - out["counterfactual"]
    out["control"] = control
    out["post"] = out["time"].to_numpy() >= data.adoption
    return out
