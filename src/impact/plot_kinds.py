"""The plot kinds of a result: one explicit table naming the function that draws each.

:meth:`ImpactResult.plot(kind) <impact.result.ImpactResult.plot>` and
:func:`impact.plotting.plot` look a kind up here. Results live in a lower layer than
:mod:`impact.plotting` (see :doc:`the layers </explanation/architecture>`), so they
name each drawing function by its module path instead of importing it; the module is
imported when a kind is first drawn. Nothing is registered by importing a module: a new
plot kind is a new row of :data:`PLOT_KINDS`.

Examples
--------
>>> from impact.plot_kinds import PLOT_KINDS, plot_function
>>> sorted(PLOT_KINDS)[:3]
['balance', 'effects', 'event_study']
>>> plot_function("paths").__name__
'plot_paths'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from impact._frozen import FrozenMapping
from impact.exceptions import DesignError

__all__ = ["BACON_PLOT", "PLOT_KINDS", "plot_function", "resolve"]

PLOT_KINDS: FrozenMapping = FrozenMapping(
    {
        "paths": "impact.plotting.results:plot_paths",
        "effects": "impact.plotting.results:plot_effects",
        "event_study": "impact.plotting.staggered:plot_event_study",
        "group_time": "impact.plotting.staggered:plot_group_time",
        "its": "impact.plotting.its:plot_its",
        "residuals": "impact.plotting.its:plot_residuals",
        "balance": "impact.plotting.matching:plot_balance",
        "overlap": "impact.plotting.matching:plot_overlap",
        "trajectories": "impact.plotting.synthetic_control:plot_trajectories",
        "gaps": "impact.plotting.synthetic_control:plot_gaps",
        "unit_weights": "impact.plotting.synthetic_control:plot_unit_weights",
        "placebo_gaps": "impact.plotting.synthetic_control:plot_placebo_gaps",
        "synthdid": "impact.plotting.synthetic_did:plot_synthdid",
        "sdid_unit_weights": "impact.plotting.synthetic_did:plot_sdid_unit_weights",
        "sdid_replicates": "impact.plotting.synthetic_did:plot_sdid_replicates",
        "subgroups": "impact.plotting.subgroups:plot_subgroups",
        "gap": "impact.plotting.subgroups:plot_gap",
    }
)
"""Plot kind -> ``"module:function"`` of :mod:`impact.plotting` drawing it from a result."""

BACON_PLOT = "impact.plotting.staggered:plot_bacon"
"""The function drawing a :class:`~impact.estimators.did.bacon.BaconDecomposition`."""


def resolve(target: str) -> Callable[..., Any]:
    """The function named by ``"module:function"``, its module imported on first use.

    Examples
    --------
    >>> resolve(BACON_PLOT).__name__
    'plot_bacon'
    """
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def plot_function(kind: str) -> Callable[..., Any]:
    """The function drawing plot ``kind`` (a key of :data:`PLOT_KINDS`).

    Parameters
    ----------
    kind : str
        The plot kind.

    Returns
    -------
    callable
        ``function(result, *, ax=None, **kwargs) -> Axes``.

    Raises
    ------
    DesignError
        When ``kind`` is not a key of :data:`PLOT_KINDS` (the message lists them).

    Examples
    --------
    >>> plot_function("balance").__module__
    'impact.plotting.matching'
    """
    try:
        target = PLOT_KINDS[kind]
    except (KeyError, TypeError):
        raise DesignError(
            f"unknown plot kind {kind!r}; choose one of {', '.join(sorted(PLOT_KINDS))}"
        ) from None
    return resolve(target)
