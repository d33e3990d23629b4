"""Read queries about money: balance, next charge, days left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats

from abonent.accounts.models import User
from abonent.catalog.models import ChargingMode, Tariff
from abonent.core import clock, jsonrows, periods
from abonent.core.money import Money
from abonent.subscribers import selectors as subscriber_selectors
from abonent.subscribers.models import Contract

from .models import Account, LedgerEntry, PromisedPayment, Suspension, TariffChange
from .rules import charge_amount, daily_charge, days_in_month, first_of_next_month

DAYS_LEFT_HORIZON = 3 * 366  # beyond this "days left" is not a useful number


@dataclass(frozen=True)
class NextCharge:
    date: dt.date
    amount: Money


@dataclass(frozen=True)
class ChargeOutlook:
    next_charge: NextCharge | None
    days_left: int | None


def monthly_total(contract: Contract) -> int:
    """Tariff plus recurring add-ons. Expects `contract.addons` prefetched with addon."""
    total = contract.tariff.monthly_price
    for link in contract.addons.all():
        if link.disconnected_on is None and link.addon.billing == link.addon.Billing.RECURRING:
            total += link.addon.price
    return total


def charge_outlook(contract: Contract, balance: int, today: dt.date | None = None) -> ChargeOutlook:
    """When the next charge comes, how much it is, and how many days the balance lasts.
    Nothing is charged while a contract is suspended, blocked or terminated."""
    if contract.status != Contract.Status.ACTIVE:
        return ChargeOutlook(None, None)
    today = today or clock.today()
    total = monthly_total(contract)
    currency = contract.tariff.currency
    if contract.tariff.charging_mode == ChargingMode.DAILY:
        tomorrow = today + dt.timedelta(days=1)
        next_charge = NextCharge(tomorrow, Money(daily_charge(total, tomorrow), currency))
        days = daily_days_left(total, balance, tomorrow) if total > 0 else None
        return ChargeOutlook(next_charge, days)

    # Monthly, in advance: the current month is paid; the next charge is on the 1st.
    start = first_of_next_month(today)
    next_charge = NextCharge(start, Money(total, currency))
    days, remaining, period = (start - today).days, balance, start
    while days < DAYS_LEFT_HORIZON and total > 0 and remaining >= total:
        remaining -= total
        days += days_in_month(period)
        period = first_of_next_month(period)
    return ChargeOutlook(next_charge, days if total > 0 else None)


def daily_days_left(
    total: int, balance: int, first: dt.date, horizon: int = DAYS_LEFT_HORIZON
) -> int:
    """Days of daily charges of a `total` a month from `first` that `balance` covers (at
    most `horizon`). Within a month every day but the last costs the same, so each month
    is one step of arithmetic — a prepaid year is a dozen steps, not 365, on a page every
    subscriber opens."""
    days, remaining, day = 0, balance, first
    while days < horizon:
        length = days_in_month(day)
        per_day = daily_charge(total, day.replace(day=1))
        # the month's rounding remainder, on its last day; it may be negative
        last = daily_charge(total, day.replace(day=length))
        before_last = length - day.day  # days from `day` before the month's last
        if per_day == 0:
            fits = before_last if remaining >= 0 else 0
        else:
            fits = max(0, min(before_last, remaining // per_day))
        if days + fits >= horizon:
            return horizon
        if fits < before_last:
            return days + fits
        days += fits
        remaining -= fits * per_day + last
        if remaining < 0:
            return days
        days += 1
        day = first_of_next_month(day)
    return days


def ledger_sum(account_id: int) -> int:
    return LedgerEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"] or 0


def mismatched_balances() -> list[tuple[int, int, int]]:
    """(account id, cached balance, ledger sum) for every account where they differ."""
    rows = (
        Account.objects.annotate(ledger=Coalesce(Sum("entries__amount"), Value(0)))
        .exclude(balance=F("ledger"))
        .values_list("id", "balance", "ledger")
    )
    return list(rows)


@dataclass(frozen=True)
class Overview:
    """Everything the cabinet home and GET /api/v1/account show, computed once."""

    contract: Contract
    balance: Money
    outlook: ChargeOutlook
    notices: list[str]
    promise: PromisedPayment | None
    suspension: Suspension | None
    scheduled_change: TariffChange | None


_TO_TARIFF = {"to_tariff": Tariff}
States = tuple[PromisedPayment | None, Suspension | None, TariffChange | None]


_STATES = 3  # the promised payment, the suspension, the scheduled tariff change


def _state_columns() -> list[Any]:
    # each at most one per contract, by constraint
    columns = [
        jsonrows.first_row(
            PromisedPayment.objects.filter(contract=OuterRef("pk"), status="active")
        ),
        jsonrows.first_row(
            Suspension.objects.filter(contract=OuterRef("pk"), status__in=["scheduled", "active"])
        ),
        jsonrows.first_row(
            TariffChange.objects.filter(contract=OuterRef("pk"), status="scheduled"),
            related=_TO_TARIFF,
        ),
    ]
    assert len(columns) == _STATES
    return columns


def _states(values: Sequence[Any]) -> States:
    return (
        jsonrows.instance(PromisedPayment, values[0]),
        jsonrows.instance(Suspension, values[1]),
        jsonrows.instance(TariffChange, values[2], related=_TO_TARIFF),
    )


_OPTIONAL_STATES = jsonrows.Prepared(
    lambda contract_id: Contract.objects.filter(pk=contract_id).values_list(*_state_columns())
)
_OWN_OVERVIEW = jsonrows.Prepared(
    lambda user_id: subscriber_selectors.own_contract_row(user_id, *_state_columns())
)


def optional_states(contract: Contract) -> States:
    """The active promised payment, the scheduled or running suspension and the
    scheduled tariff change in one round trip."""
    return _states(_OPTIONAL_STATES.row(contract.pk) or (None, None, None))


def overview_for_user(user: User) -> Overview:
    """`account_overview` of the user's own contract (`contract_for_user`) in one round
    trip: the cabinet home and /api/v1/account are the most requested pages there are."""
    return overview_from_row(subscriber_selectors.own_row(_OWN_OVERVIEW, user))[0]


def overview_columns() -> list[Any]:
    """What `overview_from_row` needs after `own_contract_row`'s contract columns, for a
    page that adds columns of its own (support's outages on the cabinet home)."""
    return _state_columns()


def overview_from_row(row: Sequence[Any]) -> tuple[Overview, Sequence[Any]]:
    """The overview from `own_contract_row(user_id, *overview_columns(), *more)`, and
    the values of `more`."""
    contract, extra = subscriber_selectors.contract_from_row(row)
    return account_overview(contract, _states(extra[:_STATES])), extra[_STATES:]


def account_overview(contract: Contract, states: States | None = None) -> Overview:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    account: Account = contract.account
    outlook = charge_outlook(contract, account.balance)
    promise, suspension, change = states if states is not None else optional_states(contract)
    notices: list[str] = []
    if contract.status == Contract.Status.BLOCKED_DEBT:
        notices.append(
            _("Internet access is blocked for debt. Top up the balance to restore it at once.")
        )
    elif contract.status == Contract.Status.SUSPENDED:
        notices.append(_("The service is suspended at your request; nothing is charged meanwhile."))
    elif contract.status == Contract.Status.TERMINATED:
        notices.append(
            _(
                "The contract is terminated (the last day of service: %(date)s). "
                "Statements, traffic and support requests stay available here; payments "
                "and service changes are no longer accepted."
            )
            % {"date": formats.date_format(contract.terminated_on)}
            if contract.terminated_on
            else _("The contract is terminated. The history stays available here.")
        )
    elif outlook.days_left is not None and outlook.days_left <= 3:
        notices.append(
            ngettext(
                "The balance will last %(days)d more day. Top up to stay online.",
                "The balance will last %(days)d more days. Top up to stay online.",
                outlook.days_left,
            )
            % {"days": outlook.days_left}
        )
    if promise is not None:
        notices.append(
            _("A promised payment of %(amount)s is active until %(date)s: top up before then.")
            % {
                "amount": Money(promise.amount).format(),
                "date": formats.date_format(promise.expires_on),
            }
        )
    if suspension is not None and suspension.status == "scheduled":
        notices.append(
            _("A suspension is scheduled from %(start)s to %(end)s.")
            % {
                "start": formats.date_format(suspension.start_date),
                "end": formats.date_format(suspension.end_date),
            }
        )
    if change is not None:
        notices.append(
            _("Your tariff changes to “%(tariff)s” on %(date)s.")
            % {"tariff": change.to_tariff.name, "date": formats.date_format(change.effective_date)}
        )
    return Overview(contract, account.money, outlook, notices, promise, suspension, change)


def unblock_threshold(contract: Contract, today: dt.date | None = None) -> int:
    """What the balance must reach to lift a block for debt: the next day's charge (daily
    mode) or the rest of this month (monthly mode, charged in advance)."""
    today = today or clock.today()
    total = monthly_total(contract)
    if contract.tariff.charging_mode == ChargingMode.DAILY:
        return daily_charge(total, today + dt.timedelta(days=1))
    return charge_amount(total, today, ChargingMode.MONTHLY)


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    balance_after: int


@dataclass(frozen=True)
class Statement:
    date_from: dt.date
    date_to: dt.date
    opening: int
    closing: int
    lines: list[StatementLine]
    currency: str


def statement(contract: Contract, date_from: dt.date | None, date_to: dt.date | None) -> Statement:
    """Entries of a period with the running balance, oldest first."""
    date_from, date_to = periods.period(date_from, date_to, default_days=91)
    account: Account = contract.account
    entries = LedgerEntry.objects.filter(account=account)
    opening = entries.filter(effective_date__lt=date_from).aggregate(s=Sum("amount"))["s"] or 0
    lines, running = [], opening
    for entry in entries.filter(
        effective_date__gte=date_from, effective_date__lte=date_to
    ).order_by("effective_date", "id"):
        running += entry.amount
        lines.append(StatementLine(entry, running))
    return Statement(date_from, date_to, opening, running, lines, account.currency)
