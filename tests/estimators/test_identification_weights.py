"""Identification with weights: a row of zero weight is a row that is not there.

Weighted least squares gives zero-weight rows no say in the estimate, so they must
not count either when the design decides what is identified (a comparison unit seen
only with zero weight is no comparison), nor among the observations, units and
clusters of the inference. Also the pooled interrupted time series, which must name
the periods in which no comparison unit is observed, as the aggregate fit does.
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
from impact.estimators import InterruptedTimeSeries
from impact.exceptions import DesignError, DesignWarning
from impact.inference.coefficient import infer_coefficient
from impact.inference.regression import within_regression


# ------------------------------------------------ comparison rows of zero weight
def zero_weight_frame(*, zero_periods=(2002,), periods=(2000, 2001, 2002), seed=1):
    """40 units, 20 treated from the last period; comparisons weightless in ``zero_periods``.

    Every unit rises by 1 then 3 over the periods and the programme does nothing.
    """
    rng = np.random.default_rng(seed)
    rows = []
    rise = dict(zip(periods, np.arange(len(periods)) ** 1.6, strict=True))
    for u in range(40):
        a = rng.normal()
        for t in periods:
            rows.append(
                dict(
                    u=u,
                    t=t,
                    y=a + rise[t] + rng.normal(scale=0.3),
                    d=int(u < 20 and t == periods[-1]),
                    w=0.0 if (u >= 20 and t in zero_periods) else 1.0,
                )
            )
    return pd.DataFrame(rows)


def zero_weight_panel(**kwargs) -> Panel:
    return Panel.from_frame(
        zero_weight_frame(**kwargs), unit="u", time="t", outcome="y", treated="d", weights="w"
    )


@pytest.mark.parametrize("design", ["twfe", "2x2"])
def test_did_with_weightless_comparisons_after_adoption_raises(design):
    # the comparisons' rows of 2002 passed the check although they carry no weight, and
    # the weighted fit credited the general rise to the programme with no warning
    # (1.46 with p = 1e-33 for "twfe", 1.22 with p = 4e-32 for "2x2"; the truth is 0)
    with pytest.raises(DesignError, match=r"positive weight in 'w' in period\(s\) 2002"):
        impact.estimate(zero_weight_panel(), method="did", design=design)


def test_event_study_with_weightless_comparisons_after_adoption_raises():
    # 1.38 with p = 5e-26 before, no warning
    with pytest.raises(DesignError, match=r"not identified.*2002.*zero weight not counted"):
        impact.estimate(zero_weight_panel(), method="event_study")


def test_did_ignores_weightless_comparison_rows_before_adoption():
    # the comparisons' 2000 rows carry no weight: the effect rests on 2001 against 2002
    frame = zero_weight_frame(zero_periods=(2000,))
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d", weights="w")
    kept = frame[frame.w > 0]
    without = Panel.from_frame(kept, unit="u", time="t", outcome="y", treated="d", weights="w")
    for method in ("cr1", "hc1", "iid"):
        a = impact.estimate(panel, method="did", inference=method)
        b = impact.estimate(without, method="did", inference=method)
        assert a.att.estimate == pytest.approx(b.att.estimate, rel=1e-10)
        assert a.att.std_error == pytest.approx(b.att.std_error, rel=1e-10)
        assert a.n_obs == b.n_obs == len(kept)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_periods=st.integers(4, 7), data=st.data())
def test_weightless_comparisons_in_any_post_period_never_give_a_finite_p_value(
    seed, n_periods, data
):
    periods = tuple(range(2000, 2000 + n_periods))
    adoption = data.draw(st.integers(2001, periods[-1]), label="adoption")
    zero = data.draw(st.integers(adoption, periods[-1]), label="weightless period")
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(16):
        a = rng.normal()
        for t in periods:
            rows.append(
                dict(
                    u=u,
                    t=t,
                    y=a + 0.5 * (t - 2000) ** 2 + rng.normal(scale=0.1),
                    d=int(u < 8 and t >= adoption),
                    w=0.0 if (u >= 8 and t == zero) else float(rng.uniform(0.5, 2)),
                )
            )
    panel = Panel.from_frame(
        pd.DataFrame(rows), unit="u", time="t", outcome="y", treated="d", weights="w"
    )
    for method, kwargs in (
        ("did", {"design": "twfe"}),
        ("did", {"design": "2x2"}),
        ("event_study", {}),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few clusters: not under test
            with pytest.raises(DesignError, match=str(zero)):
                impact.estimate(panel, method=method, inference="cr1", **kwargs)


def _design(seed: int = 3):
    """Two periods, 12 units in 6 clusters; weights with zeros on whole units and rows."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(12), 3)
    period = np.tile([0, 1, 2], 12)
    d = ((unit < 6) & (period == 2)).astype(float)
    y = rng.normal(size=12)[unit] + period + 0.5 * d + rng.normal(0, 0.3, 36)
    X = np.column_stack([d, period == 1, period == 2]).astype(float)
    w = rng.uniform(0.5, 2, 36)
    w[unit == 11] = 0.0  # a whole comparison unit (and cluster) without weight
    w[(unit == 2) & (period == 0)] = 0.0
    return y, X, unit, unit // 2 + (unit == 11) * 10, w


