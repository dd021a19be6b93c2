"""impact.estimate_by: subgroup effects, their joint test, the gap, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact.exceptions import DataError, DesignError, ImpactWarning


def pupils(seed=1, schools=30, years=4, per_cell=12, effects=(3.0, 0.5), noise=1.0):
    """Pupils in repeated cross-sections of schools; deprivation drawn within schools."""
    rng = np.random.default_rng(seed)
    n = schools * years * per_cell
    df = pd.DataFrame(
        {
            "school": np.repeat(np.arange(schools), years * per_cell),
            "year": np.tile(np.repeat(np.arange(2001, 2001 + years), per_cell), schools),
        }
    )
    df["deprived"] = (rng.random(n) < 0.4).astype(float)
    df["pilot"] = ((df.school < schools // 2) & (df.year >= 2003)).astype(int)
    school = rng.normal(size=schools)[df.school]
    shock = rng.normal(0, 0.7, size=(schools, years))[df.school, df.year - 2001]
    effect = np.where(df.deprived == 1, effects[0], effects[1])
    df["score"] = school + shock + 0.2 * (df.year - 2001) + effect * df.pilot
    df["score"] += rng.normal(0, noise, n)
    return df


def pupil_panel(df):
    return impact.Panel.from_frame(
        df,
        unit="school",
        time="year",
        outcome="score",
        treated="pilot",
        extra_outcomes=["deprived"],
        repeated_cross_section=True,
    )


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        return func(*args, **kwargs)


def test_pupils_within_schools_rows_equal_separate_fits_and_gap_uses_the_covariance():
    df = pupils()
    panel = pupil_panel(df)
    result = impact.estimate_by(panel, "did", by="deprived", gap=(1, 0), inference="cr1")
    rows = result.effects.set_index("term")
    assert list(rows.index) == ["deprived_0", "deprived_1", "gap"]
    assert result.settings["covariance"] == "scores"
    for level in (0.0, 1.0):
        alone = impact.Panel.from_frame(
            df[df.deprived == level],
            unit="school",
            time="year",
            outcome="score",
            treated="pilot",
            repeated_cross_section=True,
        )
        fit = impact.get_estimator("did", inference="cr1").fit(alone).att
        row = rows.loc[f"deprived_{level:.0f}"]
        assert row.estimate == pytest.approx(fit.estimate, rel=1e-12)
        assert row.std_error == pytest.approx(fit.std_error, rel=1e-12)
    gap = rows.loc["gap"]
    assert gap.estimate == pytest.approx(
        rows.loc["deprived_1", "estimate"] - rows.loc["deprived_0", "estimate"], rel=1e-12
    )
    # the pupils share their schools' shocks: the estimates are positively correlated
    cov = result.diagnostics["covariance"].set_index("subgroup")
    assert cov.loc["deprived_0", "deprived_1"] > 0
    independent = np.hypot(rows.loc["deprived_0", "std_error"], rows.loc["deprived_1", "std_error"])
    assert gap.std_error < independent
    assert gap.ci_lower < 2.5 < gap.ci_upper


def test_gap_standard_error_matches_the_pooled_interacted_regression():
    """The stacked-score covariance is the clustered sandwich of the pooled regression
    with subgroup-specific school and year effects (statsmodels OLS, CR1)."""
    import statsmodels.formula.api as smf

    df = pupils(seed=5)
    result = impact.estimate_by(pupil_panel(df), "did", by="deprived", gap=(1, 0), inference="cr1")
    fit = smf.ols(
        "score ~ 0 + C(school):C(deprived) + C(year):C(deprived) + pilot:C(deprived)", data=df
    ).fit(cov_type="cluster", cov_kwds={"groups": df["school"]})
    names = [n for n in fit.params.index if n.startswith("pilot:")]
    contrast = np.zeros(len(fit.params))
    contrast[list(fit.params.index).index(names[1])] = 1
    contrast[list(fit.params.index).index(names[0])] = -1
    se = float(np.sqrt(contrast @ fit.cov_params().to_numpy() @ contrast))
    gap = result.effects.set_index("term").loc["gap"]
    assert gap.estimate == pytest.approx(float(contrast @ fit.params.to_numpy()), rel=1e-8)
    # the small-sample factors differ (per subgroup here, pooled there): a few percent
    assert gap.std_error == pytest.approx(se, rel=0.05)


def test_bootstrap_covariance_agrees_with_scores():
    df = pupils(seed=2, schools=24, per_cell=8)
    panel = pupil_panel(df)
    scores = impact.estimate_by(panel, "did", by="deprived", gap=(1, 0), inference="cr1")
    boot = quiet(
        impact.estimate_by,
        panel,
        "did",
        by="deprived",
        gap=(1, 0),
        inference="cr1",
        covariance="bootstrap",
        draws=99,
        seed=3,
    )
    assert boot.settings["covariance"] == "bootstrap"
    assert boot.settings["bootstrap_seed"] == 3
    a = scores.effects.set_index("term").loc["gap", "std_error"]
    b = boot.effects.set_index("term").loc["gap", "std_error"]
    assert b == pytest.approx(a, rel=0.35)
    again = quiet(
        impact.estimate_by,
        panel,
        "did",
        by="deprived",
        gap=(1, 0),
        inference="cr1",
        covariance="bootstrap",
        draws=99,
        seed=3,
    )
    pd.testing.assert_frame_equal(boot.effects, again.effects)


def school_panel(effects=(1.0, 3.0), noise=0.0, seed=0, cohorts=False):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"school": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(6), 40)})
    df["urban"] = (df.school % 2).astype(float)
    start = np.where(df.school < 20, 3, 99)
    if cohorts:
        start = np.where(df.school < 10, 2, np.where(df.school < 20, 4, 99))
    df["pilot"] = (df.year >= start).astype(int)
    effect = np.where(df.urban == 1, effects[1], effects[0])
    df["score"] = 0.3 * df.school + 0.5 * df.year**1.3 + effect * df.pilot
    df["score"] += rng.normal(0, noise, len(df)) if noise else 0
    return df, impact.Panel.from_frame(
        df,
        unit="school",
        time="year",
        outcome="score",
        treated="pilot",
        extra_outcomes=["urban"],
    )


@pytest.mark.parametrize("method", ["did", "event_study", "matched_did", "staggered_did"])
def test_recovers_subgroup_effects_on_noise_free_data(method):
    _, panel = school_panel()
    result = quiet(impact.estimate_by, panel, method, by="urban", gap=("urban_1", "urban_0"))
    rows = result.effects.set_index("term")
    assert rows.loc["urban_0", "estimate"] == pytest.approx(1.0, abs=1e-6)
    assert rows.loc["urban_1", "estimate"] == pytest.approx(3.0, abs=1e-6)
    assert rows.loc["gap", "estimate"] == pytest.approx(2.0, abs=1e-6)
    assert result.settings["covariance"] == "independent"  # no school in both


def test_staggered_gap_by_event_time():
    _, panel = school_panel(cohorts=True, noise=0.5, seed=4)
    result = quiet(
        impact.estimate_by,
        panel,
        "staggered_did",
        by="urban",
        gap=("urban_1", "urban_0"),
        terms="event_time",
    )
    gap = result.effects[result.effects.subgroup == "gap"].set_index("event_time")
    assert set(gap.index) >= {0.0, 1.0, 2.0, -1.0}
    for e in (0.0, 1.0, 2.0):
        assert gap.loc[e, "ci_lower"] < 2.0 < gap.loc[e, "ci_upper"]
    urban = result.effects[result.effects.subgroup == "urban_1"].set_index("event_time")
    rural = result.effects[result.effects.subgroup == "urban_0"].set_index("event_time")
    assert gap.loc[1.0, "estimate"] == pytest.approx(
        urban.loc[1.0, "estimate"] - rural.loc[1.0, "estimate"]
    )
    assert gap.loc[1.0, "std_error"] == pytest.approx(
        np.hypot(urban.loc[1.0, "std_error"], rural.loc[1.0, "std_error"])
    )


def test_equality_test_and_multiplicity_columns():
    _, panel = school_panel(effects=(1.0, 1.0), noise=1.0, seed=7)
    result = quiet(
        impact.estimate_by, panel, "did", by="urban", adjust=("holm", "bh", "romano-wolf")
    )
    test = result.diagnostics["equality_test"].iloc[0]
    assert test.df1 == 1 and test.df2 == 39
    rows = result.effects
    assert (rows.p_holm >= rows.p_value - 1e-12).all()
    assert (rows.p_bh >= rows.p_value - 1e-12).all()
    assert (rows.p_romano_wolf >= rows.p_value * 0.5).all()
    # with two independent subgroups the Wald statistic is the squared z of the gap
    gap = quiet(impact.estimate_by, panel, "did", by="urban", gap=("urban_1", "urban_0"))
    g = gap.effects.set_index("term").loc["gap"]
    assert test.wald == pytest.approx((g.estimate / g.std_error) ** 2, rel=1e-10)


def test_relabelling_subgroups_and_reordering_rows_change_nothing():
    df = pupils(seed=3)
    base = impact.estimate_by(pupil_panel(df), "did", by="deprived", inference="cr1")
    shuffled = df.sample(frac=1.0, random_state=4)
    again = impact.estimate_by(pupil_panel(shuffled), "did", by="deprived", inference="cr1")
    pd.testing.assert_frame_equal(base.effects, again.effects)
    labels = np.where(pupil_panel(df).values("deprived") == 1, "most", "least")
    named = impact.estimate_by(pupil_panel(df), "did", by=labels, inference="cr1")
    assert list(named.effects.term) == ["least", "most"]
    np.testing.assert_allclose(named.effects.estimate, base.effects.estimate, rtol=1e-12)
    np.testing.assert_allclose(named.effects.std_error, base.effects.std_error, rtol=1e-12)
    assert named.diagnostics["equality_test"].p_value.iloc[0] == pytest.approx(
        base.diagnostics["equality_test"].p_value.iloc[0], rel=1e-10
    )


def test_caller_frame_and_panel_are_untouched():
    df = pupils(seed=8)
    copy = df.copy()
    panel = pupil_panel(df)
    before = panel.frame
    impact.estimate_by(panel, "did", by="deprived", inference="cr1")
    pd.testing.assert_frame_equal(df, copy)
    pd.testing.assert_frame_equal(panel.frame, before)


def test_errors_name_what_is_wrong():
    df, panel = school_panel(noise=1.0)
    with pytest.raises(DataError, match="'simd' is not a column"):
        impact.estimate_by(panel, "did", by="simd")
    with pytest.raises(DataError, match="matched to the Panel's rows by position"):
        impact.estimate_by(panel, "did", by=df["urban"].sample(frac=1.0, random_state=0))
    with pytest.raises(DataError, match="3 values"):
        impact.estimate_by(panel, "did", by=[1, 2, 3])
    # a subgroup with no treated school names the level
    level = np.where(df.school >= 30, "outer", np.where(df.school % 2 == 0, "a", "b"))
    with pytest.raises(DesignError, match=r"'outer'.*no treated"):
        impact.estimate_by(panel, "did", by=level)
    # a subgroup of treated schools only: its fit fails, and the message names it
    only = np.where(df.school < 10, "first", "rest")
    with pytest.raises(DesignError, match="subgroup 'first'"):
        quiet(impact.estimate_by, panel, "did", by=only)
    # with panel data a unit may not move between subgroups
    moving = np.where((df.school == 2) & (df.year > 2), 1.0, df.urban)
    with pytest.raises(DesignError, match=r"within unit\(s\) \[2\]"):
        impact.estimate_by(panel, "did", by=moving)
    with pytest.raises(DesignError, match="single value"):
        impact.estimate_by(panel, "did", by=np.zeros(len(df)))
    with pytest.raises(DesignError, match="'urban_7' is not one of"):
        quiet(impact.estimate_by, panel, "did", by="urban", gap=("urban_7", "urban_0"))
    with pytest.raises(DesignError, match="share no cluster"):
        impact.estimate_by(pupil_panel(pupils()), "did", by="deprived", covariance="independent")
    with pytest.raises(DataError, match="missing"):
        impact.estimate_by(panel, "did", by=np.where(df.school == 1, np.nan, df.urban))


def test_plots_of_subgroups_and_the_gap():
    import matplotlib

    matplotlib.use("Agg")
    _, panel = school_panel(cohorts=True, noise=0.5, seed=4)
    result = quiet(
        impact.estimate_by,
        panel,
        "staggered_did",
        by="urban",
        gap=("urban_1", "urban_0"),
        terms="event_time",
    )
    ax = result.plot(kind="gap")
    line = ax.get_lines()[0]
    gap = result.effects[result.effects.subgroup == "gap"].sort_values("event_time")
    np.testing.assert_allclose(line.get_ydata(), gap["estimate"])
    ax = result.plot(kind="subgroups")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["urban_0 e=0", "urban_1 e=0", "gap e=0"]
    plain = quiet(impact.get_estimator("did", inference="cr1").fit, school_panel(noise=1.0)[1])
    with pytest.raises(DesignError, match="no subgroups"):
        quiet(plain.plot, kind="subgroups")
    overall = quiet(impact.estimate_by, school_panel(noise=1.0)[1], "did", by="urban")
    with pytest.raises(DesignError, match="no gap by event time"):
        overall.plot(kind="gap")


def test_combined_subgroups_carry_the_joint_covariance_into_an_appraisal():
    from impact.economics import BenefitStream, CostStream, appraise
    from impact.subgroups import combine_subgroups

    df = pupils(seed=9)
    result = impact.estimate_by(pupil_panel(df), "did", by="deprived", gap=(1, 0), inference="cr1")
    rows = result.effects.set_index("term")
    # valued per subgroup: 20 deprived pupils reached, each point worth 3 units; 80 others, 1
    total = combine_subgroups(result, {"deprived_1": 20 * 3.0, "deprived_0": 80 * 1.0})
    expected = 60 * rows.loc["deprived_1", "estimate"] + 80 * rows.loc["deprived_0", "estimate"]
    assert total.att.estimate == pytest.approx(expected, rel=1e-12)
    cov = result.diagnostics["covariance"].set_index("subgroup")
    w = np.array([80.0, 60.0])
    assert total.att.std_error == pytest.approx(
        np.sqrt(
            w @ cov.loc[["deprived_0", "deprived_1"], ["deprived_0", "deprived_1"]].to_numpy() @ w
        )
    )
    # the gap is the combination (1, -1)
    gap = combine_subgroups(result, {"deprived_1": 1, "deprived_0": -1}).att
    assert gap.std_error == pytest.approx(rows.loc["gap", "std_error"], rel=1e-12)
    appraisal = appraise(
        total,
        costs=[CostStream("staff", amount=100.0)],
        benefits=[BenefitStream("attainment", value=1.0)],
        horizon=1,
        discount=0.0,
        seed=1,
    )
    assert appraisal.value("npv") == pytest.approx(expected - 100.0, rel=1e-9)
    with pytest.raises(DesignError, match="unknown subgroup"):
        combine_subgroups(result, {"simd_9": 1.0})


@settings(max_examples=6, deadline=None)
@given(
    names=st.lists(
        st.text(alphabet="abcdefgh", min_size=1, max_size=4), min_size=3, max_size=3, unique=True
    ),
    order=st.randoms(use_true_random=False),
)
def test_property_subgroup_rows_do_not_depend_on_labels_or_row_order(names, order):
    df, panel = _three_group_frame()
    base = impact.estimate_by(panel, "did", by="kind", inference="cr1")
    mapping = dict(zip(["kind_0", "kind_1", "kind_2"], names, strict=True))
    labels = np.array([mapping[f"kind_{int(v)}"] for v in panel.values("kind")])
    relabelled = impact.estimate_by(panel, "did", by=labels, inference="cr1")
    mine = relabelled.effects.set_index("term")
    for term, row in base.effects.set_index("term").iterrows():
        assert mine.loc[mapping[term], "estimate"] == pytest.approx(row.estimate, rel=1e-10)
        assert mine.loc[mapping[term], "std_error"] == pytest.approx(row.std_error, rel=1e-10)
    assert relabelled.diagnostics["equality_test"].wald.iloc[0] == pytest.approx(
        base.diagnostics["equality_test"].wald.iloc[0], rel=1e-8
    )
    rows = list(range(len(df)))
    order.shuffle(rows)
    shuffled = impact.Panel.from_frame(
        df.iloc[rows],
        unit="school",
        time="year",
        outcome="score",
        treated="pilot",
        extra_outcomes=["kind"],
        repeated_cross_section=True,
    )
    again = impact.estimate_by(shuffled, "did", by="kind", inference="cr1")
    pd.testing.assert_frame_equal(base.effects, again.effects)


_CACHE: dict[str, tuple] = {}


def _three_group_frame():
    if "three" not in _CACHE:
        df = pupils(seed=11, schools=24, per_cell=9)
        rng = np.random.default_rng(12)
        df["kind"] = rng.integers(0, 3, len(df)).astype(float)
        panel = impact.Panel.from_frame(
            df,
            unit="school",
            time="year",
            outcome="score",
            treated="pilot",
            extra_outcomes=["kind"],
            repeated_cross_section=True,
        )
        _CACHE["three"] = (df, panel)
    return _CACHE["three"]
