"""Learner fits in parallel Monte Carlo workers use the threads they are given.

A tiny scikit-learn classifier records ``threadpoolctl.threadpool_info()`` (the
OpenMP and BLAS thread counts in force) inside every ``fit``, appending a line to a
file, so fits in worker processes are seen too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import impact
from impact._threads import learner_thread_budget, learner_threads
from impact.exceptions import DesignError
from impact.simulations import Scenario, monte_carlo
from impact.simulations._runner import learner_budget

sklearn_base = pytest.importorskip("sklearn.base")
# the OpenMP runtime of scikit-learn (its gradient boosting uses it): loaded here, and in
# every worker process that unpickles the recorder below
pytest.importorskip("sklearn.ensemble")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402


class ThreadRecorder(sklearn_base.ClassifierMixin, sklearn_base.BaseEstimator):
    """A logistic regression that writes the thread counts in force when it is fitted."""

    def __init__(self, record_to: str | None = None) -> None:
        self.record_to = record_to

    def fit(self, X, y, sample_weight=None):
        threads: dict[str, int] = {}
        for pool in threadpool_info():
            api = pool["user_api"]
            threads[api] = max(threads.get(api, 0), int(pool["num_threads"]))
        with open(self.record_to, "a", encoding="utf-8") as out:
            out.write(json.dumps({"pid": os.getpid(), "threads": threads}) + "\n")
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


SCENARIO = Scenario.staggered_rollout(
    n_units=60,
    n_periods=4,
    cohorts=((3, 0.4),),
    selection="covariate",
    covariate_trend=0.5,
    panel_covariates=("x",),
)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _study(path: Path, **kwargs):
    estimator = impact.StaggeredDiD(propensity_model=ThreadRecorder(str(path)), cross_fit=2)
    report = monte_carlo({"recorded": estimator}, SCENARIO, n_reps=2, seed=1, **kwargs)
    assert report.failures.empty, report.failures
    records = _records(path)
    assert records, "the learner was never fitted"
    return records


def _has_openmp() -> bool:
    return any(pool["user_api"] == "openmp" for pool in threadpool_info())


def test_serial_learners_keep_their_threads_unless_capped(tmp_path: Path) -> None:
    free = _study(tmp_path / "free.jsonl", backend="serial")
    outside = {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}
    if "openmp" in outside:  # (the runner keeps BLAS to one thread in any case)
        assert max(r["threads"]["openmp"] for r in free) == outside["openmp"]
    capped = _study(tmp_path / "capped.jsonl", backend="serial", learner_threads=1)
    for record in capped:
        assert set(record["threads"].values()) == {1}, record
    if _has_openmp():
        assert all("openmp" in r["threads"] for r in capped)


def test_worker_processes_share_the_cores(tmp_path: Path) -> None:
    records = _study(tmp_path / "workers.jsonl", backend="processes", n_workers=2, chunk_size=1)
    expected = max(1, (os.cpu_count() or 1) // 2)
    for record in records:
        assert set(record["threads"].values()) == {expected}, record
    override = _study(
        tmp_path / "override.jsonl",
        backend="processes",
        n_workers=2,
        chunk_size=1,
        learner_threads=2,
    )
    for record in override:
        assert set(record["threads"].values()) == {2}, record


@pytest.mark.parametrize("threads_per_worker", [1, 2])
def test_dask_tasks_get_one_thread(tmp_path: Path, threads_per_worker: int) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=threads_per_worker,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        records = _study(tmp_path / "dask.jsonl", backend=client, chunk_size=1)
    for record in records:
        if threads_per_worker == 1:
            assert set(record["threads"].values()) == {1}, record
        else:
            # BLAS limits are process-wide: a task finishing in another thread of the
            # worker restores them, so only OpenMP's (per thread) is sure to hold
            assert record["threads"].get("openmp", 1) == 1, record


def test_budget_rules_and_bad_values() -> None:
    assert learner_budget("serial", 1, None) is None
    assert learner_budget("processes", 2, None) == max(1, (os.cpu_count() or 1) // 2)
    assert learner_budget("processes", 10_000, None) == 1
    assert learner_budget(object(), 4, None) == 1  # a Dask client
    assert learner_budget("processes", 2, 5) == 5
    with learner_thread_budget(3):
        assert learner_threads() == 3
    assert learner_threads() is None
    for bad in (0, -1, 1.5, True):
        with pytest.raises(DesignError, match="learner_threads"):
            monte_carlo(
                {"did": impact.DifferenceInDifferences()},
                SCENARIO,
                n_reps=1,
                seed=0,
                learner_threads=bad,
            )


def test_results_do_not_depend_on_the_thread_budget(tmp_path: Path) -> None:
    one = _study(tmp_path / "a.jsonl", backend="serial", learner_threads=1)
    assert one  # the recorder ran
    estimator = impact.StaggeredDiD(
        propensity_model=ThreadRecorder(str(tmp_path / "b.jsonl")), cross_fit=2
    )
    first = monte_carlo({"x": estimator}, SCENARIO, n_reps=2, seed=4, backend="serial")
    second = monte_carlo(
        {"x": estimator}, SCENARIO, n_reps=2, seed=4, backend="serial", learner_threads=1
    )
    np.testing.assert_array_equal(
        first.replications["estimate"].to_numpy(), second.replications["estimate"].to_numpy()
    )
