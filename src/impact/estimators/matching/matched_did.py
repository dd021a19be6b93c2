"""Matched difference-in-differences: match on pre-programme trajectories, then difference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.estimators._adoption import require_single_adoption
from impact.estimators._base import Estimator, check_alpha, check_choice, check_inference_fields
from impact.estimators.matching._clusters import unit_clusters
from impact.estimators.matching._data import balanced_for_matching, unit_data
from impact.estimators.matching._did_inference import (
    check_inference,
    matched_set_inference,
    uses_matched_sets,
)
from impact.estimators.matching._result import result_parts
from impact.estimators.matching._staggered import fit_staggered
from impact.estimators.matching.matched_comparison import (
    Matched,
    MatchedComparison,
    match_units,
)
from impact.estimators.matching.sensitivity import DEFAULT_GAMMAS
from impact.exceptions import DesignError
from impact.inference.coefficient import INFERENCE_METHODS, MIN_CLUSTERS
from impact.registry import register
from impact.result import ImpactResult, effect_row

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["MatchedDiD"]


@register("matched_did")
@dataclass(frozen=True, kw_only=True)
class MatchedDiD(Estimator):
    """Difference-in-differences on a comparison group matched on pre-programme outcomes.

    Treated units are matched to never-treated units on their covariates and their
    last ``pre_periods`` pre-programme outcomes; the ATT is then the difference, between
    the matched groups, of the change in mean outcome from before to after adoption
    (``mean post - mean pre`` per unit, all pre-programme periods). Matching removes
    observed differences and differences in level and recent trajectory; differencing
    removes the common background trend and any remaining fixed gap.

    Parameters
    ----------
    pre_periods : int, default 3
        Number of pre-programme outcomes (the last ones before adoption) to match on;
        fewer when the panel has fewer pre-periods.
    method : {"nearest", "cem", "weighting"}, default "nearest"
        How the comparison group is built (see :class:`MatchedComparison`).
    distance : str, default "euclidean"
        Distance for nearest-neighbour matching: ``"euclidean"`` (on covariates and
        lags scaled to unit variance), ``"propensity"``, ``"mahalanobis"`` or a
        covariate name. Outcome lags are strongly correlated; the Euclidean distance
        weighs their common level fully, while the Mahalanobis distance down-weights
        it in favour of period-to-period noise, and in our Monte Carlo study
        (``validation/matching_monte_carlo.py``) left more bias.
    ratio : int, default 1
        Controls per treated unit.
    replace : bool, default False
        Match with replacement. Treated units selected for high (or low) scores sit in
        the tail of the controls' distribution; 1:1 matching without replacement then
        runs out of close controls, and only the regression adjustment (default)
        removes the resulting bias (see the validation study).
    order : {"largest", "smallest", "data", "closest"}, optional
        Greedy order (default: ``"closest"`` for multivariate distances, ``"largest"``
        for a scalar score).
    caliper : float, optional
        Largest allowed distance (see :class:`MatchedComparison`).
    exact : sequence of str, default ()
        Covariates to match exactly on.
    adjustment : {"regression", "none"}, default "regression"
        ``"regression"``: the reported ``att`` corrects the remaining differences
        between matched units by a regression of the change on the matching covariates
        (the Abadie-Imbens bias correction with replacement, a regression on the
        matched sample otherwise); the plain matched DiD is the ``att_unadjusted`` row.
        Nearest-neighbour matching on several continuous lags leaves small
        discrepancies that bias the plain estimate (see the validation study).
    control : {"never_treated", "not_yet_treated"}, default "never_treated"
        Staggered adoption only: the pool of candidate controls of each cohort (never
        treated units, or also units of later cohorts, used only before their own
        adoption). See Notes.
    gammas : sequence of float
        Gammas for the Rosenbaum bounds of the matched differences.
    inference : {"auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid"}, default "auto"
        How intervals and p-values are computed, through the package's common
        :func:`~impact.inference.coefficient.infer_coefficient` with clusters the
        matched sets (see Notes). ``"randomization"`` is refused: every matched set
        holds treated and control units (the within-set permutation analysis is the
        Rosenbaum bounds).
    min_clusters : int, default 12
        Fewest matched sets for which ``inference="auto"`` uses CR1.
    draws : int, default 9999
        Wild bootstrap draws.
    bootstrap_weights : {"auto", "rademacher", "webb"}, default "auto"
        Wild bootstrap weights. ``"auto"``: Webb's six-point weights below 12
        clusters (with ``G`` clusters Rademacher p-values cannot fall below
        ``2/2^G``, so intervals come out unbounded), Rademacher from 12 on, every
        sign vector enumerated when ``2^G`` is at most ``draws``.
        ``settings["inference_weights"]`` records the weights used.
    propensity_model : scikit-learn classifier or None, default None
        The propensity score (``distance="propensity"``, ``method="weighting"``,
        ``common_support``) from any object with ``fit`` and ``predict_proba``, e.g.
        ``HistGradientBoostingClassifier()``, cloned for every fit and fold (a
        ``random_state`` left at None is set from ``seed``). None: the built-in
        logit. Needs the ``ml`` extra (scikit-learn). Weighting's standard errors then
        treat the learned weights as known.
    cross_fit : int or None, default 5
        With ``propensity_model``: cross-fitting folds (units, or whole clusters of the
        Panel, dealt to folds by ``seed``, stratified by treatment); each unit's score
        comes from the model trained on the other folds. None: fit and predict on
        every unit. Ignored without a model.
    seed : int, numpy.random.Generator or None, default 0
        Randomness of the wild bootstrap and of the cross-fitting folds.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.

    Notes
    -----
    **Inference.** The matching is taken as given, and the standard error accounts for
    the matched structure. Without replacement (the default, and for CEM) the matched
    DiD is the regression of the outcome on ``D x post`` and ``post`` (and the matching
    covariates times ``post``) over each matched unit's pre- and post-programme means
    with unit effects, weighted by the matching weights, with clusters the matched
    sets, through :func:`~impact.inference.coefficient.infer_coefficient` as for
    :class:`~impact.DifferenceInDifferences`: ``"auto"`` is CR1 (t with ``G - 1``
    degrees of freedom) with at least ``min_clusters`` matched sets of similar sizes,
    and the wild cluster restricted bootstrap otherwise, with an
    :class:`~impact.exceptions.InferenceWarning`; ``settings`` record
    ``inference_used``, ``inference_reason`` and ``n_matched_sets``. With replacement
    the matched sets overlap: ``"auto"`` uses the Abadie-Imbens (2006) variance of the
    matched mean change, whose second term counts how often each control is reused
    (other choices raise a :class:`~impact.exceptions.DesignError`). With weighting,
    ``"auto"`` is the sandwich variance of the weighted means; ``"hc1"`` and ``"iid"``
    go through the regression with each unit its own cluster. With a Panel built with
    ``cluster=``, the clusters are its clusters when they hold the matched sets (the
    rule above then counts them), and two-way by matched set and cluster when the sets
    cross them (``"auto"``: two-way CR1, t with ``min(G) - 1`` degrees of freedom; a
    requested one-way method uses the sets merged with the clusters);
    ``settings["inference_clusters"]`` records it (see
    :mod:`impact.estimators.matching._clusters`).

    **Staggered adoption.** Each cohort is matched on its own, on the covariates and its
    last ``pre_periods`` outcomes before its adoption, to the never-treated units (and,
    with ``control="not_yet_treated"``, units adopting later); the matched units of
    each cohort go to :class:`~impact.StaggeredDiD` (same ``control`` rule, weights =
    matching times sampling weights) and only that cohort's ATT(g, t) are kept; the
    cells are stacked and aggregated with cohort-size weights into ``att``. The result
    is a :class:`~impact.estimators.staggered.result.StaggeredResult` (``aggregate``
    works). Standard errors sum the stacked influence functions within clusters: the
    matched sets, merged when they share a unit (a control reused by several cohorts),
    so that clusters are independent; ``inference`` must be ``"auto"``. The rule in
    full is in :mod:`impact.estimators.matching._staggered`. ``adjustment`` does not
    apply (the two-period comparisons are unadjusted), nor do Rosenbaum bounds.

    **Unbalanced panels.** Units not observed in every period are dropped *before*
    matching, with one :class:`~impact.exceptions.DataWarning` counting them (treated
    and comparison) and ``settings["dropped_incomplete_units"]``: with a single
    adoption a unit's pre- and post-programme means over other periods than its
    partners' would carry the time trend into the estimate; with staggered adoption
    each ATT(g, t) needs every unit's outcome change since the period before adoption
    (as :class:`~impact.StaggeredDiD` and R ``did`` by default). The matched sets,
    balance table and sample sizes therefore describe the units estimated on. To keep
    the incomplete units, restrict the Panel to the periods they are observed in (or
    estimate without matching, e.g. ``StaggeredDiD(allow_unbalanced_panel=True)``).

    **Sampling weights.** A Panel with ``weights=`` is supported without replacement,
    with CEM and with weighting: each unit's sampling weight (its mean over the
    pre-programme rows) multiplies its matching weight in the regression, the balance
    table (before and after) and the paths. The propensity score and the greedy
    matching ignore it (matching is a design step on the units as they are), and the
    Rosenbaum bounds are unweighted. Matching with replacement raises a
    :class:`~impact.exceptions.DesignError`: the Abadie-Imbens variance has no
    weighted form.

    **Regression to the mean.** Matching on pre-programme outcomes removes bias when
    the programme selected units on those observed outcomes (and covariates). When it
    selected them on a latent level that the outcomes measure with noise, matched
    controls regress towards their own group's mean after matching, and some bias
    remains (Daw and Hatfield 2018, *Health Services Research* 53:4138); the validation
    study shows both cases.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(2)
    >>> level = rng.normal(size=60)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(60), 6),
    ...                    "year": np.tile(np.arange(2015, 2021), 60)})
    >>> treated_school = df.school.map(pd.Series(level + rng.normal(size=60) > 0.5))
    >>> df["pilot"] = (treated_school & (df.year >= 2018)).astype(int)
    >>> df["score"] = (df.school.map(pd.Series(level)) + 0.2 * (df.year - 2015)
    ...                + 1.5 * df.pilot + rng.normal(0, 0.1, len(df)))
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot")
    >>> result = impact.MatchedDiD().fit(panel)
    >>> round(result.att.estimate, 1)
    1.5
    """

    pre_periods: int = 3
    method: Literal["nearest", "cem", "weighting"] = "nearest"
    distance: str = "euclidean"
    ratio: int = 1
    replace: bool = False
    order: Literal["largest", "smallest", "data", "closest"] | None = None
    caliper: float | None = None
    exact: Sequence[str] = ()
    adjustment: Literal["regression", "none"] = "regression"
    control: Literal["never_treated", "not_yet_treated"] = "never_treated"
    gammas: Sequence[float] = DEFAULT_GAMMAS
    inference: Literal["auto", "cr1", "cr2", "cr3", "wild", "randomization", "hc1", "iid"] = "auto"
    min_clusters: int = MIN_CLUSTERS
    draws: int = 9999
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto"
    seed: int | np.random.Generator | None = 0
    alpha: float = ALPHA
    propensity_model: Any = None
    cross_fit: int | None = 5

    def __post_init__(self) -> None:
        if not (
            isinstance(self.pre_periods, int | np.integer)
            and not isinstance(self.pre_periods, bool)
            and self.pre_periods >= 1
        ):
            raise DesignError(f"pre_periods={self.pre_periods!r} must be a positive integer")
        check_choice("method", self.method, ("nearest", "cem", "weighting"))
        check_inference_fields(self, INFERENCE_METHODS)
        check_choice("control", self.control, ("never_treated", "not_yet_treated"))
        check_alpha(self.alpha)
        check_inference(self)
        self._matching()  # validates the remaining hyperparameters

    def _matching(self) -> MatchedComparison:
        return MatchedComparison(
            method=self.method,
            distance=self.distance,
            ratio=self.ratio,
            replace=self.replace,
            order=self.order,
            caliper=self.caliper,
            exact=self.exact,
            adjustment=self.adjustment,
            pre_period_outcomes=self.pre_periods,
            gammas=self.gammas,
            alpha=self.alpha,
            propensity_model=self.propensity_model,
            cross_fit=self.cross_fit,
            seed=self.seed,
        )

    def fit(self, panel: Panel) -> ImpactResult:
        """Match on pre-programme outcomes, then estimate the DiD on the matched sample.

        Parameters
        ----------
        panel : Panel
            Panel with never-treated units (or, for staggered adoption with
            ``control="not_yet_treated"``, later cohorts) and at least one period
            before adoption.

        Returns
        -------
        ImpactResult
            ``effects`` holds ``att`` (and ``att_unadjusted``); ``paths`` the matched
            treated units' path and the comparison path shifted by the pre-programme
            gap (unadjusted); diagnostics as for
            :class:`MatchedComparison` (balance on the matching covariates, sample
            sizes, sensitivity, matches). With staggered adoption a
            :class:`~impact.estimators.staggered.result.StaggeredResult`: one row
            per ATT(g, t) and the overall ``att``; ``balance``, ``sample_sizes`` and
            ``matches`` per cohort.

        Raises
        ------
        DesignError
            For a cross-section, no never-treated units, units missing a pre-period
            outcome used for matching, every treated unit dropped by the caliper, or
            an ``inference`` other than ``"auto"`` with staggered adoption.
        """
        design = "matched difference-in-differences"
        staggered = not panel.is_cross_section and len(panel.cohorts) > 1
        if staggered and self.inference != "auto":
            raise DesignError(
                f"inference={self.inference!r}: with staggered adoption the standard "
                "errors come from influence functions clustered by linked matched sets; "
                "use inference='auto'"
            )
        n_units = panel.n_units
        panel = balanced_for_matching(
            panel, design=design, staggered=staggered, control=self.control
        )
        dropped = n_units - panel.n_units
        if staggered:
            return fit_staggered(self, panel, dropped_incomplete_units=dropped)
        if panel.is_cross_section:
            raise DesignError(
                f"{design} needs outcomes before and after adoption, but the Panel holds a "
                f"single period of {panel.time!r}; use MatchedComparison for a cross-section"
            )
        n_pre = int((panel.periods < require_single_adoption(panel, design)).sum())
        matching = self._matching()
        if n_pre < self.pre_periods:
            matching = MatchedComparison(**{**matching.get_params(), "pre_period_outcomes": n_pre})
        data = unit_data(panel, pre_outcomes=matching.pre_period_outcomes, design=design)
        clusters = None
        if self.propensity_model is not None:
            clusters = unit_clusters(panel, data.units)
        matched = match_units(matching, data, prefetch=True, clusters=clusters)
        change = data.outcome - data.pre_outcome  # type: ignore[operator]
        regression = uses_matched_sets(self) or (
            self.method == "weighting" and self.inference != "auto"
        )
        parts = result_parts(
            matching,
            panel,
            matched,
            change,
            design=design,
            name=self.name,
            difference=True,
            warn_few_clusters=not regression,
            # the changes keep the rounding of the levels they come from
            level=float(np.max(np.abs(np.r_[data.outcome, data.pre_outcome]))),
        )
        settings = {**self.get_params(), **{
            k: v for k, v in parts["settings"].items() if k not in matching.get_params()
        }}  # fmt: skip
        settings["pre_periods_used"] = matching.pre_period_outcomes
        settings["dropped_incomplete_units"] = dropped
        parts["settings"] = settings
        if regression:
            clusters = (unit_clusters(panel, data.units), panel.cluster)
            effects, extra = self._regression_effects(
                matched, pd.DataFrame(parts["effects"]), clusters
            )
            parts["effects"] = {column: list(effects[column]) for column in effects.columns}
            settings.update(extra)
            settings["inference"] = f"{settings['inference_used']} clustered by matched set"
            if panel.cluster is not None:
                settings["inference"] = (
                    f"{settings['inference_used']}, clusters: {settings['inference_clusters']}"
                )
            if self.method == "weighting":
                settings["inference"] = settings["inference_used"]
            parts["n_clusters"] = extra["n_inference_clusters"]
        # the paths are built when first read
        return ImpactResult._from_parts(**parts)

    def _regression_effects(
        self,
        matched: Matched,
        effects: pd.DataFrame,
        clusters: tuple[np.ndarray | None, str | None] = (None, None),
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Replace the effects rows by those of the common inference entry point.

        ``clusters``: the Panel's cluster of each unit and the cluster column's name.
        """
        rows: list[dict[str, Any]] = []
        settings: dict[str, Any] = {}
        for _, row in effects.iterrows():
            adjust = row["term"] == "att" and self.adjustment == "regression"
            point, inference, extra = matched_set_inference(
                self,
                matched,
                covariates=adjust,
                announce=not rows,
                unit_cluster=clusters[0],
                cluster_name=clusters[1],
            )
            new = effect_row(
                row["term"],
                point.estimate,
                point.std_error,
                df=point.df,
                alpha=self.alpha,
                announce=False,  # the inference below warned, and its interval is used
                n_treated=row["n_treated"],
                n_control=row["n_control"],
            )
            new.update(ci_lower=inference.ci_lower, ci_upper=inference.ci_upper,
                       p_value=inference.p_value)  # fmt: skip
            rows.append(new)
            if row["term"] == "att":
                settings = extra
        return pd.DataFrame(rows, columns=effects.columns), settings
