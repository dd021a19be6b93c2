"""Difference-in-differences for a single adoption date: 2x2 and two-way fixed effects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.estimators._adoption import require_single_adoption
from impact.estimators._base import Estimator, check_alpha, check_choice, check_inference_fields
from impact.estimators.did._absorb import Absorb, absorbed_effects, check_absorb, refuse_absorb
from impact.exceptions import DesignError, DesignWarning, warn
from impact.inference.coefficient import (
    MIN_CLUSTERS,
    PANEL_INFERENCE_METHODS,
    CoefficientInference,
    Method,
    RegressionDesign,
    infer_coefficient,
)
from impact.inference.comparison import coefficient_scale
from impact.panel._checks import show
from impact.registry import register
from impact.result import ImpactResult, effect_row

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["DifferenceInDifferences"]


@register("did")
@dataclass(frozen=True, kw_only=True)
class DifferenceInDifferences(Estimator):
    """Difference-in-differences with one adoption date.

    Estimates the average effect of the programme on the treated units (ATT) by
    comparing their change in outcome with the change among never-treated units,
    using the regression ``y_it = a_i + l_t + b * D_it + X_it g + e_it`` with unit
    effects ``a_i`` and period effects ``l_t`` (two-way fixed effects). Unit effects
    are absorbed exactly by within-unit demeaning; the regression itself is
    statsmodels OLS (WLS with the Panel's weights).

    Parameters
    ----------
    design : {"twfe", "2x2"}, default "twfe"
        ``"twfe"`` keeps one effect per period. ``"2x2"`` pools the periods into
        before and after adoption (the canonical 2x2: with two periods both designs
        coincide).
    periods : tuple of two periods, optional
        Restrict the estimate to these periods (one before, one from adoption on),
        e.g. ``(1978, 1981)``.
    inference : {"auto", "cr1", "cr2", "cr3", "wild", "randomization", "hc1", "iid", \
"twoway", "driscoll_kraay"}, default "auto"
        ``"cr1"``: cluster-robust by the Panel's cluster (units by default) with the
        ``G/(G-1) (N-1)/(N-K)`` correction and t(G-1) intervals, as R ``fixest`` and
        Stata. ``"cr2"``/``"cr3"``: bias-reduced cluster-robust errors with
        Satterthwaite degrees of freedom (R ``clubSandwich``). ``"wild"``: wild cluster
        restricted bootstrap p-value and interval (the standard error reported is
        CR1). ``"randomization"``: re-assignment of treatment across clusters under
        the sharp null. ``"hc1"``: heteroskedasticity-robust. ``"iid"``: conventional.
        ``"twoway"``: clustered by the Panel's cluster and by period (Cameron, Gelbach
        and Miller), t(min(G, T) - 1) intervals, as ``fixest``; ``"driscoll_kraay"``:
        Driscoll-Kraay, t(T - 1) intervals. Both allow for errors correlated across
        units within a period (shocks that hit units unequally) and need many periods
        (a warning below ``min_clusters``); see
        :mod:`impact.inference.panel_covariance`.
        ``"auto"``: CR1 when at least ``min_clusters`` clusters are treated and at
        least as many are not, and cluster sizes are similar (or there are at least 50
        clusters on each side); otherwise the wild bootstrap with an
        :class:`~impact.exceptions.InferenceWarning`. ``settings["inference_used"]``
        and ``settings["inference_reason"]`` record the choice. See
        :mod:`impact.inference.coefficient`.
    small_sample : {"nested", "full"}, default "nested"
        For ``"cr1"``'s ``(N-1)/(N-K)``: count the unit effects nested in the clusters
        as one parameter (as R ``fixest``'s default ``fixef.K = "nested"`` and Stata
        ``xtreg, fe``, whose ``K`` includes the constant; equal to ``pyfixest``'s
        ``CRV1``), or each as one (regression with unit dummies, e.g. statsmodels).
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    min_clusters : int, default 12
        Fewest treated (and control) clusters for which ``inference="auto"`` uses CR1.
    draws : int, default 9999
        Wild bootstrap samples or randomization re-assignments (all of them are
        enumerated instead when they are fewer).
    bootstrap_weights : {"auto", "rademacher", "webb"}, default "auto"
        Wild bootstrap weights. ``"auto"``: Webb's six-point weights below 12
        clusters (with ``G`` clusters Rademacher p-values cannot fall below
        ``2/2^G``, so intervals come out unbounded), Rademacher from 12 on, every
        sign vector enumerated when ``2^G`` is at most ``draws``.
        ``settings["inference_weights"]`` records the weights used.
    df_method : {"satterthwaite", "imbens-kolesar"}, default "satterthwaite"
        Degrees of freedom for ``"cr2"``/``"cr3"``: Bell-McCaffrey with an iid working
        model (R ``clubSandwich``), or Imbens-Kolesar's random-effects working model.
    seed : int, Generator or None, default 0
        Randomness of the bootstrap and randomization draws; the fixed default makes
        results reproducible, ``None`` draws fresh entropy.
    absorb : tuple, default ()
        Further fixed effects absorbed besides the unit and period effects, each a
        categorical column of the Panel (carried with ``Panel.from_frame(...,
        fixed_effects=[...])``) or a tuple of columns for their interaction:
        ``absorb=("pupil",)`` or ``absorb=(("region", "year"),)`` fits R ``fixest``'s
        ``y ~ treat | unit + year + region^year``. The effects are absorbed by
        alternating projections (:mod:`impact.inference.absorbed`); ``K`` in the
        small-sample factor counts them as ``fixest`` does (an effect nested in the
        clusters counts once). A treatment that the absorbed effects explain (e.g.
        school-by-year effects when treatment varies by school and year) raises a
        :class:`DesignError` naming them. Not with ``inference="cr2"``, ``"cr3"`` or
        ``"randomization"``.

    Notes
    -----
    Covariates enter linearly and may vary over time; a covariate constant within
    units is absorbed by the unit effects and dropped with a warning. The ``paths``
    table gives the treated group's observed mean per period and its counterfactual:
    the treated group's pre-programme mean plus the comparison group's change since
    its own pre-programme mean (unadjusted for covariates and absorbed effects).

    With staggered adoption this estimator raises a :class:`DesignError`: use the
    staggered estimator, which does not compare later with earlier adopters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(40), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 40)})
    >>> df["pilot"] = ((df.school < 20) & (df.year >= 2003)).astype(int)
    >>> df["score"] = df.school + 0.5 * df.year + 2.0 * df.pilot + rng.normal(0, 0.05, 160)
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot")
    >>> result = impact.DifferenceInDifferences().fit(panel)
    >>> round(result.att.estimate, 1)
    2.0
    """

    design: Literal["twfe", "2x2"] = "twfe"
    periods: tuple[object, object] | None = None
    inference: Method = "auto"
    small_sample: Literal["nested", "full"] = "nested"
    alpha: float = ALPHA
    min_clusters: int = MIN_CLUSTERS
    draws: int = 9999
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto"
    df_method: Literal["satterthwaite", "imbens-kolesar"] = "satterthwaite"
    seed: int | np.random.Generator | None = 0
    absorb: Absorb = ()

    def __post_init__(self) -> None:
        check_choice("design", self.design, ("twfe", "2x2"))
        check_inference_fields(self, PANEL_INFERENCE_METHODS)
        object.__setattr__(self, "absorb", check_absorb(self.absorb, self.inference))
        check_choice("small_sample", self.small_sample, ("nested", "full"))
        check_alpha(self.alpha)
        if self.periods is not None and (
            isinstance(self.periods, str | bytes)
            or not hasattr(self.periods, "__len__")
            or len(self.periods) != 2
        ):
            raise DesignError(f"periods={self.periods!r} must be two periods (before, after)")

    def fit(self, panel: Panel) -> ImpactResult:
        """Estimate the ATT on ``panel``.

        Parameters
        ----------
        panel : Panel
            Single-adoption data with never-treated comparison units.

        Returns
        -------
        ImpactResult
            ``effects`` holds the row ``att``; ``paths`` the treated group's observed
            and counterfactual means; ``diagnostics["coefficients"]`` every estimated
            coefficient.

        Raises
        ------
        DesignError
            For staggered adoption, no pre-period, no comparison units, a
            cross-section, ``periods`` not in the data, a post-adoption period in which
            no comparison unit is observed (with positive weight: rows of zero weight
            are left out of the fit and its counts), or an effect that the period
            effects and covariates already explain (not identified).
        """
        design, prepared = self._prepare(panel)
        frame, adoption, post, unit_levels, weights, is_treated_unit, time_codes, time_levels = (
            prepared
        )
        unit_codes = design.unit_codes
        inference = infer_coefficient(
            design.y,
            design.X,
            design.names,
            unit_codes=unit_codes,
            cluster_codes=design.cluster_codes,
            weights=design.weights,
            term=design.term,
            method=self.inference,
            alpha=self.alpha,
            seed=self.seed,
            draws=self.draws,
            bootstrap_weights=self.bootstrap_weights,
            df_method=self.df_method,
            exposure=design.exposure,
            small_sample=self.small_sample,
            min_clusters=self.min_clusters,
            time_codes=design.time_codes,
            absorb=design.absorb,
        )
        fit = inference.fit
        n_codes = len(unit_levels)
        # units with a row of positive weight: the others are absent from the fit
        counted = np.ones(len(unit_codes), dtype=bool) if weights is None else weights > 0
        row = {
            "term": "att",
            "estimate": inference.estimate,
            "std_error": inference.std_error,
            "ci_lower": inference.ci_lower,
            "ci_upper": inference.ci_upper,
            "p_value": inference.p_value,
            "n_treated_units": _count_codes(unit_codes[is_treated_unit & counted], n_codes),
            "n_control_units": _count_codes(unit_codes[~is_treated_unit & counted], n_codes),
        }
        paths = partial(
            _paths, frame, panel, is_treated_unit, post, weights, time_codes, time_levels
        )
        settings = {
            **self.get_params(),
            "adoption_period": adoption,
            "cluster": _cluster_setting(panel, inference.method),
            "df_inference": inference.df,
            **inference.to_settings(),
            "n_params_correction": fit.n_params,
            "dropped_terms": fit.dropped,
        }
        # the paths and coefficient tables are built when first read
        return ImpactResult._from_parts(
            estimator=self.name,
            effects={key: [value] for key, value in row.items()},
            settings=settings,
            paths=paths,
            diagnostics={"coefficients": partial(_coefficients, inference, self.alpha, design)},
            n_obs=fit.n_obs,
            n_units=_count_codes(unit_codes[counted], n_codes),
            n_clusters=fit.n_clusters,
        )

    def regression_design(self, panel: Panel) -> RegressionDesign:
        """The regression this estimator fits on ``panel`` (outcome, regressors, codes).

        Used to bootstrap several outcomes jointly (:func:`impact.estimate_many`).
        """
        refuse_absorb(self.absorb, "the joint inference over outcomes or subgroups")
        return self._prepare(panel)[0]

    def _prepare(self, panel: Panel) -> tuple[RegressionDesign, tuple]:
        adoption = require_single_adoption(panel, "difference-in-differences")
        unit_codes, unit_levels, time_codes, time_levels = panel.codes()
        frame = None  # the Panel's frame, read (never modified) only where needed
        if self.periods is not None:
            frame = panel.view()
            before, after = self.periods
            observed = set(panel.periods)
            missing = [p for p in (before, after) if p not in observed]
            if missing:
                raise DesignError(
                    f"periods {missing!r} are not observed in {panel.time!r}; observed periods "
                    f"are {list(panel.periods)[:10]}"
                )
            if not (before < adoption <= after):
                raise DesignError(
                    f"periods=({before!r}, {after!r}) must straddle the adoption period "
                    f"{adoption!r}: one before it, one from it on"
                )
            keep = frame[panel.time].isin([before, after]).to_numpy()
            frame = frame.loc[keep].reset_index(drop=True)
            unit_codes, unit_levels = pd.factorize(frame[panel.unit], sort=True)
            time_codes, time_levels = pd.factorize(frame[panel.time], sort=True)
        else:
            keep = None

        def column(name: str) -> np.ndarray:
            # the Panel keeps its columns as arrays; a subset of periods reads the frame
            return panel.values(name) if keep is None else frame[name].to_numpy()

        def series(name: str) -> pd.Series:
            return (panel.view() if frame is None else frame)[name]

        times = column(panel.time)
        if times.dtype.kind in "iuf":
            post = times >= adoption
        else:
            post = (series(panel.time) >= adoption).to_numpy()
        if self.design == "2x2":
            period_codes, period_levels = _post_codes(post)
        else:
            period_codes, period_levels = time_codes, time_levels
        d = np.asarray(column(panel.treated), dtype=float)
        if panel.covariates:
            covariates = panel.covariate_matrix()
            if keep is not None:
                covariates = covariates.loc[keep].reset_index(drop=True)
            covariate_names = list(covariates.columns)
            covariate_values = covariates.to_numpy(dtype=float)
        else:
            covariate_names, covariate_values = [], np.empty((len(times), 0))
        n_dummies = 0 if self.absorb else len(period_levels) - 1  # else: absorbed
        dummies = np.zeros((len(times), n_dummies))
        if dummies.shape[1]:
            rows = period_codes > 0
            dummies[np.flatnonzero(rows), period_codes[rows] - 1] = 1.0
        names = [
            "att",
            *covariate_names,
            *(f"period[{level}]" for level in period_levels[1 : 1 + n_dummies]),
        ]
        X = np.column_stack([d, covariate_values, dummies])
        absorbed = (
            absorbed_effects(panel, self.absorb, period_codes, rows=keep) if self.absorb else None
        )
        weights = series(panel.weights).to_numpy(dtype=float) if panel.weights else None
        cluster_codes = (
            pd.factorize(series(panel.cluster), sort=True)[0] if panel.cluster else unit_codes
        )
        # units ever treated (a unit's cohort is missing when it never is)
        cohort = panel.cohort_view() if keep is None else panel.cohort_view().reindex(unit_levels)
        ever = ~pd.isna(cohort.to_numpy())
        is_treated_unit = ever[unit_codes]
        _require_comparisons(panel, time_codes, time_levels, is_treated_unit, post, weights)
        if self.design == "2x2" and (
            len(time_levels) > 2 and len(time_codes) != len(unit_levels) * len(time_levels)
        ):
            warn(
                "design='2x2' pools the periods before and after adoption, but units are "
                f"not all observed in every period of {panel.time!r}: the period effects "
                "then differ between units' pooled means and enter the estimate; use "
                "design='twfe' (one effect per period) or periods=(before, after)",
                DesignWarning,
            )
        design = RegressionDesign(
            y=np.asarray(column(panel.outcome), dtype=float),
            X=X,
            names=tuple(names),
            unit_codes=unit_codes,
            cluster_codes=cluster_codes,
            weights=weights,
            exposure=post.astype(float),
            term="att",
            time_codes=time_codes,
            absorb=absorbed,
        )
        return design, (
            frame,
            adoption,
            post,
            unit_levels,
            weights,
            is_treated_unit,
            time_codes,
            time_levels,
        )


def _cluster_setting(panel: Panel, method: str) -> str | tuple[str, str] | None:
    """What the standard errors are clustered by, for ``settings["cluster"]``."""
    if method in ("hc1", "iid"):
        return None
    if method == "twoway":
        return (panel.cluster or panel.unit, panel.time)
    if method == "driscoll_kraay":
        return panel.time
    return panel.cluster or panel.unit


def _require_comparisons(
    panel: Panel,
    time_codes: np.ndarray,
    time_levels: pd.Index,
    is_treated_unit: np.ndarray,
    post: np.ndarray,
    weights: np.ndarray | None = None,
) -> None:
    """Raise a DesignError when a post-adoption period has treated but no comparison rows.

    Only rows of positive weight count: a row of zero weight is absent from the
    weighted regression.

    In such a period the period effect absorbs the treated units' outcomes, so their
    change cannot be told apart from the general change over time: the regression
    would either drop that period's effect (and credit the general change to the
    programme) or lean on the other periods alone.
    """
    n_levels = len(time_levels)
    counted = np.ones(len(time_codes), dtype=bool) if weights is None else weights > 0
    treated_post = np.bincount(time_codes[is_treated_unit & post & counted], minlength=n_levels) > 0
    comparison = np.bincount(time_codes[~is_treated_unit & counted], minlength=n_levels) > 0
    missing = np.flatnonzero(treated_post & ~comparison)
    if len(missing):
        labels = [time_levels[i] for i in missing]
        observed = np.bincount(time_codes[~is_treated_unit], minlength=n_levels) > 0
        weightless = weights is not None and bool(observed[missing].any())
        raise DesignError(
            f"no comparison (never-treated) unit of {panel.unit!r} is observed"
            + (f" with positive weight in {panel.weights!r}" if weightless else "")
            + f" in period(s) {show(labels)} of {panel.time!r} after adoption, so the "
            "treated units' change there cannot be told apart from the general change "
            "over time. Drop those periods from the Panel, or pass periods=(before, after) "
            "with periods in which comparison units are observed"
            + (" with positive weight" if weightless else "")
        )


def _post_codes(post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and levels of ``post.astype(int)``, as ``pd.factorize(..., sort=True)``."""
    levels = np.flatnonzero([not post.all(), post.any()])  # 0 (before), 1 (after)
    codes = post.astype(np.intp) if len(levels) == 2 else np.zeros(len(post), dtype=np.intp)
    return codes, levels


