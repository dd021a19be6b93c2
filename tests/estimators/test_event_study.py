"""EventStudy: the TWFE dynamic regression, and why StaggeredDiD is needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import DesignError, EventStudy, Panel, StaggeredDiD
from impact.exceptions import InferenceWarning
from impact.inference.regression import within_regression
from tests.conftest import make_did_frame
from tests.estimators.staggered_data import make_staggered_frame


def to_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort")


def static_twfe(frame: pd.DataFrame) -> float:
    """The static two-way fixed effects coefficient on the treatment dummy."""
    periods = pd.get_dummies(frame["time"], drop_first=True).to_numpy(float)
    names = ["d", *(f"period[{j}]" for j in range(periods.shape[1]))]
    fit = within_regression(
        frame["y"].to_numpy(),
        np.column_stack([frame["d"], periods]),
        names,
        unit_codes=pd.factorize(frame["unit"])[0],
    )
    return float(fit.params["d"])


def test_staggered_did_recovers_dynamic_effects_while_static_twfe_does_not():
    # Hand-built panel: cohorts adopting in 2003 and 2006, nothing on impact, then the
    # effect grows by 1 each period after adoption (truth in the frame's `truth`).
    frame = make_staggered_frame(n_units=300, cohorts=(2, 5), share_never=0.2, seed=0)
    result = StaggeredDiD().fit(to_panel(frame))
    dynamic = result.aggregate("dynamic").effects.dropna(subset=["event_time"])
    truth = np.maximum(dynamic["event_time"].to_numpy(), 0.0)
    assert np.all(np.abs(dynamic["estimate"] - truth) < 4 * dynamic["std_error"] + 0.01)
    true_att = frame.loc[frame["d"] == 1, "truth"].mean()  # 2.0
    assert result.att.estimate == pytest.approx(true_att, abs=0.05)
    twfe = static_twfe(frame)
    # TWFE uses already-treated units (whose effects keep growing) as comparisons
    assert twfe < 0.5 * true_att
    assert abs(twfe - true_att) > 1.0


def test_saturated_event_study_equals_two_by_two_comparisons_with_one_adoption_date():
    # With one adoption date, a balanced panel and never-treated units, each event-time
    # coefficient is exactly the DiD of that period against the reference period:
    # the universal-base ATT(g,t) of the staggered estimator.
    frame = make_did_frame(n_units=40, n_periods=7, adoption=4, seed=3)
    frame["cohort"] = np.where(frame["unit"] < 20, 2005, 0)
    panel = to_panel(frame)
    study = EventStudy().fit(panel).effects.dropna(subset=["event_time"])
    cs = StaggeredDiD(base_period="universal").fit(panel).effects.dropna(subset=["group"])
    np.testing.assert_allclose(study["estimate"], cs["estimate"], atol=1e-10)
    assert study.loc[study.event_time == -1, "estimate"].item() == 0.0


def test_binned_endpoints_pool_distant_event_times():
    frame = make_staggered_frame(n_units=200, cohorts=(2, 5), seed=1)
    result = EventStudy(leads=2, lags=2).fit(to_panel(frame))
    rows = result.effects.dropna(subset=["event_time"])
    assert rows["event_time"].tolist() == [-2, -1, 0, 1, 2]
    assert rows.set_index("event_time")["binned"].to_dict() == {
        -2: True,
        -1: False,
        0: False,
        1: False,
        2: True,
    }
    dropped = EventStudy(leads=2, lags=2, bin_endpoints=False).fit(to_panel(frame))
    assert dropped.n_obs < result.n_obs
    att = result.att
    post = rows[rows.event_time >= 0]["estimate"].mean()
    assert att.estimate == pytest.approx(post)


def test_leads_and_lags_beyond_the_data_keep_every_observed_event_time():
    frame = make_staggered_frame(n_units=60, cohorts=(2, 5), seed=1)
    default = EventStudy().fit(to_panel(frame)).effects
    wide = EventStudy(leads=10**9, lags=10**9).fit(to_panel(frame)).effects
    assert wide["term"].tolist() == default["term"].tolist()
    np.testing.assert_allclose(wide["estimate"], default["estimate"])


def test_joint_pretrend_test_detects_diverging_trends():
    frame = make_staggered_frame(n_units=200, cohorts=(4,), seed=2)
    clean = EventStudy().fit(to_panel(frame)).diagnostics["pretrend_test"].iloc[0]
    assert clean["df"] == 3
    assert clean["p_value"] > 0.001
    treated = frame["cohort"] > 0
    frame.loc[treated, "y"] += 0.2 * (frame.loc[treated, "time"] - 2001)
    trended = EventStudy().fit(to_panel(frame)).diagnostics["pretrend_test"].iloc[0]
    assert trended["p_value"] < 1e-6


def test_event_study_rejects_invalid_settings():
    with pytest.raises(DesignError, match="reference"):
        EventStudy(reference=0)
    with pytest.raises(DesignError, match="leads"):
        EventStudy(leads=-1)
    with pytest.raises(DesignError, match="outside"):
        EventStudy(leads=2, reference=-3)


def test_pretrend_test_with_a_singular_lead_covariance_uses_its_rank():
    # four units, one treated and observed in every year, attrition elsewhere: the two
    # leads' covariance has rank 1 (found by running every estimator on simulated
    # panels; the test used to stop with numpy's "Singular matrix")
    frame = pd.DataFrame(
        {
            "unit": [1, 1, 2, 2, 2, 2, 3, 4, 4, 4, 4],
            "time": [2001, 2002, 2001, 2002, 2003, 2004, 2001, 2001, 2002, 2003, 2004],
            "y": [15.0, 19, 224, 3, 41, 24, 14, 0, 155, 147, 1235],
            "d": [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(InferenceWarning, match="rank 1: the pre-trend test has 1 degree"):
        result = EventStudy(inference="cr1").fit(panel)
    test = result.diagnostics["pretrend_test"].iloc[0]
    assert test["df"] == 1 and np.isfinite(test["statistic"]) and 0 <= test["p_value"] <= 1
    leads = result.effects.set_index("term").loc[["e=-3", "e=-2"]]
    assert np.isclose(leads["std_error"].iloc[0], leads["std_error"].iloc[1])
