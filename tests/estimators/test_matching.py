"""MatchedComparison: MatchIt reference values, the NSW benchmark, simulated truth, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, DesignError, DesignWarning, MatchedComparison, Panel
from impact.estimators.matching.balance import BALANCE_COLUMNS

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "matching"
LALONDE_COVARIATES = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
NSW_BENCHMARK = 1794.34  # Dehejia and Wahba (1999), Table 3: 1,794 (633)


@pytest.fixture(scope="module")
def lalonde() -> Panel:
    frame = pd.read_csv(REFERENCE / "lalonde.csv").assign(year=1978)
    return Panel.from_frame(
        frame,
        unit="id",
        time="year",
        outcome="re78",
        treated="treat",
        covariates=LALONDE_COVARIATES,
    )


@pytest.fixture(scope="module")
def matchit_nearest(lalonde):
    return MatchedComparison().fit(lalonde)


# ----------------------------------------------------------------------------- MatchIt
@pytest.mark.parametrize(
    ("sample", "ours"),
    [
        ("all", {"means_control": "mean_control_before", "std_mean_diff": "smd_before",
                 "var_ratio": "variance_ratio_before"}),
        ("matched", {"means_control": "mean_control_after", "std_mean_diff": "smd_after",
                     "var_ratio": "variance_ratio_after", "ecdf_mean": "ecdf_mean_after",
                     "ecdf_max": "ecdf_max_after"}),
    ],
)  # fmt: skip
def test_balance_table_reproduces_matchit_getting_started(matchit_nearest, sample, ours):
    # R MatchIt vignette "MatchIt: Getting Started": summary(m.out0) and
    # summary(m.out1, un = FALSE) for 1:1 nearest-neighbour matching without replacement
    # on the logistic propensity score (see tests/reference/matching/README.md).
    ref = pd.read_csv(REFERENCE / "matchit_lalonde_balance.csv")
    ref = ref.loc[ref["sample"] == sample].set_index("covariate")
    table = matchit_nearest.diagnostics["balance"].set_index("covariate")
    assert list(table.index) == list(ref.index)
    np.testing.assert_allclose(table["mean_treated"], ref["means_treated"], atol=5.1e-5)
    for theirs, mine in ours.items():
        expected = ref[theirs].to_numpy(dtype=float)
        got = table[mine].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(expected), np.isnan(got)), mine
        ok = ~np.isnan(expected)
        # MatchIt prints 4 decimals: agreement to the last printed digit
        np.testing.assert_allclose(got[ok], expected[ok], atol=5.1e-5, err_msg=mine)


def test_sample_sizes_match_matchit(matchit_nearest):
    sizes = matchit_nearest.diagnostics["sample_sizes"].set_index("sample")
    assert sizes.loc["all"].tolist() == [429, 185]
    assert sizes.loc["matched"].tolist() == [185, 185]
    assert sizes.loc["unmatched"].tolist() == [244, 0]
    assert sizes.loc["discarded"].tolist() == [0, 0]


def test_matched_sets_are_pairs_of_one_treated_and_one_control(matchit_nearest):
    matches = matchit_nearest.diagnostics["matches"]
    used = matches.loc[matches["matched"]]
    per_set = used.groupby("subclass")["treated"].agg(["sum", "size"])
    assert len(per_set) == 185
    assert (per_set["sum"] == 1).all() and (per_set["size"] == 2).all()


# ----------------------------------------------------------------------------- NSW benchmark
def test_experimental_benchmark_is_dehejia_wahba():
    nsw = pd.read_csv(REFERENCE / "nsw_experimental.csv")
    means = nsw.groupby("treat")["re78"].mean()
    assert means[1.0] - means[0.0] == pytest.approx(NSW_BENCHMARK, abs=0.01)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"adjustment": "none"},
        {"replace": True},
        {"replace": True, "ratio": 3},
        {"caliper": 0.1},
        {"method": "weighting"},
        {"common_support": "both", "replace": True},
    ],
)
def test_matching_on_psid_moves_towards_the_experimental_benchmark(lalonde, params):
    frame = lalonde.frame
    raw = (
        frame.loc[frame["treat"] == 1, "re78"].mean()
        - frame.loc[frame["treat"] == 0, "re78"].mean()
    )
    assert raw < -600  # the naive PSID comparison gets the sign wrong
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        att = MatchedComparison(**params).fit(lalonde).att
    assert abs(att.estimate - NSW_BENCHMARK) < abs(raw - NSW_BENCHMARK) / 2
    assert att.ci_lower <= NSW_BENCHMARK <= att.ci_upper


# ----------------------------------------------------------------------------- simulated truth
def selection_on_observables(n: int = 600, effect: float = 1.5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    shift = pd.Series(group).map({"a": 0.0, "b": 0.5, "c": -0.5}).to_numpy()
    p = 1 / (1 + np.exp(-(-0.8 + 0.9 * x1 - 0.5 * x2 + shift)))
    d = (rng.random(n) < p).astype(int)
    y = 1.0 + 2.0 * x1 + 1.0 * x2 + shift + effect * d + rng.normal(size=n)
    return pd.DataFrame(
        {"pupil": np.arange(n), "year": 2024, "y": y, "d": d, "x1": x1, "x2": x2, "group": group}
    )


def to_cross_section(frame: pd.DataFrame, covariates=("x1", "x2", "group")) -> Panel:
    return Panel.from_frame(
        frame, unit="pupil", time="year", outcome="y", treated="d", covariates=list(covariates)
    )


METHOD_GRID = [
    {},
    {"ratio": 2},
    {"replace": True},
    {"replace": True, "ratio": 4, "adjustment": "none"},
    {"distance": "mahalanobis"},
    {"distance": "euclidean", "replace": True},
    {"distance": "mahalanobis", "exact": ("group",)},
    {"caliper": 0.2, "scale": "logit"},
    {"method": "cem"},
    {"method": "weighting"},
    {"method": "weighting", "adjustment": "none"},
    {"common_support": "treated", "replace": True},
    {"order": "closest"},
    {"order": "data"},
    {"order": "smallest"},
]


@pytest.mark.parametrize("params", METHOD_GRID)
def test_recovers_a_known_effect_under_selection_on_observables(params):
    frame = selection_on_observables()
    panel = to_cross_section(frame)
    raw = frame.loc[frame.d == 1, "y"].mean() - frame.loc[frame.d == 0, "y"].mean()
    assert raw - 1.5 > 0.9  # the raw difference is badly biased
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        result = MatchedComparison(**params).fit(panel)
    att = result.att
    assert abs(att.estimate - 1.5) < 0.25 + 3 * att.std_error
    assert 0 < att.std_error < 0.5
    balance = result.diagnostics["balance"]
    assert tuple(balance.columns) == BALANCE_COLUMNS
    assert {"x1", "x2", "groupa", "groupb", "groupc"} <= set(balance["covariate"])
    assert set(result.diagnostics) >= {"balance", "sample_sizes", "sensitivity", "matches"}


def test_matching_improves_balance():
    panel = to_cross_section(selection_on_observables())
    balance = MatchedComparison(replace=True).fit(panel).diagnostics["balance"]
    x1 = balance.set_index("covariate").loc["x1"]
    assert abs(x1["smd_before"]) > 0.5
    assert abs(x1["smd_after"]) < 0.1


def test_weighting_reports_effective_sample_size():
    panel = to_cross_section(selection_on_observables())
    result = MatchedComparison(method="weighting").fit(panel)
    sizes = result.diagnostics["sample_sizes"].set_index("sample")
    n_control = sizes.loc["all", "control"]
    assert 0 < sizes.loc["matched_ess", "control"] < n_control
    assert sizes.loc["matched", "control"] == n_control


def test_ratio_and_replacement_control_reuse():
    panel = to_cross_section(selection_on_observables())
    without = MatchedComparison(ratio=2).fit(panel).diagnostics["matches"]
    sets = without.loc[without["matched"] & ~without["treated"]]
    assert sets["subclass"].value_counts().max() <= 2
    with_rep = MatchedComparison(replace=True).fit(panel)
    n_control = with_rep.effects.loc[0, "n_control"]
    assert n_control < with_rep.effects.loc[0, "n_treated"]  # controls reused


def test_caliper_drops_and_counts_treated_units():
    panel = to_cross_section(selection_on_observables())
    with pytest.warns(DesignWarning, match="treated units have no match"):
        result = MatchedComparison(caliper=0.01).fit(panel)
    dropped = result.settings["n_treated_unmatched"]
    assert dropped > 0
    sizes = result.diagnostics["sample_sizes"].set_index("sample")
    assert sizes.loc["unmatched", "treated"] == dropped


def test_user_supplied_score_column():
    frame = selection_on_observables()
    frame["score"] = 0.9 * frame["x1"] - 0.5 * frame["x2"]
    panel = to_cross_section(frame, covariates=("x1", "x2", "score"))
    result = MatchedComparison(distance="score", replace=True).fit(panel)
    assert result.diagnostics["balance"]["covariate"].iloc[0] == "distance"
    np.testing.assert_allclose(result.diagnostics["matches"]["score"], frame["score"])


def test_panel_default_matches_on_pre_period_outcome_mean(did_frame):
    panel = Panel.from_frame(did_frame, unit="unit", time="time", outcome="y", treated="d")
    result = MatchedComparison().fit(panel)
    assert result.settings["matching_covariates"] == ("y_pre_mean",)
    assert result.paths is not None and result.paths["post"].any()
    lags = MatchedComparison(pre_period_outcomes=2, distance="mahalanobis").fit(panel)
    assert lags.settings["matching_covariates"] == ("y[2002]", "y[2003]")


def test_sensitivity_diagnostics_present(matchit_nearest):
    bounds = matchit_nearest.diagnostics["sensitivity"]
    assert list(bounds.columns) == ["gamma", "p_value_lower", "p_value_upper"]
    assert bounds["gamma"].iloc[0] == 1.0
    assert (np.diff(bounds["p_value_upper"]) >= 0).all()
    summary = matchit_nearest.diagnostics["sensitivity_summary"].set_index("quantity")
    assert {"critical_gamma", "e_value", "e_value_ci"} <= set(summary.index)


def test_e_value_for_a_binary_outcome():
    frame = selection_on_observables(n=2000, seed=3)
    rng = np.random.default_rng(3)
    risk = 1 / (1 + np.exp(-(-1.0 + 0.8 * frame["x1"] + 0.8 * frame["d"])))
    frame["y"] = (rng.random(len(frame)) < risk).astype(float)
    result = MatchedComparison(replace=True).fit(to_cross_section(frame))
    summary = result.diagnostics["sensitivity_summary"].set_index("quantity")["value"]
    rr = summary["risk_ratio"]
    assert rr > 1
    assert summary["e_value"] == pytest.approx(rr + np.sqrt(rr * (rr - 1)))
    assert 1 <= summary["e_value_ci"] <= summary["e_value"]


# ----------------------------------------------------------------------------- errors
def test_no_control_units_is_a_design_error():
    frame = selection_on_observables().assign(d=1)
    with pytest.raises(DesignError, match="control"):
        MatchedComparison().fit(to_cross_section(frame))


def test_no_treated_units_is_a_design_error():
    frame = selection_on_observables().assign(d=0)
    with pytest.raises(DesignError, match="no unit"):
        MatchedComparison().fit(to_cross_section(frame))


def test_separating_covariate_is_a_design_error_suggesting_cem():
    frame = selection_on_observables()
    frame["x1"] = np.where(frame["d"] == 1, 5.0, -5.0) + frame["x2"] * 0.01
    with pytest.raises(DesignError, match=r"perfectly separate.*cem"):
        MatchedComparison().fit(to_cross_section(frame))


def test_caliper_dropping_every_treated_unit_is_a_design_error():
    frame = selection_on_observables()
    frame["x1"] = np.where(frame["d"] == 1, 3.0, 0.0) + 0.01 * np.arange(len(frame)) % 0.5
    with pytest.raises(DesignError, match="caliper"):
        MatchedComparison(distance="x1", caliper=0.001).fit(
            to_cross_section(frame, covariates=("x1", "x2"))
        )


def test_mixed_type_categorical_is_a_data_error():
    frame = selection_on_observables()
    frame["group"] = frame["group"].astype(object)
    frame.loc[0, "group"] = 7
    with pytest.raises(DataError, match="group"):
        MatchedComparison().fit(to_cross_section(frame))


def test_no_covariates_on_a_cross_section_is_a_design_error():
    frame = selection_on_observables()
    with pytest.raises(DesignError, match="covariates"):
        MatchedComparison().fit(to_cross_section(frame, covariates=()))


def test_unknown_exact_covariate_and_bad_hyperparameters():
    panel = to_cross_section(selection_on_observables())
    with pytest.raises(DesignError, match="exact"):
        MatchedComparison(exact=("school",)).fit(panel)
    with pytest.raises(DesignError, match="distance"):
        MatchedComparison(distance="nope").fit(panel)
    for bad in ({"ratio": 0}, {"caliper": -1}, {"method": "optimal"}, {"gammas": (0.5,)}):
        with pytest.raises(DesignError):
            MatchedComparison(**bad)


def test_staggered_panel_is_a_design_error():
    frame = pd.DataFrame(
        {"u": np.repeat([1, 2, 3], 3), "t": np.tile([1, 2, 3], 3), "y": np.arange(9.0)}
    )
    frame["d"] = (((frame.u == 1) & (frame.t >= 2)) | ((frame.u == 2) & (frame.t >= 3))).astype(int)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.raises(DesignError, match="staggered"):
        MatchedComparison().fit(panel)


@pytest.mark.filterwarnings("ignore::impact.DesignWarning")
def test_registered_and_caller_frame_untouched():
    assert impact.get_estimator("matching").method == "nearest"
    frame = selection_on_observables()
    before = frame.copy()
    MatchedComparison(method="cem").fit(to_cross_section(frame))
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("params", [{}, {"replace": True}, {"distance": "mahalanobis"}])
def test_shuffling_rows_and_relabelling_units_in_a_cross_section(params):
    frame = selection_on_observables(n=300, seed=8)
    base = MatchedComparison(**params).fit(to_cross_section(frame)).effects
    rng = np.random.default_rng(0)
    shuffled = frame.sample(frac=1.0, random_state=1).assign(
        pupil=lambda f: f["pupil"].map(dict(enumerate(rng.permutation(10_000)[:300])))
    )
    other = MatchedComparison(**params).fit(to_cross_section(shuffled)).effects
    pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-9)


def test_pupils_nested_in_schools_are_averaged_per_school():
    rng = np.random.default_rng(4)
    schools = np.repeat(np.arange(80), 5)
    level = rng.normal(size=80)
    treated = (rng.random(80) < 1 / (1 + np.exp(-level))).astype(int)
    frame = pd.DataFrame(
        {
            "school": schools,
            "year": 2024,
            "x": level[schools] + rng.normal(0, 0.1, len(schools)),
            "d": treated[schools],
        }
    )
    frame["y"] = 2 * level[schools] + 1.0 * frame["d"] + rng.normal(0, 0.5, len(frame))
    panel = Panel.from_frame(
        frame, unit="school", time="year", outcome="y", treated="d", covariates=["x"]
    )
    result = MatchedComparison(replace=True).fit(panel)
    assert result.n_units == 80
    assert abs(result.att.estimate - 1.0) < 4 * result.att.std_error


def test_exact_method_on_listed_covariates_balances_them_exactly():
    panel = to_cross_section(selection_on_observables())
    result = MatchedComparison(method="exact", exact=("group",)).fit(panel)
    balance = result.diagnostics["balance"].set_index("covariate")
    for level in ("groupa", "groupb", "groupc"):
        assert balance.loc[level, "smd_after"] == pytest.approx(0.0, abs=1e-12)
    assert result.effects.loc[0, "n_treated"] == (panel.frame["d"] == 1).sum()


@pytest.mark.parametrize("estimator", [MatchedComparison(), impact.MatchedDiD()])
def test_units_lost_before_the_programme_are_left_out_with_a_warning(did_frame, estimator):
    # units observed only before adoption have no outcome to compare (found by running
    # every estimator on simulated panels with attrition: their NaN outcome used to
    # reach the estimate and the sensitivity analysis)
    frame = did_frame.assign(xu=did_frame.groupby("unit")["x"].transform("first"))
    # unit 3 was to be treated (units 0-19 are) but leaves before adoption, so the data
    # show it untreated, like the two controls 25 and 31
    lost = [3, 25, 31]
    attrited = frame.loc[~(frame["unit"].isin(lost) & (frame["d"].eq(1) | (frame["time"] >= 2004)))]
    kept = frame.loc[~frame["unit"].isin(lost)]
    spec = {"unit": "unit", "time": "time", "outcome": "y", "treated": "d", "covariates": ["xu"]}
    with pytest.warns(impact.DataWarning, match=r"3 units of 'unit' \(0 treated, 3 comparison\)"):
        result = estimator.fit(Panel.from_frame(attrited, **spec))
    expected = estimator.fit(Panel.from_frame(kept, **spec))
    assert np.isfinite(result.att.estimate)
    pd.testing.assert_frame_equal(result.effects, expected.effects)


def test_e_values_with_constant_comparison_outcomes_are_undefined_not_an_error():
    # every comparison unit has the same outcome: the standardised effect behind the
    # E-value has no scale (found by running every estimator on simulated panels)
    rng = np.random.default_rng(3)
    n = 60
    d = (np.arange(n) < 20).astype(int)
    frame = pd.DataFrame(
        {
            "pupil": np.arange(n),
            "year": 2020,
            "x": rng.normal(size=n) + 0.5 * d,
            "d": d,
            "y": np.where(d == 1, 3.0 + rng.normal(0.0, 0.5, n), 1.5),
        }
    )
    panel = Panel.from_frame(
        frame, unit="pupil", time="year", outcome="y", treated="d", covariates=["x"]
    )
    result = MatchedComparison(adjustment="none").fit(panel)
    assert result.att.ci_lower > 0
    summary = result.diagnostics["sensitivity_summary"].set_index("quantity")["value"]
    assert np.isnan(summary["risk_ratio"]) and np.isnan(summary["e_value_ci"])
