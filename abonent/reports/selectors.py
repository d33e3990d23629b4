"""The money figures of the management reports (read-only selectors). Every figure is
one grouped query in the database (conditional sums and counts over a date range), so
the size of the result depends on the period and the number of tariffs, never on the
number of subscribers or ledger entries; Python only reshapes the grouped rows.

Money is integer kopecks. Dates are the ledger's `effective_date` (the provider's
calendar day of the movement), so no time zone arithmetic is needed.

Definitions:

- **Revenue** of a day or month: the charges (ledger entries of kind `charge`, stored
  negative, shown positive) by their effective date, split by what they are for. The
  ledger has no category column; the split follows the idempotency keys billing gives
  its charges (see `billing.run` and `billing.lifecycle`):
  *tariff* — `sub:<contract>:<day|month>` (the billing run, termination settlement),
  `change:<id>:charge` (the new tariff's rest of the month on an immediate change),
  `termination:<id>:charge:tariff`; *add-ons* — `addon:…`,
  `termination:<id>:charge:addon:…`; *fees* — `change:<id>:fee`, `suspension:<id>:fee`,
  `promised:<id>:fee`; *other* — any other key (demo data, imports).
  **Refunds** are the refund entries that give money back to the balance (positive
  amount: the unused rest of a tariff or add-on, a cancelled fee); refunds with a
  negative amount move money out to the payer (a card refund, the pay-out of the rest on
  termination) and are not revenue. **Reversed charges** are staff corrections that
  reverse a charge (`reverses` points at a charge). Other corrections are neither
  revenue nor payments and are left out. **Net revenue** = charges − refunds − reversed
  charges.
- **Payments**: ledger entries of kind `payment` by effective date (the day the money
  reached the balance). Channel: *cash* — taken at the office (`CashPayment`);
  *autopay* — a provider payment made by an autopay rule; *card* — any other provider
  payment (by provider); *other* — a payment entry with neither (imports, demo data).
  Corrections and promised payments are not payments.
- **Debtors**: accounts with a balance below zero now, aged by the days since
  `debt_since` (the day the billing run first saw the debt): 0–7, 8–30, 31–90, over 90;
  an account in debt that no run has dated yet is counted as "not dated yet".
- **ARPU** of a month: net revenue of the month ÷ the subscribers in service in the
  month. Only the present status of a contract is stored (no status history), so "in
  service in a month" is approximated by: signed on or before the month's last day, not
  terminated before its first day (`terminated_on` is the last day of service), and not
  still connecting now (a contract that is connecting today was connecting all along).
  Months are whole calendar months, also when the period starts or ends inside one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from abonent.billing.models import Account, LedgerEntry
from abonent.subscribers.models import Contract

from .periods import ReportPeriod, month_end

Kind = LedgerEntry.Kind


def ratio(part: int, whole: int) -> int | None:
    """part ÷ whole in whole units, rounded half away from zero (kopecks stay integers)."""
    if not whole:
        return None
    return int((Decimal(part) / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


def percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _entries(period: ReportPeriod) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        effective_date__gte=period.first, effective_date__lte=period.last
    )


# --------------------------------------------------------------------------- revenue

_KEY = "idempotency_key"
TARIFF_CHARGE = (
    Q(**{f"{_KEY}__startswith": "sub:"})
    | Q(**{f"{_KEY}__startswith": "change:", f"{_KEY}__endswith": ":charge"})
    | Q(**{f"{_KEY}__startswith": "termination:", f"{_KEY}__endswith": ":charge:tariff"})
)
ADDON_CHARGE = Q(**{f"{_KEY}__startswith": "addon:"}) | Q(
    **{f"{_KEY}__startswith": "termination:", f"{_KEY}__contains": ":charge:addon:"}
)
FEE_CHARGE = Q(**{f"{_KEY}__endswith": ":fee"}) & (
    Q(**{f"{_KEY}__startswith": "change:"})
    | Q(**{f"{_KEY}__startswith": "suspension:"})
    | Q(**{f"{_KEY}__startswith": "promised:"})
)
CHARGE = Q(kind=Kind.CHARGE)
REFUND_TO_BALANCE = Q(kind=Kind.REFUND, amount__gt=0)
REVERSED_CHARGE = Q(kind=Kind.CORRECTION, reverses__kind=Kind.CHARGE)


@dataclass(frozen=True)
class RevenueRow:
    period: dt.date  # the day, or the first day of the month
    tariff: int
    addons: int
    fees: int
    other: int
    refunds: int
    reversals: int

    @property
    def charged(self) -> int:
        return self.tariff + self.addons + self.fees + self.other

    @property
    def net(self) -> int:
        return self.charged - self.refunds - self.reversals


def _sum_rows(rows: list[RevenueRow], period: dt.date) -> RevenueRow:
    return RevenueRow(
        period,
        tariff=sum(r.tariff for r in rows),
        addons=sum(r.addons for r in rows),
        fees=sum(r.fees for r in rows),
        other=sum(r.other for r in rows),
        refunds=sum(r.refunds for r in rows),
        reversals=sum(r.reversals for r in rows),
    )


def revenue(period: ReportPeriod) -> list[RevenueRow]:
    """Every step of the period (zeros where nothing happened). One grouped query."""
    zero = Value(0)
    grouped = (
        _entries(period)
        .filter(CHARGE | REFUND_TO_BALANCE | REVERSED_CHARGE)
        .annotate(step=period.bucket("effective_date"))
        .values("step")
        .annotate(
            charged=Coalesce(Sum("amount", filter=CHARGE), zero),
            tariff=Coalesce(Sum("amount", filter=CHARGE & TARIFF_CHARGE), zero),
            addons=Coalesce(Sum("amount", filter=CHARGE & ADDON_CHARGE), zero),
            fees=Coalesce(Sum("amount", filter=CHARGE & FEE_CHARGE), zero),
            refunds=Coalesce(Sum("amount", filter=REFUND_TO_BALANCE), zero),
            reversals=Coalesce(Sum("amount", filter=REVERSED_CHARGE), zero),
        )
        .order_by()
    )
    found = {}
    for row in grouped:
        tariff, addons, fees = -row["tariff"], -row["addons"], -row["fees"]
        found[row["step"]] = RevenueRow(
            row["step"],
            tariff=tariff,
            addons=addons,
            fees=fees,
            other=-row["charged"] - tariff - addons - fees,
            refunds=row["refunds"],
            reversals=row["reversals"],
        )
    return [found.get(step) or RevenueRow(step, 0, 0, 0, 0, 0, 0) for step in period.buckets]


def revenue_total(rows: list[RevenueRow], period: ReportPeriod) -> RevenueRow:
    return _sum_rows(rows, period.first)


# --------------------------------------------------------------------------- payments

CASH, AUTOPAY, CARD, OTHER = "cash", "autopay", "card", "other"
CHANNELS = {
    CARD: _("Card"),
    AUTOPAY: _("Autopay"),
    CASH: _("Cash at the office"),
    OTHER: _("Other (imports)"),
}


@dataclass(frozen=True)
class PaymentRow:
    period: dt.date | None  # None in the totals over the whole period
    channel: str
    provider: str  # "" for cash and other
    count: int
    amount: int

    @property
    def channel_label(self) -> str:
        return str(CHANNELS.get(self.channel, self.channel))


def _channel() -> Case:
    return Case(
        When(cash_payment__isnull=False, then=Value(CASH)),
        When(
            Q(payment__autopay_rule__isnull=False)
            | Q(payment__idempotency_key__startswith="autopay:"),
            then=Value(AUTOPAY),
        ),
        When(payment__isnull=False, then=Value(CARD)),
        default=Value(OTHER),
    )


def payments(period: ReportPeriod) -> list[PaymentRow]:
    """Count and sum per step, channel and provider (only combinations that occur),
    in step order. One grouped query."""
    rows = (
        _entries(period)
        .filter(kind=Kind.PAYMENT)
        .annotate(
            step=period.bucket("effective_date"),
            channel=_channel(),
            provider=Coalesce(F("payment__provider"), Value("")),
        )
        .values("step", "channel", "provider")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("step", "channel", "provider")
    )
    return [
        PaymentRow(r["step"], r["channel"], r["provider"], r["count"], r["amount"]) for r in rows
    ]


def payments_by_channel(rows: list[PaymentRow]) -> list[PaymentRow]:
    """The period's totals per channel and provider, in the order of CHANNELS."""
    totals: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        acc = totals.setdefault((r.channel, r.provider), [0, 0])
        acc[0] += r.count
        acc[1] += r.amount
    order = list(CHANNELS)
    return [
        PaymentRow(None, channel, provider, n, amount)
        for (channel, provider), (n, amount) in sorted(
            totals.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
        )
    ]


