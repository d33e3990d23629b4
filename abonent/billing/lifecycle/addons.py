"""Add-on services: connect and disconnect, with a preview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import allow_on_behalf
from abonent.catalog.models import AddOn, ChargingMode
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.network.radius import STATIC_IP_ADDON
from abonent.network.services import Relogin, apply_access
from abonent.subscribers.models import Contract, ContractAddOn

from .. import keys
from ..models import LedgerEntry
from ..rules import days_in_month
from ..services import lock_account, post_entry
from .common import (
    InsufficientFunds,
    load_contract,
    require_in_service,
    rest_of_month,
)


@dataclass(frozen=True)
class AddOnPlan:
    addon: AddOn
    connect: bool
    charge_today: int
    refund_today: int
    new_monthly_total: int


def plan_addon(
    contract: Contract, addon_id: int, connect: bool, today: dt.date | None = None
) -> AddOnPlan:
    from ..selectors import monthly_total

    today = today or clock.today()
    require_in_service(contract)
    addon = AddOn.objects.filter(pk=addon_id).first()
    if addon is None or (connect and addon.is_archived):
        raise ValidationFailed(fields={"addon_id": [_("This service is not available.")]})
    active = any(
        link.addon_id == addon.pk and link.disconnected_on is None for link in contract.addons.all()
    )
    if connect and active:
        raise ValidationFailed(fields={"addon_id": [_("This service is already connected.")]})
    if not connect and not active:
        raise ValidationFailed(fields={"addon_id": [_("This service is not connected.")]})
    monthly = contract.tariff.charging_mode == ChargingMode.MONTHLY
    charge = refund = 0
    recurring = addon.billing == AddOn.Billing.RECURRING
    if connect:
        charge = (
            addon.price if not recurring else (rest_of_month(addon.price, today) if monthly else 0)
        )
        if charge > contract.account.balance:
            raise InsufficientFunds()
    elif recurring and monthly and today.day < days_in_month(today):
        refund = min(
            rest_of_month(addon.price, today + dt.timedelta(days=1)),
            _paid_this_month(contract, addon, today),
        )
    total = monthly_total(contract) + (addon.price if recurring else 0) * (1 if connect else -1)
    return AddOnPlan(addon, connect, charge, refund, total)


def _paid_this_month(contract: Contract, addon: AddOn, today: dt.date) -> int:
    """What this add-on's charges this month, less its refunds and reversals, left
    paid. A refund gives back paid days only: a month that began suspended or blocked
    charged nothing for the add-on, and its disconnect refunds nothing."""
    links = ContractAddOn.objects.filter(contract=contract, addon=addon).values_list(
        "pk", flat=True
    )
    own = LedgerEntry.objects.filter(
        Q(idempotency_key__startswith=keys.addon_prefix(contract.number, addon.code))
        | Q(idempotency_key__in=[keys.addon_refund(pk) for pk in links]),
        account_id=contract.account.pk,
        effective_date__gte=today.replace(day=1),
        effective_date__lte=today,
    ).values("pk")
    net = LedgerEntry.objects.filter(Q(pk__in=own) | Q(reverses__in=own)).aggregate(
        total=Sum("amount")
    )["total"]
    return max(0, -(net or 0))


@transaction.atomic
def set_addon(contract_id: int, addon_id: int, connect: bool, actor: Actor) -> AddOnPlan:
    allow_on_behalf(actor, "tariff_change")
    lock_account(contract_id)
    contract = load_contract(contract_id)
    plan = plan_addon(contract, addon_id, connect)
    today = clock.today()
    addon = plan.addon
    account_id = contract.account.pk
    if connect:
        link = ContractAddOn.objects.create(contract=contract, addon=addon, connected_on=today)
        if plan.charge_today:
            # The month's key is the one the billing run checks, so the first charge of
            # the month takes it; a reconnect within the month is a charge of its own
            # (its disconnect refunds by link, so reusing the key would refund unpaid days).
            month_key = keys.addon(contract.number, addon.code, today, ChargingMode.MONTHLY)
            key = (
                month_key
                if addon.billing == AddOn.Billing.RECURRING
                and not LedgerEntry.objects.filter(idempotency_key=month_key).exists()
                else keys.addon_link(contract.number, addon.code, link.pk)
            )
            post_entry(
                account_id,
                kind=LedgerEntry.Kind.CHARGE,
                amount=-plan.charge_today,
                idempotency_key=key,
                description=addon.name,
                actor=actor,
            )
        if addon.billing == AddOn.Billing.ONE_OFF:
            link.disconnected_on = today  # a one-off service is delivered, not kept
            link.save(update_fields=["disconnected_on"])
    else:
        link = ContractAddOn.objects.select_for_update().get(
            contract=contract, addon=addon, disconnected_on__isnull=True
        )
        # Today is already paid for; from tomorrow it no longer charges.
        link.disconnected_on = today + dt.timedelta(days=1)
        link.save(update_fields=["disconnected_on"])
        if plan.refund_today:
            post_entry(
                account_id,
                kind=LedgerEntry.Kind.REFUND,
                amount=plan.refund_today,
                idempotency_key=keys.addon_refund(link.pk),
                description=addon.name,
                actor=actor,
            )
    audit.record(
        actor,
        "addon.connected" if connect else "addon.disconnected",
        link,
        contract_id=contract.pk,
        after={"addon": addon.code},
    )
    # A new or lost static IP needs a new login; other add-ons change what a CoA carries.
    apply_access(
        [contract.pk],
        "add-on changed",
        relogin=Relogin.ADDRESS if addon.code == STATIC_IP_ADDON else Relogin.NONE,
    )
    return plan
