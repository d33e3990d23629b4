"""Traffic and sessions as the subscriber sees them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from abonent.core import periods
from abonent.subscribers.models import Contract

from .models import Session, TrafficDaily


@dataclass(frozen=True)
class Usage:
    period: dt.date
    bytes_in: int
    bytes_out: int


def traffic(
    contract: Contract, date_from: dt.date | None, date_to: dt.date | None, granularity: str = "day"
) -> list[Usage]:
    """Bytes by day or month, oldest first; in = from the subscriber, out = to them."""
    date_from, date_to = periods.period(
        date_from, date_to, default_days=30 if granularity == "day" else 366
    )
    rows = TrafficDaily.objects.filter(contract=contract, day__gte=date_from, day__lte=date_to)
    if granularity == "month":
        return [
            Usage(r["month"], r["bytes_in"], r["bytes_out"])
            for r in rows.annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(bytes_in=Sum("bytes_in"), bytes_out=Sum("bytes_out"))
            .order_by("month")
        ]
    return [Usage(r.day, r.bytes_in, r.bytes_out) for r in rows.order_by("day")]


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
