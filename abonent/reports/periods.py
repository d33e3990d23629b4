"""The period of a report: [first, last] (inclusive, calendar days in the provider's
zone) and the step its series are grouped by (a day or a calendar month)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.db.models import F, Func
from django.db.models.functions import TruncMonth

Granularity = Literal["day", "month"]
DAY: Granularity = "day"
MONTH: Granularity = "month"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return next_month(day) - dt.timedelta(days=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class ReportPeriod:
    first: dt.date
    last: dt.date  # inclusive
    granularity: Granularity = DAY

    @property
    def buckets(self) -> list[dt.date]:
        """Every step of the period: each day, or the first day of each month it touches."""
        if self.granularity == MONTH:
            return self.months
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def months(self) -> list[dt.date]:
        """The first days of the calendar months the period touches."""
        months, month = [], month_start(self.first)
        while month <= self.last:
            months.append(month)
            month = next_month(month)
        return months

    def whole_months(self) -> ReportPeriod:
        """The period widened to whole calendar months, grouped by month."""
        return ReportPeriod(month_start(self.first), month_end(self.last), MONTH)

    def bucket(self, field_name: str) -> F | Func:
        """The step a date column falls in, as a database expression (a date)."""
        if self.granularity == MONTH:
            return TruncMonth(field_name)
        return F(field_name)
