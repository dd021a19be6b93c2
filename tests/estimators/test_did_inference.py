"""DifferenceInDifferences with each inference method, and the few-clusters default."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact import DesignError, DifferenceInDifferences, InferenceWarning, Panel
from impact.inference import cluster_robust, demean, wild_cluster_bootstrap
from tests.conftest import make_did_frame


def panel_of(frame):
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def few_treated(seed=0, n_units=20, share=0.25, effect=0.0):
    return make_did_frame(
        n_units=n_units, n_periods=4, adoption=2, share_treated=share, effect=effect,
        noise=1.0, seed=seed,
    )  # fmt: skip


def test_auto_uses_cr1_with_many_clusters_and_says_so():
    panel = panel_of(make_did_frame(n_units=40, seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        auto = DifferenceInDifferences().fit(panel)
    cr1 = DifferenceInDifferences(inference="cr1").fit(panel)
    assert auto.effects.equals(cr1.effects)
    assert auto.settings["inference"] == "auto"
    assert auto.settings["inference_used"] == "cr1"
    assert "20 treated and 20 control" in auto.settings["inference_reason"]
    assert (auto.settings["n_treated_clusters"], auto.settings["n_control_clusters"]) == (20, 20)


def test_auto_switches_to_the_wild_bootstrap_with_few_treated_clusters():
    panel = panel_of(few_treated())
    with pytest.warns(InferenceWarning, match="only 5 treated and 15 control clusters"):
        auto = DifferenceInDifferences().fit(panel)
    assert auto.settings["inference_used"] == "wild"
    assert "fewer than 12" in auto.settings["inference_reason"]
    assert auto.settings["inference_draws"] == 9999
    assert auto.settings["inference_enumerated"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        wild = DifferenceInDifferences(inference="wild").fit(panel)
    assert auto.effects.equals(wild.effects)
    cr1 = DifferenceInDifferences(inference="cr1").fit(panel)
    assert auto.att.std_error == cr1.att.std_error
    assert auto.att.estimate == cr1.att.estimate
    assert auto.att.ci_lower < auto.att.estimate < auto.att.ci_upper


def test_min_clusters_sets_the_threshold():
    panel = panel_of(few_treated())
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        result = DifferenceInDifferences(min_clusters=5).fit(panel)
    assert result.settings["inference_used"] == "cr1"


def test_wild_p_value_equals_the_bootstrap_on_the_within_regression():
    frame = few_treated(seed=2, n_units=10, share=0.4)  # 2^10 sign vectors: enumerated
    # Rademacher on purpose ("auto" would take Webb's weights with 10 clusters)
    result = DifferenceInDifferences(inference="wild", bootstrap_weights="rademacher").fit(
        panel_of(frame)
    )
    unit = frame["unit"].to_numpy()
    periods = (frame["time"].to_numpy()[:, None] == np.unique(frame["time"])[1:]).astype(float)
    X = demean(np.column_stack([frame["d"], periods]), unit)
    ref = wild_cluster_bootstrap(X, demean(frame["y"].to_numpy(), unit), unit, draws=9999)
    assert result.settings["inference_enumerated"] is True
    assert result.att.p_value == pytest.approx(ref.p_value, abs=1e-12)
    assert result.att.ci_lower == pytest.approx(ref.ci_lower, rel=1e-8)


def test_seed_changes_only_simulated_results():
    panel = panel_of(few_treated(seed=3))
    a = DifferenceInDifferences(inference="wild", seed=1, draws=499).fit(panel)
    b = DifferenceInDifferences(inference="wild", seed=1, draws=499).fit(panel)
    c = DifferenceInDifferences(inference="wild", seed=2, draws=499).fit(panel)
    assert a.effects.equals(b.effects)
    assert a.att.estimate == c.att.estimate and a.att.std_error == c.att.std_error


def test_cr2_reports_satterthwaite_df_below_clusters_minus_one():
    frame = few_treated(seed=4)
    result = DifferenceInDifferences(inference="cr2").fit(panel_of(frame))
    unit = frame["unit"].to_numpy()
    periods = (frame["time"].to_numpy()[:, None] == np.unique(frame["time"])[1:]).astype(float)
    X = demean(np.column_stack([frame["d"], periods]), unit)
    yd = demean(frame["y"].to_numpy(), unit)
    resid = yd - X @ np.linalg.lstsq(X, yd, rcond=None)[0]
    ref = cluster_robust(X, resid, unit, kind="cr2", df_for=[0], absorbed_codes=unit)
    att = result.att
    assert att.std_error == pytest.approx(ref.std_error(0), rel=1e-10)
    assert result.settings["df_inference"] == pytest.approx(ref.df[0])
    assert result.settings["df_inference"] < 19
    crit = stats.t.ppf(0.975, ref.df[0])
    assert att.ci_upper == pytest.approx(att.estimate + crit * att.std_error)


@pytest.mark.parametrize("method", ["cr3", "randomization"])
def test_other_methods_run_and_record_themselves(method):
    result = DifferenceInDifferences(inference=method).fit(panel_of(few_treated(seed=5)))
    assert result.settings["inference_used"] == method
    att = result.att
    assert np.isfinite([att.std_error, att.ci_lower, att.ci_upper]).all()
    assert att.ci_lower < att.estimate < att.ci_upper
    assert 0 < att.p_value <= 1


def test_randomization_enumerates_small_designs():
    result = DifferenceInDifferences(inference="randomization").fit(
        panel_of(few_treated(seed=6, n_units=12, share=0.25))
    )
    assert result.settings["inference_enumerated"] is True
    assert result.settings["inference_draws"] == 220  # 12 choose 3
    assert result.att.p_value >= 1 / 220


def test_bad_inference_options_raise():
    with pytest.raises(DesignError, match="inference='cr9'"):
        DifferenceInDifferences(inference="cr9")
    with pytest.raises(DesignError, match="bootstrap_weights"):
        DifferenceInDifferences(bootstrap_weights="mammen")
    with pytest.raises(DesignError, match="draws"):
        DifferenceInDifferences(draws=10)


def test_few_control_clusters_also_trigger_the_bootstrap():
    panel = panel_of(few_treated(share=0.75))
    with pytest.warns(InferenceWarning, match="15 treated and 5 control clusters"):
        result = DifferenceInDifferences().fit(panel)
    assert result.settings["inference_used"] == "wild"


@pytest.mark.parametrize("method", ["cr2", "wild", "randomization"])
def test_weighted_regressions_keep_the_weighted_estimate(method):
    frame = few_treated(seed=8).assign(w=lambda f: 1.0 + (f["unit"] % 3))
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d", weights="w")
    base = DifferenceInDifferences(inference="cr1").fit(panel).att
    att = DifferenceInDifferences(inference=method).fit(panel).att
    assert att.estimate == pytest.approx(base.estimate, rel=1e-10)
    assert att.ci_lower < att.estimate < att.ci_upper


def test_clusters_that_split_units_are_refused_by_the_small_sample_methods():
    frame = few_treated(seed=9).assign(block=lambda f: f["time"] % 2 + 2 * (f["unit"] % 5))
    panel = Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", cluster="block"
    )
    with pytest.raises(DesignError, match="every unit inside one cluster"):
        DifferenceInDifferences(inference="cr2").fit(panel)
    assert np.isfinite(DifferenceInDifferences(inference="cr1").fit(panel).att.std_error)
    with pytest.warns(InferenceWarning, match="wild bootstrap is unavailable"):
        auto = DifferenceInDifferences().fit(panel)
    assert auto.settings["inference_used"] == "cr1"


def test_very_unequal_cluster_sizes_trigger_the_bootstrap():
    # pupils in 30 schools of very different sizes: CR1 over-rejects even with 15 treated
    rng = np.random.default_rng(10)
    sizes = np.where(np.arange(30) % 3 == 0, 40, 3)
    school = np.repeat(np.arange(30), sizes * 2)
    year = np.concatenate([np.repeat([1, 2], s) for s in sizes])
    frame = pd.DataFrame({"school": school, "year": year})
    frame["d"] = ((frame.school % 2 == 0) & (frame.year == 2)).astype(int)
    frame["y"] = rng.normal(size=len(frame))
    panel = Panel.from_frame(
        frame, unit="school", time="year", outcome="y", treated="d", repeated_cross_section=True
    )
    with pytest.warns(InferenceWarning, match="very unequal sizes"):
        result = DifferenceInDifferences().fit(panel)
    assert result.settings["inference_used"] == "wild"
    assert "coefficient of variation" in result.settings["inference_reason"]


def test_imbens_kolesar_df_option_is_passed_on():
    panel = panel_of(few_treated(seed=12))
    bm = DifferenceInDifferences(inference="cr2").fit(panel)
    ik = DifferenceInDifferences(inference="cr2", df_method="imbens-kolesar").fit(panel)
    assert ik.att.std_error == bm.att.std_error
    assert ik.settings["inference_df_method"] == "imbens-kolesar"
    assert 1 < ik.settings["df_inference"] <= 19