def payments_by_step(
    rows: list[PaymentRow], period: ReportPeriod
) -> list[tuple[dt.date, int, int]]:
    """(step, count, amount) for every step of the period."""
    counts: dict[dt.date, int] = {}
    amounts: dict[dt.date, int] = {}
    for r in rows:
        if r.period is not None:
            counts[r.period] = counts.get(r.period, 0) + r.count
            amounts[r.period] = amounts.get(r.period, 0) + r.amount
    return [(step, counts.get(step, 0), amounts.get(step, 0)) for step in period.buckets]


# --------------------------------------------------------------------------- debtors

NOT_DATED = "not_dated"
AGING = (  # (key, label, fewest days, most days)
    ("0-7", _("0–7 days"), 0, 7),
    ("8-30", _("8–30 days"), 8, 30),
    ("31-90", _("31–90 days"), 31, 90),
    ("90+", _("over 90 days"), 91, None),
)


@dataclass(frozen=True)
class AgingRow:
    key: str
    label: str
    accounts: int
    debt: int  # kopecks owed, positive


def _aging_q(today: dt.date, fewest: int, most: int | None) -> Q:
    # Days in debt = today − debt_since; a date in the future counts as 0 days.
    q = Q(debt_since__lte=today - dt.timedelta(days=fewest)) if fewest else Q()
    if most is not None:
        q &= Q(debt_since__gte=today - dt.timedelta(days=most))
    return q & Q(debt_since__isnull=False)


