"""Termination at the subscriber's request (billing.md, "Termination"): only with zero
debt. The settlement preview and the execution share one computation: today's balance,
what is still due up to the termination date, the unused prepaid rest of the month,
the fees of bookings that are cancelled, the promised credit that goes back, and what
is left: to pay (then nothing happens) or to pay out (then the balance goes to 0)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import require_action
from abonent.catalog.models import AddOn, ChargingMode, Tariff, TariffPrice
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import Money
from abonent.network.services import apply_access
from abonent.subscribers.models import Contract, ContractAddOn

from .. import keys
from ..models import Account, LedgerEntry, PromisedPayment, Suspension, TariffChange
from ..rules import daily_charge, days_in_month, first_of_next_month
from ..services import lock_account, post_entry
from .calendar import promise_outstanding
from .common import load_contract, require_in_service, rest_of_month
from .promise import expire_promise
from .suspension import cancel_suspension
from .tariffs import cancel_tariff_change

logger = logging.getLogger("abonent.billing")
# How far ahead a termination date may be set (a month's notice at most).


class TerminationDebt(DomainError):
    code = "debt"
    status = 409
    default_message = _("There is a debt: the contract can be terminated once it is paid.")

    def __init__(self, amount: int, currency: str = "RUB") -> None:
        self.amount = amount
        super().__init__(
            _("There is a debt of %(amount)s: the contract can be terminated once it is paid.")
            % {"amount": Money(amount, currency).format()}
        )


@dataclass(frozen=True)
class SettlementLine:
    """One ledger entry the termination posts itself (tariff and add-on charges and
    refunds); `amount` is signed as posted."""

    kind: str
    amount: int
    key: str
    description: str


@dataclass(frozen=True)
class TerminationPlan:
    today: dt.date
    on: dt.date
    currency: str
    balance: int  # today's balance
    lines: tuple[SettlementLine, ...]
    fees_returned: int  # fees of scheduled tariff changes and suspensions, cancelled
    promised: int  # promised credit still on the balance: it goes back

    @property
    def charges_due(self) -> int:
        return -sum(line.amount for line in self.lines if line.amount < 0)

    @property
    def refunds(self) -> int:
        return sum(line.amount for line in self.lines if line.amount > 0) + self.fees_returned

    @property
    def final_balance(self) -> int:
        return self.balance - self.charges_due + self.refunds - self.promised

    @property
    def to_pay(self) -> int:
        return max(0, -self.final_balance)

    @property
    def to_refund(self) -> int:
        return max(0, self.final_balance)


@dataclass(frozen=True)
class Termination:
    contract: Contract
    plan: TerminationPlan | None  # None when it had been terminated before this call
    paid_out: int
    created: bool


def _dates(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _period(start: dt.date, end: dt.date) -> str:
    return _dates(start) if start == end else f"{_dates(start)}–{_dates(end)}"


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=days_in_month(day))


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut at month boundaries."""
    parts = []
    while start <= end:
        parts.append((start, min(end, _month_end(start))))
        start = first_of_next_month(start)
    return parts


def _price_history(tariff: Tariff, until: dt.date) -> Callable[[dt.date], int]:
    """`catalog.services.price_on` for many days with one query."""
    rows = list(
        TariffPrice.objects.filter(tariff=tariff, valid_from__lte=until)
        .order_by("valid_from")
        .values_list("valid_from", "monthly_price")
    )

    def price(day: dt.date) -> int:
        found = tariff.monthly_price
        for valid_from, monthly_price in rows:
            if valid_from > day:
                break
            found = monthly_price
        return found

    return price


def _charged(keys: list[str]) -> dict[str, int]:
    return dict(
        LedgerEntry.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", "amount"
        )
    )


def _addon_price(contract: Contract, addon: AddOn) -> int | None:
    """What the billing run charges for an add-on in the contract's state, or None."""
    if contract.status == Contract.Status.ACTIVE:
        return addon.price
    if contract.status == Contract.Status.SUSPENDED and addon.charges_while_suspended:
        return addon.suspended_price if addon.suspended_price is not None else addon.price
    return None


