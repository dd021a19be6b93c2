"""Monte Carlo for the sandbox: bias, coverage and power of each design, with progress.

:func:`monte_carlo_study` runs :func:`impact.simulations.monte_carlo` in batches so a
caller (the page's worker thread) can report progress and stop early.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from impact.simulations import monte_carlo
from impact.teach.model import DESIGNS, Analysis, World

__all__ = ["STUDY_COLUMNS", "StudyCancelled", "estimators", "monte_carlo_study"]

STUDY_COLUMNS: tuple[str, ...] = (
    "design",
    "truth",
    "mean_estimate",
    "bias",
    "coverage",
    "rejection_rate",
    "mean_ci_width",
    "n_reps",
    "n_failed",
)
"""Columns of :func:`monte_carlo_study`'s table."""

_AVERAGED = ("truth", "mean_estimate", "bias", "coverage", "rejection_rate", "mean_ci_width")


class StudyCancelled(Exception):
    """The study was stopped before it finished."""


def estimators(analysis: Analysis) -> dict[str, Any]:
    """The analysis's designs as ``{label: estimator}`` for ``monte_carlo``.

    Examples
    --------
    >>> list(estimators(Analysis(designs=("did", "its"))))
    ['difference-in-differences', 'controlled ITS']
    """
    return {DESIGNS[k].label: DESIGNS[k].build(analysis.inference) for k in analysis.designs}


def monte_carlo_study(
    world: World,
    analysis: Analysis | None = None,
    *,
    n_reps: int = 200,
    seed: int | None = None,
    batches: int = 10,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    backend: Any = "serial",
) -> pd.DataFrame:
    """Repeat the world ``n_reps`` times and score each design against the truth.

    Parameters
    ----------
    world : World
        The world to simulate; its ``seed`` is the default root seed.
    analysis : Analysis, optional
        Designs, follow-up and inference.
    n_reps : int, default 200
        Replications.
    seed : int, optional
        Root seed of the replications (default: the world's seed).
    batches : int, default 10
        Batches run one after another, each reported to ``progress``.
    progress : callable, optional
        Called as ``progress(done, n_reps)`` after each batch.
    cancel : threading.Event, optional
        When set, the study stops after the current batch with :class:`StudyCancelled`.
    backend : {"serial", "processes"} or None, default "serial"
        Passed to :func:`impact.simulations.monte_carlo`; None lets it start local
        worker processes when they pay off.

    Returns
    -------
    pandas.DataFrame
        One row per design with the columns of :data:`STUDY_COLUMNS`: ``bias`` the mean
        error, ``coverage`` the share of 95% intervals containing the truth,
        ``rejection_rate`` the share of p-values below 0.05 (the power when the effect
        is not zero, the false-positive rate when it is).

    Examples
    --------
    >>> table = monte_carlo_study(World(n_schools=40, n_pilot=20), Analysis(designs=("did",)),
    ...                           n_reps=20, batches=2)
    >>> table[["design", "n_reps"]].values.tolist()
    [['difference-in-differences', 20]]
    """
    analysis = Analysis() if analysis is None else analysis
    if isinstance(n_reps, bool) or not isinstance(n_reps, int) or n_reps < 1:
        raise ValueError(f"n_reps={n_reps!r} must be a positive integer")
    scenario = world.to_scenario(analysis.n_years(world))
    labelled = estimators(analysis)
    n_batches = max(1, min(int(batches), n_reps))
    sizes = np.full(n_batches, n_reps // n_batches)
    sizes[: n_reps % n_batches] += 1
    roots = np.random.SeedSequence(world.seed if seed is None else seed).spawn(n_batches)
    frames = []
    done = 0
    for size, root in zip(sizes.tolist(), roots, strict=True):
        if cancel is not None and cancel.is_set():
            raise StudyCancelled(f"stopped after {done} of {n_reps} replications")
        report = monte_carlo(
            labelled,
            scenario,
            n_reps=size,
            seed=root,
            backend=backend,
            progress=False,
            terms=("att",),
        )
        frames.append(report.to_frame())
        done += size
        if progress is not None:
            progress(done, n_reps)
    return _combine(pd.concat(frames, ignore_index=True), list(labelled))


def _combine(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    rows = []
    for label in labels:
        mine = table.loc[table["estimator"] == label]
        scored = mine.loc[mine["n_reps"] > 0]
        weights = scored["n_reps"].to_numpy(dtype=float)
        row: dict[str, Any] = {"design": label}
        for column in _AVERAGED:
            values = scored[column].to_numpy(dtype=float)
            row[column] = float(np.average(values, weights=weights)) if len(values) else np.nan
        row["n_reps"] = int(weights.sum())
        row["n_failed"] = int(mine["n_failed"].sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=list(STUDY_COLUMNS))
