"""Discounting and price bases: :class:`DiscountSchedule`, the Green Book schedules, :func:`rebase`.

Timing convention
-----------------
Periods are whole years counted from the appraisal's base year, which is period 0.
A flow in period ``t`` is treated as falling at time ``t`` (the Green Book's
convention: the current year, period 0, is not discounted; a flow one year on is
divided by ``1 + r``). Flows inside a year are not spread (no mid-year correction).

A schedule gives a rate for each year ``s = 1, 2, ...``; the discount factor of year
``t`` is the product of the yearly factors up to ``t``::

    D(0) = 1,    D(t) = D(t - 1) / (1 + r(t))

so under a declining schedule the factor of year 40 is ``1.035**-30 * 1.03**-10``, not
``1.03**-40``: the lower rate applies only to the years in its band.

HM Treasury Green Book
----------------------
:data:`GREEN_BOOK` is the declining schedule of the Green Book (HM Treasury, *The
Green Book: Central Government Guidance on Appraisal and Evaluation*, 2022 edition,
Annex A6 on discounting): 3.5% for years 0-30, 3.0% for 31-75, 2.5% for 76-125, 2.0% for
126-200, 1.5% for 201-300 and 1.0% from year 301. :data:`GREEN_BOOK_HEALTH` is its
schedule for health and life values (1.5% for years 0-30, then 1.29%, 1.07%, 0.86%,
0.64%, 0.43%), which leaves out the wealth effect. The February 2026 update of the
Green Book kept both schedules and added a lower schedule for a sensitivity test on
proposals whose effects run beyond 50 years (:data:`GREEN_BOOK_LOW`: 3.00%, 2.57%,
2.14%, 1.71%, 1.29%, 0.86% over the same bands), as reported by the Department for
Transport (TAG, "Forthcoming change: Green Book updates", April 2026).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from impact.exceptions import DesignError

__all__ = [
    "GREEN_BOOK",
    "GREEN_BOOK_HEALTH",
    "GREEN_BOOK_LOW",
    "MAX_RATE",
    "DiscountSchedule",
    "as_schedule",
    "rebase",
]

MAX_RATE: float = 0.25
"""Rates at or above this are rejected as absurd (a percentage passed as a fraction?)."""

_GREEN_BOOK_BANDS = (0, 31, 76, 126, 201, 301)


def _check_rate(rate: float, where: str) -> float:
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise DesignError(f"{where}: discount rate {rate!r} is not a number") from None
    if not np.isfinite(value):
        raise DesignError(f"{where}: discount rate {rate!r} is not finite")
    if value < 0:
        raise DesignError(
            f"{where}: discount rate {value!r} is negative; give a real annual rate such "
            "as 0.035 (3.5%), or 0 for no discounting"
        )
    if value >= MAX_RATE:
        raise DesignError(
            f"{where}: discount rate {value!r} is implausibly high; rates are fractions "
            f"(0.035 for 3.5%), not percentages, and must be below {MAX_RATE}"
        )
    return value


@dataclass(frozen=True)
class DiscountSchedule:
    """Annual discount rates by band of years, with the discount factors they imply.

    Parameters
    ----------
    starts : tuple of int
        First year of each band, increasing, beginning with 0. The rate of the band
        that contains year ``s`` discounts the step from year ``s - 1`` to ``s``
        (year 0 itself is never discounted).
    rates : tuple of float
        Real annual rate of each band, as a fraction (0.035 for 3.5%).
    name : str, optional
        Label shown in summaries.

    Examples
    --------
    >>> DiscountSchedule.constant(0.035).factors(3).round(4).tolist()
    [1.0, 0.9662, 0.9335]
    >>> round(float(GREEN_BOOK.factors(41)[40] / GREEN_BOOK.factors(31)[30]), 6)
    0.744094
    """

    starts: tuple[int, ...]
    rates: tuple[float, ...]
    name: str = ""

    def __post_init__(self) -> None:
        starts = tuple(int(s) for s in self.starts)
        label = self.name or "discount schedule"
        if len(starts) == 0 or len(starts) != len(self.rates):
            raise DesignError(
                f"{label}: give one rate per band ({len(starts)} band starts, "
                f"{len(self.rates)} rates)"
            )
        if starts[0] != 0 or any(b <= a for a, b in pairwise(starts)):
            raise DesignError(
                f"{label}: band starts {starts} must begin at 0 and increase strictly"
            )
        rates = tuple(_check_rate(r, label) for r in self.rates)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "rates", rates)

    @classmethod
    def constant(cls, rate: float) -> DiscountSchedule:
        """A single rate for every year.

        Parameters
        ----------
        rate : float
            Real annual rate as a fraction.

        Returns
        -------
        DiscountSchedule
        """
        return cls((0,), (rate,), name=f"constant {float(rate):.4g}")

    @classmethod
    def from_rates(cls, rates: Sequence[float], *, name: str = "") -> DiscountSchedule:
        """One rate per year: ``rates[0]`` discounts year 1, ``rates[1]`` year 2, ...

        The last rate continues beyond the end of the sequence.

        Parameters
        ----------
        rates : sequence of float
            Yearly rates as fractions.
        name : str, optional
            Label shown in summaries.

        Returns
        -------
        DiscountSchedule

        Examples
        --------
        >>> DiscountSchedule.from_rates([0.1, 0.0]).factors(3).round(4).tolist()
        [1.0, 0.9091, 0.9091]
        """
        rates = list(rates)
        if not rates:
            raise DesignError("from_rates needs at least one rate")
        return cls((0, *range(2, len(rates) + 1)), tuple(rates), name=name or "yearly rates")

    def rate(self, year: int) -> float:
        """The rate that discounts the step from ``year - 1`` to ``year``."""
        index = int(np.searchsorted(self.starts, year, side="right")) - 1
        return self.rates[max(index, 0)]

    def yearly_rates(self, n_periods: int) -> np.ndarray:
        """Rates of years ``1 .. n_periods - 1`` (index 0 is year 0 and holds 0)."""
        years = np.arange(n_periods)
        index = np.searchsorted(self.starts, years, side="right") - 1
        out = np.asarray(self.rates, dtype=float)[np.maximum(index, 0)]
        if n_periods:
            out[0] = 0.0
        return out

    def factors(self, n_periods: int) -> np.ndarray:
        """Discount factors of periods ``0 .. n_periods - 1`` (the product of yearly factors).

        Parameters
        ----------
        n_periods : int
            Number of periods.

        Returns
        -------
        numpy.ndarray
            ``D(0) = 1`` and ``D(t) = D(t - 1) / (1 + r(t))``.
        """
        if n_periods < 0:
            raise DesignError(f"n_periods={n_periods} must not be negative")
        return np.cumprod(1.0 / (1.0 + self.yearly_rates(n_periods)))

    def __str__(self) -> str:
        bands = []
        for i, (start, rate) in enumerate(zip(self.starts, self.rates, strict=True)):
            end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else None
            span = f"{start}+" if end is None else f"{start}-{end}"
            bands.append(f"{span}: {rate:.2%}")
        return f"{self.name or 'discount schedule'} ({'; '.join(bands)})"


GREEN_BOOK = DiscountSchedule(
    _GREEN_BOOK_BANDS,
    (0.035, 0.030, 0.025, 0.020, 0.015, 0.010),
    name="HM Treasury Green Book (2022) declining schedule",
)
"""Green Book standard declining schedule (2022 edition, Annex A6; unchanged in 2026)."""

GREEN_BOOK_HEALTH = DiscountSchedule(
    _GREEN_BOOK_BANDS,
    (0.015, 0.0129, 0.0107, 0.0086, 0.0064, 0.0043),
    name="HM Treasury Green Book (2022) health schedule",
)
"""Green Book schedule for health and life values: 1.5% for years 0-30, then declining."""

GREEN_BOOK_LOW = DiscountSchedule(
    _GREEN_BOOK_BANDS,
    (0.030, 0.0257, 0.0214, 0.0171, 0.0129, 0.0086),
    name="HM Treasury Green Book (2026) lower sensitivity-test schedule",
)
"""Lower schedule the 2026 Green Book asks for as a sensitivity test beyond 50 years."""


def as_schedule(discount: DiscountSchedule | float | Sequence[float]) -> DiscountSchedule:
    """Turn a rate, a sequence of yearly rates or a schedule into a :class:`DiscountSchedule`.

    Parameters
    ----------
    discount : DiscountSchedule, float or sequence of float
        A schedule; a constant rate; or one rate per year (see
        :meth:`DiscountSchedule.from_rates`).

    Returns
    -------
    DiscountSchedule

    Examples
    --------
    >>> as_schedule(0.03).rates
    (0.03,)
    """
    if isinstance(discount, DiscountSchedule):
        return discount
    if isinstance(discount, int | float | np.floating | np.integer) and not isinstance(
        discount, bool
    ):
        return DiscountSchedule.constant(float(discount))
    if isinstance(discount, str):
        raise DesignError(f"discount={discount!r} must be a rate, a list of rates or a schedule")
    return DiscountSchedule.from_rates(list(discount))


def rebase(amount: float, *, index: Mapping[int, float], from_year: int, to_year: int) -> float:
    """Express ``amount`` in the prices of ``to_year`` using a price index.

    Parameters
    ----------
    amount : float
        An amount in ``from_year`` prices.
    index : mapping of year to index value
        A price index such as the GDP deflator (any base year).
    from_year, to_year : int
        Price years of the amount given and wanted.

    Returns
    -------
    float
        ``amount * index[to_year] / index[from_year]``.

    Examples
    --------
    >>> rebase(100.0, index={2020: 95.0, 2024: 114.0}, from_year=2020, to_year=2024)
    120.0
    """
    return float(amount) * price_factor(index, from_year=from_year, to_year=to_year)


def price_factor(index: Mapping[int, float], *, from_year: int, to_year: int) -> float:
    """Ratio ``index[to_year] / index[from_year]``, with a DesignError for a missing year."""
    missing = [year for year in (from_year, to_year) if year not in index]
    if missing:
        covered = sorted(index)
        raise DesignError(
            f"the price index has no value for year(s) {missing}; it covers "
            f"{covered[0] if covered else '-'} to {covered[-1] if covered else '-'}"
        )
    low, high = float(index[from_year]), float(index[to_year])
    if not (np.isfinite(low) and np.isfinite(high) and low > 0 and high > 0):
        raise DesignError(
            f"price index values must be positive and finite; got {from_year}: {low}, "
            f"{to_year}: {high}"
        )
    return high / low