def _daily_lines(
    key_today: str,
    key_later: str,
    name: str,
    price: Callable[[dt.date], int],
    today: dt.date,
    last: dt.date,
    charged: dict[str, int],
) -> list[SettlementLine]:
    """Daily mode: today if the run has not charged it yet (under the run's own key, so a
    run at the same moment cannot charge it twice), then the days up to `last`."""
    lines = []
    if key_today not in charged and (amount := daily_charge(price(today), today)):
        lines.append(SettlementLine(LedgerEntry.Kind.CHARGE, -amount, key_today, name))
    later = [today + dt.timedelta(days=i) for i in range(1, (last - today).days + 1)]
    if total := sum(daily_charge(price(day), day) for day in later):
        lines.append(
            SettlementLine(
                LedgerEntry.Kind.CHARGE,
                -total,
                key_later,
                _("%(service)s, %(period)s") % {"service": name, "period": _period(later[0], last)},
            )
        )
    return lines


def _refund_line(key: str, name: str, amount: int, on: dt.date) -> SettlementLine:
    return SettlementLine(
        LedgerEntry.Kind.REFUND,
        amount,
        key,
        _("%(service)s: unused days %(period)s")
        % {"service": name, "period": _period(on + dt.timedelta(days=1), _month_end(on))},
    )