def _count_codes(codes: np.ndarray, size: int) -> int:
    """Number of distinct values among ``codes`` (integers in ``0..size-1``)."""
    return int(np.count_nonzero(np.bincount(codes, minlength=size)))


def _coefficients(inference: CoefficientInference, alpha: float, design: Any) -> pd.DataFrame:
    """Every estimated coefficient with its Wald interval (undefined ones not announced)."""
    fit = inference.fit
    names = list(design.names)
    rows = [
        effect_row(
            name,
            value,
            fit.std_error(name),
            df=_term_df(inference, name, fit.df_inference),
            alpha=alpha,
            scale=coefficient_scale(design.y, np.asarray(design.X)[:, names.index(name)]),
            announce=False,
        )
        for name, value in zip(fit.params.index, fit.params.to_numpy(), strict=True)
    ]
    return pd.DataFrame({key: [r[key] for r in rows] for key in rows[0]})


def _term_df(inference, name: str, default: float) -> float:
    """Degrees of freedom of one coefficient (CR2/CR3 give one per coefficient)."""
    by_term = inference.details.get("df_by_term")
    return float(by_term[name]) if by_term else default


def _paths(
    frame: pd.DataFrame | None,
    panel: Panel,
    is_treated_unit: np.ndarray,
    post: np.ndarray,
    weights: np.ndarray | None,
    time_codes: np.ndarray,
    time_levels: pd.Index,
) -> pd.DataFrame:
    """Observed and counterfactual mean paths of the treated group."""
    frame = panel.view() if frame is None else frame  # None: all of the Panel's rows
    y = frame[panel.outcome].to_numpy(dtype=float)
    w = np.ones(len(y)) if weights is None else weights
    wy = w * y
    codes = time_codes
    values = frame[panel.time].to_numpy()
    # the sorted distinct periods: those the codes index
    times = np.asarray(time_levels) if values.dtype.kind in "iuf" else np.unique(values)
    n_times = len(times)

    def weighted_means(rows: np.ndarray, keys: np.ndarray, size: int) -> np.ndarray:
        """Weighted mean of y per key among ``rows``; NaN for keys without rows."""
        k = keys[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.bincount(k, weights=wy[rows], minlength=size) / np.bincount(
                k, weights=w[rows], minlength=size
            )
        means[np.bincount(k, minlength=size) == 0] = np.nan
        return means

    treated_means = weighted_means(is_treated_unit, codes, n_times)
    control_means = weighted_means(~is_treated_unit, codes, n_times)
    zeros = np.zeros(len(y), dtype=np.intp)
    pre_treated = weighted_means(is_treated_unit & ~post, zeros, 1)[0]
    pre_control = weighted_means(~is_treated_unit & ~post, zeros, 1)[0]
    counterfactual = pre_treated + (control_means - pre_control)
    return pd.DataFrame(
        {
            "time": times,
            "observed": treated_means,
            "counterfactual": counterfactual,
            "effect": treated_means - counterfactual,
            "control": control_means,
            "post": np.bincount(codes[~post], minlength=n_times) == 0,
        }
    )
