"""Results, appraisals, validation reports and Panels travel: pickle, cloudpickle, deepcopy.

Dask ships these objects between processes, so each must come back equal, table by
table, and stay immutable (no list or dict inside that could be changed in place).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_index_equal, assert_series_equal

import impact
from impact.economics import BenefitStream, CostStream, appraise
from impact.estimators.staggered.result import StaggeredResult
from impact.simulations import Scenario, monte_carlo
from tests.conftest import make_did_frame

cloudpickle = pytest.importorskip("cloudpickle")

TRIPS = {
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
    "cloudpickle": lambda obj: cloudpickle.loads(cloudpickle.dumps(obj)),
    "deepcopy": copy.deepcopy,
}


def _panel() -> impact.Panel:
    frame = make_did_frame(n_units=30, n_periods=6, seed=3)
    return impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["x"]
    )


def _staggered_panel() -> impact.Panel:
    rng = np.random.default_rng(4)
    rows = []
    for u in range(30):
        cohort = (2004, 2005, 0)[u % 3]
        for t in range(2001, 2008):
            d = int(cohort > 0 and t >= cohort)
            rows.append((u, t, u % 5 + 0.3 * t + d + rng.normal(0, 0.2), d))
    frame = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
    return impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def _fit(method: str) -> impact.ImpactResult:
    panel = _staggered_panel() if method == "staggered_did" else _panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return impact.estimate(panel, method=method)


RESULTS = ["did", "event_study", "staggered_did", "matching", "matched_did", "its"]


def _assert_same_result(before: impact.ImpactResult, after: impact.ImpactResult) -> None:
    assert type(after) is type(before)
    assert after.estimator == before.estimator
    assert_frame_equal(after.effects, before.effects)
    if before.paths is None:
        assert after.paths is None
    else:
        assert_frame_equal(after.paths, before.paths)
    assert list(after.diagnostics) == list(before.diagnostics)
    for name, table in before.diagnostics.items():
        assert_frame_equal(after.diagnostics[name], table)
    assert after.settings == before.settings
    assert list(after.draws) == list(before.draws)
    for term, values in before.draws.items():
        np.testing.assert_array_equal(after.draws[term], values)
    assert (after.n_obs, after.n_units, after.n_clusters, after.overall_term) == (
        before.n_obs,
        before.n_units,
        before.n_clusters,
        before.overall_term,
    )
    assert str(after.summary()) == str(before.summary())


def _assert_deeply_frozen(value, where: str) -> None:
    """No list, dict, set or writeable array anywhere inside ``value``."""
    if isinstance(value, list | dict | set | pd.DataFrame | pd.Series):
        raise AssertionError(f"{where} holds a mutable {type(value).__name__}")
    if isinstance(value, np.ndarray):
        assert not value.flags.writeable, f"{where} holds a writeable array"
    if isinstance(value, tuple | frozenset):
        for i, item in enumerate(value):
            _assert_deeply_frozen(item, f"{where}[{i}]")
    if hasattr(value, "items") and callable(value.items):
        for key, item in value.items():
            _assert_deeply_frozen(item, f"{where}[{key!r}]")


@pytest.fixture(scope="module", params=RESULTS)
def result(request):
    return _fit(request.param)


@pytest.mark.parametrize("trip", list(TRIPS))
def test_result_round_trips_with_equal_tables(result, trip):
    _assert_same_result(result, TRIPS[trip](result))


def test_result_settings_are_read_only_and_hold_no_mutable_containers(result):
    with pytest.raises(TypeError):
        result.settings["alpha"] = 0.1  # type: ignore[index]
    _assert_deeply_frozen(result.settings, "settings")
    _assert_deeply_frozen(result.draws, "draws")
    # reading a setting the usual way still works
    for key in result.settings:
        result.settings[key]


def test_matching_settings_lists_became_tuples():
    result = _fit("matching")
    assert isinstance(result.settings["matching_covariates"], tuple)
    restored = pickle.loads(pickle.dumps(result))
    assert isinstance(restored.settings["matching_covariates"], tuple)


def test_a_result_with_draws_round_trips_read_only():
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [1.0],
            "std_error": [0.1],
            "ci_lower": [0.8],
            "ci_upper": [1.2],
            "p_value": [0.01],
        }
    )
    result = impact.ImpactResult(
        estimator="x",
        effects=effects,
        n_obs=4,
        n_units=2,
        settings={"grid": [1, 2], "nested": {"a": [3]}},
        draws={"att": [0.9, 1.0, 1.1]},
    )
    assert result.settings["nested"]["a"] == (3,)
    for trip in TRIPS.values():
        after = trip(result)
        _assert_same_result(result, after)
        assert not after.draws["att"].flags.writeable
        with pytest.raises(AttributeError):
            after.estimator = "y"  # type: ignore[misc]


def test_staggered_result_keeps_its_group_time_effects_and_aggregates_alike():
    result = _fit("staggered_did")
    assert isinstance(result, StaggeredResult)
    for trip in TRIPS.values():
        after = trip(result)
        for name in ("group", "time", "att", "influence"):
            np.testing.assert_array_equal(
                getattr(after.group_time, name), getattr(result.group_time, name)
            )
            assert not getattr(after.group_time, name).flags.writeable
        for kind in ("simple", "group", "calendar", "dynamic"):
            assert_frame_equal(after.aggregate(kind).effects, result.aggregate(kind).effects)


@pytest.mark.parametrize("trip", list(TRIPS))
def test_panel_round_trips(trip):
    panel = _panel()
    after = TRIPS[trip](panel)
    assert_frame_equal(after.frame, panel.frame)
    assert_series_equal(after.cohort, panel.cohort)
    assert_index_equal(after.units, panel.units)
    assert (after.unit, after.time, after.outcome, after.treated, after.covariates) == (
        panel.unit,
        panel.time,
        panel.outcome,
        panel.treated,
        panel.covariates,
    )
    assert repr(after) == repr(panel)
    with pytest.raises(AttributeError):
        after.outcome = "x"  # type: ignore[misc]
    # a Panel that travelled fits to the same answer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_frame_equal(
            impact.estimate(after, method="did").effects,
            impact.estimate(panel, method="did").effects,
        )


@pytest.mark.parametrize("trip", list(TRIPS))
def test_simulated_panel_round_trips_before_its_frames_are_built(trip):
    simulated = impact.simulations.simulate(
        Scenario(n_units=10, n_periods=4, adoption_period=3, effect=1.0), seed=1
    )
    after = TRIPS[trip](simulated.panel)
    assert_frame_equal(after.frame, simulated.panel.frame)
    whole = TRIPS[trip](simulated)
    assert_frame_equal(whole.data, simulated.data)
    assert_frame_equal(whole.truth, simulated.truth)
    assert_frame_equal(whole.paths, simulated.paths)
    assert whole.truth_values() == simulated.truth_values()


@pytest.mark.parametrize("trip", list(TRIPS))
def test_appraisal_round_trips(trip):
    appraisal = appraise(
        _fit("did"),
        costs=[CostStream("worker", amount=1_000)],
        benefits=[BenefitStream("provision", value=300, duration=2)],
        horizon=4,
        discount=0.035,
        n_draws=200,
        seed=2,
    )
    after = TRIPS[trip](appraisal)
    for method in ("to_frame", "by_perspective", "cash_flows", "tornado", "ceac"):
        assert_frame_equal(getattr(after, method)(), getattr(appraisal, method)())
    assert_frame_equal(after.draws, appraisal.draws)
    assert after.settings == appraisal.settings
    assert after.prob_npv_positive == appraisal.prob_npv_positive
    _assert_deeply_frozen(after.settings, "settings")
    with pytest.raises(TypeError):
        after.settings["horizon"] = 9  # type: ignore[index]


@pytest.mark.parametrize("trip", list(TRIPS))
def test_validation_report_round_trips(trip):
    scenario = Scenario(n_units=16, n_periods=4, adoption_period=3, effect=1.0, noise_sd=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = monte_carlo(["did"], scenario, n_reps=3, seed=7, backend="serial")
    after = TRIPS[trip](report)
    assert_frame_equal(after.to_frame(), report.to_frame())
    assert_frame_equal(after.replications, report.replications)
    assert_frame_equal(after.failures, report.failures)
    assert_frame_equal(after.warnings, report.warnings)
    assert after.settings == report.settings
    assert str(after.summary()) == str(report.summary())
    # the tables cannot be changed through the report
    replications = after.replications
    replications.loc[0, "estimate"] = 1e9
    assert_frame_equal(after.replications, report.replications)
    with pytest.raises(TypeError):
        after.settings["n_reps"] = 5  # type: ignore[index]
    assert isinstance(after.settings["estimators"]["did"], type(after.settings))
