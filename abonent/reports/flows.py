"""The subscriber figures of the management reports (read-only selectors): contracts
and churn by tariff, tariff change flows, suspensions, promised payments, and the
support summary from quality control. Grouped queries only, as in `selectors`.

Definitions:

- **Contracts by tariff**: every contract by its tariff now and its status now. A
  terminated contract keeps the tariff it had. Tariff history is not used: a contract
  that changed tariff in the period counts under its present tariff.
- **At period start**: contracts in service on the period's first day — signed before
  it, not terminated before it (`terminated_on` is the last day of service) and not
  still connecting (see `selectors.in_service`).
- **New**: contracts signed in the period. **Terminated**: `terminated_on` in the period.
- **Churn %** = terminated in the period ÷ at period start × 100 (none if nobody was).
- **Tariff changes**: changes applied (status `applied`) with their effective date in
  the period, counted per (from, to) pair, with the change fees asked.
- **Suspensions**: *started* — a suspension that went into effect (active or finished)
  with its first day in the period; *ended* — finished with `ended_on` (the day service
  resumed) in the period; *days* — the days of the period spent suspended: from the
  first day to the day before `ended_on` for a finished one, to its booked last day but
  not beyond today for an active one.
- **Promised payments**, by the day taken: *taken* (count, credit, fees); *repaid* — a
  payment reached the account on a day from the day taken through the day it expired;
  *expired unpaid* — expired with no such payment; *active* — not expired yet.
- **Support**: `quality.metrics.support` for the period (tickets opened in it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

from abonent.billing.models import LedgerEntry, PromisedPayment, Suspension, TariffChange
from abonent.quality import metrics
from abonent.subscribers.models import Contract

from .periods import ReportPeriod
from .selectors import in_service, percent

STATUSES = (
    Contract.Status.CONNECTING,
    Contract.Status.ACTIVE,
    Contract.Status.BLOCKED_DEBT,
    Contract.Status.SUSPENDED,
    Contract.Status.TERMINATED,
)

# --------------------------------------------------------------------------- churn


@dataclass(frozen=True)
class TariffFigures:
    tariff: str
    by_status: dict[str, int]
    at_start: int
    new: int
    terminated: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def churn(self) -> float | None:
        return percent(self.terminated, self.at_start)


def churn(period: ReportPeriod) -> list[TariffFigures]:
    """One row per tariff that has contracts, in catalogue order. One grouped query."""
    figures = {status.value: Count("id", filter=Q(status=status)) for status in STATUSES}
    rows = (
        Contract.objects.values("tariff_id", "tariff__name", "tariff__sort_order")
        .annotate(
            **figures,
            at_start=Count(
                "id", filter=in_service(period.first, period.first) & Q(signed_on__lt=period.first)
            ),
            new=Count("id", filter=Q(signed_on__gte=period.first, signed_on__lte=period.last)),
            left=Count(
                "id", filter=Q(terminated_on__gte=period.first, terminated_on__lte=period.last)
            ),
        )
        .order_by("tariff__sort_order", "tariff__name", "tariff_id")
    )
    return [
        TariffFigures(
            tariff=r["tariff__name"],
            by_status={status.value: r[status.value] for status in STATUSES},
            at_start=r["at_start"],
            new=r["new"],
            terminated=r["left"],
        )
        for r in rows
    ]


def churn_total(rows: list[TariffFigures]) -> TariffFigures:
    return TariffFigures(
        tariff="",
        by_status={s.value: sum(r.by_status[s.value] for r in rows) for s in STATUSES},
        at_start=sum(r.at_start for r in rows),
        new=sum(r.new for r in rows),
        terminated=sum(r.terminated for r in rows),
    )


# --------------------------------------------------------------------------- tariff changes


@dataclass(frozen=True)
class Flow:
    from_tariff: str
    to_tariff: str
    count: int
    fees: int


def tariff_flows(period: ReportPeriod) -> list[Flow]:
    """Applied changes per (from, to), the most frequent first. One grouped query."""
    rows = (
        TariffChange.objects.filter(
            status=TariffChange.Status.APPLIED,
            effective_date__gte=period.first,
            effective_date__lte=period.last,
        )
        .values("from_tariff__name", "to_tariff__name")
        .annotate(count=Count("id"), fees=Coalesce(Sum("fee"), Value(0)))
        .order_by("-count", "from_tariff__name", "to_tariff__name")
    )
    return [Flow(r["from_tariff__name"], r["to_tariff__name"], r["count"], r["fees"]) for r in rows]


# --------------------------------------------------------------------------- suspensions


@dataclass(frozen=True)
class SuspensionFigures:
    steps: list[tuple[dt.date, int, int]]  # (step, started, ended) for every step
    started: int
    ended: int
    days: int  # suspended days inside the period
    active_now: int


def suspensions(period: ReportPeriod, today: dt.date) -> SuspensionFigures:
    """Three queries: started by step, ended by step, and the days and open ones."""
    went = [Suspension.Status.ACTIVE, Suspension.Status.FINISHED]
    started = dict(
        Suspension.objects.filter(
            status__in=went, start_date__gte=period.first, start_date__lte=period.last
        )
        .annotate(step=period.bucket("start_date"))
        .values("step")
        .annotate(n=Count("id"))
        .values_list("step", "n")
        .order_by()
    )
    ended = dict(
        Suspension.objects.filter(
            status=Suspension.Status.FINISHED,
            ended_on__gte=period.first,
            ended_on__lte=period.last,
        )
        .annotate(step=period.bucket("ended_on"))
        .values("step")
        .annotate(n=Count("id"))
        .values_list("step", "n")
        .order_by()
    )
    # Day counts as date differences: [start, ended_on) for a finished suspension,
    # [start, min(end_date, cap)] for an active one, both clipped to the period.
    first, after = Value(period.first), Value(period.last + dt.timedelta(days=1))
    cap = min(period.last, today)
    finished_q = Q(
        status=Suspension.Status.FINISHED, start_date__lte=period.last, ended_on__gt=period.first
    )
    active_q = Q(status=Suspension.Status.ACTIVE, start_date__lte=cap, end_date__gte=period.first)
    if cap < period.first:
        active_q = Q(pk__in=[])
    row = Suspension.objects.aggregate(
        finished_days=Sum(
            Least(F("ended_on"), after) - Greatest(F("start_date"), first), filter=finished_q
        ),
        active_days=Sum(
            Least(F("end_date"), Value(cap)) - Greatest(F("start_date"), first), filter=active_q
        ),
        active_count=Count("id", filter=active_q),
        active_now=Count("id", filter=Q(status=Suspension.Status.ACTIVE)),
    )
    days = sum((row[name] or dt.timedelta()).days for name in ("finished_days", "active_days")) + (
        row["active_count"] or 0
    )
    steps = [(step, started.get(step, 0), ended.get(step, 0)) for step in period.buckets]
    return SuspensionFigures(
        steps=steps,
        started=sum(started.values()),
        ended=sum(ended.values()),
        days=days,
        active_now=row["active_now"],
    )


# --------------------------------------------------------------------------- promised payments


@dataclass(frozen=True)
class PromiseRow:
    period: dt.date
    taken: int
    amount: int
    fees: int
    repaid: int
    expired_unpaid: int
    active: int


def promised(period: ReportPeriod) -> list[PromiseRow]:
    """Every step of the period by the day taken. One grouped query (with an EXISTS
    over the account's payments in the promise's days)."""
    paid_in_time = Exists(
        LedgerEntry.objects.filter(
            account__contract_id=OuterRef("contract_id"),
            kind=LedgerEntry.Kind.PAYMENT,
            effective_date__gte=OuterRef("taken_on"),
            effective_date__lte=OuterRef("expires_on"),
        )
    )
    zero = Value(0)
    rows = {
        r["step"]: r
        for r in PromisedPayment.objects.filter(
            taken_on__gte=period.first, taken_on__lte=period.last
        )
        .annotate(step=period.bucket("taken_on"))
        .values("step")
        .annotate(
            taken=Count("id"),
            credit=Coalesce(Sum("amount"), zero),
            fees=Coalesce(Sum("fee"), zero),
            repaid=Count("id", filter=paid_in_time),
            expired_unpaid=Count(
                "id", filter=Q(status=PromisedPayment.Status.EXPIRED) & ~paid_in_time
            ),
            active=Count("id", filter=Q(status=PromisedPayment.Status.ACTIVE)),
        )
        .order_by()
    }
    result = []
    for step in period.buckets:
        r = rows.get(step)
        result.append(
            PromiseRow(
                step,
                taken=r["taken"] if r else 0,
                amount=r["credit"] if r else 0,
                fees=r["fees"] if r else 0,
                repaid=r["repaid"] if r else 0,
                expired_unpaid=r["expired_unpaid"] if r else 0,
                active=r["active"] if r else 0,
            )
        )
    return result


def promised_total(rows: list[PromiseRow], period: ReportPeriod) -> PromiseRow:
    return PromiseRow(
        period.first,
        taken=sum(r.taken for r in rows),
        amount=sum(r.amount for r in rows),
        fees=sum(r.fees for r in rows),
        repaid=sum(r.repaid for r in rows),
        expired_unpaid=sum(r.expired_unpaid for r in rows),
        active=sum(r.active for r in rows),
    )


# --------------------------------------------------------------------------- support


def support(period: ReportPeriod) -> metrics.SupportSummary:
    return metrics.support(metrics.Period(period.first, period.last))
