"""SpilloverDiD: reference values from diff-diff, known truth, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.exceptions import DataError, DesignError, DesignWarning

REFERENCE = Path(__file__).parents[1] / "reference" / "spillover"

# diff-diff 3.13.0 SpilloverDiD on ring_panel.csv (see reference/spillover/README.md)
DD_ATT = 1.8930023568118979
DD_ATT_SE = {"one": 0.29878782565175344, "two": 0.29920600335905617}
DD_SPILL_ONE = (0.23943221789307587, 0.31037843207231597)
DD_SPILL_TWO = [
    (0.11027176507502053, 0.4207817351180761),
    (0.32553918643844615, 0.40099379703511157),
]


def ring_panel() -> impact.Panel:
    df = pd.read_csv(REFERENCE / "ring_panel.csv")
    return impact.Panel.from_frame(
        df, unit="unit", time="time", outcome="y", treated="d", extra_outcomes=["ring", "near"]
    )


def test_matches_diff_diff_with_one_ring():
    effects = impact.SpilloverDiD(exposure="near", inference="cr1").fit(ring_panel()).effects
    row = effects.set_index("term")
    assert row.loc["att", "estimate"] == pytest.approx(DD_ATT, abs=1e-10)
    assert row.loc["spillover", "estimate"] == pytest.approx(DD_SPILL_ONE[0], abs=1e-10)
    # CR1 one-stage against Gardner-corrected two-stage clustered errors
    assert row.loc["att", "std_error"] == pytest.approx(DD_ATT_SE["one"], rel=0.02)
    assert row.loc["spillover", "std_error"] == pytest.approx(DD_SPILL_ONE[1], rel=0.02)


def test_matches_diff_diff_with_two_rings():
    result = impact.SpilloverDiD(exposure="ring", rings=True, inference="cr1").fit(ring_panel())
    row = result.effects.set_index("term")
    assert row.loc["att", "estimate"] == pytest.approx(DD_ATT, abs=1e-10)
    for ring, (coef, se) in zip((1, 2), DD_SPILL_TWO, strict=True):
        assert row.loc[f"spillover_ring_{ring}", "estimate"] == pytest.approx(coef, abs=1e-10)
        assert row.loc[f"spillover_ring_{ring}", "std_error"] == pytest.approx(se, rel=0.02)
    assert row.loc["spillover_ring_1", "n_units"] == 4
    assert row.loc["spillover_ring_2", "n_units"] == 6
    assert result.settings["n_unexposed_units"] == 35


def noise_free(direct=2.0, spill=0.7, n=40):
    df = pd.DataFrame({"u": np.repeat(np.arange(n), 5), "t": np.tile(np.arange(5), n)})
    df["d"] = ((df.u < n // 4) & (df.t >= 3)).astype(int)
    df["near"] = ((df.u >= n // 4) & (df.u < n // 2)).astype(float)
    post = (df.t >= 3).astype(float)
    df["y"] = 0.1 * df.u + 0.5 * df.t**1.5 + direct * df.d + spill * df.near * post
    return df


def test_recovers_direct_and_spillover_on_noise_free_data():
    panel = impact.Panel.from_frame(
        noise_free(), unit="u", time="t", outcome="y", treated="d", extra_outcomes=["near"]
    )
    with pytest.warns(impact.exceptions.InferenceWarning):  # the fit is exact
        row = impact.SpilloverDiD(exposure="near").fit(panel).effects.set_index("term")
    assert row.loc["att", "estimate"] == pytest.approx(2.0, abs=1e-9)
    assert row.loc["spillover", "estimate"] == pytest.approx(0.7, abs=1e-9)
    # the naive DiD counts exposed units as comparisons: biased towards zero
    naive = impact.get_estimator("did").fit(panel).att.estimate
    assert naive < 2.0 - 0.2


def test_reordering_rows_changes_nothing():
    df = noise_free()
    rng = np.random.default_rng(3)
    df["y"] = df["y"] + rng.normal(size=len(df))
    shuffled = df.sample(frac=1.0, random_state=1)
    fits = [
        impact.SpilloverDiD(exposure="near", inference="cr1")
        .fit(
            impact.Panel.from_frame(
                f, unit="u", time="t", outcome="y", treated="d", extra_outcomes=["near"]
            )
        )
        .effects
        for f in (df, shuffled)
    ]
    pd.testing.assert_frame_equal(fits[0], fits[1])


def test_without_exposure_warns_and_equals_did():
    panel = impact.Panel.from_frame(noise_free(), unit="u", time="t", outcome="y", treated="d")
    with pytest.warns(DesignWarning, match="no exposure column"):
        result = impact.SpilloverDiD(inference="cr1").fit(panel)
    did = impact.get_estimator("did", inference="cr1").fit(panel)
    assert result.att.estimate == pytest.approx(did.att.estimate, abs=1e-10)
    assert list(result.effects.term) == ["att"]


def test_errors_name_the_column():
    df = noise_free()
    panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    with pytest.raises(DataError, match="'near'"):
        impact.SpilloverDiD(exposure="near").fit(panel)
    everyone = df.assign(near=(df.u >= 10).astype(float))
    panel = impact.Panel.from_frame(
        everyone, unit="u", time="t", outcome="y", treated="d", extra_outcomes=["near"]
    )
    with pytest.raises(DesignError, match="every untreated unit is exposed"):
        impact.SpilloverDiD(exposure="near").fit(panel)
    varying = df.assign(near=np.where((df.u == 12) & (df.t == 4), 2.0, df.near))
    panel = impact.Panel.from_frame(
        varying, unit="u", time="t", outcome="y", treated="d", extra_outcomes=["near"]
    )
    with pytest.raises(DataError, match=r"within unit\(s\) \[12\]"):
        impact.SpilloverDiD(exposure="near").fit(panel)
    with pytest.raises(DesignError):
        impact.SpilloverDiD(inference="twoway")
    staggered = df.assign(d=((df.u < 5) & (df.t >= 2) | (df.u >= 5) & (df.u < 10) & (df.t >= 3)))
    panel = impact.Panel.from_frame(
        staggered.assign(d=staggered.d.astype(int)),
        unit="u",
        time="t",
        outcome="y",
        treated="d",
        extra_outcomes=["near"],
    )
    with pytest.raises(DesignError, match="one adoption date"):
        impact.SpilloverDiD(exposure="near").fit(panel)
