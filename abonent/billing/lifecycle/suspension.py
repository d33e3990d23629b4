"""Voluntary suspension (freeze) within the policy limits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import allow_on_behalf
from abonent.catalog.models import AddOn, BillingPolicy
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.network.services import apply_access
from abonent.subscribers.models import Contract

from ..models import Suspension
from ..services import lock_account
from .common import (
    InsufficientFunds,
    PolicyViolation,
    charge_fee,
    load_contract,
    locked_own,
    refund_fee,
    require_in_service,
)


@dataclass(frozen=True)
class SuspensionPlan:
    start_date: dt.date
    end_date: dt.date
    days: int
    fee: int
    stops_per_month: int  # what stops being charged, per month
    keeps_per_month: int  # add-ons that keep charging meanwhile, per month
    days_left_this_year: int
    min_days: int
    max_days: int


def suspension_days_used(contract: Contract, year: int) -> int:
    used = 0
    for s in Suspension.objects.filter(
        contract=contract,
        status__in=[
            Suspension.Status.SCHEDULED,
            Suspension.Status.ACTIVE,
            Suspension.Status.FINISHED,
        ],
        start_date__year=year,
    ):
        end = s.ended_on - dt.timedelta(days=1) if s.ended_on else s.end_date
        used += max(0, (end - s.start_date).days + 1)
    return used


def plan_suspension(
    contract: Contract, start: dt.date, end: dt.date, today: dt.date | None = None
) -> SuspensionPlan:
    from ..selectors import monthly_total

    today = today or clock.today()
    policy = BillingPolicy.current()
    require_in_service(contract)
    errors: dict[str, list] = {}
    if start < today:
        errors["start_date"] = [_("The suspension cannot start in the past.")]
    if end < start:
        errors["end_date"] = [_("The end date is before the start date.")]
    if errors:
        raise ValidationFailed(fields=errors)
    days = (end - start).days + 1
    if days < policy.suspension_min_days or days > policy.suspension_max_days:
        raise ValidationFailed(
            fields={
                "end_date": [
                    _("A suspension lasts from %(min)d to %(max)d days.")
                    % {"min": policy.suspension_min_days, "max": policy.suspension_max_days}
                ]
            }
        )
    if end.year != start.year:
        raise ValidationFailed(
            fields={"end_date": [_("A suspension cannot cross the new year; make two.")]}
        )
    left = policy.suspension_days_per_year - suspension_days_used(contract, start.year)
    if days > left:
        raise PolicyViolation(
            _("Only %(left)d suspension days are left in %(year)d.")
            % {"left": max(left, 0), "year": start.year}
        )
    if Suspension.objects.filter(contract=contract, status__in=["scheduled", "active"]).exists():
        raise PolicyViolation(_("A suspension is already scheduled or active."))
    if contract.status != Contract.Status.ACTIVE:
        raise PolicyViolation(
            _("Only an active contract can be suspended; top up the balance first.")
        )
    fee = policy.suspension_fee + policy.suspension_fee_per_day * days
    if contract.account.balance - fee < 0:
        raise InsufficientFunds(
            _("The balance must not be negative to start a suspension (fee included).")
        )
    keeps = sum(
        (link.addon.suspended_price if link.addon.suspended_price is not None else link.addon.price)
        for link in contract.addons.all()
        if link.disconnected_on is None
        and link.addon.charges_while_suspended
        and link.addon.billing == AddOn.Billing.RECURRING
    )
    total = monthly_total(contract)
    return SuspensionPlan(
        start,
        end,
        days,
        fee,
        total - keeps,
        keeps,
        left - days,
        policy.suspension_min_days,
        policy.suspension_max_days,
    )


@transaction.atomic
def suspend(contract_id: int, start: dt.date, end: dt.date, actor: Actor) -> Suspension:
    allow_on_behalf(actor, "suspension")
    lock_account(contract_id)
    contract = load_contract(contract_id)
    plan = plan_suspension(contract, start, end)
    suspension = Suspension.objects.create(
        contract=contract,
        start_date=start,
        end_date=end,
        status=Suspension.Status.SCHEDULED,
        fee=plan.fee,
    )
    charge_fee(
        contract.account.pk,
        plan.fee,
        f"suspension:{suspension.pk}:fee",
        str(_("Suspension fee")),
        actor,
    )
    audit.record(
        actor,
        "suspension.created",
        suspension,
        contract_id=contract.pk,
        after={"start": start.isoformat(), "end": end.isoformat()},
    )
    if start <= clock.today():
        start_suspension(suspension, actor)
    return suspension


def start_suspension(suspension: Suspension, actor: Actor) -> None:
    started = Contract.objects.filter(
        pk=suspension.contract_id, status=Contract.Status.ACTIVE
    ).update(status=Contract.Status.SUSPENDED)
    if not started:
        # Blocked or terminated since it was booked: starting it would end, later, in
        # "active" for a contract that is not.
        _cancel(suspension, actor)
        return
    suspension.status = Suspension.Status.ACTIVE
    suspension.save(update_fields=["status"])
    audit.record(actor, "suspension.started", suspension, contract_id=suspension.contract_id)
    apply_access([suspension.contract_id], "suspended")


def finish_suspension(suspension: Suspension, ended_on: dt.date, actor: Actor) -> None:
    suspension.status = Suspension.Status.FINISHED
    suspension.ended_on = ended_on
    suspension.save(update_fields=["status", "ended_on"])
    Contract.objects.filter(pk=suspension.contract_id, status=Contract.Status.SUSPENDED).update(
        status=Contract.Status.ACTIVE
    )
    audit.record(
        actor,
        "suspension.finished",
        suspension,
        contract_id=suspension.contract_id,
        after={"ended_on": ended_on.isoformat()},
    )
    apply_access([suspension.contract_id], "suspension over")


@transaction.atomic
def resume(contract_id: int, suspension_id: int, actor: Actor) -> None:
    """End an active suspension now; charging resumes from tomorrow's run."""
    allow_on_behalf(actor, "suspension")
    suspension = locked_own(Suspension, contract_id, suspension_id)
    if suspension.status != Suspension.Status.ACTIVE:
        raise PolicyViolation(_("This suspension is not active."))
    finish_suspension(suspension, clock.today(), actor)


@transaction.atomic
def cancel_suspension(contract_id: int, suspension_id: int, actor: Actor) -> None:
    allow_on_behalf(actor, "suspension")
    suspension = locked_own(Suspension, contract_id, suspension_id)
    if suspension.status != Suspension.Status.SCHEDULED:
        raise PolicyViolation(_("Only a suspension that has not started can be cancelled."))
    _cancel(suspension, actor)


def _cancel(suspension: Suspension, actor: Actor) -> None:
    suspension.status = Suspension.Status.CANCELLED
    suspension.save(update_fields=["status"])
    refund_fee(
        suspension.contract_id,
        suspension.fee,
        f"suspension:{suspension.pk}:fee-refund",
        str(_("Suspension fee")),
        actor,
    )
    audit.record(actor, "suspension.cancelled", suspension, contract_id=suspension.contract_id)
