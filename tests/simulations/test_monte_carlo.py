"""The Monte Carlo harness: scoring, seeding, backends, failures, power."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import impact
from impact.exceptions import DesignError, DesignWarning, warn
from impact.result import ImpactResult
from impact.simulations import (
    POWER_COLUMNS,
    REPORT_COLUMNS,
    Scenario,
    minimum_detectable_effect,
    monte_carlo,
    power_curve,
    simulate,
)
from impact.simulations._runner import child_seed

SMALL = Scenario(n_units=24, n_periods=4, adoption_period=3, effect=1.0, noise_sd=1.0)


@dataclass(frozen=True, kw_only=True)
class FixedInterval:
    """Always reports att = 1 with the interval [0.5, 1.5] and p = 0.01."""

    name = "fixed"
    fail_every: int = 0
    warn_too: bool = False

    def fit(self, panel):
        if self.fail_every and panel.frame["y"].iloc[0] > 0:
            raise ValueError("boom")
        if self.warn_too:
            warn("a weak design", DesignWarning)
        effects = pd.DataFrame(
            {
                "term": ["att", "not_a_truth_term"],
                "estimate": [1.0, 0.0],
                "std_error": [0.25, 1.0],
                "ci_lower": [0.5, -1.0],
                "ci_upper": [1.5, 1.0],
                "p_value": [0.01, 0.5],
            }
        )
        return ImpactResult(estimator="fixed", effects=effects, n_obs=1, n_units=1)


def test_report_has_the_documented_columns_and_scores_by_hand():
    report = monte_carlo(
        {"a": FixedInterval(), "b": impact.DifferenceInDifferences()},
        SMALL,
        n_reps=15,
        seed=3,
        backend="serial",
    )
    table = report.to_frame()
    assert tuple(table.columns) == REPORT_COLUMNS
    assert table[["estimator", "term"]].values.tolist() == [["a", "att"], ["b", "att"]]
    fixed = table.iloc[0]
    assert fixed["truth"] == 1.0 and fixed["bias"] == 0.0 and fixed["coverage"] == 1.0
    assert fixed["rejection_rate"] == 1.0 and fixed["mean_ci_width"] == 1.0
    reps = report.replications.query("estimator == 'b'")
    err = reps["estimate"] - reps["truth"]
    did = table.iloc[1]
    assert did["bias"] == pytest.approx(err.mean())
    assert did["rmse"] == pytest.approx(np.sqrt((err**2).mean()))
    covered = (reps["ci_lower"] <= reps["truth"]) & (reps["truth"] <= reps["ci_upper"])
    assert did["coverage"] == pytest.approx(covered.mean())
    c = covered.mean()
    assert did["coverage_mcse"] == pytest.approx(np.sqrt(c * (1 - c) / 15))
    assert did["rejection_rate"] == pytest.approx((reps["p_value"] < 0.05).mean())
    assert did["n_reps"] == 15 and did["n_failed"] == 0
    assert "Monte Carlo validation" in str(report.summary())


def test_coverage_fails_when_the_truth_is_outside_the_interval():
    report = monte_carlo(
        [FixedInterval()], SMALL.replace(effect=2.0), n_reps=5, seed=0, backend="serial"
    )
    row = report.to_frame().iloc[0]
    assert row["estimator"] == "fixed" and row["coverage"] == 0.0 and row["bias"] == -1.0


def test_replication_i_uses_the_ith_child_seed():
    report = monte_carlo(["did"], SMALL, n_reps=4, seed=11, backend="serial")
    children = np.random.SeedSequence(11).spawn(4)
    for i, child in enumerate(children):
        assert child_seed(np.random.SeedSequence(11), i).generate_state(4).tolist() == (
            child.generate_state(4).tolist()
        )
        sim = simulate(SMALL, seed=np.random.default_rng(child))
        expected = impact.DifferenceInDifferences().fit(sim.panel).att.estimate
        assert report.replications.loc[i, "estimate"] == expected


def test_backends_and_chunking_give_identical_reports():
    estimators = {"did": impact.DifferenceInDifferences(), "fixed": FixedInterval(fail_every=2)}
    serial = monte_carlo(estimators, SMALL, n_reps=12, seed=5, backend="serial", chunk_size=5)
    ones = monte_carlo(estimators, SMALL, n_reps=12, seed=5, backend="serial", chunk_size=1)
    workers = monte_carlo(
        estimators, SMALL, n_reps=12, seed=5, backend="processes", n_workers=2, chunk_size=3
    )
    for other in (ones, workers):
        assert_frame_equal(serial.to_frame(), other.to_frame())
        assert_frame_equal(serial.replications, other.replications)
        assert_frame_equal(serial.failures, other.failures)


def test_dask_local_cluster_gives_the_same_report():
    distributed = pytest.importorskip("distributed")
    estimators = {"did": impact.DifferenceInDifferences(), "fixed": FixedInterval(fail_every=2)}
    serial = monte_carlo(estimators, SMALL, n_reps=12, seed=5, backend="serial")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = monte_carlo(estimators, SMALL, n_reps=12, seed=5, backend=client, chunk_size=4)
        by_address = monte_carlo(
            estimators, SMALL, n_reps=12, seed=5, backend=cluster.scheduler_address
        )
    for other in (on_dask, by_address):
        assert_frame_equal(serial.to_frame(), other.to_frame())
        assert_frame_equal(serial.replications, other.replications)
        assert_frame_equal(serial.failures, other.failures)


def test_failures_and_warnings_are_grouped():
    report = monte_carlo(
        {"flaky": FixedInterval(fail_every=2, warn_too=True)},
        SMALL,
        n_reps=20,
        seed=1,
        backend="serial",
    )
    table = report.to_frame().iloc[0]
    failures = report.failures
    assert failures[["estimator", "error", "message"]].values.tolist() == [
        ["flaky", "ValueError", "boom"]
    ]
    assert table["n_failed"] == failures["count"].iloc[0]
    assert table["n_reps"] + table["n_failed"] == 20
    assert report.warnings["count"].tolist() == [table["n_reps"]]
    assert report.warnings["category"].tolist() == ["DesignWarning"]


def test_an_estimator_that_always_fails_still_has_a_row():
    report = monte_carlo(
        ["did"], Scenario.staggered_rollout(n_units=20), n_reps=3, seed=0, backend="serial"
    )
    row = report.to_frame().iloc[0]
    assert row["n_reps"] == 0 and row["n_failed"] == 3
    assert report.failures["error"].tolist() == ["DesignError"]
    assert "staggered" in report.failures["message"].iloc[0]


def test_labels_must_be_unique_and_inputs_valid():
    with pytest.raises(DesignError, match="mapping"):
        monte_carlo([impact.DifferenceInDifferences(), "did"], SMALL, n_reps=2, seed=0)
    with pytest.raises(DesignError, match="n_reps"):
        monte_carlo(["did"], SMALL, n_reps=0, seed=0)
    with pytest.raises(ValueError, match="backend"):
        monte_carlo(["did"], SMALL, n_reps=2, seed=0, backend="threads")
    with pytest.raises(impact.UnknownEstimatorError):
        monte_carlo(["no_such_design"], SMALL, n_reps=2, seed=0)
    for estimators in (None, 3):
        with pytest.raises(DesignError, match="must be an estimator, a list of estimators"):
            monte_carlo(estimators, SMALL, n_reps=2, seed=0)
    with pytest.raises(DesignError, match="seed=-1 must be a non-negative integer"):
        monte_carlo(["did"], SMALL, n_reps=2, seed=-1)
    with pytest.raises(DesignError, match="must be a sequence of effect sizes"):
        power_curve("did", SMALL, effects=1.0, n_reps=2, seed=0)


def test_no_progress_bar_when_not_a_terminal(capsys):
    monte_carlo(["did"], SMALL, n_reps=3, seed=0, backend="serial", progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_did_covers_on_a_design_where_its_assumptions_hold():
    report = monte_carlo(["did"], SMALL, n_reps=200, seed=2026, backend="serial")
    row = report.to_frame().iloc[0]
    assert abs(row["coverage"] - 0.95) < 4 * row["coverage_mcse"] + 0.01
    assert abs(row["bias"]) < 0.1


def test_power_curve_rises_with_the_effect_and_matches_the_size_at_zero():
    curve = power_curve("did", SMALL, effects=[0.0, 0.5, 1.5], n_reps=60, seed=4, backend="serial")
    assert tuple(curve.columns) == POWER_COLUMNS
    power = curve["power"].to_numpy()
    assert power[0] < 0.2 and power[0] <= power[1] <= power[2] and power[2] > 0.9
    assert curve["truth"].tolist() == [0.0, 0.5, 1.5]


def test_minimum_detectable_effect_is_near_the_analytic_value():
    mde = minimum_detectable_effect("did", SMALL, n_reps=60, seed=9, max_iter=3, backend="serial")
    assert mde.power >= 0.8
    assert 0.6 * mde.analytic < mde.effect < 1.5 * mde.analytic
    assert mde.evaluations["effect"].iloc[0] == 0.0
    decrease = minimum_detectable_effect(
        "did", SMALL.replace(effect=-1.0), n_reps=20, seed=9, max_iter=1, backend="serial"
    )
    assert decrease.effect < 0
    assert "minimum detectable effect" in str(mde)


def test_plots_draw():
    from impact.plotting.simulations import plot_power

    report = monte_carlo(
        {"a": FixedInterval(), "b": "did"}, SMALL, n_reps=5, seed=0, backend="serial"
    )
    for kind in ("coverage", "bias", "estimates"):
        assert report.plot(kind).get_xlabel() == "estimator"
    with pytest.raises(DesignError):
        report.plot("nonsense")
    curve = power_curve("did", SMALL, effects=[0.0, 1.0], n_reps=5, seed=0, backend="serial")
    assert plot_power(curve, scale="truth").get_ylabel() == "power"
    import matplotlib.pyplot as plt

    plt.close("all")
