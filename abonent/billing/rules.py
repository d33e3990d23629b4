"""Pure charging arithmetic, shared by the billing run, previews and the cabinet."""

from __future__ import annotations

import calendar
import datetime as dt


def days_in_month(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def daily_charge(monthly_price: int, day: dt.date) -> int:
    """The daily-mode charge for `day`: price/days rounded half up to the kopeck, with
    the month's rounding remainder on its last day, so a month sums to the price exactly."""
    days = days_in_month(day)
    per_day = (monthly_price * 2 + days) // (days * 2)  # round half up, integers only
    if day.day == days:
        return monthly_price - per_day * (days - 1)
    return per_day


def first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def charge_amount(monthly_price: int, day: dt.date, mode: str) -> int:
    """What the billing run charges on `day`. Daily mode: `daily_charge`. Monthly mode:
    the whole price on the 1st, the rest of the month (rounded half up) when the first
    charge of a month comes later (a new contract, a block lifted mid-month)."""
    if mode == "daily":
        return daily_charge(monthly_price, day)
    days = days_in_month(day)
    left = days - day.day + 1
    return (monthly_price * left * 2 + days) // (days * 2)
