"""The true value of every term of a simulated draw, by kind of term (see :mod:`impact.terms`).

Kinds: ``overall`` (the ATT), ``group_time`` cells, ``event_time``, ``group`` (cohort),
``calendar`` period and ``spillover``. A term's truth is the mean effect ``tau`` over the
rows it averages; labels depend only on the scenario's periods and cohorts.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from impact.terms import calendar_term, event_term, group_term, group_time_term

__all__ = ["KINDS", "kind_truth", "term_kinds", "term_labels"]

KINDS = ("overall", "group_time", "event_time", "group", "calendar", "spillover")
"""The kinds of term, in the order of :attr:`SimulatedPanel.truth`."""


def kind_truth(
    p: dict[str, Any], kind: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None:
    """True values of the terms of one kind from a draw's arrays ``p``.

    Returns the terms that have rows, their values (mean effect over the rows), the
    positions of the cells kept among the kind's labels and their row counts; None
    when the draw has no term of this kind.
    """
    ti, gi, tau, treated = p["ti"], p["gi"], p["tau"], p["treated"]
    periods, starts = p["periods"], p["starts"]
    n_t, n_c = p["n_periods"], len(starts)
    if kind == "overall":
        sums, counts = np.array([tau[treated].sum()]), np.array([treated.sum()])
    elif kind in ("group_time", "event_time"):
        ever = gi >= 0
        t_ever, tau_ever = ti[ever], tau[ever]
        if kind == "group_time":
            code = p["cohort_index"][ever] * n_t + t_ever
            size = n_c * n_t
        else:
            code = t_ever - gi[ever] + (n_t - 1)
            size = 2 * n_t - 1
        sums = np.bincount(code, weights=tau_ever, minlength=size)
        counts = np.bincount(code, minlength=size)
    elif kind == "group":  # treated rows only
        tr_ci = p["cohort_index"][treated]
        sums = np.bincount(tr_ci, weights=tau[treated], minlength=n_c)
        counts = np.bincount(tr_ci, minlength=n_c)
    elif kind == "calendar":
        sums = np.bincount(ti[treated], weights=tau[treated], minlength=n_t)
        counts = np.bincount(ti[treated], minlength=n_t)
    else:  # spillover
        spill = p["spill"] & (ti >= p["g_first"])
        if not spill.any():
            return None
        sums, counts = np.array([tau[spill].sum()]), np.array([spill.sum()])
    keep = counts > 0
    idx = np.flatnonzero(keep)
    names = term_labels(tuple(periods), tuple(starts))[kind][0]
    return [names[i] for i in idx], sums[keep] / counts[keep], idx, counts[keep]


@functools.lru_cache(maxsize=64)
def term_kinds(periods: tuple[Any, ...], starts: tuple[int, ...]) -> dict[str, str]:
    """The kind of every term a scenario of this shape can have a truth for."""
    labels = term_labels(periods, starts)
    return {name: kind for kind in KINDS for name in labels[kind][0]}


@functools.lru_cache(maxsize=64)
def term_labels(
    periods: tuple[Any, ...], starts: tuple[int, ...]
) -> dict[str, tuple[list[str], list[Any], list[Any], list[Any]]]:
    """Per kind of term: the term labels and their group, time and event time columns.

    ``periods`` are the scenario's periods, ``starts`` the cohorts' first treated period
    as positions among them. The labels depend only on these, not on the draw.
    """
    n_t, n_c = len(periods), len(starts)
    cg = np.repeat(starts, n_t)
    ct = np.tile(np.arange(n_t), n_c)
    events = np.arange(-(n_t - 1), n_t)
    return {
        "overall": (["att"], [None], [None], [None]),
        "group_time": (
            [group_time_term(periods[g], periods[t]) for g, t in zip(cg, ct, strict=True)],
            [int(periods[g]) for g in cg],
            [int(periods[t]) for t in ct],
            [int(t - g) for g, t in zip(cg, ct, strict=True)],
        ),
        "event_time": (
            [event_term(k) for k in events],
            [None] * len(events),
            [None] * len(events),
            [int(k) for k in events],
        ),
        "group": (
            [group_term(periods[g]) for g in starts],
            [int(periods[g]) for g in starts],
            [None] * n_c,
            [None] * n_c,
        ),
        "calendar": (
            [calendar_term(t) for t in periods],
            [None] * n_t,
            [int(t) for t in periods],
            [None] * n_t,
        ),
        "spillover": (["spillover"], [None], [None], [None]),
    }
