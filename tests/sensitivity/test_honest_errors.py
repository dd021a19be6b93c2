"""Typed errors naming the value at fault."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact.exceptions import DesignError
from impact.sensitivity import (
    breakdown,
    event_study_inputs,
    identified_set,
    robust_confidence_sets,
)

BETA = np.array([0.01, -0.005, 0.002, 0.05, 0.06])
SIGMA = np.diag([0.01, 0.01, 0.01, 0.012, 0.014]) ** 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_pre": 2}, r"betahat has 5 coefficients but n_pre \+ n_post = 4"),
        ({"n_pre": 0, "n_post": 5}, r"n_pre=0 must be a positive integer"),
        ({"M": [0.5, -1.0]}, r"M=\[0.5, -1.0\] must be finite non-negative"),
        ({"restriction": "linear"}, r"restriction='linear' is not valid"),
        ({"method": "bootstrap"}, r"method='bootstrap' is not valid"),
        ({"method": "FLCI"}, r"method='FLCI' applies to the smoothness restriction only"),
        ({"restriction": "sd", "method": "FLCI", "sign": "positive"}, r"ignores sign"),
        ({"target": 2}, r"target=2 is not a post-period event time"),
        ({"target": [1.0, 0.0, 0.0]}, r"must hold 2 finite weights"),
        ({"target": "last"}, r"target='last' is not valid"),
        ({"alpha": 1.5}, r"alpha=1.5 must lie strictly between 0 and 1"),
        ({"sign": "up"}, r"sign='up' is not valid"),
        ({"monotonic": "flat"}, r"monotonic='flat' is not valid"),
        ({"grid_points": 3}, r"grid_points=3 must be an integer of at least 10"),
    ],
)
def test_bad_arguments_raise_design_errors(kwargs, match):
    arguments = {"n_pre": 3, "n_post": 2, **kwargs}
    with pytest.raises(DesignError, match=match):
        robust_confidence_sets(BETA, SIGMA, **arguments)


def test_bad_covariances_are_named():
    with pytest.raises(DesignError, match=r"sigma has shape \(4, 4\)"):
        robust_confidence_sets(BETA, SIGMA[:4, :4], n_pre=3, n_post=2)
    bad = SIGMA.copy()
    bad[0, 1] = 1.0
    with pytest.raises(DesignError, match="not symmetric"):
        robust_confidence_sets(BETA, bad, n_pre=3, n_post=2)
    bad = SIGMA.copy()
    bad[2, 2] = 0.0
    with pytest.raises(DesignError, match=r"zero or negative variance at position\(s\) \[2\]"):
        robust_confidence_sets(BETA, bad, n_pre=3, n_post=2)
    with pytest.raises(DesignError, match=r"missing or infinite value at position\(s\) \[1\]"):
        robust_confidence_sets([0.0, np.nan, 0.0, 1.0, 1.0], SIGMA, n_pre=3, n_post=2)


def test_combined_restriction_needs_two_pre_periods():
    with pytest.raises(DesignError, match=r"at least 2 pre-period.*n_pre=1"):
        identified_set([0.1, 1.0], n_pre=1, n_post=1, restriction="sdrm")


def _frame(n_units=30, n_periods=7, adoption=4, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"u": np.repeat(np.arange(n_units), n_periods),
                       "t": np.tile(np.arange(n_periods), n_units)})  # fmt: skip
    df["d"] = ((df.u < n_units // 2) & (df.t >= adoption)).astype(int)
    df["y"] = df.u * 0.1 + df.t + df.d + rng.normal(0, 0.1, len(df))
    return df


def _panel(df):
    return impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")


def test_results_without_event_times_or_covariance_are_refused():
    did = impact.DifferenceInDifferences().fit(_panel(_frame()))
    with pytest.raises(DesignError, match="no event-time estimates"):
        event_study_inputs(did)
    result = impact.EventStudy().fit(_panel(_frame()))
    stripped = impact.ImpactResult(estimator="event_study", effects=result.effects,
                                   n_obs=result.n_obs, n_units=result.n_units)  # fmt: skip
    with pytest.raises(DesignError, match=r"stores no covariance.*event_covariance"):
        breakdown(stripped)
    with pytest.raises(DesignError, match="expected an ImpactResult"):
        event_study_inputs({"betahat": BETA})


def test_event_studies_normalised_elsewhere_or_binned_are_refused():
    panel = _panel(_frame())
    with pytest.raises(DesignError, match=r"not normalised at event time -1.*reference=-2"):
        event_study_inputs(impact.EventStudy(reference=-2).fit(panel))
    with pytest.raises(DesignError, match=r"\['e=-2'\] pool several periods"):
        event_study_inputs(impact.EventStudy(leads=2).fit(panel))


def test_staggered_results_need_a_universal_base_period():
    df = _frame(n_units=45)
    df["d"] = ((df.u < 15) & (df.t >= 3) | (df.u >= 15) & (df.u < 30) & (df.t >= 5)).astype(int)
    panel = _panel(df)
    varying = impact.StaggeredDiD().fit(panel).aggregate("dynamic")
    with pytest.raises(DesignError, match="base_period='universal'"):
        event_study_inputs(varying)
    universal = impact.StaggeredDiD(base_period="universal").fit(panel).aggregate("dynamic")
    inputs = event_study_inputs(universal)
    assert inputs.event_times[0] < -1 and -1 not in inputs.event_times
    effects = universal.effects.set_index("term")
    assert np.sqrt(np.diag(inputs.sigma)) == pytest.approx(
        effects.loc[[f"e={e}" for e in inputs.event_times], "std_error"].to_numpy()
    )


def test_staggered_matched_did_is_refused_with_the_reason():
    # its group-time cells use a varying base period, and its pre-periods are matched on
    df = _frame(n_units=90, n_periods=8)
    df["d"] = ((df.u < 20) & (df.t >= 4) | (df.u >= 20) & (df.u < 40) & (df.t >= 6)).astype(int)
    with pytest.warns(impact.exceptions.InferenceWarning):
        result = impact.MatchedDiD(pre_periods=2).fit(_panel(df))
    with pytest.raises(DesignError, match=r"matched on.*base_period='universal'"):
        event_study_inputs(result.aggregate("dynamic"))
