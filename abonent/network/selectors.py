"""Traffic and sessions as the subscriber sees them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from abonent.core import periods
from abonent.subscribers.models import Contract

from .models import Session, TrafficDaily, TrafficMonthly


@dataclass(frozen=True)
class Usage:
    period: dt.date
    bytes_in: int
    bytes_out: int


def traffic(
    contract: Contract, date_from: dt.date | None, date_to: dt.date | None, granularity: str = "day"
) -> list[Usage]:
    """Bytes by day or month, oldest first; in = from the subscriber, out = to them.
    By month, a range starts on the first of its month, so every month is whole.

    Days older than the retention period are kept by month only (`network.retention`,
    decision 0014): such a month is one row dated its first day, in the day view too,
    and it is added to whatever days of it are still kept, so totals never change."""
    date_from, date_to = periods.period(
        date_from, date_to, default_days=30 if granularity == "day" else 366
    )
    if granularity == "month":
        date_from = date_from.replace(day=1)
    rows = TrafficDaily.objects.filter(contract=contract, day__gte=date_from, day__lte=date_to)
    months = TrafficMonthly.objects.filter(
        contract=contract, month__gte=date_from, month__lte=date_to
    ).values_list("month", "bytes_in", "bytes_out")
    found: dict[dt.date, list[int]] = {}
    daily: Iterable[tuple[dt.date, int, int]]
    if granularity == "month":
        daily = (
            rows.annotate(month=TruncMonth("day"))
            .values_list("month")
            .annotate(bytes_in=Sum("bytes_in"), bytes_out=Sum("bytes_out"))
        )
    else:
        daily = rows.values_list("day", "bytes_in", "bytes_out")
    for period, bytes_in, bytes_out in [*months, *daily]:
        total = found.setdefault(period, [0, 0])
        total[0] += bytes_in
        total[1] += bytes_out
    return [Usage(period, *found[period]) for period in sorted(found)]


def sessions(
    contract: Contract, date_from: dt.date | None, date_to: dt.date | None, limit: int = 200
) -> list[Session]:
    date_from, date_to = periods.period(date_from, date_to, default_days=30)
    return list(
        Session.objects.filter(
            contract=contract, started_at__date__gte=date_from, started_at__date__lte=date_to
        ).order_by("-started_at")[:limit]
    )


def online(contract: Contract) -> Session | None:
    return (
        Session.objects.filter(contract=contract, stopped_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
