"""Interrupted time series: segmented regression, single, controlled and pooled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.estimators._base import Estimator, check_alpha, check_choice, check_inference_fields
from impact.estimators.its._aggregate import SHORT_SERIES, fit_aggregate
from impact.estimators.its._design import (
    aggregate_covariates,
    build_design,
    check_times,
    drop_weightless,
    locate,
    require_observed,
)
from impact.exceptions import DataError, DesignError, DesignWarning, warn
from impact.inference.coefficient import INFERENCE_METHODS, MIN_CLUSTERS
from impact.panel._checks import show
from impact.registry import register
from impact.result import ImpactResult

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["SHORT_SERIES", "InterruptedTimeSeries"]

POOLED_METHODS = tuple(m for m in INFERENCE_METHODS if m != "randomization")

"""Below this many fitted periods Newey-West errors draw an InferenceWarning."""


@register("its")
@dataclass(frozen=True, kw_only=True)
class InterruptedTimeSeries(Estimator):
    """Interrupted time series by segmented regression.

    Projects the pre-programme level and trend of a series forward as the
    counterfactual; the programme's effect is the change in level and slope at the
    interruption. On a :class:`~impact.Panel` the series is the treated units'
    aggregate (mean, or sum for counts) and the interruption their first treated
    period; :meth:`fit_series` takes a plain series.

    Parameters
    ----------
    level_change, slope_change : bool, default True
        Model a change in level / in slope at each interruption.
    trend : bool, default True
        Model the pre-programme linear trend; ``False`` projects the pre-programme
        level (a comparison of regime means when ``slope_change=False``).
    interruptions : tuple of periods, optional
        Interruption periods; by default the Panel's single adoption period.
    phase_in : int, default 0
        Transition periods after each interruption during which the effect builds up.
    phase_in_mode : {"exclude", "ramp"}, default "exclude"
        ``"exclude"`` drops the transition periods from the fit; ``"ramp"`` lets the
        level change grow linearly over them (``1/(k+1), 2/(k+1), ..., 1``).
    seasonal_period : int, optional
        Length of the seasonal cycle in periods (12 for months, 3 for terms).
    seasonal : {"fourier", "dummies"}, default "fourier"
        Sine-cosine pairs or a dummy per season.
    fourier_terms : int, default 2
        Number of sine-cosine pairs.
    errors : {"ar", "hac", "ols"}, optional
        ``"ar"``: regression with AR(p) errors by maximum likelihood;
        ``"hac"``: Newey-West standard errors with the automatic lag
        ``floor(4 (n/100)^(2/9))`` (see :func:`~impact.estimators.its._fit.newey_west_lags`)
        unless ``hac_lags`` is set; ``"ols"``: conventional (model-based for counts,
        with the quasi-Poisson scale). With ``pooled=True``, ``"hac"`` means standard
        errors clustered by unit (robust to any autocorrelation within a unit) and
        ``"ols"`` conventional ones. By default: clustered for a pooled fit,
        ``"ar"`` (AR(1)) for a Gaussian series, ``"ols"`` for counts; the choice made
        is recorded as ``settings["errors_used"]``.
    hac_lags : int, optional
        Newey-West lag.
    ar_order : int or {"aic", "bic"}, default 1
        AR order for ``errors="ar"``, or the criterion choosing it among 0 to 4.
    family : {"gaussian", "poisson", "negative_binomial"}, default "gaussian"
        Count families fit a log-linear GLM and report rate ratios.
    dispersion : {"pearson", "fixed"}, default "pearson"
        Poisson scale estimated from Pearson's chi-squared (quasi-Poisson) or fixed
        at 1.
    exposure : str, optional
        For counts on a Panel: a covariate column holding each period's population
        (its log is the offset).
    aggregate : {"mean", "sum"}, optional
        How the treated units are combined; ``"mean"`` for Gaussian outcomes and
        ``"sum"`` for counts by default.
    comparison : bool, optional
        Controlled ITS: subtract the never-treated units' aggregate series, so a
        background trend shared by all units is removed. By default used whenever
        the Panel has never-treated units.
    pooled : bool, optional
        Panel ITS: fit the unit-level rows with unit effects and standard errors
        clustered by unit instead of the aggregate series, and report each treated
        unit's own effects in ``diagnostics["unit_effects"]``. By default used on a
        Panel with two or more treated units (Gaussian outcome, ``errors`` other than
        ``"ar"``); set ``pooled=False`` for the aggregate series.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    inference : {"auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid"}, default "auto"
        Pooled fit only (the single-series designs keep the time-series errors set by
        ``errors``): as for :class:`~impact.estimators.DifferenceInDifferences`, for
        every effect row (combinations of the segment coefficients are re-parametrized
        into coefficients, see :mod:`impact.inference.combination`). ``"auto"``: CR1
        with at least ``min_clusters`` treated and comparison clusters of similar
        sizes (at least ``min_clusters`` clusters without comparison units), else the
        wild cluster restricted bootstrap with an
        :class:`~impact.exceptions.InferenceWarning`. ``"randomization"`` is not
        offered (re-assigning treatment changes every interruption regressor).
        ``errors="ols"`` means ``"iid"``. Recorded in ``settings["inference_used"]``.
    min_clusters : int, default 12
        Fewest treated (and comparison) clusters for which ``"auto"`` uses CR1.
    draws : int, default 9999
        Wild bootstrap samples (all sign vectors when fewer).
    bootstrap_weights : {"auto", "rademacher", "webb"}, default "auto"
        Wild bootstrap weights. ``"auto"``: Webb's six-point weights below 12
        clusters (with ``G`` clusters Rademacher p-values cannot fall below
        ``2/2^G``, so intervals come out unbounded), Rademacher from 12 on, every
        sign vector enumerated when ``2^G`` is at most ``draws``.
        ``settings["inference_weights"]`` records the weights used.
    df_method : {"satterthwaite", "imbens-kolesar"}, default "satterthwaite"
        Degrees of freedom for ``"cr2"``/``"cr3"``.
    seed : int, Generator or None, default 0
        Randomness of the bootstrap.

    Notes
    -----
    Why these defaults. Standard errors: with many treated units the pooled fit
    clusters by unit, which allows any autocorrelation within a unit and draws on
    many units rather than on a short series; on a balanced Panel the pooled and
    aggregate point estimates are identical. For a single series the AR(1) errors
    are the default because Newey-West intervals are too narrow in series of the
    lengths evaluators have: in ``validation/its_coverage.py`` nominal 95% HAC
    intervals covered 78-88% of the time with 60 periods and 70-85% with 24
    (AR(1) errors, rho 0 to 0.6), conventional intervals 68-95%, and maximum
    likelihood with AR(1) errors 85-95%; on 8-period panels (40 units) the
    aggregate series with HAC errors covered 71%, the clustered pooled fit 95%.
    Comparison series: a single-series ITS credits
    the programme with any change the pre-period line does not foresee, such as an
    accelerating rise in all schools. Given never-treated units, the difference
    between the treated and comparison aggregates removes that shared background
    and the segmented regression of the difference estimates the differences in
    level and slope change, exactly the coefficients of the jointly fitted,
    fully interacted two-series model, with inference that allows the two series'
    shocks to be correlated. Set ``comparison=False`` for the single-series design.

    The Panel's covariates (but the exposure column) enter as regressors: in the
    aggregate series as their per-period means over the treated units (minus the
    comparison units' means in a controlled design), in the pooled fit row by row.
    The aggregate is the unweighted mean (or sum) of the units' outcomes; Panel
    weights are used by the pooled fit. The aggregate leaves out rows of zero weight
    (as the pooled fit does) and warns that other weights are not used.

    ``effects`` holds ``level_change`` and ``slope_change`` (log rate ratios for
    counts, with ``rate_ratio`` columns; a suffix ``[2]``, ``[3]`` for later
    interruptions), ``att`` (the average effect over the post periods, on the
    outcome's scale, expected cases for counts), ``cumulative`` (their sum) and one
    row per post period ``period[<time>]``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(2000, 2024)
    >>> noise = np.random.default_rng(0).normal(0, 0.05, 24)
    >>> y = 10 + 0.5 * (t - 2000) - 3.0 * (t >= 2012) + noise
    >>> result = InterruptedTimeSeries.from_series(y, t, interruption=2012, errors="ols")
    >>> round(result.effect("level_change").estimate, 1)
    -3.0
    """

    level_change: bool = True
    slope_change: bool = True
    trend: bool = True
    interruptions: tuple[Any, ...] | None = None
    phase_in: int = 0
    phase_in_mode: Literal["exclude", "ramp"] = "exclude"
    seasonal_period: int | None = None
    seasonal: Literal["fourier", "dummies"] = "fourier"
    fourier_terms: int = 2
    errors: Literal["ar", "hac", "ols"] | None = None
    hac_lags: int | None = None
    ar_order: int | Literal["aic", "bic"] = 1
    family: Literal["gaussian", "poisson", "negative_binomial"] = "gaussian"
    dispersion: Literal["pearson", "fixed"] = "pearson"
    exposure: str | None = None
    aggregate: Literal["mean", "sum"] | None = None
    comparison: bool | None = None
    pooled: bool | None = None
    alpha: float = ALPHA
    inference: Literal["auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid"] = "auto"
    min_clusters: int = MIN_CLUSTERS
    draws: int = 9999
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto"
    df_method: Literal["satterthwaite", "imbens-kolesar"] = "satterthwaite"
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        check_inference_fields(self, POOLED_METHODS)
        if self.errors == "ols" and self.inference not in ("auto", "iid"):
            raise DesignError(
                f"errors='ols' asks for conventional standard errors but "
                f"inference={self.inference!r}; leave errors unset for the pooled fit"
            )
        check_choice("phase_in_mode", self.phase_in_mode, ("exclude", "ramp"))
        check_choice("seasonal", self.seasonal, ("fourier", "dummies"))
        check_choice("errors", self.errors, ("ar", "hac", "ols", None))
        check_choice("family", self.family, ("gaussian", "poisson", "negative_binomial"))
        check_choice("dispersion", self.dispersion, ("pearson", "fixed"))
        check_choice("aggregate", self.aggregate, ("mean", "sum", None))
        check_alpha(self.alpha)
        for flag in ("level_change", "slope_change"):
            value = getattr(self, flag)
            if not (
                isinstance(value, bool | np.bool_) or (isinstance(value, int) and value in (0, 1))
            ):
                raise DesignError(f"{flag}={value!r} must be True or False")
        if self.interruptions is not None and (
            isinstance(self.interruptions, str | bytes)
            or not isinstance(self.interruptions, Iterable)
            or len(list(self.interruptions)) == 0
        ):
            raise DesignError(
                f"interruptions={self.interruptions!r} must be a non-empty sequence of "
                "periods, e.g. interruptions=[2005]"
            )
        if not self.level_change and not self.slope_change:
            raise DesignError("model at least one of level_change and slope_change")
        if not isinstance(self.phase_in, int) or self.phase_in < 0:
            raise DesignError(f"phase_in={self.phase_in!r} must be a non-negative integer")
        if self.seasonal_period is not None and (
            not isinstance(self.seasonal_period, int) or self.seasonal_period < 2
        ):
            raise DesignError(f"seasonal_period={self.seasonal_period!r} must be an integer >= 2")
        if not isinstance(self.fourier_terms, int) or self.fourier_terms < 1:
            raise DesignError(f"fourier_terms={self.fourier_terms!r} must be a positive integer")
        if self.hac_lags is not None and (not isinstance(self.hac_lags, int) or self.hac_lags < 0):
            raise DesignError(f"hac_lags={self.hac_lags!r} must be a non-negative integer")
        if not (
            self.ar_order in ("aic", "bic")
            or (isinstance(self.ar_order, int) and self.ar_order >= 0)
        ):
            raise DesignError(f"ar_order={self.ar_order!r} must be an integer >= 0, 'aic' or 'bic'")
        if self.family != "gaussian" and self.errors == "ar":
            raise DesignError(
                "errors='ar' is for Gaussian outcomes; use 'hac' or 'ols' with counts"
            )
        if self.pooled and (self.errors == "ar" or self.family != "gaussian"):
            raise DesignError(
                "pooled=True fits a Gaussian outcome with 'hac' (clustered) or 'ols' errors"
            )

    # ------------------------------------------------------------------ entry points
    @classmethod
    def from_series(
        cls,
        y: Sequence[float] | np.ndarray | pd.Series,
        time: Sequence[Any] | np.ndarray | pd.Index | None = None,
        *,
        interruption: Any,
        exposure: Sequence[float] | np.ndarray | None = None,
        comparison_series: Sequence[float] | np.ndarray | None = None,
        **params: Any,
    ) -> ImpactResult:
        """Configure the estimator with ``params`` and fit a plain series.

        Shorthand for ``InterruptedTimeSeries(**params).fit_series(...)``.

        Examples
        --------
        >>> import numpy as np
        >>> noise = np.random.default_rng(0).normal(0, 0.01, 20)
        >>> y = np.arange(20.0) + 5.0 * (np.arange(20) >= 10) + noise
        >>> res = InterruptedTimeSeries.from_series(y, interruption=10, errors="ols")
        >>> round(res.effect("level_change").estimate, 1)
        5.0
        """
        return cls(**params).fit_series(
            y,
            time,
            interruption=interruption,
            exposure=exposure,
            comparison_series=comparison_series,
        )

    def fit_series(
        self,
        y: Sequence[float] | np.ndarray | pd.Series,
        time: Sequence[Any] | np.ndarray | pd.Index | None = None,
        *,
        interruption: Any,
        exposure: Sequence[float] | np.ndarray | None = None,
        comparison_series: Sequence[float] | np.ndarray | None = None,
    ) -> ImpactResult:
        """Fit a plain series.

        Parameters
        ----------
        y : array-like
            The outcome, one value per period. A Series' index is used as ``time``
            when ``time`` is omitted; otherwise the positions ``0..n-1``.
        time : array-like, optional
            Periods: regular numbers or dates, without duplicates.
        interruption : period or sequence of periods
            First period under the programme (several for several interruptions).
        exposure : array-like, optional
            Population of each period, for count families.
        comparison_series : array-like, optional
            An untreated comparison series on the same periods (controlled ITS).

        Returns
        -------
        ImpactResult

        Raises
        ------
        DataError
            Missing, duplicated or irregular periods, non-finite values, negative
            counts, zero or negative exposure.
        DesignError
            An interruption outside the observed periods, too few pre-period points.
        """
        if isinstance(y, pd.Series) and time is None:
            time = y.index
        yv = np.asarray(y, dtype=float).ravel()
        if time is None:
            time = np.arange(len(yv))
        tv = np.asarray(time)
        if len(tv) != len(yv):
            raise DataError(f"y has {len(yv)} values but time has {len(tv)}")
        if not np.isfinite(yv).all():
            raise DataError(f"y has {int((~np.isfinite(yv)).sum())} missing or infinite values")
        times = check_times(tv)
        order = pd.Index(tv).get_indexer(times)
        extra: dict[str, np.ndarray | None] = {"exposure": None, "comparison": None}
        for key, value in (("exposure", exposure), ("comparison", comparison_series)):
            if value is not None:
                arr = np.asarray(value, dtype=float).ravel()
                if len(arr) != len(yv):
                    raise DataError(f"{key} has {len(arr)} values but y has {len(yv)}")
                extra[key] = arr[order]
        breaks = (
            interruption if isinstance(interruption, list | tuple | np.ndarray) else [interruption]
        )
        return fit_aggregate(
            self,
            times,
            yv[order],
            breaks=list(breaks),
            exposure=extra["exposure"],
            comparison=extra["comparison"],
            comparison_exposure=None,
            n_units=1 + int(extra["comparison"] is not None),
            origin="series",
        )

    def fit(self, panel: Panel) -> ImpactResult:
        """Fit the treated units' series of ``panel``.

        Parameters
        ----------
        panel : Panel
            Treated units share one adoption period; never-treated units, when
            present, form the comparison series.

        Returns
        -------
        ImpactResult
        """
        if panel.is_cross_section:
            raise DesignError("an interrupted time series needs many periods; the Panel has one")
        treated = panel.treated_units
        if len(treated) == 0:
            raise DesignError(f"no unit is ever treated in {panel.treated!r}; nothing to estimate")
        cohorts = panel.cohorts
        if len(cohorts) > 1 and self.interruptions is None:
            raise DesignError(
                f"treated units start in {len(cohorts)} different periods "
                f"({show(cohorts)}); give interruptions=... explicitly or use a "
                "staggered design"
            )
        breaks = list(self.interruptions) if self.interruptions is not None else [cohorts[0]]
        controls = panel.never_treated_units
        use_comparison = len(controls) > 0 if self.comparison is None else bool(self.comparison)
        if use_comparison and len(controls) == 0:
            raise DesignError("comparison=True needs never-treated units in the Panel")
        if self.exposure is not None and self.exposure not in panel.covariates:
            raise DesignError(
                f"exposure={self.exposure!r} must be one of the Panel's covariates "
                f"{list(panel.covariates)}"
            )
        pooled = (
            self.family == "gaussian" and self.errors in (None, "hac", "ols") and len(treated) >= 2
            if self.pooled is None
            else self.pooled
        )
        if pooled:
            from impact.estimators.its._pooled import fit_pooled

            return fit_pooled(self, panel, breaks=breaks, use_comparison=use_comparison)
        how = self.aggregate or ("mean" if self.family == "gaussian" else "sum")
        y_wide = panel.wide()
        weightless = None
        if panel.weights:
            y_wide, weightless = drop_weightless(panel, y_wide)
        times = check_times(y_wide.index, name=f"time column {panel.time!r}")
        require_observed(
            y_wide,
            treated,
            controls if use_comparison else None,
            panel.unit,
            weights=panel.weights if weightless is not None else None,
        )
        if y_wide.isna().to_numpy().any():
            warn(
                "the Panel is unbalanced: each period's aggregate uses the units observed "
                "in that period",
                DesignWarning,
            )

        def agg(frame: pd.DataFrame, units: pd.Index) -> np.ndarray:
            part = frame.loc[:, frame.columns.isin(units)]
            return (part.mean(axis=1) if how == "mean" else part.sum(axis=1)).to_numpy()

        expo_wide = panel.wide(self.exposure) if self.exposure else None
        if expo_wide is not None and weightless is not None:
            expo_wide = expo_wide.where(~weightless)
        covariates = aggregate_covariates(
            panel, treated, controls if use_comparison else None, exclude=self.exposure
        )
        if covariates is not None and use_comparison and self.family != "gaussian":
            raise DesignError(
                "covariates are not supported in a controlled ITS of counts; drop them from "
                "the Panel or set comparison=False"
            )
        return fit_aggregate(
            self,
            times,
            agg(y_wide, treated),
            breaks=breaks,
            exposure=None if expo_wide is None else agg(expo_wide, treated),
            comparison=agg(y_wide, controls) if use_comparison else None,
            comparison_exposure=(
                agg(expo_wide, controls) if use_comparison and expo_wide is not None else None
            ),
            n_units=len(treated) + (len(controls) if use_comparison else 0),
            origin="panel",
            n_treated=len(treated),
            covariates=covariates,
        )

    # ------------------------------------------------------------------ engine
    def design_for(self, times: pd.Index, breaks: Sequence[Any], covariates=None):
        """Build the segmented design of these periods (used by the pooled fit too)."""
        positions = [locate(times, b) for b in breaks]
        if sorted(set(positions)) != positions:
            raise DesignError(f"interruptions {list(breaks)} must be distinct and increasing")
        options = (
            self.level_change,
            self.slope_change,
            self.trend,
            self.phase_in,
            self.phase_in_mode,
            self.seasonal_period,
            self.seasonal,
            self.fourier_terms,
        )
        if covariates is None:  # a function of the options alone: built once per study
            shared = _shared_design(len(times), tuple(positions), options)
            # shallow copies (no data copied): a fit that adds a column changes its own
            return replace(
                shared, X=shared.X.copy(deep=False),
                counterfactual=shared.counterfactual.copy(deep=False),
            )  # fmt: skip
        return _design(len(times), positions, options, covariates)


def _design(n: int, positions, options: tuple, covariates=None):
    level, slope, trend, phase_in, phase_in_mode, seasonal_period, seasonal, terms = options
    return build_design(
        n,
        positions,
        level=level,
        slope=slope,
        trend=trend,
        phase_in=phase_in,
        phase_in_mode=phase_in_mode,
        seasonal_period=seasonal_period,
        seasonal=seasonal,
        fourier_terms=terms,
        covariates=covariates,
    )


@lru_cache(maxsize=16)
def _shared_design(n: int, positions: tuple[int, ...], options: tuple):
    """The design without covariates, kept: a Monte Carlo study fits the same one each time.

    Its arrays are made read-only, as it is shared by every fit that asks for it.
    """
    design = _design(n, list(positions), options)
    for array in (design.keep, design.post):
        array.flags.writeable = False
    return design
