"""Matched comparison: propensity, Mahalanobis, exact and coarsened exact matching, weighting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from impact._defaults import ALPHA
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators._learners import check_cross_fit, check_learner
from impact.estimators.matching import algorithms
from impact.estimators.matching._clusters import unit_clusters
from impact.estimators.matching._data import UnitData, unit_data
from impact.estimators.matching._learned import learned_propensity
from impact.estimators.matching._result import build_result, in_background, whitened_tree
from impact.estimators.matching.propensity import fit_propensity
from impact.estimators.matching.sensitivity import DEFAULT_GAMMAS
from impact.exceptions import DesignError, DesignWarning, warn
from impact.registry import register

if TYPE_CHECKING:
    from impact.panel.container import Panel
    from impact.result import ImpactResult

__all__ = ["Matched", "MatchedComparison", "build_result", "match_units"]

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
    tree: object | None = None  # k-d tree over ``points`` of the eligible controls
    neighbours: object | None = None  # Future: whitened covariates and control tree


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
        :mod:`impact.estimators.matching.algorithms`.
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
        The cross-fitting folds and the learner's unset ``random_state``.
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
    :mod:`impact.estimators.matching.variance`. With a Panel built with ``cluster=``, matched
    sets that lie within its clusters are clustered by those clusters, sets that
    cross them two-way by matched set and cluster (an
    :class:`~impact.exceptions.InferenceWarning` below 12 clusters); weighting
    clusters on them; matching with replacement warns that the Abadie-Imbens variance
    ignores them. ``settings["inference_clusters"]`` records the clustering (see
    :mod:`impact.estimators.matching._clusters`).

    **Sampling weights.** With a Panel built with ``weights=``, each unit's sampling
    weight (its mean over its rows; over the pre-programme rows on a panel) multiplies
    its matching weight in the effect regressions, the balance table (before and after
    matching) and the paths. The propensity score and the matching itself ignore it
    (a design step on the units as they are), and the Rosenbaum bounds are
    unweighted. Weighting then uses HC1 standard errors with the weights held fixed
    (the sandwich stacking the score equations assumes unit weights). Matching with
    replacement raises a :class:`~impact.exceptions.DesignError`: the Abadie-Imbens
    variance has no weighted form.

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
    propensity_model: Any = None
    cross_fit: int | None = 5
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        check_learner("propensity_model", self.propensity_model, "classifier")
        check_cross_fit(self.cross_fit)
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
        clusters = None
        if self.propensity_model is not None:
            clusters = unit_clusters(panel, data.units)
        matched = match_units(self, data, prefetch=True, clusters=clusters)
        return build_result(self, panel, matched, data.outcome, design="matching", name=self.name)


def match_units(
    est: MatchedComparison,
    data: UnitData,
    *,
    prefetch: bool = False,
    clusters: np.ndarray | None = None,
) -> Matched:
    """Run the matching step configured by ``est`` on unit-level ``data``.

    ``clusters`` (the Panel's cluster of each unit) keeps whole clusters in one
    cross-fitting fold of a ``propensity_model``.

    With ``prefetch`` (for :func:`build_result`, which uses it), the k-d tree of the
    Abadie-Imbens variance is built on another thread while the matching runs.
    """
    treated = data.treated
    n = len(treated)
    if data.sampling_weights is not None and est.method == "nearest" and est.replace:
        raise DesignError(
            "matching with replacement does not use sampling weights: the Abadie-Imbens "
            "variance has no weighted form; match without replacement (replace=False), use "
            "method='cem' or 'weighting', or build the Panel without weights="
        )
    for name in est.exact:
        if name not in data.raw.columns:
            raise DesignError(
                f"exact={name!r} is not a matching covariate; covariates are "
                f"{list(data.raw.columns)}"
            )
    neighbours = None
    if (
        prefetch
        and est.method == "nearest"
        and est.replace
        and est.distance != "mahalanobis"
        and est.common_support == "none"
    ):
        # the Abadie-Imbens variance will match controls to controls on the whitened
        # covariates: its k-d tree is built on another thread from now on
        neighbours = in_background(whitened_tree, data.model_array, ~treated)
    needs_score = (
        (est.method == "nearest" and est.distance == "propensity")
        or est.method == "weighting"
        or est.common_support != "none"
    )
    propensity = None
    score = None
    if needs_score:
        if est.propensity_model is None:
            propensity = fit_propensity(data.model_array, treated, list(data.model.columns))
        else:
            propensity = learned_propensity(
                est.propensity_model,
                data,
                cross_fit=est.cross_fit,
                seed=est.seed,
                clusters=clusters,
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
    tree = None
    n_dropped = 0
    if est.method == "nearest":
        scalar = est.distance not in ("mahalanobis", "euclidean")
        if scalar:
            points = np.asarray(score, dtype=float)
            sd = points.std(ddof=1)
            caliper = None if est.caliper is None else est.caliper * sd
        else:
            points = algorithms.whiten(data.model_array, est.distance)
            caliper = est.caliper
        order = est.order or ("largest" if scalar else "closest")
        groups = None
        if est.exact:
            groups = data.raw.groupby(list(est.exact), sort=True).ngroup().to_numpy()
        elif est.replace and not scalar:
            # built here so the Abadie-Imbens variance can search the same tree
            tree = algorithms.control_tree(points[eligible & ~treated])
        match_matrix = algorithms.nearest_neighbors(
            points,
            treated,
            ratio=int(est.ratio),
            replace=est.replace,
            caliper=caliper,
            order=order,
            eligible=eligible,
            groups=groups,
            tree=tree,
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
        tree=tree,
        neighbours=neighbours,
    )
