"""A shift of the outcome leaves the zero-standard-error rule alone (issue 14, item 3).

The rule that reports a standard error as zero up to rounding (interval and p-value
NaN, see impact.inference.wald) was relative to the outcome's largest absolute value,
so ``1e12 + data`` with noise of about 1 had its genuine standard errors declared zero
(did, matching, its), its comparison declared constant (matched_did) and its staggered
standard errors NaN. The rule is now relative to the outcome's spread, floored by the
rounding of its level; the Panel warns when the outcome keeps fewer than three digits
of variation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact import Panel
from impact.exceptions import DataWarning, InferenceWarning
from impact.inference.wald import ZERO_SE_RTOL, outcome_scale, undefined_se
from tests.conftest import make_did_frame
from tests.estimators.test_degenerate import assert_undefined_or_refused, fit_recording

ESTIMATORS = impact.available_estimators()
UNDEFINED = "are undefined and reported as NaN"
COLUMNS = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]


def reviewed_frame() -> pd.DataFrame:
    """The review's panel: 30 units, 6 periods, 10 treated from period 4, noise of 1."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(30):
        treated, level = u < 10, rng.normal()
        for t in range(1, 7):
            on = treated and t >= 4
            rows.append(dict(u=u, t=t, d=int(on), z=level + 0.3 * t + 2 * on + rng.normal()))
    return pd.DataFrame(rows)


def fit_shifted(name: str, frame: pd.DataFrame, shift: float):
    panel = Panel.from_frame(
        frame.assign(y=shift + frame["z"]), unit="u", time="t", outcome="y", treated="d"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = impact.get_estimator(name).fit(panel)
    return result, [w for w in caught if issubclass(w.category, InferenceWarning | DataWarning)]


@pytest.fixture(scope="module")
def unshifted() -> dict[str, pd.DataFrame]:
    frame = reviewed_frame()
    return {
        name: fit_shifted(name, frame, 0.0)[0].effects.set_index("term")[COLUMNS]
        for name in ESTIMATORS
    }


@pytest.mark.parametrize("shift", [1e6, 1e9, 1e12])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_shifted_outcome_keeps_its_standard_errors(name, shift, unshifted):
    # the review's reproducer: at 1e12 did, matching and its gave "SE 0; CI nan",
    # matched_did said the comparison units' outcome never varies, staggered_did gave
    # a NaN standard error
    result, caught = fit_shifted(name, reviewed_frame(), shift)
    assert not [str(w.message) for w in caught if UNDEFINED in str(w.message)]
    assert not [w for w in caught if issubclass(w.category, DataWarning)]
    att = result.att
    assert np.isfinite(att.std_error) and att.std_error > 0
    assert np.isfinite(att.p_value)  # (a wild bootstrap p-value may be 0 here)
    # the stored data differ from the unshifted ones by up to half a unit in the last
    # place of the shift (6e-5 at 1e12, against noise of 1): that, not the rule, bounds
    # the agreement (measured: standard errors within 3e-5 relative at 1e12, estimates
    # and bounds within 1e-3 standard errors, matching's bias correction the worst)
    stored = max(float(np.spacing(shift)), 1e-10)
    base = unshifted[name]
    effects = result.effects.set_index("term")[COLUMNS].loc[base.index]
    se = base["std_error"].to_numpy()
    defined = np.isfinite(se) & (se > 0)
    assert (effects["std_error"].isna() | (effects["std_error"] == 0)).eq(~defined).all()
    got, want = effects[defined], base[defined]
    np.testing.assert_allclose(got["std_error"], want["std_error"], rtol=stored, atol=0)
    for column in ("estimate", "ci_lower", "ci_upper"):
        gap = np.abs(got[column] - want[column]) / want["std_error"]
        assert (gap <= 10 * stored).all(), (column, gap.max())
    np.testing.assert_allclose(got["p_value"], want["p_value"], rtol=0, atol=10 * stored)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("case", ["constant", "noise_free", "constant_comparison"])
def test_degenerate_outcomes_far_from_zero_still_have_no_interval(name, case):
    # a shift must not turn rounding into a standard error either: a constant outcome
    # at 1e12 + 0.1 leaves residuals of about 1e-4 (the mean of equal values rounds)
    shift = 1e12
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=0.5)
    if case == "constant":
        frame = frame.assign(y=shift + 0.1)
    elif case == "noise_free":
        additive = 0.37 * frame["unit"] + 0.91 * frame["time"] + 2.0 * frame["d"]
        frame = frame.assign(y=shift + additive)
    else:
        frame = frame.assign(y=np.where(frame["unit"] >= 10, shift + 4.1, shift + frame["y"]))
    assert_undefined_or_refused(*fit_recording(name, frame))


@pytest.mark.parametrize("shift", [0.0, 1e9])
def test_an_outcome_varying_in_one_comparison_cell_has_a_standard_error(shift):
    # the spread is the range, not a robust spread (a median absolute deviation is 0
    # here): one comparison cell that moves is genuine residual variation
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3).assign(y=shift + 5.0)
    frame.loc[(frame["unit"] == 15) & (frame["time"] == 2004), "y"] = shift + 6.0
    result, messages = fit_recording("did", frame)
    assert not [m for m in messages if UNDEFINED in m]
    assert result.att.std_error > 0 and 0 < result.att.p_value < 1


def test_the_panel_warns_when_rounding_eats_the_outcome_s_variation():
    frame = reviewed_frame()
    for shift, lost in ((1e12, False), (1e15, True)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Panel.from_frame(
                frame.assign(y=shift + frame["z"]), unit="u", time="t", outcome="y", treated="d"
            )
        messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
        assert bool([m for m in messages if "subtract a baseline" in m]) == lost, messages
        if lost:
            assert "outcome column 'y'" in messages[0]
    with warnings.catch_warnings():  # a constant outcome is the estimators' to report
        warnings.simplefilter("error", DataWarning)
        Panel.from_frame(frame.assign(y=1e15), unit="u", time="t", outcome="y", treated="d")


def test_outcome_scale_is_the_range_floored_by_the_level():
    assert outcome_scale([3.0, 5.0, 4.0]) == 2.0
    assert outcome_scale([5.0, 5.0, 5.0, 6.0]) == 1.0  # constant except in one cell
    assert outcome_scale([5.0, 5.0]) == pytest.approx(5e-2)  # rounding of values of 5
    assert outcome_scale([np.nan]) == 0.0
    # a change (post - pre) keeps the rounding of the levels it was computed from
    assert outcome_scale([0.5, 2.5], level=1e12) == pytest.approx(1e10)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    values=st.lists(
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=2, max_size=12
    ).filter(lambda v: max(v) - min(v) > 1e-3),
    fraction=st.floats(-1.0, 1.0),
    exponent=st.integers(-6, 12),
)
def test_the_zero_rule_ignores_shifts_of_up_to_fifty_times_the_spread(values, fraction, exponent):
    # within a hundred spreads of zero the scale is the range alone, whatever the units
    y = np.asarray(values) * 10.0**exponent
    spread = float(np.ptp(y))
    if np.abs(y).max() > 50 * spread:
        y = y - y.mean()  # keep the unshifted values themselves near zero
    shifted = y + fraction * 50 * spread
    assert outcome_scale(shifted) == pytest.approx(outcome_scale(y), rel=1e-9)
    for factor, zero in ((0.5, True), (2.0, False)):
        se = factor * ZERO_SE_RTOL * outcome_scale(y)
        assert bool(undefined_se(se, outcome_scale(shifted))) is zero
