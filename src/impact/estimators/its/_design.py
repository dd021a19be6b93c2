"""Interrupted time series: checking a series and its data, building the segmented design.

A series is a regular sequence of periods (numbers with a constant step, or dates with
a regular frequency) without duplicates. Periods are coded by their position
``0, 1, ..., n - 1``; the trend and slope-change regressors count periods, so a slope is
a change per period.

Segmented regression for interruptions at positions ``T_1 < T_2 < ...``::

    y_t = b0 + b1 t + seasonal_t + sum_j [ L_j step_j(t) + S_j (t - T_j - k)_+ ] + e_t

``step_j(t)`` is 1 from ``T_j`` on (a ramp from ``1/(k+1)`` to 1 over the phase-in
window of ``k`` periods when ``phase_in_mode="ramp"``), and the slope change starts
at the end of the phase-in window, so ``L_j`` is the change in level at the first
period after the window (at the interruption itself when ``k = 0``) and ``S_j`` the
change in slope per period. The counterfactual sets every ``L_j`` and ``S_j`` term to 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DesignError, DesignWarning, warn

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = [
    "MIN_PRE_PERIODS",
    "SeriesDesign",
    "build_design",
    "check_times",
    "drop_weightless",
    "locate",
    "period_label",
    "require_comparison_rows",
    "scalar",
]

MIN_PRE_PERIODS = 3
"""Fewest pre-interruption points accepted.

