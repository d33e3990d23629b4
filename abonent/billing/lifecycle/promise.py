"""Promised payment: a short credit within the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import allow_on_behalf
from abonent.catalog.models import BillingPolicy
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.subscribers.models import Contract

from ..models import LedgerEntry, PromisedPayment
from ..services import lock_account, post_entry
from .common import (
    PolicyViolation,
    charge_fee,
    contract_account,
    load_contract,
    require_in_service,
)


@dataclass(frozen=True)
class PromisePlan:
    max_amount: int
    days: int
    fee: int
    expires_on: dt.date


def plan_promise(contract: Contract, today: dt.date | None = None) -> PromisePlan:
    from ..selectors import monthly_total, unblock_threshold

    today = today or clock.today()
    policy = BillingPolicy.current()
    require_in_service(contract)
    account = contract.account
    low = contract.status == Contract.Status.BLOCKED_DEBT or (
        contract.status == Contract.Status.ACTIVE
        and account.balance < unblock_threshold(contract, today)
    )
    if not low:
        raise PolicyViolation(_("A promised payment is available when the balance runs out."))
    if PromisedPayment.objects.filter(
        contract=contract, status=PromisedPayment.Status.ACTIVE
    ).exists():
        raise PolicyViolation(_("A promised payment is already active."))
    recent = (
        PromisedPayment.objects.filter(
            contract=contract, taken_on__gt=today - dt.timedelta(days=policy.promised_interval_days)
        )
        .order_by("-taken_on")
        .first()
    )
    if recent is not None:
        raise PolicyViolation(
            _("A promised payment can be taken once in %(days)d days; the next from %(date)s.")
            % {
                "days": policy.promised_interval_days,
                "date": (
                    recent.taken_on + dt.timedelta(days=policy.promised_interval_days)
                ).strftime("%d.%m.%Y"),
            }
        )
    if account.debt_since and account.debt_since < today - dt.timedelta(
        days=policy.promised_max_debt_age_days
    ):
        raise PolicyViolation(
            _("The debt is too old for a promised payment. Please top up the balance.")
        )
    return PromisePlan(
        monthly_total(contract),
        policy.promised_days,
        policy.promised_fee,
        today + dt.timedelta(days=policy.promised_days),
    )


@transaction.atomic
def take_promise(contract_id: int, amount: int | None, actor: Actor) -> PromisedPayment:
    allow_on_behalf(actor, "promised_payment")
    lock_account(contract_id)
    contract = load_contract(contract_id)
    plan = plan_promise(contract)
    amount = plan.max_amount if amount is None else amount
    if amount <= 0 or amount > plan.max_amount:
        raise ValidationFailed(
            fields={
                "amount": [
                    _("Choose an amount up to %(max)s.") % {"max": f"{plan.max_amount / 100:.2f}"}
                ]
            }
        )
    today = clock.today()
    promise = PromisedPayment.objects.create(
        contract=contract, amount=amount, fee=plan.fee, taken_on=today, expires_on=plan.expires_on
    )
    account_id = contract.account.pk
    charge_fee(
        account_id, plan.fee, f"promised:{promise.pk}:fee", str(_("Promised payment fee")), actor
    )
    post_entry(
        account_id,
        kind=LedgerEntry.Kind.PROMISED_CREDIT,
        amount=amount,
        idempotency_key=f"promised:{promise.pk}:credit",
        description=str(_("Promised payment")),
        actor=actor,
    )
    audit.record(
        actor,
        "promised.taken",
        promise,
        contract_id=contract.pk,
        after={"amount": amount, "until": plan.expires_on.isoformat()},
    )
    return promise


def expire_promise(promise: PromisedPayment, actor: Actor) -> None:
    post_entry(
        contract_account(promise.contract_id),
        kind=LedgerEntry.Kind.PROMISED_CREDIT,
        amount=-promise.amount,
        idempotency_key=f"promised:{promise.pk}:end",
        description=str(_("Promised payment ended")),
        actor=actor,
    )
    promise.status = PromisedPayment.Status.EXPIRED
    promise.save(update_fields=["status"])
