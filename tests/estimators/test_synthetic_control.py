"""Synthetic control: reference values, recovery of a known effect, and design errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.estimators import SyntheticControl
from impact.exceptions import DataError, DesignError, DesignWarning, InferenceWarning
from tests.estimators.synthetic_data import make_factor_frame

REFERENCE = Path(__file__).parents[1] / "reference" / "synthetic"
BASQUE = "Basque Country (Pais Vasco)"
BASQUE_COVARIATES = [
    "school.illit",
    "school.prim",
    "school.med",
    "school.high",
    "school.post.high",
    "invest",
    "sec.agriculture",
    "sec.energy",
    "sec.industry",
    "sec.construction",
    "sec.services.venta",
    "sec.services.nonventa",
    "popdens",
]
# The specification of R Synth's basque example, as pysyncon's tests/test_synth_basque.py
# writes it: school and investment means over 1964-1969, GDP per capita over 1960-1969,
# the sector shares over the odd years 1961-1969, population density in 1969; V chosen
# on the outcome MSPE over 1960-1969.
BASQUE_PREDICTORS = [
    *[(c, range(1964, 1970)) for c in BASQUE_COVARIATES[:6]],
    ("gdpcap", range(1960, 1970)),
    *[(c, range(1961, 1970, 2)) for c in BASQUE_COVARIATES[6:12]],
    ("popdens", [1969]),
]


def basque_panel() -> impact.Panel:
    """R Synth's ``basque`` data (see tests/reference/synthetic/README.md).

    The sector shares are recorded every other year and the other covariates in a few
    years only; a Panel takes complete covariates, so each region's gaps are filled
    from its nearest recorded year. The cells the specification averages are recorded,
    so the filled cells play no part.
    """
    df = pd.read_csv(REFERENCE / "basque.csv")
    df[BASQUE_COVARIATES] = df.groupby("regionname")[BASQUE_COVARIATES].transform(
        lambda s: s.ffill().bfill()
    )
    df["d"] = ((df["regionname"] == BASQUE) & (df["year"] >= 1970)).astype(int)
    return impact.Panel.from_frame(
        df, unit="regionname", time="year", outcome="gdpcap", treated="d",
        covariates=BASQUE_COVARIATES,
    )  # fmt: skip


def factor_panel(**kwargs) -> impact.Panel:
    frame = make_factor_frame(**kwargs)
    return impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["x"]
    )


def weights_of(result: impact.ImpactResult) -> pd.Series:
    table = result.diagnostics["unit_weights"]
    return table.set_index("unit")["weight"]


# ---------------------------------------------------------------------- reference values
def test_basque_weights_match_synth_and_pysyncon():
    # pysyncon's tests (tests/test_synth_basque.py, pysyncon 1.x) and R Synth's basque
    # example: Cataluna 0.850816, Madrid 0.149184; tested there to 0.025, here to 0.02
    est = SyntheticControl(
        predictors=BASQUE_PREDICTORS,
        fit_periods=tuple(range(1960, 1970)),
        inference="none",
        conformal=False,
    )
    w = weights_of(est.fit(basque_panel()))
    assert w["Cataluna"] == pytest.approx(0.851, abs=0.02)
    assert w["Madrid (Comunidad De)"] == pytest.approx(0.149, abs=0.02)
    others = w.drop(["Cataluna", "Madrid (Comunidad De)"])
    assert others.max() < 0.02
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_basque_balance_table_and_v():
    est = SyntheticControl(
        predictors=BASQUE_PREDICTORS,
        fit_periods=tuple(range(1960, 1970)),
        inference="none",
        conformal=False,
    )
    result = est.fit(basque_panel())
    balance = result.diagnostics["predictor_balance"]
    assert len(balance) == len(BASQUE_PREDICTORS)
    assert balance["v"].sum() == pytest.approx(1.0)
    gdp = balance.set_index("predictor").loc["gdpcap[1960:1969]"]
    # the synthetic Basque country matches its 1960s GDP per capita (5.285) closely,
    # the plain mean of the regions does not (3.58)
    assert gdp["treated"] == pytest.approx(5.2855, abs=1e-3)
    assert abs(gdp["synthetic"] - gdp["treated"]) < 0.05
    assert abs(gdp["pool_mean"] - gdp["treated"]) > 1.0
    # the pre-period fit of the outcome used to choose V
    assert result.diagnostics["treated_units"]["pre_rmspe"].iloc[0] < 0.2


def prop99_panel() -> impact.Panel:
    df = pd.read_csv(REFERENCE / "california_prop99.csv", sep=";")
    return impact.Panel.from_frame(
        df, unit="State", time="Year", outcome="PacksPerCapita", treated="treated"
    )


def test_prop99_outcome_only_is_the_exact_synthetic_control():
    # synthdid's sc_estimate gives -19.61966 (R synthdid defaults; tests/reference/
    # synthetic/README.md). It solves the same problem (pre-period outcomes, equal
    # weights, ridge 1e-6 times the noise level, no intercept) by Frank-Wolfe with a
    # stopping rule and a sparsification step; its weights leave a pre-period MSE of
    # 2.77166 (the algorithm of synthdid's sc.weight.fw replayed in numpy). The exact
    # minimiser has a lower MSE and an estimate 0.106 away, -19.5136.
    result = SyntheticControl(ridge=1e-6, conformal=False, inference="none").fit(prop99_panel())
    pre = result.paths[~result.paths["post"]]
    mse = float(np.mean(pre["effect"] ** 2))
    assert mse < 2.77166
    assert mse == pytest.approx(2.74366, abs=1e-3)
    assert result.att.estimate == pytest.approx(-19.5136, abs=2e-3)
    assert abs(result.att.estimate - (-19.61966)) < 0.15
    weights = weights_of(result)
    assert weights.sum() == pytest.approx(1.0)
    assert set(weights[weights > 0.05].index) == {"Connecticut", "Montana", "Nevada", "Utah"}


# ---------------------------------------------------------------------- known truth
def test_noise_free_factor_data_give_the_true_effect():
    result = SyntheticControl(conformal=False).fit(factor_panel(noise=0.0, effect=3.0))
    assert result.att.estimate == pytest.approx(3.0, abs=1e-4)
    rows = result.effects[result.effects["term"].str.startswith("e=")]
    np.testing.assert_allclose(rows["estimate"], 3.0, atol=1e-4)
    paths = result.paths
    np.testing.assert_allclose(paths.loc[~paths["post"], "effect"], 0.0, atol=1e-4)


def test_several_treated_units_are_averaged_by_event_time():
    adoptions = (12, 15, 15)
    result = SyntheticControl(conformal=False).fit(
        factor_panel(noise=0.0, effect=2.0, adoptions=adoptions)
    )
    effects = result.effects.set_index("term")
    assert effects.loc["att", "estimate"] == pytest.approx(2.0, abs=1e-4)
    # event times 0-4 have all three units, 5-7 only the one adopting at position 12
    assert effects.loc["e=0", "n_treated"] == 3
    assert effects.loc["e=7", "n_treated"] == 1
    units = result.diagnostics["treated_units"].set_index("treated_unit")
    assert units["share"].sum() == pytest.approx(1.0)
    assert units.loc["t0", "share"] == pytest.approx(8 / (8 + 5 + 5))
    weights = result.diagnostics["unit_weights"]
    assert weights.groupby("treated_unit")["weight"].sum().tolist() == pytest.approx([1.0] * 3)
    assert result.settings["paths_time"] == "event"


def test_placebos_give_a_rank_p_value_and_gaps():
    panel = factor_panel(noise=0.1, effect=5.0, n_donors=19, n_periods=24, adoptions=(20,))
    result = SyntheticControl(conformal=False).fit(panel)
    unit = result.diagnostics["treated_units"].iloc[0]
    # the treated unit's RMSPE ratio is the largest of 20: p = 1/20
    assert unit["p_value"] == pytest.approx(1 / 20)
    assert unit["placebos_used"] == 19
    assert result.effects.set_index("term").loc["att", "permutation_p_value"] == unit["p_value"]
    gaps = result.diagnostics["placebo_gaps"]
    assert gaps["unit"].nunique() == 19
    assert len(gaps) == 19 * 24
    excluded = SyntheticControl(conformal=False, exclude_poor_fit=1.0).fit(panel)
    assert excluded.diagnostics["treated_units"]["placebos_used"].iloc[0] < 19


def _inverted(estimate: float, placebo_estimates: np.ndarray, alpha: float = 0.05):
    """The placebo test inverted by brute force: the tau0 whose rank p-value exceeds alpha."""
    e = np.abs(np.asarray(placebo_estimates))
    grid = np.linspace(estimate - 3 * e.max() - 1, estimate + 3 * e.max() + 1, 20_001)
    p = (1 + (e[None, :] >= np.abs(estimate - grid)[:, None]).sum(axis=1)) / (len(e) + 1)
    kept = grid[p > alpha]
    return kept.min(), kept.max(), (1 + int((e >= abs(estimate)).sum())) / (len(e) + 1)


def test_one_treated_unit_inverts_the_placebo_test():
    panel = factor_panel(noise=0.5, effect=1.0, n_donors=29, n_periods=24, adoptions=(20,))
    result = SyntheticControl(conformal=False).fit(panel)
    effects = result.effects.set_index("term")
    placebos = result.diagnostics["placebos"]
    gaps = result.diagnostics["placebo_gaps"]
    assert len(placebos) == 29
    step = 6 * np.abs(placebos["att"]).max() / 20_000
    for term, values in [
        ("att", placebos["att"].to_numpy()),
        ("e=2", gaps.loc[gaps["event_time"] == 2].sort_values("unit")["gap"].to_numpy()),
    ]:
        row = effects.loc[term]
        lo, hi, p = _inverted(row["estimate"], values)
        assert row["ci_lower"] == pytest.approx(lo, abs=2 * step)
        assert row["ci_upper"] == pytest.approx(hi, abs=2 * step)
        assert row["p_value"] == pytest.approx(p)
        # 29 placebos at alpha 0.05: the half-width is the 29th smallest |gap|, the largest
        assert row["ci_upper"] - row["estimate"] == pytest.approx(np.abs(values).max())
    # the standard error stays the placebo-scale one, and is not what the interval uses
    assert np.isfinite(effects.loc["att", "std_error"]) and effects.loc["att", "std_error"] > 0


def test_too_few_placebos_give_an_unbounded_interval():
    panel = factor_panel(noise=0.5, effect=1.0, n_donors=12, n_periods=24, adoptions=(20,))
    att = SyntheticControl(conformal=False).fit(panel).att
    # 12 placebos: no effect can be rejected at the 5% level (the smallest p is 1/13)
    assert att.ci_lower == -np.inf and att.ci_upper == np.inf
    assert att.p_value >= 1 / 13


def test_excluded_placebos_leave_the_inversion_too():
    panel = factor_panel(noise=0.5, effect=1.0, n_donors=29, n_periods=24, adoptions=(20,))
    result = SyntheticControl(conformal=False, exclude_poor_fit=2.0).fit(panel)
    used = int(result.diagnostics["treated_units"]["placebos_used"].iloc[0])
    treated = result.diagnostics["treated_units"].iloc[0]
    placebos = result.diagnostics["placebos"]
    kept = placebos.loc[placebos["pre_rmspe"] ** 2 <= 2.0 * treated["pre_rmspe"] ** 2, "att"]
    assert len(kept) == used < 29
    lo, hi, p = _inverted(result.att.estimate, kept.to_numpy())
    assert result.att.p_value == pytest.approx(p)
    if used >= 19:
        assert result.att.ci_upper == pytest.approx(hi, abs=1e-3 * np.abs(kept).max())
        assert result.att.ci_lower == pytest.approx(lo, abs=1e-3 * np.abs(kept).max())
    else:
        assert (result.att.ci_lower, result.att.ci_upper) == (-np.inf, np.inf)


def test_conformal_intervals_cover_the_path_and_need_enough_pre_periods():
    panel = factor_panel(noise=0.2, effect=3.0, n_donors=15, n_periods=26, adoptions=(22,))
    result = SyntheticControl(inference="none").fit(panel)
    post = result.paths[result.paths["post"]]
    assert np.isfinite(post[["ci_lower", "ci_upper"]].to_numpy()).all()
    assert ((post["ci_lower"] <= post["effect"]) & (post["effect"] <= post["ci_upper"])).all()
    assert (post["ci_lower"] < 3.0).all() and (post["ci_upper"] > 3.0).all()
    short = SyntheticControl(inference="none").fit(factor_panel(n_periods=12, adoptions=(8,)))
    rows = short.effects[short.effects["term"] != "att"]
    assert np.isinf(rows["conformal_upper"]).all()


def test_outcome_only_ignores_the_order_of_units_with_many_exact_fits():
    # more donors than pre-periods and a treated unit inside their hull: many weight
    # vectors fit exactly; the tie-break makes the answer independent of unit order
    frame = make_factor_frame(n_donors=15, n_periods=8, adoptions=(5,), noise=0.05, seed=3)
    est = SyntheticControl(conformal=False, inference="none")
    base = est.fit(
        impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    )
    renamed = frame.assign(unit=frame["unit"].map(lambda u: f"z{u[::-1]}"))
    other = est.fit(
        impact.Panel.from_frame(renamed, unit="unit", time="time", outcome="y", treated="d")
    )
    assert other.att.estimate == pytest.approx(base.att.estimate, rel=1e-8)


# ---------------------------------------------------------------------- bad input
def test_missing_cells_are_named():
    frame = make_factor_frame()
    frame = frame.drop(frame.index[(frame["unit"] == "c03") & (frame["time"] == 2005)])
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.raises(DataError, match=r"\('c03', 2005\)"):
        SyntheticControl().fit(panel)


def test_no_comparison_units():
    frame = make_factor_frame(adoptions=(10,))
    frame.loc[frame["unit"] != "t0", "d"] = (frame["time"] >= 2015).astype(int)
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.raises(DesignError, match="no comparison units"):
        SyntheticControl().fit(panel)


def test_treated_from_the_first_period_has_no_pre_period():
    frame = make_factor_frame(adoptions=(0,))
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.raises(DesignError, match="'t0' is treated from the first period"):
        SyntheticControl().fit(panel)


def test_one_pre_period_is_too_few_for_the_outcome_only_variant():
    panel = factor_panel(adoptions=(1,))
    with pytest.raises(DesignError, match="at least 2"):
        SyntheticControl().fit(panel)


def test_predictor_after_adoption_is_refused():
    panel = factor_panel(adoptions=(10,))
    with pytest.raises(DesignError, match="not before unit 't0' adopts in 2011"):
        SyntheticControl(predictors=[("y", range(2005, 2013))]).fit(panel)


def test_predictor_periods_outside_the_panel_are_refused():
    with pytest.raises(DesignError, match="does not have"):
        SyntheticControl(predictors=[("y", [1990])]).fit(factor_panel())


def test_constant_predictor_is_named():
    frame = make_factor_frame().assign(flat=1.0)
    frame["flat"] = frame["flat"] + np.where(frame["time"] > 2018, 1.0, 0.0)
    panel = impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["flat"]
    )
    with pytest.raises(DesignError, match=r"\['flat'\] take the same value for every unit"):
        SyntheticControl(predictors=["flat", ("y", [2003, 2008])]).fit(panel)


def test_unknown_and_non_numeric_predictors():
    frame = make_factor_frame().assign(region=lambda f: np.where(f["unit"] < "c05", "n", "s"))
    panel = impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["region"]
    )
    with pytest.raises(DesignError, match="'income' is not part of the Panel"):
        SyntheticControl(predictors=["income"]).fit(panel)
    with pytest.raises(DesignError, match="'region' is not numeric"):
        SyntheticControl(predictors=["region"]).fit(panel)


def test_given_v_must_have_one_weight_per_predictor():
    with pytest.raises(DesignError, match="v has 3 values but there are 2 predictors"):
        SyntheticControl(predictors=["x", "y"], v=(1, 1, 1), conformal=False).fit(factor_panel())


def test_treated_unit_outside_the_hull_warns_with_its_rmspe():
    frame = make_factor_frame(noise=0.1)
    frame.loc[frame["unit"] == "t0", "y"] += 50.0
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(
        DesignWarning, match=r"'t0' \(outside the comparison units' range in 14 of 14"
    ):
        SyntheticControl(conformal=False, inference="none").fit(panel)


def test_one_comparison_unit_leaves_the_interval_undefined():
    frame = make_factor_frame(n_donors=1, adoptions=(10,))
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(InferenceWarning, match="at least 2 comparison units"):
        result = SyntheticControl(conformal=False).fit(panel)
    assert np.isnan(result.att.std_error)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"v": "best"}, "v='best' is not valid"),
        ({"v": (1.0, -1.0)}, "non-negative"),
        ({"ridge": -1.0}, "ridge=-1.0"),
        ({"ridge": 0.1, "predictors": ["x"]}, "outcome-only"),
        ({"starts": -1}, "starts=-1"),
        ({"inference": "jackknife"}, "inference='jackknife'"),
        ({"exclude_poor_fit": 0.5}, "exclude_poor_fit=0.5"),
        ({"predictors": "x"}, "must be a sequence"),
        ({"predictors": [("x", [])]}, "empty list of periods"),
        ({"fit_periods": ()}, "fit_periods is empty"),
        ({"alpha": 1.5}, "alpha=1.5"),
    ],
)
def test_bad_hyperparameters(params, message):
    with pytest.raises(DesignError, match=message):
        SyntheticControl(**params)


def test_registered_and_fit_leaves_the_frame_alone():
    assert impact.get_estimator("synthetic_control").__class__ is SyntheticControl
    frame = make_factor_frame()
    copy = frame.copy()
    SyntheticControl(conformal=False).fit(
        impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    )
    pd.testing.assert_frame_equal(frame, copy)


def test_a_systematic_pre_period_misfit_withholds_the_intervals():
    # every treated unit lies below the comparison units: the synthetic controls miss
    # their path by the same sign, and the placebo errors (of the comparison units, which
    # mostly match each other) say nothing of that bias
    frame = make_factor_frame(n_donors=12, adoptions=(14, 14, 14), noise=0.1, seed=4)
    frame.loc[frame["unit"].str.startswith("t"), "y"] -= 30.0
    panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(InferenceWarning, match="mean pre-period gap is -"):
        result = SyntheticControl(conformal=False).fit(panel)
    assert result.effects["p_value"].isna().all()
    assert result.settings["pre_period_gap"] < -20