def debt_aging(today: dt.date) -> list[AgingRow]:
    """Accounts in debt now by age of the debt, with the 'not dated yet' last. One query."""
    buckets = [(key, label, _aging_q(today, lo, hi)) for key, label, lo, hi in AGING]
    buckets.append((NOT_DATED, _("not dated yet"), Q(debt_since__isnull=True)))
    figures: dict[str, Any] = {}
    for key, _label, q in buckets:
        figures[f"n_{key}"] = Count("id", filter=q)
        figures[f"s_{key}"] = Coalesce(Sum("balance", filter=q), Value(0))
    row = Account.objects.filter(balance__lt=0).aggregate(**figures)
    return [
        AgingRow(key, str(label), row[f"n_{key}"], -row[f"s_{key}"]) for key, label, _q in buckets
    ]


@dataclass(frozen=True)
class Debtor:
    contract_id: int
    number: str
    name: str
    tariff: str
    status: str
    debt: int  # kopecks owed, positive
    since: dt.date | None
    days: int | None

    @property
    def status_label(self) -> str:
        return str(Contract.Status(self.status).label) if self.status in Contract.Status else ""


def top_debtors(today: dt.date, limit: int = 50) -> list[Debtor]:
    """The largest debts now, one query."""
    rows = (
        Account.objects.filter(balance__lt=0)
        .values(
            "contract_id",
            "contract__number",
            "contract__status",
            "contract__tariff__name",
            "contract__subscriber__last_name",
            "contract__subscriber__first_name",
            "contract__subscriber__middle_name",
            "balance",
            "debt_since",
        )
        .order_by("balance", "contract__number")[:limit]
    )
    return [
        Debtor(
            contract_id=r["contract_id"],
            number=r["contract__number"],
            name=" ".join(
                part
                for part in (
                    r["contract__subscriber__last_name"],
                    r["contract__subscriber__first_name"],
                    r["contract__subscriber__middle_name"],
                )
                if part
            ),
            tariff=r["contract__tariff__name"],
            status=r["contract__status"],
            debt=-r["balance"],
            since=r["debt_since"],
            days=max((today - r["debt_since"]).days, 0) if r["debt_since"] else None,
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- ARPU


def in_service(first: dt.date, last: dt.date) -> Q:
    """Contracts in service at some day of [first, last], by the approximation in the
    module docstring (signed, not yet terminated, not still connecting)."""
    return (
        Q(signed_on__lte=last)
        & (Q(terminated_on__isnull=True) | Q(terminated_on__gte=first))
        & ~Q(status=Contract.Status.CONNECTING)
    )


@dataclass(frozen=True)
class ArpuRow:
    month: dt.date
    revenue: int  # net revenue of the month, kopecks
    subscribers: int  # in service in the month

    @property
    def arpu(self) -> int | None:
        return ratio(self.revenue, self.subscribers)


def arpu(period: ReportPeriod) -> list[ArpuRow]:
    """Every calendar month the period touches (whole months). Two queries: the
    revenue by month and one conditional count per month over the contracts."""
    months = period.whole_months()
    net = {row.period: row.net for row in revenue(months)}
    counts = Contract.objects.aggregate(
        **{
            f"m{i}": Count("id", filter=in_service(month, month_end(month)))
            for i, month in enumerate(months.buckets)
        }
    )
    return [
        ArpuRow(month, net.get(month, 0), counts[f"m{i}"]) for i, month in enumerate(months.buckets)
    ]
