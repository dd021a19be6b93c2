"""Absorbed fixed effects (``absorb=``) in the DiD and event study regressions.

Reference values are computed in the tests from the libraries the package follows,
on data sets built here:

* pyfixest 0.60 (R ``fixest``'s conventions): ``feols("y ~ D | unit + year +
  g^year", vcov={"CRV1": "unit"})``, ``"hetero"``, ``"iid"`` and ``{"CRV1":
  "unit+year"}``, and ``feols("y ~ i(rel, ref=-1) | unit + year + g^year")`` for the
  event study; the demeaning tolerance is set to ``1e-13`` (its default, ``1e-6``,
  leaves errors far above 1e-8). Skipped when pyfixest is not installed.
* linearmodels ``AbsorbingLS(y, D, absorb=[unit, year, g x year])``: the estimate,
  the conventional variance (``s^2 = RSS/N`` without ``debiased``) and the clustered
  one, rescaled to the small-sample factors (``N/(N-K)``; ``G/(G-1) (N-1)/(N-K)``).
* linearmodels ``PanelOLS(y, D, entity_effects=True, other_effects=region x year)``
  (it takes two effects at most; the region-by-year effects span the year effects, so
  this is the same model), clustered by unit with ``debiased=False, auto_df=False,
  count_effects=False`` (no small-sample factor), rescaled by ``G/(G-1) (N-1)/(N-K)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact.exceptions import DataError, DesignError, InferenceWarning

RTOL = 1e-8


def _frame(seed: int = 0, staggered: bool = False) -> pd.DataFrame:
    """60 schools in 6 regions over 8 years; region-by-year shocks; effect 2."""
    rng = np.random.default_rng(seed)
    n_units, n_years, n_regions = 60, 8, 6
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2001, 2001 + n_years), n_units)
    region = unit % n_regions
    if staggered:
        cohort = np.where(unit < 20, 2004, np.where(unit < 40, 2006, 0))
    else:
        cohort = np.where(unit < 30, 2005, 0)
    treated = ((cohort > 0) & (year >= cohort)).astype(int)
    shocks = rng.normal(size=(n_regions, n_years))[region, year - 2001]
    y = rng.normal(size=n_units)[unit] + 3 * shocks + 2.0 * treated + rng.normal(size=len(unit))
    return pd.DataFrame(
        {
            "y": y,
            "D": treated,
            "unit": unit,
            "year": year,
            "region": region,
            "rel": np.where(cohort > 0, year - cohort, -1),
            "w": rng.uniform(0.5, 2.0, n_units)[unit],
        }
    )


def _panel(df: pd.DataFrame, **kwargs) -> impact.Panel:
    return impact.Panel.from_frame(
        df, unit="unit", time="year", outcome="y", treated="D", fixed_effects=["region"], **kwargs
    )


def _feols(pf, formula: str, df: pd.DataFrame, **kwargs):
    """pyfixest's feols with a tight demeaning tolerance."""
    try:
        from pyfixest.demeaners import MapDemeaner
    except ImportError:  # older pyfixest
        return pf.feols(formula, data=df, fixef_tol=1e-13, **kwargs)
    return pf.feols(formula, data=df, demeaner=MapDemeaner(fixef_tol=1e-13), **kwargs)


