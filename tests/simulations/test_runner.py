"""How replications are shared out: the chunk queue, this process and worker processes."""

from __future__ import annotations

import itertools
import os
import time
import warnings
from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import impact
from impact.exceptions import DesignError, DesignWarning
from impact.result import ImpactResult
from impact.simulations import Scenario, _runner, monte_carlo
from impact.simulations._runner import _ChunkQueue, default_chunk_size

SMALL = Scenario(n_units=24, n_periods=4, adoption_period=3, effect=1.0, noise_sd=1.0)


@dataclass(frozen=True)
class WhereRun:
    """Reports att = 1 and warns with the id of the process that ran the fit."""

    name = "where"
    pause: float = 0.0

    def fit(self, panel):
        time.sleep(self.pause)
        warnings.warn(f"pid {os.getpid()}", DesignWarning, stacklevel=1)
        effects = pd.DataFrame(
            {
                "term": ["att"],
                "estimate": [1.0],
                "std_error": [0.25],
                "ci_lower": [0.5],
                "ci_upper": [1.5],
                "p_value": [0.01],
            }
        )
        return ImpactResult(estimator="where", effects=effects, n_obs=1, n_units=1)


class CannotTravel:
    """An estimator that cannot be sent to another process."""

    name = "stay"

    def fit(self, panel):
        return impact.DifferenceInDifferences().fit(panel)

    def __reduce__(self):
        raise TypeError("this estimator cannot be sent to a worker process")


@pytest.fixture
def worker_up():
    """A worker process that is up: it takes chunks as soon as a study starts."""
    _runner._executor(1).submit(_runner._worker_ready).result()


def pids(report) -> set[str]:
    return set(report.warnings["message"])


@given(
    n_reps=st.integers(1, 400),
    size=st.integers(1, 60),
    workers=st.integers(1, 8),
    shrink=st.booleans(),
    small_first=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_chunk_queue_hands_out_every_replication_once(n_reps, size, workers, shrink, small_first):
    queue = _ChunkQueue(n_reps, size, workers=workers, shrink=shrink)
    assert queue.remaining() == n_reps
    first = queue.take(smallest=small_first)
    chunks = [first, *queue.take_all()]
    assert queue.take() is None and queue.remaining() == 0
    assert chunks[0][0] == 0 and chunks[-1][1] == n_reps
    assert all(a < b for a, b in chunks)
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(chunks))
    lengths = [b - a for a, b in chunks]
    assert max(lengths) <= size
    if small_first:
        assert lengths[0] <= max(1, size // 10)
    if shrink:  # chunks never grow after the first, except the probe's
        rest = lengths[1:] if small_first else lengths
        assert all(x >= y for x, y in itertools.pairwise(rest))
    else:
        assert all(x == size for x in lengths[1:-1])


def test_chunk_queue_drop_stops_the_study():
    queue = _ChunkQueue(100, 10)
    assert queue.take() == (0, 10)
    queue.drop()
    assert queue.take() is None and queue.remaining() == 0


def test_default_chunks_per_backend():
    assert default_chunk_size(1000, 1, "serial") == 50
    assert default_chunk_size(1000, 2, "processes") == 50
    assert default_chunk_size(1000, 2, "auto") == 50
    assert default_chunk_size(1000, 2, object()) == 125  # a Dask client
    assert default_chunk_size(10**6, 2, "processes") == 500
    assert default_chunk_size(3, 8, "processes") == 1


def test_worker_processes_and_this_process_share_the_study(worker_up):
    slow = WhereRun(pause=0.05)  # 2 s alone: the workers get their chunks before the end
    serial = monte_carlo([slow], SMALL, n_reps=40, seed=2, backend="serial")
    shared = monte_carlo(
        [slow], SMALL, n_reps=40, seed=2, backend="processes", n_workers=2, chunk_size=2
    )
    assert pids(serial) == {f"pid {os.getpid()}"}
    # this process works too, and so does the worker process
    assert f"pid {os.getpid()}" in pids(shared) and len(pids(shared)) == 2
    assert int(shared.warnings["count"].sum()) == 40
    assert_frame_equal(serial.replications, shared.replications)
    assert_frame_equal(serial.to_frame(), shared.to_frame())


def test_a_study_done_before_the_workers_are_ready_does_not_wait_for_them(monkeypatch):
    monkeypatch.setattr(_runner, "_worker_ready", lambda: time.sleep(3))  # not ready in time
    began = time.perf_counter()
    report = monte_carlo(
        [WhereRun()], SMALL, n_reps=10, seed=2, backend="processes", n_workers=2, chunk_size=1
    )
    assert time.perf_counter() - began < 2.5
    assert pids(report) == {f"pid {os.getpid()}"} and report.to_frame()["n_reps"].iloc[0] == 10


def test_one_worker_means_this_process_alone():
    report = monte_carlo([WhereRun()], SMALL, n_reps=12, seed=2, backend="processes", n_workers=1)
    assert pids(report) == {f"pid {os.getpid()}"}


def test_default_backend_keeps_a_short_study_in_this_process(monkeypatch):
    monkeypatch.setattr(_runner, "_HELPERS_USED", {})
    monkeypatch.setattr(_runner.os, "cpu_count", lambda: 2)
    report = monte_carlo([WhereRun()], SMALL, n_reps=30, seed=4, progress=False)
    assert pids(report) == {f"pid {os.getpid()}"}


def test_default_backend_starts_workers_for_a_long_study(monkeypatch, worker_up):
    monkeypatch.setattr(_runner, "_HELPERS_USED", {})
    monkeypatch.setattr(_runner.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_runner, "AUTO_START_SECONDS", 0.0)  # every study is "long"
    estimators = {"where": WhereRun(pause=0.05), "did": impact.DifferenceInDifferences()}
    report = monte_carlo(estimators, SMALL, n_reps=30, seed=4, progress=False)
    serial = monte_carlo(estimators, SMALL, n_reps=30, seed=4, backend="serial")
    assert len(pids(report)) == 2
    assert set(_runner._HELPERS_USED) == {1}  # remembered: the next study finds them up
    assert_frame_equal(serial.replications, report.replications)
    assert_frame_equal(serial.to_frame(), report.to_frame())


def test_a_worker_failure_is_raised_here(worker_up):
    with pytest.raises(Exception, match="pickle") as caught:
        monte_carlo(
            [CannotTravel(), WhereRun(pause=0.05)],
            SMALL,
            n_reps=20,
            seed=1,
            backend="processes",
            n_workers=2,
            chunk_size=1,
        )
    assert "cannot be sent to a worker process" in str(caught.value.__cause__)


@pytest.mark.parametrize("n_workers", [0, -1, 1.5, True])
def test_n_workers_must_be_a_positive_integer(n_workers):
    with pytest.raises(DesignError, match=r"n_workers=.* must be a positive integer"):
        monte_carlo([WhereRun()], SMALL, n_reps=5, seed=1, n_workers=n_workers)
