"""Synthetic cohorts with a known truth, and a Monte Carlo harness to validate estimators.

- :class:`Scenario` describes a study (schools, years, who is treated and when, the
  outcome model, the effect and its profile, spillover, attrition), with presets;
- :func:`simulate` draws a :class:`SimulatedPanel`: the Panel, the full data with the
  potential outcome ``y0`` and effect ``tau``, and the ``truth`` as a tidy table of
  terms (see :mod:`impact.terms`);
- :func:`monte_carlo` fits estimators to many draws (serially, in local worker
  processes or on a Dask cluster, with identical results) and returns a
  :class:`ValidationReport` of bias, RMSE, coverage and rejection rates;
- :func:`power_curve` and :func:`minimum_detectable_effect` size a study by simulation;
  :func:`plot_power` and :func:`plot_validation` draw them (from
  :mod:`impact.plotting.simulations`).

Layer: above the estimators and plotting (it runs estimators by name through the
registry and draws with :mod:`impact.plotting`); below datasets, reports, the demo and
the command line. Independent of :mod:`impact.economics`.
"""

from impact.plotting.simulations import plot_power, plot_validation
from impact.simulations.monte_carlo import REPORT_COLUMNS, ValidationReport, monte_carlo
from impact.simulations.power import (
    POWER_COLUMNS,
    MinimumDetectableEffect,
    minimum_detectable_effect,
    power_curve,
)
from impact.simulations.scenario import Scenario
from impact.simulations.simulate import TRUTH_COLUMNS, SimulatedPanel, simulate
from impact.terms import calendar_term, event_term, group_term, group_time_term

__all__ = [
    "POWER_COLUMNS",
    "REPORT_COLUMNS",
    "TRUTH_COLUMNS",
    "MinimumDetectableEffect",
    "Scenario",
    "SimulatedPanel",
    "ValidationReport",
    "calendar_term",
    "event_term",
    "group_term",
    "group_time_term",
    "minimum_detectable_effect",
    "monte_carlo",
    "plot_power",
    "plot_validation",
    "power_curve",
    "simulate",
]
