"""MatchedDiD: bias removed where plain DiD fails, inference variants, design errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DesignError, MatchedDiD, Panel
from impact.exceptions import DesignWarning
from tests.conftest import make_did_frame


def diverging_trends(n_units: int = 200, seed: int = 0, effect: float = 1.0) -> pd.DataFrame:
    """Units with higher levels grow faster; the programme picks high-level units.

    Plain DiD is biased (treated units would have grown faster anyway); matching on
    pre-programme outcomes compares units with the same level, hence the same trend.
    """
    rng = np.random.default_rng(seed)
    level = rng.normal(size=n_units)
    treated_unit = rng.random(n_units) < 1 / (1 + np.exp(-(-1.2 + 1.0 * level)))
    periods = np.arange(2014, 2022)
    frame = pd.DataFrame(
        {"school": np.repeat(np.arange(n_units), len(periods)), "year": np.tile(periods, n_units)}
    )
    lv = level[frame["school"]]
    t = frame["year"] - 2014
    frame["pilot"] = (treated_unit[frame["school"]] & (frame["year"] >= 2018)).astype(int)
    frame["score"] = lv + (0.3 + 0.3 * lv) * t + effect * frame["pilot"]
    frame["score"] += rng.normal(0, 0.1, len(frame))
    return frame


def to_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(frame, unit="school", time="year", outcome="score", treated="pilot")


def test_plain_did_is_biased_and_matched_did_is_not():
    panel = to_panel(diverging_trends())
    plain = impact.DifferenceInDifferences().fit(panel).att
    assert plain.estimate - 1.0 > 0.5
    unadjusted = MatchedDiD(adjustment="none").fit(panel)
    # greedy 1:1 matching without replacement removes most of the bias...
    assert abs(unadjusted.att.estimate - 1.0) < abs(plain.estimate - 1.0) / 3
    assert unadjusted.n_clusters == unadjusted.effects.loc[0, "n_treated"]  # matched pairs
    # ...and the regression adjustment on the matched sample (default) removes the rest
    matched = MatchedDiD().fit(panel)
    att = matched.att
    assert abs(att.estimate - 1.0) < 0.05 + 3 * att.std_error
    assert att.ci_lower <= 1.0 <= att.ci_upper
    assert matched.settings["matching_covariates"] == ("score[2015]", "score[2016]", "score[2017]")


@pytest.mark.parametrize(
    "params",
    [
        {"replace": True},
        {"replace": True, "adjustment": "none"},
        {"distance": "mahalanobis"},
        {"distance": "propensity", "pre_periods": 2},
        {"method": "weighting", "pre_periods": 2},
        {"ratio": 2, "replace": True, "distance": "euclidean"},
    ],
)
def test_variants_recover_the_effect(params):
    panel = to_panel(diverging_trends(n_units=300, seed=1))
    att = MatchedDiD(**params).fit(panel).att
    assert abs(att.estimate - 1.0) < 0.15 + 3 * att.std_error
    assert 0 < att.std_error < 0.3


def test_paths_shift_comparison_by_pre_programme_gap():
    result = MatchedDiD().fit(to_panel(diverging_trends()))
    paths = result.paths
    pre = paths.loc[~paths["post"]]
    assert pre["effect"].mean() == pytest.approx(0.0, abs=1e-9)
    plain = result.effect("att_unadjusted").estimate  # the paths are not regression-adjusted
    assert paths.loc[paths["post"], "effect"].mean() == pytest.approx(plain, rel=1e-9)


def test_uses_fewer_pre_periods_when_the_panel_has_fewer():
    frame = diverging_trends()
    frame = frame.loc[frame["year"] >= 2016]
    result = MatchedDiD(pre_periods=5).fit(to_panel(frame))
    assert result.settings["pre_periods_used"] == 2


def test_diagnostics_present():
    result = MatchedDiD().fit(to_panel(diverging_trends()))
    assert {"balance", "sample_sizes", "sensitivity", "sensitivity_summary", "matches"} <= set(
        result.diagnostics
    )
    assert result.estimator == "matched_did"


def test_cross_section_is_a_design_error_and_staggered_is_matched_by_cohort():
    frame = diverging_trends()
    one = frame.loc[frame["year"] == 2019]
    with pytest.raises(DesignError, match="single period"):
        MatchedDiD().fit(to_panel(one))
    staggered = frame.copy()
    staggered.loc[(staggered["school"] == 0) & (staggered["year"] >= 2016), "pilot"] = 1
    result = MatchedDiD().fit(to_panel(staggered))
    assert result.settings["cohorts_matched"] == (2016, 2018)
    with pytest.raises(DesignError, match="pre_periods"):
        MatchedDiD(pre_periods=0)


def test_cem_with_too_few_matches_for_the_adjustment_says_what_to_change():
    # two treated units find a control stratum: 4 units for intercept, treatment, the
    # matching covariate and three pre-period outcomes; found by a review, it used to
    # fail inside numpy's indexing
    frame = make_did_frame(seed=1)
    frame["xu"] = frame.groupby("unit")["x"].transform("first")
    panel = impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["xu"]
    )
    with (
        pytest.warns(DesignWarning, match="no match"),
        pytest.raises(DesignError, match=r"no degrees of freedom.*adjustment='none'"),
    ):
        impact.MatchedDiD(method="cem").fit(panel)


def test_unbalanced_single_adoption_panel_recovers_the_true_effect() -> None:
    # noise-free additive data, a common trend and a true effect of 1; some treated
    # units miss the last period. Their post-programme means over fewer (earlier)
    # periods carried less of the trend: 0.975 with a CI of 0.956 to 0.994, no warning
    rng = np.random.default_rng(0)
    rows = []
    for u in range(80):
        treated = u % 4 >= 2
        a, x = rng.normal(), rng.normal()
        for t in range(1, 9):
            if treated and u % 3 == 0 and t == 8:
                continue
            on = treated and t >= 5
            rows.append(dict(u=u, t=t, x=x, d=int(on), y=a + x + 0.3 * t + 1.0 * on))
    frame = pd.DataFrame(rows)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"])
    with pytest.warns(impact.DataWarning, match=r"dropped 14 units of 'u' \(14 treated, 0 comp"):
        result = MatchedDiD().fit(panel)
    assert result.att.estimate == pytest.approx(1.0, abs=1e-9)
    assert result.settings["dropped_incomplete_units"] == 14
    assert result.diagnostics["sample_sizes"].set_index("sample").loc["all", "treated"] == 26
