"""Synthetic cohorts with a known truth, and a Monte Carlo harness to validate estimators.

- :class:`Scenario` describes a study (schools, years, who is treated and when, the
  outcome model, the effect and its profile, spillover, attrition), with presets;
- :func:`simulate` draws a :class:`SimulatedPanel`: the Panel, the full data with the
  potential outcome ``y0`` and effect ``tau``, and the ``truth`` as a tidy table of
  terms (see :mod:`impact.simulations.terms`).
"""

from impact.simulations.scenario import Scenario
from impact.simulations.simulate import TRUTH_COLUMNS, SimulatedPanel, simulate
from impact.simulations.terms import calendar_term, event_term, group_term, group_time_term

__all__ = [
    "TRUTH_COLUMNS",
    "Scenario",
    "SimulatedPanel",
    "calendar_term",
    "event_term",
    "group_term",
    "group_time_term",
    "simulate",
]
