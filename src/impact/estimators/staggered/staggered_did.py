"""Staggered adoption: the Callaway and Sant'Anna (2021) group-time ATT estimator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._distributions import chi2_sf
from impact._threads import single_blas_thread
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators._learners import check_cross_fit, check_learner, learner_name
from impact.estimators.staggered._cells import estimate_cells
from impact.estimators.staggered._data import StaggeredData, prepare
from impact.estimators.staggered._learned import Nuisances
from impact.estimators.staggered.result import (
    GroupTimeEffects,
    StaggeredResult,
    p_values,
    simple_overall,
    simple_overall_draws,
)
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.inference.coefficient import MIN_CLUSTERS
from impact.inference.multiplier import MULTIPLIER_WEIGHTS
from impact.inference.wald import ZERO_SE_RTOL, outcome_scale, wald
from impact.inference.wild import resolve_weights
from impact.registry import register

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["StaggeredDiD"]


@register("staggered_did")
@dataclass(frozen=True, kw_only=True)
class StaggeredDiD(Estimator):
    """Group-time average treatment effects under staggered adoption.

    The estimator of Callaway and Sant'Anna (2021), as R ``did``'s ``att_gt``. Units
    are grouped into cohorts by their first treated period ``g``. For each cohort and
    period ``t`` it estimates ATT(g,t), the average effect in period ``t`` on the
    units first treated in ``g``, by a two-group, two-period comparison of cohort
    ``g`` with a comparison group that is not (yet) treated, between ``t`` and a base
    period before adoption. Already-treated units are never used as comparisons, so
    effects that change over time do not bias the estimates (unlike a two-way fixed
    effects regression). Summaries by cohort, period and event time come from
    :meth:`StaggeredResult.aggregate`.

    Parameters
    ----------
    control : {"never_treated", "not_yet_treated"}, default "never_treated"
        Comparison group: units never treated in the data, or also units whose
        treatment starts after ``max(t, base period) + anticipation``.
    method : {"dr", "ipw", "reg"}, default "dr"
        Two-period estimator (Sant'Anna and Zhao 2020): doubly robust, normalised
        inverse probability weighting, or outcome regression. Without covariates
        all three give the same numbers.
    anticipation : int, default 0
        Periods before adoption in which units may already react; the base period
        moves back by as many periods.
    base_period : {"varying", "universal"}, default "varying"
        ``"varying"``: pre-treatment ATT(g,t) compare ``t`` with ``t - 1`` (short
        differences); post-treatment cells use ``g - 1 - anticipation``.
        ``"universal"``: every cell uses ``g - 1 - anticipation``, whose own cell is
        reported as zero.
    inference : {"auto", "analytic", "analytic_t", "bootstrap"}, default "auto"
        ``"analytic"``: clustered influence-function standard errors (below) with
        normal intervals, as R ``did``. ``"analytic_t"``: the same standard errors
        with t intervals and p-values on ``min(G_treated, G_control) - 1`` degrees of
        freedom (``G_treated``: clusters holding treated units; ``G_control``: the
        others), the few-clusters reference of Donald and Lang (2007) and Bester,
        Conley and Hansen (2011). ``"bootstrap"``: the multiplier bootstrap at the
        cluster level, with uniform (simultaneous) confidence bands
        ``cband_lower``/``cband_upper``. ``"auto"``: ``"analytic"`` when at least
        ``min_clusters`` clusters hold treated units and at least as many hold none;
        otherwise ``"analytic_t"``, with an
        :class:`~impact.exceptions.InferenceWarning` giving the counts (the
        threshold of the regression estimators, :mod:`impact.inference.coefficient`).
        ``settings["inference_used"]``, ``["inference_reason"]`` and
        ``["df_inference"]`` record the choice. Why not the bootstrap: there is no
        wild *restricted* bootstrap for influence functions, and the multiplier
        bootstrap has the analytic variance. With 5 treated of 25 schools
        (``Scenario.small_pilot``, true effect zero) normal intervals rejected 11-12%
        of the time, the Webb multiplier bootstrap 10.2%, t(4) intervals 2.8-3.4%. For
        an exact test use :func:`~impact.inference.adoption_randomization_test`.
    bootstrap : bool, default False
        Same as ``inference="bootstrap"`` (kept for compatibility).
    bootstrap_weights : {"auto", "rademacher", "mammen", "webb"}, default "auto"
        Multipliers of the bootstrap. ``"auto"``: Webb's six points below 12 clusters
        (Rademacher multipliers take only ``2^G`` values there), Rademacher from 12 on.
        ``settings["inference_weights"]`` records the multipliers used.
    min_clusters : int, default 12
        Fewest treated (and control) clusters for which ``"auto"`` stays analytic.
    n_boot : int, default 999
        Bootstrap draws.
    seed : int, numpy.random.Generator or None, default 0
        Source of the bootstrap multipliers and of the cross-fitting folds (the
        fixed default makes results reproducible; ``None`` draws fresh entropy).
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    allow_unbalanced_panel : bool, default False
        Keep units not observed in every period and use the unbalanced-panel
        estimator (R ``did``'s option of the same name); by default they are dropped
        to balance the panel. See *Data* below.
    propensity_model : scikit-learn classifier or None, default None
        The propensity score of each cell (``"dr"``, ``"ipw"``): any object with
        ``fit`` and ``predict_proba``, e.g. ``HistGradientBoostingClassifier()``,
        cloned for every fit and fold (a ``random_state`` left at None is set from
        ``seed``). None: the built-in logit. Needs the ``ml`` extra (scikit-learn)
        and covariates. An unbalanced panel is balanced first (the default
        ``allow_unbalanced_panel=False``); with ``allow_unbalanced_panel=True`` and for
        repeated cross-sections the cells use the repeated cross-section doubly robust
        estimator with four cross-fitted outcome regressions (its score is DoubleML's
        ``DoubleMLDIDCS``'s), which needs ``cross_fit``.
    outcome_model : scikit-learn regressor or None, default None
        The comparison units' outcome change given the covariates (``"dr"``,
        ``"reg"``): any object with ``fit`` and ``predict``. None: least squares.
    cross_fit : int or None, default 5
        With a model above: the number of cross-fitting folds (units, or whole
        clusters of the Panel, dealt to folds by ``seed``, stratified by cohort);
        each unit's nuisance predictions come from models trained on the other
        folds, and the doubly robust influence function is that of the DML DiD of
        Chang (2020), without the parametric models' estimation-effect terms.
        None: fit and predict on every unit and keep the parametric terms (right for
        ``LogisticRegression(penalty=None)`` and ``LinearRegression()``, which then
        reproduce the default; a flexible learner warns). Ignored without a model.

    Notes
    -----
    *Data.* Balanced panels use each unit's outcome change. An unbalanced panel is
    balanced first, as R ``did`` does by default: units not observed in every period
    are dropped with a :class:`~impact.exceptions.DataWarning` that counts them
    (``settings["dropped_incomplete_units"]``). With ``allow_unbalanced_panel=True``
    every row is kept and, as for repeated cross-sections (pupil-level rows nested in
    schools, a new cohort of pupils each year), the repeated cross-section estimators
    run on the rows observed in the two periods, with influence functions summed by
    unit (R ``did``'s ``allow_unbalanced_panel = TRUE``): it compares different sets
    of units across periods, so unit differences enter the estimate unless units
    are missing at random.
    Covariates are taken as time-invariant, as in R ``did``: for panel data each
    unit's first observed values are used (a warning says when they vary).
    Sampling weights come from the Panel (a unit's first weight for panel data).

    *Inference.* Standard errors come from the influence functions, clustered by
    the Panel's cluster column (by unit when it has none):
    ``sum_c S_c**2 / n**2`` with ``S_c`` the sum of the influence function over
    cluster ``c``. With one row per unit this is R ``did``'s analytic standard error.
    Intervals are normal. ``diagnostics["pretrend_test"]`` holds the Wald test that
    all pre-treatment ATT(g,t) are zero, as R ``did``.

    *Design problems.* Units already treated in the first period (plus
    anticipation) have no pre-period: they are dropped with a
    :class:`~impact.exceptions.DesignWarning`. With ``"never_treated"`` and no
    never-treated unit a :class:`~impact.exceptions.DesignError` is raised; with
    ``"not_yet_treated"`` and no never-treated unit, the last cohort serves as the
    comparison group and periods from its adoption on are dropped, as R ``did``. A
    cell whose propensity score predicts treatment almost perfectly (above 0.999)
    or whose outcome regression is singular is skipped with a warning.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with
    multiple time periods. Journal of Econometrics 225(2), 200-230.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> units, years = np.arange(60), np.arange(2001, 2007)
    >>> df = pd.DataFrame({"school": np.repeat(units, 6), "year": np.tile(years, 60)})
    >>> first = np.select([df.school < 20, df.school < 40], [2003, 2005], 0)
    >>> df["cohort"] = first
    >>> df["score"] = (df.school % 7 + 0.3 * (df.year - 2000)
    ...                + 1.0 * ((first > 0) & (df.year >= first))
    ...                + rng.normal(0, 0.01, len(df)))
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 cohort="cohort")
    >>> result = impact.StaggeredDiD().fit(panel)
    >>> round(result.att.estimate, 2)
    1.0
    >>> result.aggregate("dynamic").effects["term"].tolist()[:2]
    ['e=-3', 'e=-2']
    """

    control: Literal["never_treated", "not_yet_treated"] = "never_treated"
    method: Literal["dr", "ipw", "reg"] = "dr"
    anticipation: int = 0
    base_period: Literal["varying", "universal"] = "varying"
    inference: Literal["auto", "analytic", "analytic_t", "bootstrap"] = "auto"
    bootstrap: bool = False
    bootstrap_weights: Literal["auto", "rademacher", "mammen", "webb"] = "auto"
    min_clusters: int = MIN_CLUSTERS
    n_boot: int = 999
    seed: int | np.random.Generator | None = 0
    alpha: float = ALPHA
    allow_unbalanced_panel: bool = False
    propensity_model: Any = None
    outcome_model: Any = None
    cross_fit: int | None = 5

    def __post_init__(self) -> None:
        check_learner("propensity_model", self.propensity_model, "classifier")
        check_learner("outcome_model", self.outcome_model, "regressor")
        check_cross_fit(self.cross_fit)
        check_choice("control", self.control, ("never_treated", "not_yet_treated"))
        check_choice("method", self.method, ("dr", "ipw", "reg"))
        check_choice("base_period", self.base_period, ("varying", "universal"))
        check_alpha(self.alpha)
        if not isinstance(self.anticipation, int | np.integer) or self.anticipation < 0:
            raise DesignError(
                f"anticipation={self.anticipation!r} must be a non-negative whole number of periods"
            )
        if not isinstance(self.n_boot, int | np.integer) or self.n_boot < 2:
            raise DesignError(f"n_boot={self.n_boot!r} must be an integer of at least 2")
        if not isinstance(self.allow_unbalanced_panel, bool | np.bool_):
            raise DesignError(
                f"allow_unbalanced_panel={self.allow_unbalanced_panel!r} must be True or False"
            )
        if not isinstance(self.bootstrap, bool | np.bool_):
            raise DesignError(f"bootstrap={self.bootstrap!r} must be True or False")
        check_choice("inference", self.inference, ("auto", "analytic", "analytic_t", "bootstrap"))
        check_choice("bootstrap_weights", self.bootstrap_weights, ("auto", *MULTIPLIER_WEIGHTS))
        if self.bootstrap and self.inference == "analytic":
            raise DesignError("bootstrap=True contradicts inference='analytic'; drop one")
        if not (isinstance(self.min_clusters, int) and self.min_clusters >= 2):
            raise DesignError(f"min_clusters={self.min_clusters!r} must be an integer >= 2")

    def fit(self, panel: Panel) -> StaggeredResult:
        """Estimate every group-time ATT on ``panel``.

        Parameters
        ----------
        panel : Panel
            Panel or repeated cross-section with staggered (or single) adoption.

        Returns
        -------
        StaggeredResult
            ``effects``: one row per ATT(g,t), then the overall ``att`` (the simple
            aggregation). ``diagnostics["pretrend_test"]``: the Wald pre-test;
            ``diagnostics["cohorts"]``: units per cohort.

        Raises
        ------
        DesignError
            For a cross-section, no treated units, no comparison units, or a cohort
            of a single unit with covariates.
        """
        # the products here are tall and thin: BLAS threads only add contention (on a
        # busy machine they spin against other processes for the cores)
        with single_blas_thread():
            return self._fit(panel)

    def _choose_inference(self, data: StaggeredData) -> tuple[str, str, str, dict]:
        """``(method, multipliers, reason, counts)``, resolving ``"auto"``."""
        n_treated, n_control = _cluster_counts(data)
        record = {
            "n_treated_clusters": n_treated,
            "n_control_clusters": n_control,
            "inference_weights": None,
        }
        multipliers = resolve_weights(self.bootstrap_weights, n_treated + n_control)
        if self.bootstrap or self.inference == "bootstrap":
            record["inference_weights"] = multipliers
            return "bootstrap", multipliers, "requested", record
        if self.inference in ("analytic", "analytic_t"):
            return self.inference, multipliers, "requested", record
        counts = f"{n_treated} treated and {n_control} control clusters"
        if self.control == "never_treated" and n_control < 2:
            # no interval at all (see _undefined_comparison): no few-clusters advice
            return "analytic", self.bootstrap_weights, f"auto: {counts}: analytic", record
        if min(n_treated, n_control) >= self.min_clusters:
            reason = f"auto: {counts} (at least {self.min_clusters} on each side): analytic"
            return "analytic", multipliers, reason, record
        dof = min(n_treated, n_control) - 1
        warn(
            f"only {counts}: normal intervals from clustered standard errors are too "
            f"narrow with fewer than {self.min_clusters} on either side, so p-values and "
            f"intervals use the t distribution with {dof} degrees of freedom (fewest "
            "clusters on a side minus one; pass inference='analytic' to override)",
            InferenceWarning,
        )
        reason = (
            f"auto: {counts} (fewer than {self.min_clusters} on one side): analytic "
            f"standard errors with t({dof}) intervals"
        )
        return "analytic_t", multipliers, reason, record

    def _fit(self, panel: Panel) -> StaggeredResult:
        data = prepare(
            panel,
            control=self.control,
            anticipation=int(self.anticipation),
            base_period=self.base_period,
            use_covariates=True,
            allow_unbalanced_panel=bool(self.allow_unbalanced_panel),
        )
        nuisances = None
        if self.propensity_model is not None or self.outcome_model is not None:
            nuisances = Nuisances(
                data,
                self.method,
                self.propensity_model,
                self.outcome_model,
                self.cross_fit,
                self.seed,
            )
        att, influence, cells = estimate_cells(data, self.method, nuisances)
        used, boot_weights, reason, record = self._choose_inference(data)
        bootstrap = used == "bootstrap"
        few = min(record["n_treated_clusters"], record["n_control_clusters"])
        df = float(max(few - 1, 1)) if used == "analytic_t" else float("inf")
        record["df_inference"] = df
        rng = np.random.default_rng(self.seed)
        boot_seed = int(rng.integers(0, 2**63 - 1)) if bootstrap else None
        outcome = data.y_by_period if data.y_by_period is not None else data.y
        undefined = _undefined_comparison(data, record["n_control_clusters"], self.control)
        gt = GroupTimeEffects(
            group=np.array([c.group for c in cells], dtype=np.int64),
            time=np.array([c.time for c in cells], dtype=np.int64),
            event_time=np.array([c.time - c.group for c in cells], dtype=np.int64),
            att=att,
            influence=influence,
            obs_group=data.obs_group,
            obs_weight=data.obs_weight,
            clusters=data.clusters,
            periods=data.periods,
            alpha=self.alpha,
            bootstrap=bootstrap,
            n_boot=int(self.n_boot),
            boot_seed=boot_seed,
            boot_weights=boot_weights,
            df=df,
            scale=outcome_scale(outcome) if outcome is not None else 0.0,
            undefined=undefined,
        )
        se, crit = gt.standard_errors()
        is_ref = np.array([c.reference for c in cells], dtype=bool)
        se = np.where(is_ref, np.nan, se)
        dist = gt.reference()
        zcrit = float(dist.ppf(1 - self.alpha / 2))
        p_cells = p_values(att, se, dist)
        simple_row = simple_overall(gt)
        # the warning for intervals left undefined (the reference cells have none by
        # construction); the numbers are those above, NaN where the error is missing
        announced = ~is_ref
        wald(
            np.append(att[announced], simple_row["estimate"]),
            np.append(se[announced], simple_row["std_error"]),
            df,
            self.alpha,
            scale=gt.scale,
            terms=[
                *(
                    f"ATT({gt.label(c.group)},{gt.label(c.time)})"
                    for c in np.array(cells)[announced]
                ),
                "att",
            ],
            undefined=undefined,
        )
        rows = []
        for k, cell in enumerate(cells):
            g_label, t_label = gt.label(cell.group), gt.label(cell.time)
            est, s, p = float(att[k]), float(se[k]), float(p_cells[k])
            row = {
                "term": f"ATT({g_label},{t_label})",
                "estimate": est,
                "std_error": s,
                "ci_lower": est - zcrit * s,
                "ci_upper": est + zcrit * s,
                "p_value": p,
                "group": g_label,
                "time": t_label,
                "event_time": cell.time - cell.group,
                "base_period": gt.label(cell.base),
                "post": cell.time >= cell.group,
                "n_treated": cell.n_treated,
                "n_control": cell.n_control,
            }
            if crit is not None:
                row["cband_lower"] = est - crit * s
                row["cband_upper"] = est + crit * s
            rows.append(row)
        diagnostics = {
            "pretrend_test": _pretest(gt, se, is_ref),
            "cohorts": data.cohort_table(),
        }
        settings = {
            **self.get_params(),
            "propensity_model": learner_name(self.propensity_model),
            "outcome_model": learner_name(self.outcome_model),
            "data": data.kind,
            "cluster": panel.cluster or panel.unit,
            "covariates": tuple(data.covariate_names),
            "dropped_units": data.n_dropped_units,
            "dropped_incomplete_units": data.n_incomplete_units,
            "skipped_cells": tuple(data.skipped),
            "inference_used": used,
            "inference_reason": reason,
            **record,
        }
        if crit is not None:
            settings["uniform_crit_value"] = crit
        effects = pd.DataFrame([*rows, simple_row])
        return StaggeredResult(
            group_time=gt,
            estimator=self.name,
            effects=effects,
            settings=settings,
            diagnostics=diagnostics,
            n_obs=data.n_rows,
            n_units=data.n_units,
            n_clusters=data.n_clusters,
            draws=simple_overall_draws(gt),
        )


def _undefined_comparison(data: StaggeredData, n_control: int, control: str) -> str | None:
    """Why the never-treated comparison cannot support an interval, if so.

    A single cluster of never-treated units, or never-treated units whose outcome does
    not vary over time (up to rounding, relative to the outcome's spread: see
    :func:`~impact.inference.wald.outcome_scale`), leave every interval undefined (see
    :mod:`impact.inference.wald`).
    """
    if control != "never_treated":
        return None
    if n_control < 2:
        return (
            f"only {n_control} cluster holds never-treated units, and a clustered standard "
            "error needs at least two (the comparison's variation cannot be estimated from "
            "one); add comparison units or clusters"
        )
    y = data.y_by_period
    if y is None:
        return None
    controls = y[:, (data.obs_group == data.never) & (data.obs_weight > 0)]
    if controls.size and not np.ptp(controls, axis=0).max() > ZERO_SE_RTOL * outcome_scale(y):
        return (
            f"the outcome does not vary within any of the {controls.shape[1]} never-treated "
            "units, so the comparison contributes no variation to the standard error"
        )
    return None


def _cluster_counts(data: StaggeredData) -> tuple[int, int]:
    """Clusters (units without a cluster column) holding treated units, and the others.

    Only units of positive weight count: a unit of zero weight adds nothing to any
    cell or to the influence functions, so its cluster informs no standard error.
    """
    counted = data.obs_weight > 0
    treated = (data.obs_group != data.never)[counted]
    if data.clusters is None:
        n_treated = int(treated.sum())
        return n_treated, len(treated) - n_treated
    codes = data.clusters
    n = int(codes.max()) + 1 if len(codes) else 0
    present = np.zeros(n, dtype=bool)
    present[codes[counted]] = True
    has = np.zeros(n, dtype=bool)
    has[codes[counted][treated]] = True
    return int(has.sum()), int((present & ~has).sum())


def _pretest(gt: GroupTimeEffects, se: np.ndarray, is_ref: np.ndarray) -> pd.DataFrame:
    """Wald test that every pre-treatment ATT(g,t) is zero (R ``did``'s pre-test)."""
    pre = np.flatnonzero((gt.group > gt.time) & np.isfinite(se) & ~is_ref)
    out = {"statistic": np.nan, "df": len(pre), "p_value": np.nan, "note": ""}
    if len(pre) == 0:
        out["note"] = "no pre-treatment cells to test"
        return pd.DataFrame([out])
    sub = gt.covariance(pre)
    if 1.0 / np.linalg.cond(sub, 1) <= np.finfo(float).eps:
        out["note"] = "singular covariance of the pre-treatment cells"
        return pd.DataFrame([out])
    a = gt.att[pre]
    w = float(a @ np.linalg.solve(sub, a))
    out.update(statistic=w, p_value=float(chi2_sf(w, len(pre))))
    return pd.DataFrame([out])
