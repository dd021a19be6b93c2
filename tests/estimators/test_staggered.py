"""StaggeredDiD: options, data layouts, inference and design errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DesignError, DesignWarning, Panel, StaggeredDiD
from impact.estimators.staggered._drdid import panel_att, panel_att_nocov, rcs_att, rcs_att_nocov
from tests.estimators.staggered_data import make_pupil_frame, make_staggered_frame

REF = Path(__file__).resolve().parents[1] / "reference" / "did"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(REF / "mpdta.csv")


def mpdta_panel(frame: pd.DataFrame, **kwargs) -> Panel:
    return Panel.from_frame(
        frame, unit="countyreal", time="year", outcome="lemp", cohort="first.treat", **kwargs
    )


def staggered_panel(frame: pd.DataFrame, **kwargs) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort", **kwargs)


# ----------------------------------------------------------------- 2x2 building blocks
def _two_by_two_sample(seed: int, m: int = 120):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, 2))
    X = np.column_stack([np.ones(m), x])
    d = rng.uniform(size=m) < 1 / (1 + np.exp(-(0.2 + 0.8 * x[:, 0])))
    y0 = x @ [1.0, -0.5] + rng.normal(size=m)
    y1 = y0 + 0.5 + x @ [0.3, 0.2] + 1.0 * d + rng.normal(size=m)
    post = rng.uniform(size=m) < 0.5
    w = rng.uniform(0.5, 1.5, m)
    return X, d, y0, y1, post, w


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("design", ["panel", "rcs"])
def test_influence_function_is_the_derivative_of_the_estimate(method, design):
    # For a smooth estimator of a weighted empirical distribution, the derivative of the
    # estimate with respect to an observation's log-weight, w_i d att / d w_i, equals
    # phi_i / m (weights normalised to mean one): this checks every estimation-effect
    # term of the influence function.
    X, d, y0, y1, post, w = _two_by_two_sample(1)
    w = w / w.mean()

    def estimate(weights):
        if design == "panel":
            return panel_att(y1 - y0, d, X, weights, method)
        return rcs_att(np.where(post, y1, y0), d, post, X, weights, method)

    _att, phi = estimate(w)
    m = len(w)
    eps = 1e-6
    rows = [0, 5, 17, 42, 99, *np.flatnonzero(~d & ~post)[:3]]
    if design == "rcs" and method == "dr":
        # R DRDID's drdid_rc (which R did calls) enters the estimation effect of the
        # comparison group's pre-period outcome regression with the opposite sign (a
        # term that vanishes when the propensity score balances the covariates); we
        # keep R's formula for parity, so those rows are not the exact derivative.
        rows = [i for i in rows if d[i] or post[i]]
    for i in rows:
        up, down = w.copy(), w.copy()
        up[i] += eps
        down[i] -= eps
        derivative = (estimate(up)[0] - estimate(down)[0]) / (2 * eps)
        assert derivative * w[i] * m == pytest.approx(phi[i], rel=1e-5, abs=1e-6)
    assert abs(phi.mean()) < 1e-10


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_intercept_only_reduces_to_differences_of_means(method):
    _X, d, y0, y1, post, w = _two_by_two_sample(2)
    ones = np.ones((len(d), 1))
    att, phi = panel_att(y1 - y0, d, ones, w, method)
    att0, phi0 = panel_att_nocov(y1 - y0, d, w)
    assert att == pytest.approx(att0, abs=1e-12)
    np.testing.assert_allclose(phi, phi0, atol=1e-10)
    y = np.where(post, y1, y0)
    att, phi = rcs_att(y, d, post, ones, w, method)
    att0, phi0 = rcs_att_nocov(y, d, post, w)
    assert att == pytest.approx(att0, abs=1e-12)
    np.testing.assert_allclose(phi, phi0, atol=1e-10)


# ----------------------------------------------------------------- repeated cross-sections
def test_repeated_cross_section_clustered_by_unit_reproduces_the_panel_estimates(mpdta):
    # Treating the balanced mpdta panel as repeated cross-sections, with influence
    # functions summed by county, must give R did's panel numbers exactly: each cell's
    # four-means DiD equals the mean change, and the clustered variance equals the
    # panel variance (the n / n1 scalings cancel). Reference: tests/reference/did.
    ref = pd.read_csv(REF / "ref_attgt.csv").query("scenario == 'mpdta_nev_dr'")
    result = StaggeredDiD().fit(mpdta_panel(mpdta, repeated_cross_section=True))
    assert result.settings["data"] == "repeated_cross_section"
    cells = result.effects.query("term != 'att'")
    np.testing.assert_allclose(cells["estimate"], ref["att"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(cells["std_error"], ref["se"], atol=1e-6, rtol=0)
    agg = pd.read_csv(REF / "ref_aggte.csv").query(
        "scenario == 'mpdta_nev_dr' and type == 'dynamic'"
    )
    dynamic = result.aggregate("dynamic").effects
    np.testing.assert_allclose(dynamic["estimate"].iloc[:-1], agg["att_egt"], atol=1e-6)
    np.testing.assert_allclose(dynamic["std_error"].iloc[:-1], agg["se_egt"], atol=1e-6)
    assert dynamic["std_error"].iloc[-1] == pytest.approx(agg["overall_se"].iloc[0], abs=1e-6)


@pytest.mark.parametrize(
    ("method", "control", "expected"),
    [
        ("dr", "never_treated", -0.0417517721),
        ("dr", "not_yet_treated", -0.0413516293),
        ("ipw", "never_treated", -0.0417770822),
        ("ipw", "not_yet_treated", -0.0413894098),
        ("reg", "never_treated", -0.0419686124),
        ("reg", "not_yet_treated", -0.0413747698),
    ],
)
def test_rows_as_independent_observations_match_r_did_panel_false(mpdta, method, control, expected):
    # R did att_gt(..., xformla = ~lpop, panel = FALSE) on mpdta, then
    # aggte(type = "simple"): overall ATT as reported in the reference values of a
    # public Python port of R did (generated with R did and DRDID 1.2.3). Every row is
    # its own observation, as R's repeated cross-section estimators treat them (one
    # row per unit is a very unbalanced panel: the estimator that keeps it is asked for).
    frame = mpdta.assign(row=np.arange(len(mpdta)))
    panel = Panel.from_frame(
        frame, unit="row", time="year", outcome="lemp", cohort="first.treat", covariates=["lpop"]
    )
    result = StaggeredDiD(method=method, control=control, allow_unbalanced_panel=True).fit(panel)
    assert result.att.estimate == pytest.approx(expected, abs=1e-9)


def test_pupils_in_schools_match_a_hand_computed_four_means_did():
    frame = make_pupil_frame(seed=3)
    panel = Panel.from_frame(
        frame, unit="school", time="year", outcome="y", cohort="cohort", weights="w"
    )
    assert panel.is_repeated_cross_section
    result = StaggeredDiD().fit(panel)
    cell = result.effects.query("term == 'ATT(2013,2014)'").iloc[0]
    # by hand: weighted means of the four group-period cells, base period 2012
    sub = frame[frame.year.isin([2012, 2014]) & frame.cohort.isin([0, 2013])].copy()
    sub["treated"] = sub.cohort == 2013
    sub["post"] = sub.year == 2014
    means = sub.groupby(["treated", "post"]).apply(
        lambda g: np.average(g.y, weights=g.w), include_groups=False
    )
    did = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert cell["estimate"] == pytest.approx(did, abs=1e-12)
    # clustered by school: each row's influence, summed by school
    m = len(sub)
    phi = np.zeros(m)
    for (treated, post), grp in sub.groupby(["treated", "post"]):
        sign = (1 if treated else -1) * (1 if post else -1)
        mask = ((sub.treated == treated) & (sub.post == post)).to_numpy()
        wsum = grp.w.sum()
        phi[mask] = sign * m * grp.w.to_numpy() * (grp.y.to_numpy() - means[treated, post]) / wsum
    sums = pd.Series(phi).groupby(sub.school.to_numpy()).sum()
    assert cell["std_error"] == pytest.approx(np.sqrt((sums**2).sum()) / m, rel=1e-10)
    # and the effect is recovered
    assert abs(result.att.estimate - 1.5) < 4 * result.att.std_error


def test_repeated_cross_section_with_covariates_recovers_the_effect():
    frame = make_pupil_frame(seed=5, n_schools=90)
    panel = Panel.from_frame(
        frame, unit="school", time="year", outcome="y", cohort="cohort", covariates=["x"]
    )
    for method in ("dr", "ipw", "reg"):
        att = StaggeredDiD(method=method).fit(panel).att
        assert abs(att.estimate - 1.5) < 4 * att.std_error


# ----------------------------------------------------------------- options
def test_not_yet_treated_uses_later_cohorts_as_comparisons():
    frame = make_staggered_frame(seed=1)
    panel = staggered_panel(frame)
    nev = StaggeredDiD().fit(panel).effects.set_index("term")
    nyt = StaggeredDiD(control="not_yet_treated").fit(panel).effects.set_index("term")
    # 2004 adopters in 2004 (base 2003): the 2006 cohort is still untreated
    assert nyt.loc["ATT(2004,2004)", "n_control"] > nev.loc["ATT(2004,2004)", "n_control"]
    # by 2006 the 2006 cohort is treated: the comparison group is the never treated
    assert nyt.loc["ATT(2004,2006)", "n_control"] == nev.loc["ATT(2004,2006)", "n_control"]
    assert nyt.loc["ATT(2004,2006)", "estimate"] == pytest.approx(
        nev.loc["ATT(2004,2006)", "estimate"]
    )


def test_anticipation_moves_the_base_period_back():
    def effect(e):
        return np.where(e >= -1, 1.0, 0.0)  # units react one period early

    frame = make_staggered_frame(seed=2, effect=effect)
    panel = staggered_panel(frame)
    naive = StaggeredDiD().fit(panel).att.estimate
    fixed = StaggeredDiD(anticipation=1).fit(panel)
    cells = fixed.effects.query("term != 'att'")
    post = cells[cells.post]
    assert (post["base_period"] == post["group"] - 2).all()
    assert fixed.att.estimate == pytest.approx(1.0, abs=0.05)
    assert naive < 0.5  # the anticipated effect contaminates the base period


def test_universal_base_period_reports_a_zero_reference_cell():
    panel = staggered_panel(make_staggered_frame(seed=3))
    varying = StaggeredDiD().fit(panel).effects.set_index("term")
    universal = StaggeredDiD(base_period="universal").fit(panel).effects.set_index("term")
    ref = universal.loc["ATT(2006,2005)"]
    assert ref["estimate"] == 0.0 and np.isnan(ref["std_error"])
    assert "ATT(2004,2001)" in universal.index  # universal cells start in the first period
    post = varying[varying["post"].astype(bool)].index
    np.testing.assert_allclose(universal.loc[post, "estimate"], varying.loc[post, "estimate"])
    np.testing.assert_allclose(universal.loc[post, "std_error"], varying.loc[post, "std_error"])
    # universal pre-period cells are long differences: minus the sum of short ones
    short = varying.loc[["ATT(2006,2003)", "ATT(2006,2004)", "ATT(2006,2005)"], "estimate"]
    assert universal.loc["ATT(2006,2002)", "estimate"] == pytest.approx(-short.sum())


def test_frequency_weights_equal_duplicated_units(mpdta):
    weights = (mpdta["countyreal"] % 3 + 1).astype(float)
    weighted = StaggeredDiD().fit(mpdta_panel(mpdta.assign(w=weights), weights="w"))
    copies = []
    for k in (1, 2, 3):
        chosen = mpdta[weights >= k]
        copies.append(chosen.assign(countyreal=chosen["countyreal"] * 10 + k))
    duplicated = StaggeredDiD().fit(mpdta_panel(pd.concat(copies)))
    np.testing.assert_allclose(
        weighted.effects["estimate"], duplicated.effects["estimate"], atol=1e-12
    )
    for kind in ("group", "dynamic", "calendar"):
        np.testing.assert_allclose(
            weighted.aggregate(kind).effects["estimate"],
            duplicated.aggregate(kind).effects["estimate"],
            atol=1e-12,
        )


def test_clustering_sums_influence_within_clusters(mpdta):
    by_unit = StaggeredDiD().fit(mpdta_panel(mpdta.assign(c=mpdta["countyreal"]), cluster="c"))
    default = StaggeredDiD().fit(mpdta_panel(mpdta))
    np.testing.assert_allclose(by_unit.effects["std_error"], default.effects["std_error"])
    state = mpdta["countyreal"] // 1000
    clustered = StaggeredDiD().fit(mpdta_panel(mpdta.assign(state=state), cluster="state"))
    assert clustered.n_clusters == state.nunique()
    np.testing.assert_allclose(clustered.effects["estimate"], default.effects["estimate"])
    gt = clustered.group_time
    psi = gt.influence[:, 0]
    sums = np.bincount(gt.clusters, weights=psi)
    expected = np.sqrt((sums**2).sum()) / gt.n
    assert clustered.effects["std_error"].iloc[0] == pytest.approx(expected)
    assert not np.allclose(clustered.effects["std_error"], default.effects["std_error"])


def test_unbalanced_panel_option_uses_every_observed_row(mpdta):
    rng = np.random.default_rng(0)
    drop = rng.choice(len(mpdta), size=60, replace=False)
    frame = mpdta.drop(index=drop)
    result = StaggeredDiD(allow_unbalanced_panel=True).fit(mpdta_panel(frame))
    assert result.settings["data"] == "unbalanced_panel"
    assert result.n_obs == len(frame)
    full = StaggeredDiD().fit(mpdta_panel(mpdta))
    assert result.att.estimate == pytest.approx(full.att.estimate, abs=3 * full.att.std_error)
    assert np.isfinite(result.aggregate("dynamic").effects["std_error"]).all()


def test_bootstrap_is_seeded_and_gives_uniform_bands(mpdta):
    panel = mpdta_panel(mpdta)
    first = StaggeredDiD(bootstrap=True, n_boot=499, seed=7).fit(panel)
    again = StaggeredDiD(bootstrap=True, n_boot=499, seed=7).fit(panel)
    pd.testing.assert_frame_equal(first.effects, again.effects)
    analytic = StaggeredDiD().fit(panel)
    ratio = first.effects["std_error"] / analytic.effects["std_error"]
    assert ratio.between(0.8, 1.25).all()
    cells = first.effects.query("term != 'att'")
    assert ((cells.cband_upper - cells.cband_lower) > (cells.ci_upper - cells.ci_lower)).all()
    dynamic = first.aggregate("dynamic")
    assert dynamic.settings["uniform_crit_value"] > 1.96
    pd.testing.assert_frame_equal(dynamic.effects, first.aggregate("dynamic").effects)
    other = StaggeredDiD(bootstrap=True, n_boot=499, seed=8).fit(panel)
    assert not np.allclose(other.effects["std_error"], first.effects["std_error"])


def test_dynamic_aggregation_options(mpdta):
    result = StaggeredDiD().fit(mpdta_panel(mpdta))
    trimmed = result.aggregate("dynamic", min_event=-1, max_event=2).effects
    assert trimmed["event_time"].dropna().tolist() == [-1, 0, 1, 2]
    balanced = result.aggregate("dynamic", balance_e=1).effects
    # cohorts observed at least one period after adoption: 2004 and 2006
    assert balanced["event_time"].dropna().tolist() == [-2, -1, 0, 1]
    e1 = balanced.query("event_time == 1")["estimate"].iloc[0]
    cells = result.effects.set_index("term")["estimate"]
    sizes = mpdta.groupby("first.treat")["countyreal"].nunique()
    expected = (cells["ATT(2004,2005)"] * sizes[2004] + cells["ATT(2006,2007)"] * sizes[2006]) / (
        sizes[2004] + sizes[2006]
    )
    assert e1 == pytest.approx(expected)
    with pytest.raises(DesignError, match="kind"):
        result.aggregate("weekly")


# ----------------------------------------------------------------- design problems
def test_cohort_with_zero_total_weight_is_skipped_with_a_warning():
    frame = make_staggered_frame(n_units=60, seed=2)
    frame["w"] = np.where(frame["cohort"] == 2004, 0.0, 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = StaggeredDiD().fit(staggered_panel(frame, weights="w"))
    skipped = [str(w.message) for w in caught if issubclass(w.category, DesignWarning)]
    assert "skipped ATT(2004,2005): its cohort has zero total weight" in skipped
    terms = set(result.effects["term"])
    assert "ATT(2006,2007)" in terms
    assert not any(t.startswith("ATT(2004,") for t in terms)
    assert np.isfinite(result.effects["estimate"]).all()


def test_no_never_treated_units_is_a_design_error():
    frame = make_staggered_frame(share_never=0.0, seed=4)
    with pytest.raises(DesignError, match="not_yet_treated"):
        StaggeredDiD().fit(staggered_panel(frame))
    # not-yet-treated: the last cohort is the comparison group until it adopts
    result = StaggeredDiD(control="not_yet_treated").fit(staggered_panel(frame))
    assert set(result.effects["group"].dropna()) == {2004}
    assert result.effects["time"].max() == 2005


def test_cohort_treated_in_the_first_period_is_dropped_with_a_warning():
    frame = make_staggered_frame(cohorts=(0, 3), seed=5)
    with pytest.warns(DesignWarning, match="no pre-treatment period"):
        result = StaggeredDiD().fit(staggered_panel(frame))
    assert result.settings["dropped_units"] > 0
    assert set(result.effects["group"].dropna()) == {2004}


def test_single_unit_cohort_with_covariates_is_a_design_error():
    frame = make_staggered_frame(seed=6, n_units=30)
    lonely = frame["unit"] == 29
    frame.loc[lonely, "cohort"] = 2007
    with pytest.raises(DesignError, match="single unit"):
        StaggeredDiD().fit(staggered_panel(frame, covariates=["x"]))
    StaggeredDiD().fit(staggered_panel(frame))  # fine without covariates


def test_perfect_prediction_skips_the_cell_with_a_warning():
    frame = make_staggered_frame(seed=7, n_units=90)
    cohort_of_unit = frame.groupby("unit")["cohort"].first()
    # a covariate that separates the 2006 cohort from everyone else
    jitter = np.random.default_rng(0).uniform(0, 0.1, len(cohort_of_unit))
    separating = (cohort_of_unit == 2006).astype(float) + jitter
    frame["z"] = frame["unit"].map(separating)
    with pytest.warns(DesignWarning, match="overlap"):
        result = StaggeredDiD().fit(staggered_panel(frame, covariates=["z"]))
    assert not (result.effects["group"] == 2006).any()
    assert result.settings["skipped_cells"]
    assert (result.effects["group"] == 2004).any()


def test_invalid_hyperparameters_are_design_errors():
    with pytest.raises(DesignError, match="control"):
        StaggeredDiD(control="later")
    with pytest.raises(DesignError, match="anticipation"):
        StaggeredDiD(anticipation=-1)
    with pytest.raises(DesignError, match="n_boot"):
        StaggeredDiD(n_boot=1)


def test_registered_and_reachable_through_estimate(mpdta):
    result = impact.estimate(mpdta_panel(mpdta), method="staggered_did")
    assert result.estimator == "staggered_did"
    assert isinstance(result, impact.StaggeredResult)


def test_summary_and_aggregations_render(mpdta):
    result = StaggeredDiD().fit(mpdta_panel(mpdta))
    text = str(result.summary())
    assert "ATT(2004,2004)" in text and "pretrend_test" in text
    for kind in ("simple", "group", "calendar", "dynamic"):
        agg = result.aggregate(kind)
        assert agg.settings["aggregation"] == kind
        assert "att" in str(agg.summary())


def test_event_study_on_pupils_in_schools_clusters_by_school():
    frame = make_pupil_frame(seed=4)
    panel = Panel.from_frame(frame, unit="school", time="year", outcome="y", cohort="cohort")
    result = impact.EventStudy().fit(panel)
    assert result.n_clusters == frame["school"].nunique()
    assert abs(result.att.estimate - 1.5) < 4 * result.att.std_error


def test_datetime_periods_label_cells_with_dates():
    frame = make_staggered_frame(n_units=60, seed=8)
    frame["time"] = pd.to_datetime(frame["time"].astype(str) + "-09-01")
    frame["cohort"] = pd.to_datetime(
        frame["cohort"].where(frame["cohort"] > 0).astype("Int64").astype(str) + "-09-01",
        errors="coerce",
    )
    result = StaggeredDiD().fit(staggered_panel(frame))
    assert result.effects["term"].iloc[0] == "ATT(2004-09-01 00:00:00,2002-09-01 00:00:00)"
    assert isinstance(result.effects["group"].iloc[0], pd.Timestamp)
    assert np.isfinite(result.aggregate("calendar").att.estimate)


@pytest.mark.parametrize("n_groups", [3, 100])
def test_group_blocks_are_a_stable_sort_cut_by_group(n_groups):
    from impact.estimators.staggered._data import _group_blocks

    groups = np.random.default_rng(n_groups).integers(0, n_groups, 1_000)
    blocks = _group_blocks(groups)
    np.testing.assert_array_equal(np.concatenate(blocks), np.argsort(groups, kind="stable"))
    assert [len(np.unique(groups[b])) for b in blocks] == [1] * len(np.unique(groups))
