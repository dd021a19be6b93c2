"""The interrupted time series family: segmented regression of a series or a panel.

Comparison series, phase-in, seasonality and counts are options of one estimator.

- :mod:`~impact.estimators.its.interrupted_time_series`: :class:`InterruptedTimeSeries`;
- ``_design`` (the segmented design matrix), ``_aggregate`` (the single-series engine),
  ``_fit`` (the model fit and its autocorrelation-robust inference), ``_effects``
  (effect paths), ``_pooled`` (the pooled panel fit with comparison series);
- :mod:`~impact.estimators.its.diagnostics`: residual autocorrelation and specification
  diagnostics.

Layer: a design family. It may import :mod:`impact.estimators._base`, the registry,
:mod:`impact.result`, :mod:`impact.inference`, :mod:`impact.panel` and the bottom
helpers; never a sibling family, plotting, reports, simulations or the command line.
"""

from impact.estimators.its.interrupted_time_series import InterruptedTimeSeries

__all__ = ["InterruptedTimeSeries"]
