"""Quality figures for a period (read-only selectors). Every figure is aggregated in
the database — grouped counts over an index range of sessions or tickets — so a month
for 30,000 subscribers is a dozen queries, never a loop over sessions in Python.

Days are calendar days in the provider's zone (settings.TIME_ZONE). Definitions:

- **drop**: a session of a known contract that stopped with a cause in `DROP_CAUSES`;
  it counts on the day it stopped.
- **reconnects** of a subscriber on a day: sessions started that day beyond the first
  (started − 1, for days with at least one start).
- **subscriber-day online**: a contract with a session open at some moment of that day
  (started before the day ends; stopped after it began, or still open with an
  accounting update after it began).
- **stability %**: subscriber-days online without a drop ÷ subscriber-days online.
- **support**: over the tickets *opened* in the period. Response and resolution times
  only of the tickets that have them; breach shares ÷ tickets opened; CSAT = ratings
  4–5 ÷ all ratings of those tickets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from abonent.network.models import Session
from abonent.subscribers.models import Contract
from abonent.support.models import Category, Ticket

from . import selectors
from .models import DROP_CAUSES, Thresholds

# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date  # inclusive

    @classmethod
    def month(cls, any_day: dt.date) -> Period:
        first = any_day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first, following - dt.timedelta(days=1))

    @property
    def start(self) -> dt.datetime:
        return midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (exclusive bound)."""
        return midnight(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def _local_date(field_name: str) -> TruncDate:
    return TruncDate(field_name, tzinfo=timezone.get_default_timezone())


def _pct(part: int | float, whole: int | float) -> float | None:
    return 100 * part / whole if whole else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


# --------------------------------------------------------------------------- sessions


def _sessions() -> QuerySet[Session]:
    return Session.objects.filter(contract__isnull=False)


def _drop_q(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(terminate_cause__in=DROP_CAUSES, stopped_at__gte=start, stopped_at__lt=end)


def _start_q(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(started_at__gte=start, started_at__lt=end)


def _online_q(start: dt.datetime, end: dt.datetime) -> Q:
    """Sessions open at some moment of [start, end)."""
    return Q(started_at__lt=end) & (
        Q(stopped_at__gte=start) | Q(stopped_at__isnull=True, updated_at__gte=start)
    )


def drops(start: dt.datetime, end: dt.datetime) -> QuerySet[Session]:
    """Sessions of known contracts that ended with a drop cause in [start, end)."""
    return _sessions().filter(_drop_q(start, end))


@dataclass(frozen=True)
class SubscriberDay:
    contract_id: int
    day: dt.date
    drops: int
    reconnects: int


def subscriber_days(period: Period, contract_ids: list[int] | None = None) -> list[SubscriberDay]:
    """Drops and reconnects per subscriber per day (only days with either), ordered by
    contract and day. Two grouped queries; meant for one contract, a short period or a
    list of contracts — the dashboard uses the grouped figures below instead."""
    base = _sessions()
    if contract_ids is not None:
        base = base.filter(contract_id__in=contract_ids)
    dropped = (
        base.filter(_drop_q(period.start, period.end))
        .annotate(day=_local_date("stopped_at"))
        .values("contract_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    started = (
        base.filter(_start_q(period.start, period.end))
        .annotate(day=_local_date("started_at"))
        .values("contract_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    merged: dict[tuple[int, dt.date], list[int]] = {}
    for row in dropped:
        merged.setdefault((row["contract_id"], row["day"]), [0, 0])[0] = row["n"]
    for row in started:
        merged.setdefault((row["contract_id"], row["day"]), [0, 0])[1] = row["n"] - 1
    return [
        SubscriberDay(contract_id, day, d, r)
        for (contract_id, day), (d, r) in sorted(merged.items())
        if d or r
    ]


@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    drops: int
    dropped_subscribers: int  # different subscribers with at least one drop
    reconnects: int
    online_subscribers: int  # subscribers with a session open at some moment of the day

    @property
    def stability(self) -> float | None:
        return _pct(self.online_subscribers - self.dropped_subscribers, self.online_subscribers)


def daily(period: Period) -> list[DayFigures]:
    """Every day of the period (days without data as zeros). Three queries: drops
    grouped by the day they stopped, starts grouped by the day they began, and the
    subscribers online per day as one conditional count per day."""
    dropped = {
        row["day"]: row
        for row in drops(period.start, period.end)
        .annotate(day=_local_date("stopped_at"))
        .values("day")
        .annotate(n=Count("id"), subscribers=Count("contract_id", distinct=True))
        .order_by()
    }
    started = {
        row["day"]: row["n"] - row["subscribers"]
        for row in _sessions()
        .filter(_start_q(period.start, period.end))
        .annotate(day=_local_date("started_at"))
        .values("day")
        .annotate(n=Count("id"), subscribers=Count("contract_id", distinct=True))
        .order_by()
    }
    days = period.days
    online = (
        _sessions()
        .filter(_online_q(period.start, period.end))
        .aggregate(
            **{
                f"d{i}": Count(
                    "contract_id",
                    distinct=True,
                    filter=_online_q(midnight(day), midnight(day + dt.timedelta(days=1))),
                )
                for i, day in enumerate(days)
            }
        )
    )
    return [
        DayFigures(
            day=day,
            drops=dropped[day]["n"] if day in dropped else 0,
            dropped_subscribers=dropped[day]["subscribers"] if day in dropped else 0,
            reconnects=started.get(day, 0),
            online_subscribers=online[f"d{i}"] or 0,
        )
        for i, day in enumerate(days)
    ]


@dataclass(frozen=True)
class NetworkSummary:
    drops: int
    subscribers_with_drops: int
    reconnects: int
    online_days: int  # subscriber-days online
    drop_days: int  # subscriber-days with at least one drop
    lines_over_threshold: int  # subscriber-days with more drops than the line threshold
    buildings_with_drops: int

    @property
    def stable_days(self) -> int:
        return self.online_days - self.drop_days

    @property
    def stability(self) -> float | None:
        return _pct(self.stable_days, self.online_days)


def network_summary(period: Period, days: list[DayFigures], limits: Thresholds) -> NetworkSummary:
    """Totals of `daily(period)` plus three grouped counts over the drops."""
    dropped = drops(period.start, period.end)
    totals = dropped.aggregate(subscribers=Count("contract_id", distinct=True))
    over = (
        dropped.annotate(day=_local_date("stopped_at"))
        .values("contract_id", "day")
        .annotate(n=Count("id"))
        .filter(n__gt=limits.line_drops_per_day)
        .order_by()
        .count()
    )
    buildings = (
        dropped.values("contract__address__street", "contract__address__house")
        .annotate(n=Count("id"))
        .order_by()
        .count()
    )
    return NetworkSummary(
        drops=sum(d.drops for d in days),
        subscribers_with_drops=totals["subscribers"],
        reconnects=sum(d.reconnects for d in days),
        online_days=sum(d.online_subscribers for d in days),
        drop_days=sum(d.dropped_subscribers for d in days),
        lines_over_threshold=over,
        buildings_with_drops=buildings,
    )


@dataclass(frozen=True)
class LineFigures:
    contract_id: int
    number: str
    street: str
    house: str
    flat: str
    drops: int
    drop_days: int  # days with at least one drop
    reconnects: int
    last_drop_at: dt.datetime | None


def worst_lines(period: Period, limit: int = 20) -> list[LineFigures]:
    """Subscribers with the most drops in the period (then the most reconnects): one
    grouped query over the period's sessions."""
    dropq = _drop_q(period.start, period.end)
    startq = _start_q(period.start, period.end)
    rows = (
        _sessions()
        .filter(dropq | startq)
        .values(
            "contract_id",
            "contract__number",
            "contract__address__street",
            "contract__address__house",
            "contract__address__flat",
        )
        .annotate(
            drops=Count("id", filter=dropq),
            drop_days=Count(_local_date("stopped_at"), filter=dropq, distinct=True),
            starts=Count("id", filter=startq),
            start_days=Count(_local_date("started_at"), filter=startq, distinct=True),
            last_drop_at=Max("stopped_at", filter=dropq),
        )
        .filter(drops__gt=0)
        .annotate(reconnects=F("starts") - F("start_days"))
        .order_by("-drops", "-reconnects", "contract__number")[:limit]
    )
    return [
        LineFigures(
            contract_id=r["contract_id"],
            number=r["contract__number"],
            street=r["contract__address__street"],
            house=r["contract__address__house"],
            flat=r["contract__address__flat"],
            drops=r["drops"],
            drop_days=r["drop_days"],
            reconnects=r["reconnects"],
            last_drop_at=r["last_drop_at"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class BuildingFigures:
    street: str
    house: str
    drops: int
    affected: int  # different subscribers with at least one drop
    subscribers: int  # contracts at the house that are not terminated

    @property
    def affected_share(self) -> float | None:
        return _pct(self.affected, self.subscribers)


def buildings(period: Period, limit: int = 20) -> list[BuildingFigures]:
    """Houses (street + house) by subscribers affected, then drops: one grouped query
    over the drops, one over the contracts of the houses shown."""
    rows = list(
        drops(period.start, period.end)
        .values(street=F("contract__address__street"), house=F("contract__address__house"))
        .annotate(n=Count("id"), affected=Count("contract_id", distinct=True))
        .order_by("-affected", "-n", "street", "house")[:limit]
    )
    if not rows:
        return []
    houses = Q()
    for r in rows:
        houses |= Q(address__street=r["street"], address__house=r["house"])
    totals = {
        (t["address__street"], t["address__house"]): t["n"]
        for t in Contract.objects.exclude(status=Contract.Status.TERMINATED)
        .filter(houses)
        .values("address__street", "address__house")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        BuildingFigures(
            street=r["street"],
            house=r["house"],
            drops=r["n"],
            affected=r["affected"],
            subscribers=totals.get((r["street"], r["house"]), 0),
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- support


@dataclass(frozen=True)
class SupportSummary:
    opened: int
    answered: int  # tickets with a first response
    first_response_median: float | None  # minutes
    first_response_avg: float | None
    resolved: int
    resolution_median: float | None
    resolution_avg: float | None
    first_response_breaches: int
    resolution_breaches: int
    rated: int
    satisfied: int  # ratings 4–5
    rating_avg: float | None
    proactive_line: int
    proactive_building: int

    @property
    def first_response_breach_pct(self) -> float | None:
        return _pct(self.first_response_breaches, self.opened)

    @property
    def resolution_breach_pct(self) -> float | None:
        return _pct(self.resolution_breaches, self.opened)

    @property
    def csat(self) -> float | None:
        return _pct(self.satisfied, self.rated)


def _opened(period: Period) -> QuerySet[Ticket]:
    return Ticket.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def _median_minutes(tickets: QuerySet[Ticket], field_name: str, count: int) -> float | None:
    """The median of a column, read as the one or two middle rows in its order."""
    if not count:
        return None
    middle = list(
        tickets.filter(**{f"{field_name}__isnull": False})
        .order_by(field_name)
        .values_list(field_name, flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    return _minutes(sum(middle) / len(middle))


def _support_figures() -> dict[str, Any]:
    return {
        "opened": Count("id"),
        "answered": Count("first_response_seconds"),
        "first_response_avg": Avg("first_response_seconds"),
        "resolved": Count("resolution_seconds"),
        "resolution_avg": Avg("resolution_seconds"),
        "first_response_breaches": Count("id", filter=Q(first_response_breached=True)),
        "resolution_breaches": Count("id", filter=Q(resolution_breached=True)),
        "rated": Count("rating"),
        "satisfied": Count("id", filter=Q(rating__gte=4)),
        "rating_avg": Avg("rating"),
    }


def support(period: Period) -> SupportSummary:
    """One aggregate and two median reads over the tickets opened in the period."""
    tickets = _opened(period)
    row = tickets.aggregate(
        **_support_figures(),
        proactive_line=Count("id", filter=Q(origin=Ticket.Origin.LINE)),
        proactive_building=Count("id", filter=Q(origin=Ticket.Origin.BUILDING)),
    )
    return SupportSummary(
        opened=row["opened"],
        answered=row["answered"],
        first_response_median=_median_minutes(tickets, "first_response_seconds", row["answered"]),
        first_response_avg=_minutes(row["first_response_avg"]),
        resolved=row["resolved"],
        resolution_median=_median_minutes(tickets, "resolution_seconds", row["resolved"]),
        resolution_avg=_minutes(row["resolution_avg"]),
        first_response_breaches=row["first_response_breaches"],
        resolution_breaches=row["resolution_breaches"],
        rated=row["rated"],
        satisfied=row["satisfied"],
        rating_avg=None if row["rating_avg"] is None else float(row["rating_avg"]),
        proactive_line=row["proactive_line"],
        proactive_building=row["proactive_building"],
    )


@dataclass(frozen=True)
class CategoryFigures:
    category: str
    opened: int
    answered: int
    first_response_avg: float | None
    resolved: int
    resolution_avg: float | None
    first_response_breaches: int
    resolution_breaches: int
    rated: int
    satisfied: int
    rating_avg: float | None

    @property
    def label(self) -> str:
        return str(Category(self.category).label) if self.category in Category.values else ""

    @property
    def csat(self) -> float | None:
        return _pct(self.satisfied, self.rated)

    @property
    def first_response_breach_pct(self) -> float | None:
        return _pct(self.first_response_breaches, self.opened)


def support_by_category(period: Period) -> list[CategoryFigures]:
    """The same figures per category (averages, no medians), most tickets first."""
    rows = (
        _opened(period)
        .values("category")
        .annotate(**_support_figures())
        .order_by("-opened", "category")
    )
    return [
        CategoryFigures(
            category=r["category"],
            opened=r["opened"],
            answered=r["answered"],
            first_response_avg=_minutes(r["first_response_avg"]),
            resolved=r["resolved"],
            resolution_avg=_minutes(r["resolution_avg"]),
            first_response_breaches=r["first_response_breaches"],
            resolution_breaches=r["resolution_breaches"],
            rated=r["rated"],
            satisfied=r["satisfied"],
            rating_avg=None if r["rating_avg"] is None else float(r["rating_avg"]),
        )
        for r in rows
    ]


def installation_lead_time_days(period: Period) -> float | None:
    """Days from a connection request to a working line. Connection requests are not
    in the product yet, so there is nothing to measure: None ("—")."""
    return None


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """Everything the dashboard, the PDF and the CSV show for one period."""

    period: Period
    limits: Thresholds
    days: list[DayFigures]
    network: NetworkSummary
    lines: list[LineFigures]
    buildings: list[BuildingFigures]
    support: SupportSummary
    categories: list[CategoryFigures]
    installation_lead_time: float | None = None

    @property
    def stability_ok(self) -> bool | None:
        value = self.network.stability
        return None if value is None else value >= float(self.limits.stability_target_percent)

    @property
    def csat_ok(self) -> bool | None:
        value = self.support.csat
        return None if value is None else value >= self.limits.csat_target_percent

    @property
    def first_response_ok(self) -> bool | None:
        value = self.support.first_response_breach_pct
        return None if value is None else value <= self.limits.first_response_breach_max_percent

    @property
    def lines_ok(self) -> bool:
        return self.network.lines_over_threshold == 0

    @property
    def stability_target(self) -> Decimal:
        return self.limits.stability_target_percent


def report(period: Period, *, top: int = 20) -> Report:
    limits = selectors.thresholds()
    days = daily(period)
    return Report(
        period=period,
        limits=limits,
        days=days,
        network=network_summary(period, days, limits),
        lines=worst_lines(period, top),
        buildings=buildings(period, top),
        support=support(period),
        categories=support_by_category(period),
        installation_lead_time=installation_lead_time_days(period),
    )
