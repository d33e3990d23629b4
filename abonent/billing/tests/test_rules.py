import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from abonent.billing.rules import daily_charge, days_in_month, first_of_next_month


@given(
    price=st.integers(min_value=0, max_value=10_000_000),
    year=st.integers(min_value=2000, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
)
def test_a_month_of_daily_charges_sums_to_the_price(price, year, month):
    first = dt.date(year, month, 1)
    days = [first + dt.timedelta(days=i) for i in range(days_in_month(first))]
    charges = [daily_charge(price, d) for d in days]
    assert sum(charges) == price
    # Every day but the last is the same, rounded share; the remainder stays small.
    assert len(set(charges[:-1])) == 1
    assert abs(charges[-1] - charges[0]) < len(days)


def test_daily_charge_rounds_half_up():
    # 650 ₽ in November (30 days) = 21.666.. ₽ -> 21.67 ₽; the 30th takes the remainder.
    assert daily_charge(650_00, dt.date(2026, 11, 1)) == 2167
    assert daily_charge(650_00, dt.date(2026, 11, 30)) == 650_00 - 2167 * 29


def test_first_of_next_month_crosses_year():
    assert first_of_next_month(dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
    assert first_of_next_month(dt.date(2026, 1, 31)) == dt.date(2026, 2, 1)
