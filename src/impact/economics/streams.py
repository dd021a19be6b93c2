"""Cost and benefit streams: what a programme costs, and what a unit of its effect is worth.

A :class:`CostStream` is an amount per period (in total, or per pupil, per school...
times a ``count``) starting at a period, for a duration, with real growth. A
:class:`BenefitStream` is the money value of one unit of the estimated effect per
period, so that it scales with the effect; its timing is counted from each period in
which the programme has its effect (``start`` is a lag). Both name who bears them
(``bearer``), so an appraisal can be split by perspective.

Amounts, values and growth rates may be numbers or frozen ``scipy.stats``
distributions (anything with ``mean``, ``ppf`` and ``rvs``): the point values use the
distribution's mean, the uncertainty intervals draw from it.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np

from impact.exceptions import DesignError

__all__ = ["BenefitStream", "CostStream", "is_distribution"]


def is_distribution(value: Any) -> bool:
    """True for a frozen distribution (an object with ``mean``, ``ppf`` and ``rvs``)."""
    return all(callable(getattr(value, name, None)) for name in ("mean", "ppf", "rvs"))


def _check_number(label: str, name: str, value: Any, *, allow_distribution: bool) -> None:
    if allow_distribution and is_distribution(value):
        point = float(value.mean())
        if not np.isfinite(point):
            raise DesignError(f"stream {label!r}: the distribution of {name} has no finite mean")
        return
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        kinds = (
            "a number or a frozen scipy.stats distribution" if allow_distribution else "a number"
        )
        raise DesignError(f"stream {label!r}: {name}={value!r} must be {kinds}")
    if not np.isfinite(value):
        raise DesignError(f"stream {label!r}: {name}={value!r} must be finite")


class _Stream:
    """Shared checks of cost and benefit streams (fields are declared on each class)."""

    label: str
    start: int
    duration: int | None
    growth: Any
    per: str
    count: float | None
    bearer: str
    price_year: int | None

    def _check_common(self, amount_name: str) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise DesignError(f"a stream needs a non-empty label, got {self.label!r}")
        _check_number(self.label, amount_name, getattr(self, amount_name), allow_distribution=True)
        _check_number(self.label, "growth", self.growth, allow_distribution=True)
        growth = float(self.growth.mean()) if is_distribution(self.growth) else self.growth
        if growth <= -1:
            raise DesignError(f"stream {self.label!r}: growth={growth!r} must exceed -1")
        if not isinstance(self.start, int | np.integer) or self.start < 0:
            raise DesignError(
                f"stream {self.label!r}: start={self.start!r} must be a whole period >= 0"
            )
        if self.duration is not None and (
            not isinstance(self.duration, int | np.integer) or self.duration < 1
        ):
            raise DesignError(
                f"stream {self.label!r}: duration={self.duration!r} must be a whole number of "
                "periods >= 1 (or None for 'until the horizon')"
            )
        if not isinstance(self.per, str) or not self.per:
            raise DesignError(f"stream {self.label!r}: per={self.per!r} must be a unit name")
        if self.per == "total":
            if self.count is not None:
                raise DesignError(
                    f"stream {self.label!r}: count={self.count!r} is given but per='total'; "
                    "give per='pupil' (or 'school', ...) with a count, or drop the count"
                )
        elif self.count is not None:
            _check_number(self.label, "count", self.count, allow_distribution=False)
            if self.count <= 0:
                raise DesignError(f"stream {self.label!r}: count={self.count!r} must be positive")
        if not isinstance(self.bearer, str) or not self.bearer:
            raise DesignError(f"stream {self.label!r}: bearer={self.bearer!r} must be a label")

    def end(self) -> float:
        """First period after the stream (infinite when it runs to the horizon)."""
        return float("inf") if self.duration is None else float(self.start + self.duration)


@dataclass(frozen=True)
class CostStream(_Stream):
    """A cost of the programme: ``amount`` per period, optionally per pupil/school/...

    Parameters
    ----------
    label : str
        Name shown in tables and plots (e.g. ``"support workers"``).
    amount : float or frozen distribution
        Cost per period (per ``per`` unit when ``per`` is not ``"total"``), in the
        prices of ``price_year``.
    start : int, default 0
        First period in which the cost falls (period 0 is the base year).
    duration : int, default 1
        Number of periods it lasts.
    growth : float or frozen distribution, default 0.0
        Real growth per period: the amount in period ``start + k`` is
        ``amount * (1 + growth) ** k``.
    per : str, default "total"
        ``"total"``, or the unit the amount is given per (``"pupil"``, ``"worker"``).
    count : float, optional
        How many ``per`` units there are; required unless ``per="total"``.
    bearer : str, default "public sector"
        Who pays (a perspective label).
    price_year : int, optional
        Price base of ``amount``; rebased by :func:`impact.economics.appraise` when its
        ``price_year`` differs.

    Examples
    --------
    >>> workers = CostStream("support workers", amount=40_000, per="worker", count=5, duration=3)
    >>> workers.total_point()
    200000.0
    """

    label: str
    _: KW_ONLY
    amount: Any
    start: int = 0
    duration: int | None = 1
    growth: Any = 0.0
    per: str = "total"
    count: float | None = None
    bearer: str = "public sector"
    price_year: int | None = None

    def __post_init__(self) -> None:
        self._check_common("amount")
        if self.duration is None:
            raise DesignError(
                f"cost stream {self.label!r} needs a finite duration (a number of periods)"
            )
        if self.per != "total" and self.count is None:
            raise DesignError(
                f"cost stream {self.label!r} is given per {self.per!r} but has no count; "
                f"give count= (how many {self.per}s) or per='total'"
            )

    def total_point(self) -> float:
        """Undiscounted cost in its first period at the point values (amount x count)."""
        amount = float(self.amount.mean()) if is_distribution(self.amount) else self.amount
        return float(amount) * (1.0 if self.count is None else float(self.count))


@dataclass(frozen=True)
class BenefitStream(_Stream):
    """The value of one unit of the programme's effect, per period.

    In each period in which the programme has its effect, every unit of the outcome
    gained (an exclusion avoided, a grade point) is worth ``value`` to ``bearer`` in
    each of ``duration`` periods starting ``start`` periods later.

    Parameters
    ----------
    label : str
        Name shown in tables and plots.
    value : float or frozen distribution
        Money per unit of outcome gained, per period, in ``price_year`` prices.
    start : int, default 0
        Lag, in periods, from the period of the effect to the first benefit.
    duration : int, optional
        Periods the benefit lasts; None (default) runs to the appraisal horizon.
    growth : float or frozen distribution, default 0.0
        Real growth per period of the value, counted from its first period.
    per : str, default "total"
        ``"total"``: ``value`` is per unit of the programme's total effect (the effect
        times the ``reach`` given to :func:`~impact.economics.appraise`). Otherwise
        the unit the value is given per (``"pupil"``, ``"school"``): the effect is
        then taken per that unit and multiplied by ``count``.
    count : float, optional
        Number of ``per`` units covered; defaults to the appraisal's ``reach`` when
        ``per`` is the unit the effect is measured per.
    bearer : str, default "public sector"
        Who gains (a perspective label: ``"education authority"``, ``"families"``).
    price_year : int, optional
        Price base of ``value``.

    Examples
    --------
    >>> saving = BenefitStream("alternative provision avoided", value=18_000, duration=2,
    ...                        bearer="education authority")
    >>> saving.end()
    2.0
    """

    label: str
    _: KW_ONLY
    value: Any
    start: int = 0
    duration: int | None = None
    growth: Any = 0.0
    per: str = "total"
    count: float | None = None
    bearer: str = "public sector"
    price_year: int | None = None

    def __post_init__(self) -> None:
        self._check_common("value")
