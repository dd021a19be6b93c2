"""One robustness summary for any fitted result, in words a programme manager can read.

:func:`robustness` gathers what can be said about how far a result's identifying
assumption may fail before its conclusion changes:

- the design's own sensitivity: for event-study-shaped results, the breakdown values of
  Rambachan and Roth (2023) under relative magnitudes (``Mbar``) and smoothness (``M``);
  for matching, the Rosenbaum critical Gamma and the E-value; for synthetic controls,
  the pre-period fit and the placebo rank;
- the pre-trend test and its power against a linear violation (Roth 2022);
- the few-cluster status of the inference.

Each finding is a row of a table (``aspect, value, finding``) and a sentence. It reads
only what the result carries (effects, diagnostics, settings), so it works on results
of any design, built in or plugged in; what a result does not carry is said, not
guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.exceptions import DesignError, ImpactError
from impact.summary import Summary

if TYPE_CHECKING:
    from impact.result import ImpactResult

__all__ = ["Robustness", "robustness"]

COLUMNS = ("aspect", "value", "finding")
FEW_CLUSTERS = 12
"""Fewer clusters than this on either side make cluster-robust inference unreliable."""


@dataclass(frozen=True)
class Robustness:
    """What a result's conclusion withstands: one row and one sentence per finding.

    Attributes
    ----------
    estimator : str
        The result's estimator.
    table : pandas.DataFrame
        Columns ``aspect, value, finding``: the quantity (``breakdown Mbar``,
        ``critical Gamma``...), its value (NaN where it has none) and the sentence.
    """

    estimator: str
    table: pd.DataFrame

    @property
    def findings(self) -> list[str]:
        """The sentences, in order."""
        return self.table["finding"].tolist()

    def summary(self) -> Summary:
        """The table as a :class:`~impact.summary.Summary`."""
        return Summary(title=f"Robustness: {self.estimator}", tables={"robustness": self.table})

    def __str__(self) -> str:
        title = f"Robustness: {self.estimator}"
        return "\n".join([title, "=" * len(title), *(f"- {f}" for f in self.findings)])

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def robustness(
    result: ImpactResult,
    *,
    alpha: float | None = None,
    target: str | int = "first",
    sensitivity: bool = True,
) -> Robustness:
    """Summarise how robust ``result``'s conclusion is to its assumption failing.

    Parameters
    ----------
    result : ImpactResult
        Any fitted result.
    alpha : float, optional
        Level of the robust sets and the pre-test power; the result's own by default.
    target : {"first", "average"} or int, default "first"
        For event-study-shaped results, the post-period effect the breakdown values
        concern (event time 0, the average of post-periods, or an event time).
    sensitivity : bool, default True
        Compute the Rambachan-Roth breakdown values (a few seconds for a long event
        study); False keeps the quick findings only.

    Returns
    -------
    Robustness

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.5, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> report = robustness(impact.EventStudy(inference="cr1").fit(panel))
    >>> report.table["aspect"].tolist()[:2]
    ['breakdown Mbar (relative magnitudes)', 'breakdown M (smoothness)']
    """
    from impact.sensitivity.results import is_result

    if not is_result(result):
        raise DesignError(f"expected a fitted result, got {type(result).__name__}")
    settings: Mapping[str, Any] = result.settings
    level = float(settings.get("alpha", ALPHA) if alpha is None else alpha)
    rows: list[dict[str, Any]] = []
    rows += _event_study_rows(result, level, target, sensitivity)
    rows += _matching_rows(result)
    rows += _synthetic_rows(result)
    rows += _its_rows(result, level)
    if not rows:
        rows.append(_row("design sensitivity", math.nan, _no_sensitivity(result)))
    rows += _cluster_rows(settings)
    return Robustness(estimator=result.estimator, table=pd.DataFrame(rows, columns=COLUMNS))


def _row(aspect: str, value: float, finding: str) -> dict[str, Any]:
    return {"aspect": aspect, "value": float(value), "finding": finding}


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "any size" if x > 0 else str(x)
    return f"{x:.3g}"


def _event_study_rows(
    result: ImpactResult, alpha: float, target: str | int, sensitivity: bool
) -> list[dict[str, Any]]:
    from impact.sensitivity.honest import original_interval
    from impact.sensitivity.results import breakdown, event_study_inputs

    try:
        inputs = event_study_inputs(result)
    except ImpactError as error:
        if "event_time" not in result.effects.columns:
            return _pretest_only(result)
        # event-time estimates that the robust sets cannot use: say why (the pre-test's
        # power still reads a varying base period's estimates)
        return [
            _row("design sensitivity", math.nan, f"No sensitivity bound: {error}"),
            *_pretest_only(result),
            *_power_rows(result, alpha),
        ]
    rows = []
    where = _target_words(target)
    first = original_interval(**inputs.arrays(), target=target, alpha=alpha).iloc[0]
    lower, upper = float(first["lb"]), float(first["ub"])
    if lower <= 0 <= upper:
        rows.append(
            _row(
                "breakdown Mbar (relative magnitudes)",
                0.0,
                f"The effect {where} is not distinguishable from zero even if trends are "
                "exactly parallel, so no departure from parallel trends is needed to "
                "overturn it.",
            )
        )
    elif sensitivity:
        sign = "positive" if lower > 0 else "negative"
        mbar = breakdown(result, restriction="relative_magnitudes", target=target, alpha=alpha)
        m = breakdown(result, restriction="smoothness", target=target, alpha=alpha)
        rows.append(
            _row(
                "breakdown Mbar (relative magnitudes)",
                mbar,
                f"The effect {where} stays {sign} unless the post-programme departure "
                f"from parallel trends is more than {_number(mbar)} times the largest "
                "pre-programme one (Rambachan and Roth 2023).",
            )
        )
        rows.append(
            _row(
                "breakdown M (smoothness)",
                m,
                f"It also stays {sign} unless the trend gap between the groups bends by "
                f"more than {_number(m)} outcome units per period, period after period.",
            )
        )
    return rows + _pretest_only(result) + _power_rows(inputs, alpha)


def _power_rows(source, alpha: float) -> list[dict[str, Any]]:
    """The slope of a linear divergence the pre-test detects with 80% (50%) power."""
    from impact.sensitivity.pretrends import pretrend_power

    try:
        power = pretrend_power(source, alpha=alpha)
    except ImpactError:
        return []
    slope80 = float(power.slopes.get(0.8, math.nan))
    slope50 = float(power.slopes.get(0.5, math.nan))
    return [
        _row(
            "pre-trend slope detected with 80% power",
            slope80,
            f"The pre-trend test would detect a linear divergence of {_number(slope80)} "
            f"per period with 80% power (half the time at {_number(slope50)}); smaller "
            "violations can pass it unnoticed, and passing it makes the estimates "
            "lean further towards the violation (Roth 2022).",
        )
    ]


def _its_rows(result: ImpactResult, alpha: float) -> list[dict[str, Any]]:
    """Breakdown bends of an interrupted time series' extrapolated trend (level and att)."""
    from impact.sensitivity.its import its_breakdown

    if result.settings.get("interruption_periods") is None:
        return []
    rows = []
    for term, words in (("level_change", "the level change"), ("att", "the average effect")):
        try:
            m = its_breakdown(result, term=term, alpha=alpha)
        except ImpactError as error:
            return [_row("design sensitivity", math.nan, f"No trend-sensitivity bound: {error}")]
        if m == 0:
            finding = (
                f"{words.capitalize()} is not distinguishable from zero even if the "
                "pre-programme trend would have continued exactly."
            )
        else:
            finding = (
                f"{words.capitalize()} stays away from zero unless, without the programme, "
                f"the trend's slope would have changed by more than {_number(m)} outcome "
                "units per period, period after period (a bend of the extrapolated trend)."
            )
        rows.append(_row(f"breakdown M of the trend ({term})", m, finding))
    return rows