def test_zero_weight_rows_count_as_absent_in_the_regression():
    y, X, unit, cluster, w = _design()
    keep = w > 0
    names = ["att", "period[1]", "period[2]"]
    for inference in ("cr1", "hc1", "iid"):
        a = within_regression(
            y, X, names, unit_codes=unit, cluster_codes=cluster, weights=w, inference=inference
        )
        b = within_regression(
            y[keep],
            X[keep],
            names,
            unit_codes=unit[keep],
            cluster_codes=cluster[keep],
            weights=w[keep],
            inference=inference,
        )
        np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
        np.testing.assert_allclose(a.cov, b.cov, rtol=1e-10)
        assert (a.n_obs, a.n_params, a.n_clusters) == (b.n_obs, b.n_params, b.n_clusters)
        assert a.n_obs == int(keep.sum())
    assert a.n_clusters is None and b.n_clusters is None  # iid: no clusters
    fit = within_regression(y, X, names, unit_codes=unit, cluster_codes=cluster, weights=w)
    assert fit.n_clusters == 6  # the weightless cluster is not counted


def test_zero_weight_clusters_are_not_counted_by_the_inference():
    y, X, unit, cluster, w = _design()
    keep = w > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clusters: not under test
        a = infer_coefficient(
            y, X, ["att", "p1", "p2"], unit_codes=unit, cluster_codes=cluster, weights=w, seed=0
        )
        b = infer_coefficient(
            y[keep],
            X[keep],
            ["att", "p1", "p2"],
            unit_codes=unit[keep],
            cluster_codes=cluster[keep],
            weights=w[keep],
            seed=0,
        )
    assert a.method == "wild"  # "auto" with few clusters: the bootstrap sees them too
    assert (a.n_treated_clusters, a.n_control_clusters) == (3, 3)  # not 4 control
    assert (a.method, a.n_treated_clusters, a.n_control_clusters) == (
        b.method,
        b.n_treated_clusters,
        b.n_control_clusters,
    )
    for field in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-10)


def test_a_period_seen_only_through_zero_weight_rows_is_not_identified():
    # unweighted, the comparison's rows make period[2] look separable from the effect;
    # weighted, only treated rows remain in period 2, so the effect is not identified
    y, X, unit, _, w = _design()
    w = np.where((unit >= 6) & (X[:, 2] == 1), 0.0, 1.0)
    with pytest.raises(DesignError, match="'att' is collinear"):
        within_regression(y, X, ["att", "period[1]", "period[2]"], unit_codes=unit, weights=w)


# ------------------------------------------- pooled ITS, comparisons missing after
def its_panel_with_comparisons_ending_in_2017(*, weights: bool = False) -> Panel:
    """Programme from 2015; a common jump of 2 in 2018 and no effect.

    Comparison schools are not observed from 2018 on (or, with ``weights``, observed
    with zero weight).
    """
    rng = np.random.default_rng(0)
    rows = []
    for school in range(30):
        treated = school < 15
        base = rng.normal(50, 3)
        for i, year in enumerate(range(2008, 2020)):
            missing = not treated and year >= 2018
            if missing and not weights:
                continue
            score = base + 0.2 * i + 2.0 * (year >= 2018) + rng.normal(0, 0.3)
            rows.append((school, year, score, int(treated and year >= 2015), float(not missing)))
    frame = pd.DataFrame(rows, columns=["school", "year", "score", "pilot", "w"])
    return Panel.from_frame(
        frame,
        unit="school",
        time="year",
        outcome="score",
        treated="pilot",
        weights="w" if weights else None,
    )


@pytest.mark.parametrize(
    "fit",
    [
        lambda p: InterruptedTimeSeries(comparison=True, errors="ols", pooled=True).fit(p),
        lambda p: InterruptedTimeSeries(comparison=True, pooled=True).fit(p),
        lambda p: impact.estimate(p, method="its"),  # the default: pooled with 15 treated
    ],
    ids=["pooled-ols", "pooled-clustered", "default"],
)
def test_pooled_its_with_comparisons_missing_in_some_post_periods_raises(fit):
    # the common jump of 2018 was credited to the programme (att 0.82, p = 3e-6 by
    # default; the truth is 0) with no warning; the aggregate fit raised
    with pytest.raises(DesignError, match=r"no comparison .* 2018, 2019 of 'year'"):
        fit(its_panel_with_comparisons_ending_in_2017())


def test_pooled_its_with_weightless_comparisons_in_some_post_periods_raises():
    panel = its_panel_with_comparisons_ending_in_2017(weights=True)
    with pytest.raises(DesignError, match=r"positive weight in 'w' in period\(s\) 2018, 2019"):
        InterruptedTimeSeries(comparison=True, pooled=True).fit(panel)


def test_pooled_its_without_comparison_is_unaffected_by_missing_comparisons():
    # comparison=False uses the treated units alone: nothing to check
    panel = its_panel_with_comparisons_ending_in_2017()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = InterruptedTimeSeries(comparison=False, pooled=True).fit(panel)
    assert np.isfinite(result.att.estimate)


