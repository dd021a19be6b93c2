"""Sensitivity of conclusions to violations of the identifying assumption.

What lives here:

- :mod:`~impact.sensitivity.honest`: Rambachan and Roth (2023) confidence sets for
  event-study results under restricted violations of parallel trends (relative
  magnitudes, smoothness, their combination, sign and monotonicity), the fixed-length
  and conditional/hybrid (Andrews, Roth and Pakes) sets, and breakdown values, on
  arrays of coefficients and their covariance;
- :mod:`~impact.sensitivity.results`: the same read from a fitted
  :class:`~impact.ImpactResult` carrying event-time estimates and their covariance
  (``EventStudy``, ``StaggeredDiD(...).aggregate("dynamic")``, staggered matched DiD);
- :mod:`~impact.sensitivity.pretrends`: the power of pre-trend tests against linear
  violations and the bias that passing them leaves (Roth 2022);
- :mod:`~impact.sensitivity.its`: how far an interrupted time series' extrapolated
  trend may bend before its effects fade (bias-aware intervals, breakdown bends);
- :mod:`~impact.sensitivity.robustness`: :func:`impact.robustness`, every design's
  sensitivity, the pre-test's power and the few-cluster status in one summary.

Layering: this package reads results. It may import :mod:`impact.inference`,
:mod:`impact.result`, :mod:`impact.exceptions`, the shared default ``alpha``
(``impact._defaults``) and numpy/scipy/pandas only; never an estimator, the plotting
or the report modules (the plot of these tables lives in the plotting layer,
:mod:`impact.plotting.sensitivity`). Estimators that want their results read here
store ``diagnostics["event_covariance"]`` (a ``term`` column and one column per
event-time term).
"""

from impact.sensitivity.honest import (
    breakdown_value,
    identified_set,
    original_interval,
    robust_confidence_sets,
    target_vector,
)
from impact.sensitivity.its import its_breakdown, its_sensitivity
from impact.sensitivity.pretrends import (
    PretrendPower,
    linear_violation,
    pretest_power,
    pretrend_power,
    slope_for_power,
)
from impact.sensitivity.results import (
    EventStudyInputs,
    breakdown,
    event_study_inputs,
    honest_sensitivity,
    pretest_inputs,
)

__all__ = [
    "EventStudyInputs",
    "PretrendPower",
    "breakdown",
    "breakdown_value",
    "event_study_inputs",
    "honest_sensitivity",
    "identified_set",
    "its_breakdown",
    "its_sensitivity",
    "linear_violation",
    "original_interval",
    "pretest_inputs",
    "pretest_power",
    "pretrend_power",
    "robust_confidence_sets",
    "slope_for_power",
    "target_vector",
]
