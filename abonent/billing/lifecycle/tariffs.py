"""Tariff changes: preview and execution share one computation (billing.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import allow_on_behalf
from abonent.catalog.models import (
    Audience,
    BillingPolicy,
    ChangeRule,
    ChargingMode,
    Tariff,
    TariffPrice,
)
from abonent.catalog.services import next_price, price_on
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.network.services import apply_access
from abonent.subscribers.models import Contract

from .. import keys
from ..models import LedgerEntry, TariffChange
from ..rules import first_of_next_month
from ..services import lock_account, post_entry
from .common import (
    PolicyViolation,
    charge_fee,
    load_contract,
    locked_own,
    refund_fee,
    require_in_service,
    rest_of_month,
)


def tariffs_open_to(contract: Contract) -> list[Tariff]:
    """Tariffs the subscriber may choose, and their current one (even if archived)."""
    return list(
        Tariff.objects.filter(
            Q(is_archived=False, audience=Audience.EVERYONE) | Q(pk=contract.tariff_id)
        ).order_by("sort_order", "monthly_price")
    )


@dataclass(frozen=True)
class TariffChangePlan:
    tariff: Tariff
    immediate: bool
    effective_date: dt.date
    charge_today: int
    refund_today: int
    fee: int
    new_monthly_price: int
    days_left_after: int | None
    # A price change of the new tariff already announced to its subscribers: whoever
    # joins now is told before confirming, and by SMS with the change.
    price_change: TariffPrice | None = None


def plan_tariff_change(
    contract: Contract, tariff_id: int, today: dt.date | None = None
) -> TariffChangePlan:
    from ..selectors import charge_outlook, monthly_total

    today = today or clock.today()
    require_in_service(contract)
    tariff = Tariff.objects.filter(pk=tariff_id).first()
    if tariff is None or tariff.is_archived or tariff.audience != Audience.EVERYONE:
        raise ValidationFailed(fields={"tariff_id": [_("This tariff is not available for you.")]})
    if tariff.pk == contract.tariff_id:
        raise ValidationFailed(fields={"tariff_id": [_("This is already your tariff.")]})
    if TariffChange.objects.filter(
        contract=contract, status=TariffChange.Status.SCHEDULED
    ).exists():
        raise PolicyViolation(_("A tariff change is already scheduled. Cancel it first."))
    policy = BillingPolicy.current()
    since = today - dt.timedelta(days=policy.tariff_change_interval_days)
    last = (
        TariffChange.objects.filter(
            contract=contract, status=TariffChange.Status.APPLIED, created_at__date__gt=since
        )
        .order_by("-created_at")
        .first()
    )
    if last is not None:
        next_allowed = last.created_at.date() + dt.timedelta(
            days=policy.tariff_change_interval_days
        )
        raise PolicyViolation(
            _(
                "The tariff can be changed once in %(days)d days; the next change is possible from %(date)s."
            )
            % {
                "days": policy.tariff_change_interval_days,
                "date": next_allowed.strftime("%d.%m.%Y"),
            }
        )
    old_price = price_on(contract.tariff, today)
    new_price = price_on(tariff, today)
    rule = tariff.change_rule
    immediate = new_price > old_price if rule == ChangeRule.AUTO else rule == ChangeRule.IMMEDIATE
    charge_today = refund_today = 0
    if immediate:
        tomorrow = today + dt.timedelta(days=1)
        if tomorrow.month == today.month:
            if contract.tariff.charging_mode == ChargingMode.MONTHLY and _month_charged(
                contract, today
            ):
                refund_today = rest_of_month(old_price, tomorrow)
            if tariff.charging_mode == ChargingMode.MONTHLY:
                charge_today = rest_of_month(new_price, tomorrow)
        effective = today
    else:
        effective = first_of_next_month(today)
    balance_after = contract.account.balance - charge_today + refund_today - tariff.change_fee
    addons_total = monthly_total(contract) - contract.tariff.monthly_price
    preview_contract = Contract(pk=contract.pk, status=contract.status, tariff=tariff)
    outlook = charge_outlook(preview_contract, balance_after, today)
    return TariffChangePlan(
        tariff=tariff,
        immediate=immediate,
        effective_date=effective,
        charge_today=charge_today,
        refund_today=refund_today,
        fee=tariff.change_fee,
        # the price the month it takes effect begins with (a deferred change may start
        # on the day an announced price does)
        new_monthly_price=price_on(tariff, effective) + addons_total,
        days_left_after=outlook.days_left,
        price_change=next_price(tariff, today),
    )


def _month_charged(contract: Contract, day: dt.date) -> bool:
    key = keys.subscription(contract.number, day, ChargingMode.MONTHLY)
    return LedgerEntry.objects.filter(idempotency_key=key).exists()


@transaction.atomic
def change_tariff(
    contract_id: int, tariff_id: int, actor: Actor, idempotency_key: str
) -> TariffChange:
    """Apply now or schedule, as the plan says. The same key twice returns the first
    change; two different requests at once run one after the other under the lock."""
    allow_on_behalf(actor, "tariff_change")
    existing = TariffChange.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    lock_account(contract_id)
    # A twin request may have finished while this one waited for the lock.
    existing = TariffChange.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    contract = load_contract(contract_id)
    plan = plan_tariff_change(contract, tariff_id)
    today = clock.today()
    change = TariffChange.objects.create(
        contract=contract,
        from_tariff=contract.tariff,
        to_tariff=plan.tariff,
        effective_date=plan.effective_date,
        status=TariffChange.Status.SCHEDULED,
        fee=plan.fee,
        idempotency_key=idempotency_key,
        created_by=actor.user,
    )
    account_id = contract.account.pk
    charge_fee(account_id, plan.fee, f"change:{change.pk}:fee", str(_("Tariff change fee")), actor)
    if plan.refund_today:
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.REFUND,
            amount=plan.refund_today,
            idempotency_key=f"change:{change.pk}:refund",
            description=contract.tariff.name,
            actor=actor,
        )
    if plan.charge_today:
        key = (
            keys.subscription(contract.number, today, ChargingMode.MONTHLY)
            if not _month_charged(contract, today)
            else f"change:{change.pk}:charge"
        )
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-plan.charge_today,
            idempotency_key=key,
            description=plan.tariff.name,
            actor=actor,
        )
    audit.record(
        actor,
        "tariff.change_requested",
        change,
        contract_id=contract.pk,
        before={"tariff": contract.tariff.code},
        after={
            "tariff": plan.tariff.code,
            "effective": plan.effective_date.isoformat(),
            "immediate": plan.immediate,
        },
    )
    if plan.immediate:
        apply_change(change, actor)
    if plan.price_change is not None:
        from abonent.notifications.mass import tell_of_announced_price

        tell_of_announced_price(contract, plan.price_change)
    return change


def apply_change(change: TariffChange, actor: Actor) -> None:
    Contract.objects.filter(pk=change.contract_id).update(tariff=change.to_tariff)
    change.status = TariffChange.Status.APPLIED
    change.save(update_fields=["status"])
    audit.record(
        actor,
        "tariff.changed",
        change,
        contract_id=change.contract_id,
        after={"tariff": change.to_tariff.code},
    )
    apply_access([change.contract_id], "tariff changed")


@transaction.atomic
def cancel_tariff_change(contract_id: int, change_id: int, actor: Actor) -> None:
    allow_on_behalf(actor, "tariff_change")
    change = locked_own(TariffChange, contract_id, change_id)
    if change.status != TariffChange.Status.SCHEDULED:
        raise PolicyViolation(_("Only a scheduled change can be cancelled."))
    change.status = TariffChange.Status.CANCELLED
    change.save(update_fields=["status"])
    refund_fee(
        contract_id,
        change.fee,
        f"change:{change.pk}:fee-refund",
        str(_("Tariff change fee")),
        actor,
    )
    audit.record(actor, "tariff.change_cancelled", change, contract_id=contract_id)
