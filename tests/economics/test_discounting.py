"""Discount schedules: constant, yearly, and the HM Treasury Green Book schedules."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impact import DesignError
from impact.economics import (
    GREEN_BOOK,
    GREEN_BOOK_HEALTH,
    GREEN_BOOK_LOW,
    DiscountSchedule,
    as_schedule,
    rebase,
)


def test_constant_rate_factors_by_hand():
    """Year 0 is undiscounted; year t is divided by 1.035**t.

    D = [1, 1/1.035, 1/1.035**2] = [1, 0.966184, 0.933511].
    """
    factors = DiscountSchedule.constant(0.035).factors(3)
    np.testing.assert_allclose(factors, [1.0, 1 / 1.035, 1 / 1.035**2], rtol=1e-12)
    np.testing.assert_allclose(factors, [1.0, 0.966184, 0.933511], atol=1e-6)


def test_green_book_rates_are_the_published_schedule():
    """HM Treasury Green Book (2022), Annex A6: 3.5% years 0-30, 3.0% 31-75, 2.5% 76-125,
    2.0% 126-200, 1.5% 201-300, 1.0% from 301; health 1.5% for 0-30 then 1.29, 1.07,
    0.86, 0.64, 0.43%; the 2026 update's lower sensitivity schedule 3.00, 2.57, 2.14,
    1.71, 1.29, 0.86% (as tabulated by DfT TAG, April 2026)."""
    assert GREEN_BOOK.starts == (0, 31, 76, 126, 201, 301)
    assert GREEN_BOOK.rates == (0.035, 0.03, 0.025, 0.02, 0.015, 0.01)
    assert GREEN_BOOK_HEALTH.rates == (0.015, 0.0129, 0.0107, 0.0086, 0.0064, 0.0043)
    assert GREEN_BOOK_LOW.rates == (0.03, 0.0257, 0.0214, 0.0171, 0.0129, 0.0086)
    assert [GREEN_BOOK.rate(y) for y in (1, 30, 31, 75, 76, 125, 126, 200, 201, 300, 301, 500)] == [
        0.035,
        0.035,
        0.03,
        0.03,
        0.025,
        0.025,
        0.02,
        0.02,
        0.015,
        0.015,
        0.01,
        0.01,
    ]


def test_green_book_factors_by_hand():
    """The factor is the product of yearly factors, each year at its band's rate:

    D(30)  = 1.035**-30                                   = 0.3562784
    D(31)  = D(30) / 1.03                                 = 0.3459014
    D(40)  = 1.035**-30 * 1.03**-10                       = 0.2651046
    D(75)  = 1.035**-30 * 1.03**-45                       = 0.0942138
    D(125) = D(75) * 1.025**-50                           = 0.0274108
    D(301) = D(125) * 1.02**-75 * 1.015**-100 * 1.01**-1  = 0.0013867
    and not a single rate over the whole horizon: D(40) != 1.03**-40 = 0.3065568.
    """
    factors = GREEN_BOOK.factors(302)
    expected = {
        0: 1.0,
        30: 0.3562784,
        31: 0.3459014,
        40: 0.2651046,
        75: 0.0942138,
        125: 0.0274108,
        301: 0.0013867,
    }
    for year, value in expected.items():
        assert factors[year] == pytest.approx(value, abs=5e-8), year
    assert factors[40] != pytest.approx(1.03**-40, rel=1e-3)


@given(st.lists(st.floats(0, 0.2), min_size=1, max_size=30), st.integers(1, 60))
def test_factors_are_products_of_yearly_factors(rates, n):
    schedule = DiscountSchedule.from_rates(rates)
    factors = schedule.factors(n)
    assert factors[0] == 1.0
    yearly = [rates[min(y - 1, len(rates) - 1)] for y in range(1, n)]
    np.testing.assert_allclose(factors[1:], np.cumprod(1 / (1 + np.array(yearly))), rtol=1e-12)
    assert np.all(np.diff(factors) <= 0)


def test_zero_rate_means_no_discounting():
    np.testing.assert_array_equal(DiscountSchedule.constant(0.0).factors(5), np.ones(5))


@pytest.mark.parametrize("rate", [-0.01, 3.5, 0.25, float("nan"), float("inf")])
def test_negative_or_absurd_rates_raise(rate):
    with pytest.raises(DesignError, match="discount rate"):
        DiscountSchedule.constant(rate)


def test_percentage_passed_as_rate_is_explained():
    with pytest.raises(DesignError, match=r"fractions \(0.035 for 3.5%\)"):
        as_schedule(3.5)


@pytest.mark.parametrize(
    ("starts", "rates"), [((1,), (0.03,)), ((0, 10, 5), (0.03, 0.02, 0.01)), ((0, 10), (0.03,))]
)
def test_malformed_bands_raise(starts, rates):
    with pytest.raises(DesignError):
        DiscountSchedule(starts, rates)


def test_as_schedule_accepts_rate_list_and_schedule():
    assert as_schedule(GREEN_BOOK) is GREEN_BOOK
    assert as_schedule(0.03).rates == (0.03,)
    np.testing.assert_allclose(as_schedule([0.1, 0.0]).factors(3), [1, 1 / 1.1, 1 / 1.1])
    with pytest.raises(DesignError):
        as_schedule("green book")


def test_rebase_by_hand_and_missing_year():
    """100 in 2020 prices with index 95 (2020) and 114 (2024): 100 * 114 / 95 = 120."""
    assert rebase(100.0, index={2020: 95.0, 2024: 114.0}, from_year=2020, to_year=2024) == 120.0
    with pytest.raises(DesignError, match="2019"):
        rebase(100.0, index={2020: 95.0, 2024: 114.0}, from_year=2019, to_year=2024)
    with pytest.raises(DesignError, match="positive"):
        rebase(100.0, index={2020: 0.0, 2024: 114.0}, from_year=2020, to_year=2024)


def test_schedule_str_names_bands():
    text = str(GREEN_BOOK)
    assert "0-30: 3.50%" in text and "301+: 1.00%" in text