def _no_sensitivity(result: ImpactResult) -> str:
    """What to do when the result carries nothing a sensitivity analysis can read."""
    if result.settings.get("interruption_periods") is not None:
        return (
            "An interrupted time series extrapolates the pre-programme trend; this summary "
            "computes no bound on how far that trend may bend, so check the fit before "
            "the programme and prefer a comparison series (a controlled ITS)."
        )
    return (
        "This result carries no event-time estimates to test parallel trends against; fit "
        "an event study (EventStudy) or a dynamic staggered aggregation for a "
        "sensitivity analysis."
    )


def _target_words(target: str | int) -> str:
    if target == "first":
        return "in the first period of the programme"
    if target == "average":
        return "averaged over the post-programme periods"
    return f"at event time {target}"


def _pretest_only(result: ImpactResult) -> list[dict[str, Any]]:
    table = result.diagnostics.get("pretrend_test")
    if table is None or len(table) == 0 or "p_value" not in table:
        return []
    p = float(table["p_value"].iloc[0])
    if not math.isfinite(p):
        return []
    verdict = (
        "finds no significant difference in pre-programme trends"
        if p >= 0.05
        else "finds pre-programme trends that differ: parallel trends is doubtful"
    )
    return [_row("pre-trend test p-value", p, f"The pre-trend test (p = {p:.3g}) {verdict}.")]