# ----------------------------------------------- staggered DiD: weightless units
def staggered_weights_frame(n_controls: int, n_weightless: int, seed: int = 2) -> pd.DataFrame:
    """24 treated units in two cohorts, ``n_controls`` comparisons, then weightless ones."""
    rng = np.random.default_rng(seed)
    rows = []
    groups = [3] * 12 + [4] * 12 + [0] * (n_controls + n_weightless)
    for u, g in enumerate(groups):
        a = rng.normal()
        for t in range(1, 7):
            rows.append(
                dict(
                    u=u,
                    t=t,
                    y=a + 0.5 * t**1.5 + rng.normal(scale=0.3),
                    d=int(g > 0 and t >= g),
                    w=0.0 if u >= 24 + n_controls else 1.0,
                )
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n_controls", [1, 10])
def test_staggered_counts_only_clusters_of_positive_weight(n_controls):
    # weightless comparison units were counted as clusters: 10 comparisons and 4
    # weightless ones passed "auto"'s 12 clusters (normal intervals instead of t(9)),
    # and one comparison with a weightless one was reported with a finite interval
    frame = staggered_weights_frame(n_controls, 4)
    kept = frame[frame.w > 0]
    results = []
    for data in (frame, kept):
        panel = Panel.from_frame(data, unit="u", time="t", outcome="y", treated="d", weights="w")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few clusters, undefined interval: as intended
            results.append(impact.estimate(panel, method="staggered_did"))
    a, b = results
    for key in ("n_treated_clusters", "n_control_clusters", "inference_used"):
        assert a.settings[key] == b.settings[key]
    assert a.settings["n_control_clusters"] == n_controls
    assert a.att.estimate == pytest.approx(b.att.estimate, rel=1e-10)
    np.testing.assert_allclose(
        [a.att.ci_lower, a.att.ci_upper], [b.att.ci_lower, b.att.ci_upper], rtol=1e-10
    )
    if n_controls == 1:
        assert np.isnan(a.att.ci_lower) and np.isnan(a.att.p_value)


@pytest.mark.parametrize("method", ["did", "event_study", "its"])
def test_weightless_units_change_nothing_in_the_regression_designs(method):
    # 12 treated units from period 6 of 10, 10 comparisons and 4 weightless ones
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        [
            dict(
                u=u,
                t=t,
                y=a + 0.3 * t + 0.5 * (u < 12 and t >= 6) + rng.normal(scale=0.3),
                d=int(u < 12 and t >= 6),
                w=0.0 if u >= 22 else float(rng.uniform(0.5, 2)),
            )
            for u, a in enumerate(rng.normal(size=26))
            for t in range(1, 11)
        ]
    )
    kept = frame[frame.w > 0]
    results = []
    for data in (frame, kept):
        panel = Panel.from_frame(data, unit="u", time="t", outcome="y", treated="d", weights="w")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few clusters: not under test
            results.append(impact.estimate(panel, method=method))
    a, b = results
    assert (a.n_obs, a.n_units, a.n_clusters) == (b.n_obs, b.n_units, b.n_clusters)
    assert a.settings.get("inference_used") == b.settings.get("inference_used")
    pd.testing.assert_frame_equal(a.effects, b.effects, rtol=1e-9)


def test_aggregate_its_leaves_out_cells_of_zero_weight():
    # the aggregate series used the weightless comparison rows (the weights were not
    # read at all): comparisons weightless from 2018 on gave an effect with no error
    panel = its_panel_with_comparisons_ending_in_2017(weights=True)
    with pytest.raises(DesignError, match=r"positive weight in 'w' in period\(s\) 2018, 2019"):
        InterruptedTimeSeries(comparison=True, pooled=False).fit(panel)
    # some weightless cells, none of them emptying a period: the same as without them
    frame = panel.frame
    frame = frame[frame.year < 2018].assign(
        w=np.where((frame.school % 4 == 0) & (frame.year % 3 == 0), 0.0, 1.0)[frame.year < 2018]
    )
    kept = frame[frame.w > 0]
    atts = []
    for data in (frame, kept):
        p = Panel.from_frame(
            data, unit="school", time="year", outcome="score", treated="pilot", weights="w"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unbalanced panel: as intended
            atts.append(InterruptedTimeSeries(comparison=True, pooled=False).fit(p).att)
    assert atts[0].estimate == pytest.approx(atts[1].estimate, rel=1e-10)
    assert atts[0].std_error == pytest.approx(atts[1].std_error, rel=1e-10)


def test_aggregate_its_says_that_unequal_weights_are_not_used():
    panel = its_panel_with_comparisons_ending_in_2017(weights=True)
    frame = panel.frame
    frame = frame[frame.year < 2018].assign(w=lambda f: 1.0 + (f.school % 2))
    p = Panel.from_frame(
        frame, unit="school", time="year", outcome="score", treated="pilot", weights="w"
    )
    with pytest.warns(DesignWarning, match="weights 'w' are not used"):
        InterruptedTimeSeries(comparison=True, pooled=False).fit(p)
