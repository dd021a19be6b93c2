"""Multiple outcomes: Panel.with_outcome, estimate_many and the adjusted p-values."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, DesignError, DifferenceInDifferences, InferenceWarning, Panel
from impact.inference.multiple import adjust_p_values, romano_wolf


def frame(seed=0, n_schools=16, n_treated=6):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"school": np.repeat(np.arange(n_schools), 4), "year": np.tile([1, 2, 3, 4], n_schools)}
    )
    df["pilot"] = ((df.school < n_treated) & (df.year >= 3)).astype(int)
    common = rng.normal(size=len(df))
    df["maths"] = common + rng.normal(size=len(df)) + 1.5 * df.pilot
    df["reading"] = common + rng.normal(size=len(df))
    df["attendance"] = rng.normal(size=len(df))
    return df


def panel_of(df, **kwargs):
    return Panel.from_frame(
        df, unit="school", time="year", outcome="maths", treated="pilot", **kwargs
    )


def test_with_outcome_swaps_the_outcome_and_keeps_the_design():
    panel = panel_of(frame(), extra_outcomes=["reading", "attendance"])
    other = panel.with_outcome("reading")
    assert other.outcome == "reading"
    assert other.outcomes == ("reading", "maths", "attendance")
    assert other.with_outcome("maths").outcomes[0] == "maths"
    assert list(other.treated_units) == list(panel.treated_units)
    assert panel.outcome == "maths"
    assert panel_of(frame()).extra_outcomes == ()


def test_extra_outcome_errors_name_the_column():
    df = frame()
    with pytest.raises(DataError, match=r"'score'.*not found"):
        panel_of(df, extra_outcomes=["score"])
    df.loc[3, "reading"] = np.nan
    with pytest.raises(DataError, match="'reading' has missing"):
        panel_of(df, extra_outcomes=["reading"])
    with pytest.raises(DataError, match="another role"):
        panel_of(frame(), extra_outcomes=["pilot"])
    with pytest.raises(DataError, match="not an outcome of this Panel"):
        panel_of(frame()).with_outcome("reading")


def test_holm_and_bh_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # Holm: sorted 0.01, 0.03, 0.04, 0.20 times 4, 3, 2, 1, running max
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [0.04, 0.09, 0.09, 0.20])
    # BH: p * 4 / rank, running min from the top
    np.testing.assert_allclose(
        adjust_p_values(p, "bh"), [0.04, 0.0533333, 0.0533333, 0.20], rtol=1e-5
    )


def test_romano_wolf_by_brute_force_and_its_extremes():
    rng = np.random.default_rng(1)
    common = rng.normal(size=2000)
    draws = np.vstack([common + 0.5 * rng.normal(size=2000) for _ in range(3)])
    t = np.array([2.5, 1.0, 2.0])
    adjusted = romano_wolf(t, draws)
    a = np.abs(draws)
    first = np.mean(a.max(axis=0) >= 2.5)
    second = max(first, np.mean(a[[1, 2]].max(axis=0) >= 2.0))
    third = max(second, np.mean(a[1] >= 1.0))
    np.testing.assert_allclose(adjusted, [first, third, second])
    # identical outcomes: no penalty at all; one hypothesis: the plain bootstrap p-value
    same = romano_wolf(np.array([2.0, 2.0]), np.vstack([draws[0], draws[0]]))
    np.testing.assert_allclose(same, np.mean(a[0] >= 2.0))
    assert romano_wolf(np.array([2.0]), draws[:1])[0] == pytest.approx(np.mean(a[0] >= 2.0))


def test_estimate_many_rows_equal_single_fits_and_adjust_upwards():
    panel = panel_of(frame(), extra_outcomes=["reading", "attendance"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        result = impact.estimate_many(panel, draws=999, seed=3)
        singles = {
            o: DifferenceInDifferences(draws=999, seed=3).fit(panel.with_outcome(o))
            for o in panel.outcomes
        }
    effects = result.effects.set_index("term")
    assert list(effects.index) == ["maths", "reading", "attendance"]
    for outcome, single in singles.items():
        assert effects.loc[outcome, "estimate"] == pytest.approx(single.att.estimate)
        assert effects.loc[outcome, "p_value"] == pytest.approx(single.att.p_value)
        # 16 clusters, 6 treated: "auto" used the wild bootstrap with the same weights
        assert effects.loc[outcome, "p_wild"] == pytest.approx(single.att.p_value)
    assert result.settings["by_outcome"] == {o: "wild" for o in panel.outcomes}
    for column in ("p_holm", "p_bh", "p_romano_wolf"):
        assert (effects[column] >= effects["p_value"] - 1e-12).all()
    assert effects.loc["maths", "p_romano_wolf"] < 0.05
    assert set(result.diagnostics["by_outcome"]["outcome"]) == set(panel.outcomes)
    assert result.att.estimate == effects.loc["maths", "estimate"]


def test_estimate_many_is_deterministic_and_checks_its_options():
    panel = panel_of(frame(seed=2), extra_outcomes=["reading"])
    a = impact.estimate_many(panel, inference="cr1", draws=499, seed=5)
    b = impact.estimate_many(panel, inference="cr1", draws=499, seed=5)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    only = impact.estimate_many(panel, ["reading"], inference="cr1", adjust=("holm",))
    assert list(only.effects.columns[-1:]) == ["p_holm"]
    with pytest.raises(DesignError, match="unknown adjustment"):
        impact.estimate_many(panel, adjust=("bonferroni",))