def _matching_rows(result: ImpactResult) -> list[dict[str, Any]]:
    table = result.diagnostics.get("sensitivity_summary")
    if table is None or "quantity" not in table:
        return []
    values = dict(zip(table["quantity"], table["value"], strict=False))
    rows = []
    gamma = float(values.get("critical_gamma", math.nan))
    if math.isfinite(gamma):
        finding = (
            "The matched comparison is not significant even without hidden bias (critical "
            "Gamma 1), so no confounder is needed to overturn it."
            if gamma <= 1
            else f"A hidden confounder would have to change the odds of taking part by a "
            f"factor of {_number(gamma)} between matched units to make the effect "
            "non-significant (Rosenbaum bounds)."
        )
        rows.append(_row("critical Gamma (Rosenbaum)", gamma, finding))
    e_value = float(values.get("e_value", math.nan))
    if math.isfinite(e_value):
        e_ci = float(values.get("e_value_ci", math.nan))
        rows.append(
            _row(
                "E-value",
                e_value,
                f"To explain the effect away, a confounder would need to be associated with "
                f"both taking part and the outcome by a risk ratio of {_number(e_value)}"
                + (
                    f" ({_number(e_ci)} to move the confidence limit to no effect)."
                    if math.isfinite(e_ci)
                    else "."
                ),
            )
        )
    return rows


def _synthetic_rows(result: ImpactResult) -> list[dict[str, Any]]:
    """Pre-period fit and placebo rank, for results that store them (synthetic comparisons).

    ``diagnostics["treated_units"]`` (synthetic control: each treated unit's pre- and
    post-period RMSPE, their ratio and its placebo rank p-value) or
    ``diagnostics["fit"]`` (synthetic DiD: each cohort's pre-period RMSPE relative to
    the outcome's standard deviation).
    """
    rows = []
    units = result.diagnostics.get("treated_units")
    if units is not None and {"pre_rmspe", "p_value"} <= set(units.columns):
        spread = _outcome_spread(result)
        worst = float(units["pre_rmspe"].max())
        if math.isfinite(spread) and spread > 0:
            ratio = worst / spread
            rows.append(
                _row(
                    "pre-period RMSPE / outcome SD",
                    ratio,
                    f"Before the programme the synthetic comparison misses the treated "
                    f"unit by {_number(ratio)} standard deviations of the outcome (root mean "
                    "square)"
                    + (
                        "; a fit this loose leaves the estimate open to doubt."
                        if ratio > 0.25
                        else "."
                    ),
                )
            )
        p = float(units["p_value"].max())
        if math.isfinite(p):
            n = int(units["placebos_used"].min()) if "placebos_used" in units else None
            among = f" among {n + 1} units" if n is not None else ""
            tail = (
                "few placebo units show a gap as large."
                if p <= 0.1
                else "placebo units often show gaps as large, so the effect may be noise."
            )
            rows.append(
                _row(
                    "placebo rank p-value",
                    p,
                    f"The post/pre fit ratio ranks with a permutation p-value of "
                    f"{p:.3g}{among}: {tail}",
                )
            )
    fit = result.diagnostics.get("fit")
    if fit is not None and "relative_rmspe" in fit:
        ratio = float(fit["relative_rmspe"].max())
        rows.append(
            _row(
                "pre-period RMSPE / outcome SD",
                ratio,
                f"Before the programme the weighted comparison tracks the treated units "
                f"within {_number(ratio)} standard deviations of the outcome"
                + (
                    "; a fit this loose leaves the estimate open to doubt." if ratio > 0.25 else "."
                ),
            )
        )
    return rows


def _outcome_spread(result: ImpactResult) -> float:
    """The treated units' outcome spread before the programme (as the hull check uses)."""
    units = result.diagnostics.get("unit_paths")
    if units is None or not {"observed", "event_time"} <= set(units.columns):
        return math.nan
    pre = np.asarray(units.loc[units["event_time"] < 0, "observed"], dtype=float)
    return float(np.std(pre, ddof=1)) if pre.size > 1 else math.nan


def _cluster_rows(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    used = settings.get("inference_used")
    treated = settings.get("n_treated_clusters")
    control = settings.get("n_control_clusters")
    if used is None or treated is None or control is None:
        return []
    treated, control = int(treated), int(control)
    few = min(treated, control)
    counts = f"{treated} treated and {control} comparison clusters"
    if few < FEW_CLUSTERS:
        reason = settings.get("inference_reason")
        if settings.get("inference") == "auto" and reason:
            finding = f"Only {counts}: inference='auto' chose {used} ({reason})."
        elif used in ("cr1", "hc1", "iid", "analytic"):
            finding = (
                f"Only {counts}, yet the intervals come from {used}, which over-rejects "
                "with fewer than 12 on either side: prefer inference='auto'."
            )
        else:
            finding = (
                f"Only {counts}: the intervals come from {used}, which is built for few "
                "clusters; conventional cluster-robust errors would be too narrow."
            )
    else:
        finding = f"Inference by {used} with {counts}: enough for cluster-robust errors."
    return [_row("clusters on the smaller side", float(few), finding)]
