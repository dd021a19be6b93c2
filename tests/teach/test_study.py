"""Monte Carlo in the sandbox: batches with progress, cancelling, the scores."""

from __future__ import annotations

import threading

import pytest

from impact.teach.model import PRESETS, Analysis, World
from impact.teach.study import STUDY_COLUMNS, StudyCancelled, monte_carlo_study


def test_progress_is_reported_after_every_batch():
    seen = []
    table = monte_carlo_study(
        World(n_schools=40, n_pilot=20, effect=1.0),
        Analysis(designs=("did",)),
        n_reps=12,
        batches=4,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(3, 12), (6, 12), (9, 12), (12, 12)]
    assert list(table.columns) == list(STUDY_COLUMNS)
    row = table.iloc[0]
    assert row["n_reps"] == 12 and row["n_failed"] == 0
    assert row["truth"] == pytest.approx(1.0)
    assert 0 <= row["coverage"] <= 1


def test_selection_on_trend_ruins_did_coverage_not_its():
    world = PRESETS["selected_on_trend"].replace(n_schools=60, n_pilot=20)
    table = monte_carlo_study(world, Analysis(designs=("did", "its")), n_reps=20, batches=2)
    scores = table.set_index("design")
    assert scores.loc["difference-in-differences", "coverage"] < 0.5
    assert scores.loc["difference-in-differences", "bias"] > 0.5
    assert scores.loc["controlled ITS", "coverage"] >= 0.8


def test_a_design_that_cannot_run_is_counted_as_failed():
    table = monte_carlo_study(
        PRESETS["staggered_rollout"].replace(n_schools=40, n_pilot=32),
        Analysis(designs=("did",)),
        n_reps=4,
        batches=2,
    )
    assert table.iloc[0]["n_failed"] == 4 and table.iloc[0]["n_reps"] == 0


def test_cancel_stops_after_the_current_batch():
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()

    with pytest.raises(StudyCancelled, match="stopped after 2 of 10"):
        monte_carlo_study(
            World(n_schools=30, n_pilot=10),
            Analysis(designs=("did",)),
            n_reps=10,
            batches=5,
            progress=progress,
            cancel=cancel,
        )
    assert seen == [2]


def test_n_reps_must_be_positive():
    with pytest.raises(ValueError, match="n_reps"):
        monte_carlo_study(World(), n_reps=0)