def _tariff_lines(contract: Contract, today: dt.date, on: dt.date) -> list[SettlementLine]:
    tariff = contract.tariff
    price = _price_history(tariff, on)
    mode = tariff.charging_mode
    in_service = contract.status == Contract.Status.ACTIVE
    if mode == ChargingMode.DAILY:
        if not in_service:
            return []  # nothing accrues while blocked or suspended
        key = keys.subscription(contract.number, today, mode)
        return _daily_lines(
            key,
            f"termination:{contract.pk}:charge:tariff",
            tariff.name,
            price,
            today,
            on,
            _charged([key]),
        )
    # Monthly, in advance: a month not charged yet is charged as the run would (the rest of
    # the month, under the run's key); the unused rest after `on` is given back.
    lines: list[SettlementLine] = []
    months = _months(today, on)
    charged = _charged([keys.subscription(contract.number, start, mode) for start, _end in months])
    for start, end in months:
        key = keys.subscription(contract.number, start, mode)
        # What the month's charge took and from which day it covered the month: the
        # unused part is refunded from that, not at whatever the price is today.
        paid, covered_from = 0, start
        if key in charged:
            paid = -charged[key]
            covered_from = (
                LedgerEntry.objects.filter(idempotency_key=key)
                .values_list("effective_date", flat=True)
                .first()
                or start
            )
        elif in_service and (amount := rest_of_month(price(start), start)):
            lines.append(SettlementLine(LedgerEntry.Kind.CHARGE, -amount, key, tariff.name))
            paid = amount
        month_end = _month_end(end)
        if paid > 0 and end < month_end:
            covered = (month_end - covered_from).days + 1
            unused = (month_end - end).days
            refund = min(paid, (paid * unused * 2 + covered) // (covered * 2))
            lines.append(
                _refund_line(f"termination:{contract.pk}:refund:tariff", tariff.name, refund, on)
            )
    return lines


def _addon_lines(
    contract: Contract, link: ContractAddOn, today: dt.date, on: dt.date
) -> list[SettlementLine]:
    """Charges due for a recurring add-on up to `on` (or up to its own disconnection, if
    it is already disconnected from a later day), and its unused prepaid rest."""
    addon = link.addon
    mode = contract.tariff.charging_mode
    price = _addon_price(contract, addon)
    first = max(today, link.connected_on)
    last = on if link.disconnected_on is None else min(on, link.disconnected_on - dt.timedelta(1))
    if first > last:
        return []
    if mode == ChargingMode.DAILY:
        if price is None:
            return []
        fixed = price
        key = keys.addon(contract.number, addon.code, first, mode)
        return _daily_lines(
            key,
            f"termination:{contract.pk}:charge:addon:{addon.code}",
            addon.name,
            lambda _day: fixed,
            first,
            last,
            _charged([key]),
        )
    lines: list[SettlementLine] = []
    link_key = keys.addon_link(contract.number, addon.code, link.pk)
    months = _months(first, last)
    charged = _charged(
        [link_key, *(keys.addon(contract.number, addon.code, s, mode) for s, _e in months)]
    )
    for start, end in months:
        key = keys.addon(contract.number, addon.code, start, mode)
        # A reconnection within a month was charged under the link's own key.
        if link_key in charged and start.replace(day=1) == link.connected_on.replace(day=1):
            key = link_key
        paid = -charged.get(key, 0)
        if not paid and price is not None and (amount := rest_of_month(price, start)):
            lines.append(SettlementLine(LedgerEntry.Kind.CHARGE, -amount, key, addon.name))
            paid = amount
        if paid and link.disconnected_on is None and end < _month_end(end):
            # As `set_addon` does on a disconnection (same key), never more than was paid.
            refund = min(rest_of_month(addon.price, end + dt.timedelta(days=1)), paid)
            lines.append(_refund_line(keys.addon_refund(link.pk), addon.name, refund, on))
    return lines


def plan_termination(
    contract: Contract, on: dt.date | None = None, today: dt.date | None = None
) -> TerminationPlan:
    """The settlement for terminating on `on` (inclusive, the last day of service; today
    by default). Expects a contract from `load_contract` (tariff, account, add-ons).
    Charges accrue as the billing run would make them in the contract's present state:
    nothing for the tariff while blocked or suspended."""
    today = today or clock.today()
    on = on or today
    require_in_service(contract)
    if on < today:
        raise ValidationFailed(fields={"on": [_("The termination date cannot be in the past.")]})
    if on > today:
        # Access ends when the contract is terminated, so the last day of service is
        # today; a later date needs a scheduled termination, which does not exist yet.
        raise ValidationFailed(
            fields={"on": [_("A contract is terminated from today: a later date is not possible.")]}
        )
    lines = _tariff_lines(contract, today, on)
    for link in contract.addons.all():
        if link.addon.billing == AddOn.Billing.RECURRING and (
            link.disconnected_on is None or link.disconnected_on > today
        ):
            lines += _addon_lines(contract, link, today, on)
    fees = sum(
        TariffChange.objects.filter(
            contract=contract, status=TariffChange.Status.SCHEDULED
        ).values_list("fee", flat=True)
    ) + sum(
        Suspension.objects.filter(
            contract=contract, status=Suspension.Status.SCHEDULED
        ).values_list("fee", flat=True)
    )
    promised = promise_outstanding(contract)
    # One entry per key, as the run posts it (an add-on disconnected from tomorrow and
    # reconnected today would otherwise count today's charge twice).
    unique: dict[str, SettlementLine] = {}
    for line in lines:
        unique.setdefault(line.key, line)
    account: Account = contract.account
    return TerminationPlan(
        today=today,
        on=on,
        currency=account.currency,
        balance=account.balance,
        lines=tuple(unique.values()),
        fees_returned=fees,
        promised=promised,
    )


def _payout_key(contract_id: int) -> str:
    return f"termination:{contract_id}:payout"


@transaction.atomic
def terminate(
    contract_id: int,
    on: dt.date | None,
    actor: Actor,
    idempotency_key: str,
    *,
    reason: str = "",
) -> Termination:
    """Terminate at the subscriber's request, once: refused with `TerminationDebt` while
    anything is owed; otherwise the settlement is posted, a positive rest is paid out
    (the balance ends at exactly 0), bookings are cancelled, add-ons disconnected,
    autopay switched off and network access removed. A repeated call (a double submit,
    any key) finds the contract terminated and changes nothing."""
    require_action(actor, "terminate")
    lock_account(contract_id)
    contract = load_contract(contract_id)
    if contract.status == Contract.Status.TERMINATED:
        paid = LedgerEntry.objects.filter(idempotency_key=_payout_key(contract.pk)).first()
        return Termination(contract, None, -paid.amount if paid else 0, created=False)
    plan = plan_termination(contract, on)
    if plan.to_pay:
        raise TerminationDebt(plan.to_pay, plan.currency)
    before = contract.status
    # The status first: the refunds below must not lift a block (`maybe_unblock`) on the
    # way out, and nothing can book anything for this contract any more.
    contract.status, contract.terminated_on = Contract.Status.TERMINATED, plan.on
    contract.save(update_fields=["status", "terminated_on"])
    for change_id in TariffChange.objects.filter(
        contract=contract, status=TariffChange.Status.SCHEDULED
    ).values_list("pk", flat=True):
        cancel_tariff_change(contract.pk, change_id, actor)  # gives the fee back
    for suspension in Suspension.objects.filter(
        contract=contract, status__in=[Suspension.Status.SCHEDULED, Suspension.Status.ACTIVE]
    ):
        if suspension.status == Suspension.Status.SCHEDULED:
            cancel_suspension(contract.pk, suspension.pk, actor)  # gives the fee back
        else:
            suspension.status, suspension.ended_on = Suspension.Status.FINISHED, plan.today
            suspension.save(update_fields=["status", "ended_on"])
            audit.record(actor, "suspension.finished", suspension, contract_id=contract.pk)
    for promise in PromisedPayment.objects.filter(
        contract=contract, status=PromisedPayment.Status.ACTIVE
    ):
        expire_promise(promise, actor)
    account_id = contract.account.pk
    for line in plan.lines:
        post_entry(
            account_id,
            kind=line.kind,
            amount=line.amount,
            idempotency_key=line.key,
            description=str(line.description),
            actor=actor,
        )
    for link in contract.addons.all():
        if link.disconnected_on is None:
            link.disconnected_on = plan.on + dt.timedelta(days=1)  # `on` is paid for
            link.save(update_fields=["disconnected_on"])
            audit.record(
                actor,
                "addon.disconnected",
                link,
                contract_id=contract.pk,
                after={"addon": link.addon.code, "reason": "terminated"},
            )
    balance = lock_account(contract.pk).balance
    if balance < 0:  # the plan said otherwise: refuse rather than leave a debt behind
        raise TerminationDebt(-balance, plan.currency)
    if balance != plan.to_refund:
        logger.warning(
            "termination of %s: preview %d, balance %d", contract.pk, plan.to_refund, balance
        )
    if balance:
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.REFUND,
            amount=-balance,
            idempotency_key=_payout_key(contract.pk),
            description=str(
                _("Balance paid out on termination of the contract (at the office or to the card)")
            ),
            actor=actor,
        )
    Account.objects.filter(pk=account_id).update(debt_since=None)
    _stop_autopay(contract, actor)
    audit.record(
        actor,
        "contract.terminated",
        contract,
        contract_id=contract.pk,
        before={"status": before, "balance": plan.balance},
        after={
            "status": Contract.Status.TERMINATED.value,
            "on": plan.on.isoformat(),
            "reason": reason.strip()[:300],
            "key": idempotency_key[:200],
            "charged": plan.charges_due,
            "refunded": plan.refunds,
            "promised": plan.promised,
            "paid_out": balance,
        },
    )
    apply_access([contract.pk], "terminated")
    return Termination(contract, plan, balance, created=True)


def _stop_autopay(contract: Contract, actor: Actor) -> None:
    """Switch the autopay rule off through its own service (the charge job also skips
    terminated contracts). Imported here: payments builds on billing, not the reverse."""
    from abonent.payments import autopay
    from abonent.payments.models import AutopayRule

    rule = AutopayRule.objects.filter(contract=contract, enabled=True).first()
    if rule is None:
        return
    try:
        autopay.update_rule(
            contract,
            enabled=False,
            threshold_days=rule.threshold_days,
            amount=rule.amount,
            monthly_cap=rule.monthly_cap,
            actor=actor,
        )
    except ValidationFailed:  # limits changed since it was set; the job skips it anyway
        logger.warning("autopay rule %s of terminated contract %s kept", rule.pk, contract.pk)
