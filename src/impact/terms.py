"""Names of the effect terms shared by the estimators' results and the simulator's truth.

Scoring an estimator is a merge on ``term``, so the truth and the estimators spell
terms the same way:

=====================  =========================  ===========================================
term                   example                    the true value is the mean effect over
=====================  =========================  ===========================================
``att``                ``att``                    every treated row (unit-periods from
                                                  adoption on)
group-time cell        ``ATT(2004,2006)``         rows of units adopting in 2004, in 2006
event time             ``e=2``, ``e=-1``          rows of treated units ``e`` periods after
                                                  (before) their adoption (0 = first year)
group (cohort)         ``g=2004``                 treated rows of units adopting in 2004
calendar period        ``t=2006``                 treated rows in 2006
spillover              ``spillover``              rows of spillover units from the first
                                                  adoption on
=====================  =========================  ===========================================

Group-time, event-time, group and calendar rows also carry integer ``group``, ``time``
and ``event_time`` columns where they apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["calendar_term", "event_term", "group_term", "group_time_term", "plain_period"]


def _label(value: object) -> str:
    """Integers print without a decimal point; other periods (dates) as they are."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(value)


def group_time_term(group: object, time: object) -> str:
    """Term of the group-time cell ATT(g,t).

    Examples
    --------
    >>> group_time_term(2004, 2006)
    'ATT(2004,2006)'
    """
    return f"ATT({_label(group)},{_label(time)})"


def event_term(event_time: int) -> str:
    """Term of an event time (periods since adoption; 0 is the first treated period).

    Examples
    --------
    >>> event_term(2), event_term(-1)
    ('e=2', 'e=-1')
    """
    return f"e={int(event_time)}"


def group_term(group: object) -> str:
    """Term of a cohort (units adopting in period ``group``).

    Examples
    --------
    >>> group_term(2004)
    'g=2004'
    """
    return f"g={_label(group)}"


def calendar_term(time: object) -> str:
    """Term of a calendar period.

    Examples
    --------
    >>> calendar_term(2006)
    't=2006'
    """
    return f"t={_label(time)}"


def plain_period(value: Any) -> Any:
    """A period as a plain Python value (a Timestamp for datetimes).

    Examples
    --------
    >>> plain_period(np.int64(2004)), plain_period(np.datetime64("2004-01-01"))
    (2004, Timestamp('2004-01-01 00:00:00'))
    """
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    return value.item() if isinstance(value, np.generic) else value
