"""Every registered estimator on any simulated panel: a result or a clear, typed error.

The simulator draws panels an evaluator may meet (few units, attrition, counts, binary
outcomes, staggered cohorts, spillovers); on each, an estimator either fits or raises
one of the package's own errors that says what is wrong. A bare error from numpy,
scipy or statsmodels is a defect. Running this over many draws found NaN outcomes of
attrited units reaching the matching estimate, a singular pre-trend covariance, and
zero-scale E-values.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import impact
from impact.exceptions import ImpactError
from impact.simulations import simulate
from tests.simulations.test_simulate import scenarios

ESTIMATORS = {
    **{name: impact.get_estimator(name) for name in impact.available_estimators()},
    "did[twfe]": impact.DifferenceInDifferences(design="twfe"),
    "matching[cem]": impact.MatchedComparison(method="cem"),
    "matched_did[cem]": impact.MatchedDiD(method="cem"),
    "matching[mahalanobis]": impact.MatchedComparison(distance="mahalanobis", replace=True),
    "matching[weighting]": impact.MatchedComparison(method="weighting"),
    "staggered[ipw,nyt]": impact.StaggeredDiD(method="ipw", control="not_yet_treated"),
}


@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
def test_every_estimator_fits_or_raises_a_typed_error(scenario, seed):
    sim = simulate(scenario, seed=seed)
    for name, estimator in ESTIMATORS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = estimator.fit(sim.panel)
            except ImpactError:
                continue
        att = result.effects.set_index("term").loc["att"]
        assert np.isfinite(att["estimate"]), f"{name}: att is {att['estimate']}"
        assert not att["std_error"] < 0, name
