"""“Enough for N days” in daily mode, counted a month at a time, must be exactly the
day-by-day count (the arithmetic the billing run charges with), including months whose
rounding remainder on the last day is negative and the three-year horizon."""

import datetime as dt
import random

import pytest

from abonent.billing.rules import daily_charge
from abonent.billing.selectors import DAYS_LEFT_HORIZON, daily_days_left


def day_by_day(total: int, balance: int, first: dt.date, horizon: int = DAYS_LEFT_HORIZON) -> int:
    days, remaining, day = 0, balance, first
    while days < horizon:
        remaining -= daily_charge(total, day)
        if remaining < 0:
            break
        days += 1
        day += dt.timedelta(days=1)
    return days


@pytest.mark.parametrize(
    ("total", "balance", "first", "expected"),
    [
        (31_00, 0, dt.date(2026, 12, 1), 0),  # 1 ₽ a day, nothing paid
        (31_00, 100, dt.date(2026, 12, 1), 1),
        (31_00, 3100, dt.date(2026, 12, 1), 31),  # exactly December
        (31_00, 3199, dt.date(2026, 12, 1), 31),
        (28_00, 2800 + 90, dt.date(2027, 2, 1), 29),  # February, then 90 kopecks in March
        (16, 15, dt.date(2026, 12, 1), 15),  # the last day's remainder is -14 kopecks
        (16, 16, dt.date(2026, 12, 1), 16),
        (650_00, 10**9, dt.date(2026, 11, 28), DAYS_LEFT_HORIZON),
    ],
)
def test_known_cases(total, balance, first, expected):
    assert day_by_day(total, balance, first) == expected
    assert daily_days_left(total, balance, first) == expected


def test_equals_day_by_day_everywhere():
    rng = random.Random(12)
    totals = [1, 2, 15, 16, 29, 30, 31, 45, 59, 61, 100, 650_00, 899_99, 1_500_00]
    for _ in range(3000):
        total = rng.choice([*totals, rng.randint(1, 300_000)])
        first = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1500))
        balance = rng.choice(
            [rng.randint(-1000, 1000), rng.randint(0, 50 * total), rng.randint(0, 40 * total)]
        )
        assert daily_days_left(total, balance, first) == day_by_day(total, balance, first), (
            total,
            balance,
            first,
        )
        # the low-balance notices look 40 days ahead
        assert daily_days_left(total, balance, first, 40) == day_by_day(total, balance, first, 40)