def _fit(estimator, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        return estimator.fit(panel)


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize(
    ("inference", "vcov"),
    [
        ("cr1", {"CRV1": "unit"}),
        ("hc1", "hetero"),
        ("iid", "iid"),
        ("twoway", {"CRV1": "unit+year"}),
    ],
)
def test_did_matches_pyfixest(inference, vcov, weights):
    pf = pytest.importorskip("pyfixest")
    df = _frame()
    ours = _fit(
        impact.DifferenceInDifferences(inference=inference, absorb=(("region", "year"),)),
        _panel(df, weights=weights),
    ).att
    ref = _feols(pf, "y ~ D | unit + year + region^year", df, vcov=vcov, weights=weights)
    tidy = ref.tidy().loc["D"]
    np.testing.assert_allclose(ours.estimate, tidy["Estimate"], rtol=RTOL)
    np.testing.assert_allclose(ours.std_error, tidy["Std. Error"], rtol=RTOL)
    np.testing.assert_allclose(ours.p_value, tidy["Pr(>|t|)"], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose([ours.ci_lower, ours.ci_upper], tidy[["2.5%", "97.5%"]], rtol=1e-7)


def test_event_study_matches_pyfixest():
    pf = pytest.importorskip("pyfixest")
    df = _frame(seed=1, staggered=True)
    result = _fit(
        impact.EventStudy(inference="cr1", absorb=(("region", "year"),)), _panel(df)
    ).effects.set_index("term")
    ref = _feols(pf, "y ~ i(rel, ref=-1) | unit + year + region^year", df, vcov={"CRV1": "unit"})
    tidy = ref.tidy()
    assert len(tidy) == 9
    for label, row in tidy.iterrows():
        event = int(float(str(label).split("::")[1]))
        np.testing.assert_allclose(result.loc[f"e={event}", "estimate"], row["Estimate"], rtol=RTOL)
        np.testing.assert_allclose(
            result.loc[f"e={event}", "std_error"], row["Std. Error"], rtol=RTOL
        )


def test_did_matches_linearmodels_absorbing_ls():
    from linearmodels.iv import AbsorbingLS

    df = _frame(seed=2)
    cells = pd.DataFrame(
        {
            "unit": pd.Categorical(df["unit"]),
            "year": pd.Categorical(df["year"]),
            "region_year": pd.Categorical(df["region"] * 10_000 + df["year"]),
        }
    )
    model = AbsorbingLS(df["y"], df[["D"]].astype(float), absorb=cells)
    n = len(df)
    panel = _panel(df)
    conventional = model.fit(cov_type="unadjusted", debiased=False)
    absorb = (("region", "year"),)
    ours = _fit(impact.DifferenceInDifferences(inference="iid", absorb=absorb), panel)
    k = ours.settings["n_params_correction"]
    assert k == conventional.df_model  # every dummy counted (none nested in clusters)
    np.testing.assert_allclose(ours.att.estimate, conventional.params["D"], rtol=RTOL)
    np.testing.assert_allclose(
        ours.att.std_error, conventional.std_errors["D"] * np.sqrt(n / (n - k)), rtol=RTOL
    )
    clustered = model.fit(cov_type="clustered", clusters=df["unit"], debiased=False)
    ours = _fit(impact.DifferenceInDifferences(inference="cr1", absorb=absorb), panel)
    k, g = ours.settings["n_params_correction"], 60
    factor = g / (g - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(
        ours.att.std_error, clustered.std_errors["D"] * np.sqrt(factor), rtol=RTOL
    )


def test_did_matches_linearmodels_panel_ols_with_other_effects():
    from linearmodels.panel import PanelOLS

    df = _frame(seed=5)
    data = df.set_index(["unit", "year"])
    cells = pd.DataFrame(
        {"region_year": (df["region"] * 10_000 + df["year"]).to_numpy()}, index=data.index
    )
    reference = PanelOLS(
        data["y"], data[["D"]].astype(float), entity_effects=True, other_effects=cells
    ).fit(
        cov_type="clustered",
        cluster_entity=True,
        debiased=False,
        auto_df=False,
        count_effects=False,
    )
    ours = _fit(
        impact.DifferenceInDifferences(inference="cr1", absorb=(("region", "year"),)),
        _panel(df),
    )
    n, g, k = len(df), 60, ours.settings["n_params_correction"]
    np.testing.assert_allclose(ours.att.estimate, reference.params["D"], rtol=RTOL)
    np.testing.assert_allclose(
        ours.att.std_error**2,
        reference.std_errors["D"] ** 2 * g / (g - 1) * (n - 1) / (n - k),
        rtol=RTOL,
    )


def test_absorbed_effects_remove_the_shocks_they_name():
    """Region-by-year shocks, correlated with treatment by region, bias the plain TWFE."""
    rng = np.random.default_rng(3)
    df = _frame(seed=3)
    # treated schools sit in regions 0-2 (half of their schools); shocks after adoption
    # hit every school of those regions
    hit = (df["region"] < 3) & (df["year"] >= 2005)
    df["D"] = (hit & ((df["unit"] // 6) % 2 == 1)).astype(int)
    shock = np.where(hit, 1.5, 0.0)
    df["y"] = rng.normal(size=60)[df["unit"]] + shock + 2.0 * df["D"] + rng.normal(0, 0.1, len(df))
    panel = _panel(df)
    plain = _fit(impact.DifferenceInDifferences(inference="cr1"), panel).att.estimate
    absorbed = _fit(
        impact.DifferenceInDifferences(inference="cr1", absorb=(("region", "year"),)), panel
    ).att
    assert abs(plain - 2.0) > 0.3  # the shock to untreated neighbours biases the plain fit
    assert abs(absorbed.estimate - 2.0) < 0.1
    assert abs(absorbed.estimate - 2.0) < 4 * absorbed.std_error


def test_treatment_explained_by_absorbed_effects_raises_naming_them():
    df = _frame()
    df["school_by_year"] = df["unit"] * 10_000 + df["year"]
    panel = impact.Panel.from_frame(
        df, unit="unit", time="year", outcome="y", treated="D", fixed_effects=["school_by_year"]
    )
    with pytest.raises(DesignError, match="'school_by_year'"):
        impact.DifferenceInDifferences(absorb=("school_by_year",)).fit(panel)
    with pytest.raises(DesignError, match=r"'unit\^year'"):
        impact.DifferenceInDifferences(absorb=(("unit", "year"),)).fit(panel)
    staggered = _frame(seed=1, staggered=True)
    staggered["school_by_year"] = staggered["unit"] * 10_000 + staggered["year"]
    panel = impact.Panel.from_frame(
        staggered,
        unit="unit",
        time="year",
        outcome="y",
        treated="D",
        fixed_effects=["school_by_year"],
    )
    with pytest.raises(DesignError, match="'school_by_year'"):
        impact.EventStudy(absorb=("school_by_year",)).fit(panel)


def test_treatment_varying_within_the_absorbed_cells_is_kept():
    """Region-by-year effects leave treated and untreated schools within a region-year."""
    df = _frame()
    result = _fit(impact.DifferenceInDifferences(absorb=(("region", "year"),)), _panel(df))
    assert np.isfinite(result.att.std_error)
    assert result.settings["absorb"] == (("region", "year"),)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.integers(1, 1000))
def test_absorbing_an_effect_already_spanned_changes_nothing(seed, shift):
    """A relabelled unit id adds no parameter (nested in the unit clusters): nothing moves."""
    df = _frame(seed=seed % 50, staggered=seed % 2 == 1)
    df["unit_again"] = df["unit"] * 7 + shift
    df["region_again"] = df["region"].astype(str) + "r"
    panel = impact.Panel.from_frame(
        df,
        unit="unit",
        time="year",
        outcome="y",
        treated="D",
        fixed_effects=["unit_again", "region_again", "region"],
    )
    estimator = impact.EventStudy if seed % 2 == 1 else impact.DifferenceInDifferences
    plain = _fit(estimator(inference="cr1"), panel).effects
    again = _fit(estimator(inference="cr1", absorb=("unit_again",)), panel).effects
    np.testing.assert_allclose(again["estimate"], plain["estimate"], rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(again["std_error"], plain["std_error"], rtol=RTOL)
    # an interaction given twice, by the same columns relabelled: the same fit
    once = _fit(estimator(inference="cr1", absorb=(("region", "year"),)), panel).effects
    twice = _fit(
        estimator(inference="cr1", absorb=(("region", "year"), ("region_again", "year"))), panel
    ).effects
    np.testing.assert_allclose(twice["estimate"], once["estimate"], rtol=RTOL, atol=1e-10)


def test_zero_weight_rows_are_left_out():
    df = _frame()
    df.loc[df["unit"] == 5, "w"] = 0.0
    estimator = impact.DifferenceInDifferences(inference="cr1", absorb=(("region", "year"),))
    with_zero = _fit(estimator, _panel(df, weights="w")).att
    without = _fit(estimator, _panel(df[df["unit"] != 5], weights="w")).att
    np.testing.assert_allclose(with_zero.estimate, without.estimate, rtol=RTOL)
    np.testing.assert_allclose(with_zero.std_error, without.std_error, rtol=RTOL)


@pytest.mark.parametrize("inference", ["wild", "driscoll_kraay", "auto"])
def test_other_inference_runs_on_the_absorbed_regression(inference):
    df = _frame()
    estimator = impact.DifferenceInDifferences(
        inference=inference, absorb=(("region", "year"),), draws=199
    )
    result = _fit(estimator, _panel(df))
    reference = _fit(
        impact.DifferenceInDifferences(inference="cr1", absorb=(("region", "year"),)),
        _panel(df),
    )
    np.testing.assert_allclose(result.att.estimate, reference.att.estimate, rtol=RTOL)
    assert result.att.ci_lower < result.att.estimate < result.att.ci_upper


def test_missing_absorb_column_is_a_data_error_naming_it():
    df = _frame()
    with pytest.raises(DataError, match="'pupil'"):
        impact.DifferenceInDifferences(absorb=("pupil",)).fit(_panel(df))
    with pytest.raises(DataError, match="'pupil'"):
        impact.EventStudy(absorb=(("pupil", "year"),)).fit(_panel(df))
    with pytest.raises(DataError, match="'pupil'"):
        impact.Panel.from_frame(
            df, unit="unit", time="year", outcome="y", treated="D", fixed_effects=["pupil"]
        )


def test_absorb_column_with_missing_values_is_a_data_error():
    df = _frame()
    df["region"] = df["region"].astype(float)
    df.loc[7, "region"] = np.nan
    before = df.copy()
    with pytest.raises(DataError, match=r"'region'.*missing"):
        _panel(df)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is untouched


def test_bad_absorb_values_and_unsupported_inference_raise():
    with pytest.raises(DesignError, match="absorb"):
        impact.DifferenceInDifferences(absorb=(3,))
    with pytest.raises(DesignError, match="absorb"):
        impact.DifferenceInDifferences(absorb=3)
    for method in ("cr2", "cr3", "randomization"):
        with pytest.raises(DesignError, match="not available with absorbed effects"):
            impact.DifferenceInDifferences(inference=method, absorb=("region",))
    with pytest.raises(DesignError, match="not available with absorbed effects"):
        impact.EventStudy(inference="cr2", absorb=("region",))
    # a single name is read as a one-item tuple
    assert impact.DifferenceInDifferences(absorb="region").absorb == ("region",)


def test_joint_inference_over_outcomes_refuses_absorbed_effects():
    df = _frame()
    df["y2"] = df["y"] + 1.0
    panel = impact.Panel.from_frame(
        df,
        unit="unit",
        time="year",
        outcome="y",
        treated="D",
        fixed_effects=["region"],
        extra_outcomes=["y2"],
    )
    estimator = impact.DifferenceInDifferences(absorb=(("region", "year"),))
    with pytest.raises(DesignError, match="absorbed effects"):
        estimator.regression_design(panel)


def test_adoption_randomization_keeps_the_absorbed_columns():
    """Re-assigned adoption dates rebuild the Panel: its fixed-effect columns come along."""
    from impact.inference import adoption_randomization_test

    df = _frame()
    estimator = impact.DifferenceInDifferences(inference="cr1", absorb=(("region", "year"),))
    out = adoption_randomization_test(estimator, _panel(df), draws=19, seed=0)
    assert 0 < out.p_value <= 1