Two points are needed to estimate a pre-programme level and trend, and a third leaves
one residual degree of freedom to check that a line describes them; three points before
and after is also the minimum of the Cochrane EPOC criteria for an interrupted time
series. Seasonal terms and covariates raise the minimum by their number of columns.
"""


def check_times(time: pd.Series | np.ndarray, *, name: str = "time") -> pd.Index:
    """Check that ``time`` is a regular series of distinct periods and return it sorted.

    Parameters
    ----------
    time : array-like
        Periods: numbers with a constant step, or dates with a regular frequency.
    name : str
        Name used in error messages.

    Returns
    -------
    pandas.Index
        The periods, sorted.

    Raises
    ------
    DataError
        For duplicated, missing or irregularly spaced periods.

    Examples
    --------
    >>> check_times([2003, 2001, 2002]).tolist()
    [2001, 2002, 2003]
    """
    index = pd.Index(time)
    if index.hasnans:
        raise DataError(f"{name} has missing periods; every observation needs a period")
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise DataError(
            f"{name} has duplicated periods {dup}; an interrupted time series needs one "
            "observation per period (aggregate the rows first)"
        )
    index = index.sort_values()
    if len(index) < 3:
        raise DataError(f"{name} has {len(index)} period(s); a time series needs more")
    if pd.api.types.is_datetime64_any_dtype(index):
        with warnings.catch_warnings():  # pandas is changing the return type
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(pd.DatetimeIndex(index))
        if freq is None:
            raise DataError(
                f"{name} holds dates without a regular frequency (e.g. a missing month "
                f"between {index[0]} and {index[-1]}); fill the gaps or aggregate to a "
                "regular period"
            )
        return index
    if not pd.api.types.is_numeric_dtype(index) or pd.api.types.is_bool_dtype(index):
        raise DataError(f"{name} must be numeric or datetime, got {index.dtype}")
    steps = np.diff(index.to_numpy(dtype=float))
    if not np.allclose(steps, steps[0], rtol=1e-9, atol=0):
        gaps = index[1:][~np.isclose(steps, steps[0], rtol=1e-9, atol=0)][:5].tolist()
        raise DataError(
            f"{name} is irregularly spaced (step {steps[0]:g} then a different step before "
            f"{gaps}); an interrupted time series needs equally spaced periods, fill the "
            "gaps or aggregate"
        )
    return index


def scalar(value: object) -> object:
    """A numpy scalar as the matching Python scalar (other values unchanged)."""
    return value.item() if isinstance(value, np.generic) else value


def period_label(value: object) -> str:
    """Label of a period in effect terms: dates without their midnight time.

    Examples
    --------
    >>> import pandas as pd
    >>> period_label(pd.Timestamp("2005-01-01")), period_label(np.int64(2005))
    ('2005-01-01', '2005')
    """
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return str(scalar(value))


def locate(times: pd.Index, interruption: object, *, name: str = "interruption") -> int:
    """Position of the first period at or after ``interruption``.

    Raises
    ------
    DesignError
        When the interruption lies outside the observed periods.
    """
    try:
        pos = int(times.searchsorted(interruption, side="left"))
    except TypeError as exc:
        raise DesignError(
            f"{name}={interruption!r} cannot be compared with the periods ({times.dtype})"
        ) from exc
    if pos == 0 or pos >= len(times):
        raise DesignError(
            f"{name}={scalar(interruption)!r} lies outside the observed periods "
            f"({scalar(times[0])!r} to {scalar(times[-1])!r}); it must fall after the first "
            "period and no later than the last"
        )
    return pos


@dataclass(frozen=True)
class SeriesDesign:
    """The segmented-regression design of one series.

    Attributes
    ----------
    X : pandas.DataFrame
        Regressors, one row per period (``const``, ``trend``, seasonal terms,
        covariates, then the interruption terms).
    counterfactual : pandas.DataFrame
        ``X`` with every interruption term set to 0.
    keep : ndarray of bool
        Rows used in the fit (phase-in windows are dropped with ``"exclude"``).
    positions : tuple of int
        Position of each interruption.
    level_terms, slope_terms : tuple of str
        Names of the interruption columns, one per interruption (``None`` when not
        modelled).
    post : ndarray of bool
        Periods from the first interruption on.
    """

    X: pd.DataFrame
    counterfactual: pd.DataFrame
    keep: np.ndarray
    positions: tuple[int, ...]
    level_terms: tuple[str | None, ...]
    slope_terms: tuple[str | None, ...]
    post: np.ndarray

    @property
    def effect_terms(self) -> list[str]:
        """Names of every interruption column."""
        return [
            t for pair in zip(self.level_terms, self.slope_terms, strict=True) for t in pair if t
        ]


def _seasonal(n: int, period: int, kind: str, terms: int) -> pd.DataFrame:
    pos = np.arange(n)
    if kind == "dummies":
        season = pos % period
        cols = {f"season[{s}]": (season == s).astype(float) for s in range(1, period)}
        return pd.DataFrame(cols)
    cols = {}
    for k in range(1, terms + 1):
        angle = 2 * np.pi * k * pos / period
        cols[f"sin{k}"] = np.sin(angle)
        if 2 * k < period:
            cols[f"cos{k}"] = np.cos(angle)
        else:  # the cosine at the Nyquist frequency; its sine is identically zero
            cols.pop(f"sin{k}")
            cols[f"cos{k}"] = np.cos(angle)
    return pd.DataFrame(cols)


def build_design(
    n: int,
    positions: Sequence[int],
    *,
    level: bool = True,
    slope: bool = True,
    trend: bool = True,
    phase_in: int = 0,
    phase_in_mode: str = "exclude",
    seasonal_period: int | None = None,
    seasonal: str = "fourier",
    fourier_terms: int = 2,
    covariates: pd.DataFrame | None = None,
) -> SeriesDesign:
    """Build the segmented-regression design for a series of ``n`` periods.

    Parameters
    ----------
    n : int
        Number of periods.
    positions : sequence of int
        Positions of the interruptions, increasing.
    level, slope : bool
        Model a change in level / in slope at each interruption.
    trend : bool
        Model a pre-programme linear trend (without it the counterfactual is the
        pre-programme level).
    phase_in : int
        Transition periods after each interruption.
    phase_in_mode : {"exclude", "ramp"}
        Drop the transition periods from the fit, or let the level change grow
        linearly over them.
    seasonal_period : int, optional
        Length of the seasonal cycle in periods (12 for monthly data).
    seasonal : {"fourier", "dummies"}
        Fourier pairs or one dummy per season but the first.
    fourier_terms : int
        Number of sine-cosine pairs.
    covariates : pandas.DataFrame, optional
        Extra regressors, one row per period.

    Returns
    -------
    SeriesDesign

    Examples
    --------
    >>> design = build_design(6, [3])
    >>> design.X.to_numpy().tolist()[3:]
    [[1.0, 3.0, 1.0, 0.0], [1.0, 4.0, 1.0, 1.0], [1.0, 5.0, 1.0, 2.0]]
    """
    t = np.arange(n, dtype=float)
    parts = [pd.DataFrame({"const": np.ones(n), "trend": t})]
    if not trend:
        parts = [pd.DataFrame({"const": np.ones(n)})]
    if seasonal_period is not None:
        parts.append(_seasonal(n, seasonal_period, seasonal, fourier_terms))
    if covariates is not None and covariates.shape[1]:
        missing = ~np.isfinite(covariates.to_numpy(dtype=float)).all(axis=1)
        if missing.any():  # no unit of the series observed there (an unbalanced panel)
            raise DesignError(
                f"the covariates have no value in {int(missing.sum())} period(s) "
                f"({', '.join(map(str, covariates.index[missing][:5]))}), where no unit "
                "they are averaged over is observed; balance the panel or drop the covariates"
            )
        parts.append(covariates.reset_index(drop=True).astype(float))
    base = pd.concat(parts, axis=1)
    keep = np.ones(n, dtype=bool)
    effect_cols: dict[str, np.ndarray] = {}
    level_terms: list[str | None] = []
    slope_terms: list[str | None] = []
    for j, pos in enumerate(positions):
        suffix = "" if j == 0 else f"[{j + 1}]"
        start = pos + phase_in
        if phase_in and phase_in_mode == "exclude":
            keep[pos:start] = False
        if level:
            if phase_in and phase_in_mode == "ramp":
                step = np.clip((t - pos + 1) / (phase_in + 1), 0.0, 1.0)
            else:
                step = (t >= start).astype(float)
            effect_cols[f"level_change{suffix}"] = step
            level_terms.append(f"level_change{suffix}")
        else:
            level_terms.append(None)
        if slope:
            effect_cols[f"slope_change{suffix}"] = np.maximum(t - start, 0.0)
            slope_terms.append(f"slope_change{suffix}")
        else:
            slope_terms.append(None)
    effects = pd.DataFrame(effect_cols, index=base.index)
    X = pd.concat([base, effects], axis=1)
    cf = X.copy()
    cf[list(effects.columns)] = 0.0
    post = t >= positions[0]
    n_pre_params = base.shape[1]
    n_pre = int(np.sum(t[keep] < positions[0]))
    need = max(MIN_PRE_PERIODS, n_pre_params + 1)
    if n_pre < need:
        raise DesignError(
            f"only {n_pre} period(s) before the interruption; at least {need} are needed "
            f"(a pre-programme level and trend need two points and a third to check them"
            + (", plus one per seasonal or covariate term" if need > MIN_PRE_PERIODS else "")
            + ")"
        )
    for j, pos in enumerate(positions):
        end = positions[j + 1] if j + 1 < len(positions) else n
        n_seg = int(np.sum(keep[pos:end]))
        need_seg = int(level) + int(slope)
        if n_seg < max(need_seg, 1):
            raise DesignError(
                f"interruption {j + 1} leaves {n_seg} usable period(s) before the next "
                f"interruption or the end; its level and slope change need {need_seg}"
            )
    if np.linalg.matrix_rank(X.to_numpy()[keep]) < X.shape[1]:
        raise DesignError(
            "the segmented design is collinear (too few periods between interruptions, a "
            "seasonal period longer than the series, or a constant covariate); simplify it"
        )
    return SeriesDesign(
        X=X,
        counterfactual=cf,
        keep=keep,
        positions=tuple(int(p) for p in positions),
        level_terms=tuple(level_terms),
        slope_terms=tuple(slope_terms),
        post=post,
    )


def check_counts(y: np.ndarray, exposure: np.ndarray | None, what: str) -> None:
    """Raise a DataError for negative counts or a non-positive exposure."""
    if (y < 0).any():
        raise DataError(
            f"{what} has negative values (e.g. {y[y < 0][:3].tolist()}); a count family "
            "needs counts >= 0"
        )
    if exposure is not None and not (np.isfinite(exposure) & (exposure > 0)).all():
        bad = exposure[~(np.isfinite(exposure) & (exposure > 0))][:3].tolist()
        raise DataError(
            f"exposure must be positive and finite in every period, found {bad}; a zero "
            "population has no rate"
        )


def aggregate_covariates(
    panel: Panel, treated: pd.Index, controls: pd.Index | None, *, exclude: str | None
) -> pd.DataFrame | None:
    """Per-period means of the covariates over the treated units (minus the controls')."""
    matrix = panel.covariate_matrix()
    if exclude is not None:
        matrix = matrix.drop(columns=[c for c in matrix.columns if c == exclude])
    if matrix.shape[1] == 0:
        return None
    frame = panel.frame
    keys = [frame[panel.time], frame[panel.unit].isin(set(treated)).map({True: "t", False: "c"})]
    means = matrix.groupby(keys).mean()
    out = means.xs("t", level=1)
    if controls is not None:
        out = out - means.xs("c", level=1)
    varying = [c for c in out.columns if out[c].nunique() > 1]
    dropped = [c for c in out.columns if c not in varying]
    if dropped:
        warn(
            f"dropped covariate(s) {dropped}: constant over time once aggregated, so "
            "absorbed by the intercept",
            DesignWarning,
        )
    return out[varying].sort_index() if varying else None


def require_observed(
    wide: pd.DataFrame,
    treated: pd.Index,
    controls: pd.Index | None,
    unit: str,
    *,
    weights: str | None = None,
) -> None:
    """Raise a DesignError naming the periods where no treated (or comparison) unit is seen.

    The aggregate series is undefined there (a mean of nothing, or a sum of nothing
    that would read as zero). ``weights`` names the weights column when cells of zero
    weight were left out of ``wide``, for the message.
    """
    for units, what in ((treated, "treated"), (controls, "comparison")):
        if units is None:
            continue
        part = wide.loc[:, wide.columns.isin(units)]
        empty = part.notna().sum(axis=1).to_numpy() == 0
        if empty.any():
            labels = ", ".join(period_label(t) for t in wide.index[empty][:10])
            raise DesignError(
                f"no {what} unit of {unit!r} is observed"
                + (f" with positive weight in {weights!r}" if weights else "")
                + f" in period(s) {labels}: the {what} "
                "series is undefined there; drop those periods from the Panel"
                + (", or set comparison=False" if what == "comparison" else "")
            )


def require_comparison_rows(
    times: pd.Index,
    positions: np.ndarray,
    is_treated: np.ndarray,
    weights: np.ndarray | None,
    *,
    unit: str,
    time: str,
    weight_name: str | None = None,
) -> None:
    """Raise a DesignError naming the periods with treated rows but no comparison row.

    The pooled fit's counterpart of :func:`require_observed`: ``positions`` gives each
    fitted row's period (an index into ``times``). Without a comparison row in a
    period, the background terms there are extrapolated from the other periods, and a
    change common to every unit in that period is credited to the programme. Rows of
    zero weight are absent from the weighted regression and do not count.
    """
    n = len(times)
    counted = np.ones(len(positions), dtype=bool) if weights is None else weights > 0
    treated = np.bincount(positions[is_treated & counted], minlength=n) > 0
    comparison = np.bincount(positions[~is_treated & counted], minlength=n) > 0
    missing = np.flatnonzero(treated & ~comparison)
    if not len(missing):
        return
    observed = np.bincount(positions[~is_treated], minlength=n) > 0
    weightless = weight_name is not None and bool(observed[missing].any())
    labels = ", ".join(period_label(times[i]) for i in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    raise DesignError(
        f"no comparison (never-treated) unit of {unit!r} is observed"
        + (f" with positive weight in {weight_name!r}" if weightless else "")
        + f" in period(s) {labels}{more} of {time!r}, where treated units are: the "
        "comparison series is undefined there, and a change common to every unit in "
        "those periods would be credited to the programme. Drop those periods from the "
        "Panel, or set comparison=False (the effect then rests on the treated units' "
        "pre-programme trend alone)"
    )


def drop_weightless(panel: Panel, y_wide: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The outcome table without the cells of zero weight, and where those were.

    The aggregate series are unweighted: a cell of zero weight is left out, as it is
    from the weighted pooled fit, and other unequal weights are announced as unused.
    """
    w_wide = panel.wide(panel.weights).reindex_like(y_wide)
    weightless = (w_wide <= 0) & y_wide.notna()
    positive = w_wide.to_numpy()[(w_wide > 0).to_numpy()]
    if len(positive) and positive.min() != positive.max():
        warn(
            f"the aggregate series are unweighted means (or sums) of the units' outcomes: "
            f"weights {panel.weights!r} are not used (rows of zero weight are left out); "
            "use pooled=True for a fit weighted row by row",
            DesignWarning,
        )
    if not weightless.to_numpy().any():
        return y_wide, None
    return y_wide.where(~weightless), weightless
