"""What a subscriber changes about their service, and what the calendar changes:
tariff changes, add-ons, voluntary suspension, promised payment. Each action has a
preview computed by the same function that then executes it (billing.md: "the preview
and the execution share one computation"), takes the account's row lock, writes ledger
entries with keys derived from the action, and tells the network."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from abonent.catalog.models import AddOn, Audience, BillingPolicy, ChangeRule, ChargingMode, Tariff
from abonent.catalog.services import price_on
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.network.services import apply_access
from abonent.subscribers.models import Contract, ContractAddOn

from .models import LedgerEntry, PromisedPayment, Suspension, TariffChange
from .rules import charge_amount, days_in_month, first_of_next_month
from .services import lock_account, post_entry


class PolicyViolation(DomainError):
    code = "policy_violation"
    status = 409
    default_message = _("This is not allowed by the provider's rules.")


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 409
    default_message = _("There is not enough money on the balance. Please top up first.")


def _rest_of_month(monthly_price: int, day: dt.date) -> int:
    """Prorated price for `day` through the month's end, rounded half up."""
    return charge_amount(monthly_price, day, ChargingMode.MONTHLY)


def _contract(contract_id: int) -> Contract:
    contract = (
        Contract.objects.select_related("tariff", "account")
        .prefetch_related("addons__addon")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def _require_in_service(contract: Contract) -> None:
    if contract.status == Contract.Status.TERMINATED:
        raise PolicyViolation(_("The contract is terminated."))


# --- tariffs ------------------------------------------------------------------------


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


def plan_tariff_change(
    contract: Contract, tariff_id: int, today: dt.date | None = None
) -> TariffChangePlan:
    from .selectors import charge_outlook, monthly_total

    today = today or clock.today()
    _require_in_service(contract)
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
                refund_today = _rest_of_month(old_price, tomorrow)
            if tariff.charging_mode == ChargingMode.MONTHLY:
                charge_today = _rest_of_month(new_price, tomorrow)
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
        new_monthly_price=new_price + addons_total,
        days_left_after=outlook.days_left,
    )


def _month_charged(contract: Contract, day: dt.date) -> bool:
    return LedgerEntry.objects.filter(idempotency_key=f"sub:{contract.number}:{day:%Y-%m}").exists()


@transaction.atomic
def change_tariff(
    contract_id: int, tariff_id: int, actor: Actor, idempotency_key: str
) -> TariffChange:
    """Apply now or schedule, as the plan says. The same key twice returns the first
    change; two different requests at once run one after the other under the lock."""
    existing = TariffChange.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    lock_account(contract_id)
    contract = _contract(contract_id)
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
    if plan.fee:
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-plan.fee,
            idempotency_key=f"change:{change.pk}:fee",
            description=str(_("Tariff change fee")),
            actor=actor,
        )
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
            f"sub:{contract.number}:{today:%Y-%m}"
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
        _apply_change(change, actor)
    return change


def _apply_change(change: TariffChange, actor: Actor) -> None:
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
    lock_account(contract_id)
    change = TariffChange.objects.filter(pk=change_id, contract_id=contract_id).first()
    if change is None:
        raise NotFound()
    if change.status != TariffChange.Status.SCHEDULED:
        raise PolicyViolation(_("Only a scheduled change can be cancelled."))
    change.status = TariffChange.Status.CANCELLED
    change.save(update_fields=["status"])
    if change.fee:
        post_entry(
            contract_account(contract_id),
            kind=LedgerEntry.Kind.REFUND,
            amount=change.fee,
            idempotency_key=f"change:{change.pk}:fee-refund",
            description=str(_("Tariff change fee")),
            actor=actor,
        )
    audit.record(actor, "tariff.change_cancelled", change, contract_id=contract_id)


def contract_account(contract_id: int) -> int:
    return Contract.objects.values_list("account__id", flat=True).get(pk=contract_id)


# --- add-ons ------------------------------------------------------------------------


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
    from .selectors import monthly_total

    today = today or clock.today()
    _require_in_service(contract)
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
            addon.price if not recurring else (_rest_of_month(addon.price, today) if monthly else 0)
        )
        if charge > contract.account.balance:
            raise InsufficientFunds()
    elif recurring and monthly and today.day < days_in_month(today):
        refund = _rest_of_month(addon.price, today + dt.timedelta(days=1))
    total = monthly_total(contract) + (addon.price if recurring else 0) * (1 if connect else -1)
    return AddOnPlan(addon, connect, charge, refund, total)


@transaction.atomic
def set_addon(contract_id: int, addon_id: int, connect: bool, actor: Actor) -> AddOnPlan:
    lock_account(contract_id)
    contract = _contract(contract_id)
    plan = plan_addon(contract, addon_id, connect)
    today = clock.today()
    addon = plan.addon
    account_id = contract.account.pk
    if connect:
        link = ContractAddOn.objects.create(contract=contract, addon=addon, connected_on=today)
        if plan.charge_today:
            key = (
                f"addon:{contract.number}:{addon.code}:{today:%Y-%m}"
                if addon.billing == AddOn.Billing.RECURRING
                else f"addon:{contract.number}:{addon.code}:once:{link.pk}"
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
                idempotency_key=f"addon-refund:{link.pk}",
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
    apply_access([contract.pk], "add-on changed")
    return plan


# --- suspension ---------------------------------------------------------------------


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
    from .selectors import monthly_total

    today = today or clock.today()
    policy = BillingPolicy.current()
    _require_in_service(contract)
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
    lock_account(contract_id)
    contract = _contract(contract_id)
    plan = plan_suspension(contract, start, end)
    suspension = Suspension.objects.create(
        contract=contract,
        start_date=start,
        end_date=end,
        status=Suspension.Status.SCHEDULED,
        fee=plan.fee,
    )
    if plan.fee:
        post_entry(
            contract.account.pk,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-plan.fee,
            idempotency_key=f"suspension:{suspension.pk}:fee",
            description=str(_("Suspension fee")),
            actor=actor,
        )
    audit.record(
        actor,
        "suspension.created",
        suspension,
        contract_id=contract.pk,
        after={"start": start.isoformat(), "end": end.isoformat()},
    )
    if start <= clock.today():
        _start_suspension(suspension, actor)
    return suspension


def _start_suspension(suspension: Suspension, actor: Actor) -> None:
    suspension.status = Suspension.Status.ACTIVE
    suspension.save(update_fields=["status"])
    Contract.objects.filter(pk=suspension.contract_id).update(status=Contract.Status.SUSPENDED)
    audit.record(actor, "suspension.started", suspension, contract_id=suspension.contract_id)
    apply_access([suspension.contract_id], "suspended")


def _finish_suspension(suspension: Suspension, ended_on: dt.date, actor: Actor) -> None:
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
    lock_account(contract_id)
    suspension = Suspension.objects.filter(pk=suspension_id, contract_id=contract_id).first()
    if suspension is None:
        raise NotFound()
    if suspension.status != Suspension.Status.ACTIVE:
        raise PolicyViolation(_("This suspension is not active."))
    _finish_suspension(suspension, clock.today(), actor)


@transaction.atomic
def cancel_suspension(contract_id: int, suspension_id: int, actor: Actor) -> None:
    lock_account(contract_id)
    suspension = Suspension.objects.filter(pk=suspension_id, contract_id=contract_id).first()
    if suspension is None:
        raise NotFound()
    if suspension.status != Suspension.Status.SCHEDULED:
        raise PolicyViolation(_("Only a suspension that has not started can be cancelled."))
    suspension.status = Suspension.Status.CANCELLED
    suspension.save(update_fields=["status"])
    if suspension.fee:
        post_entry(
            contract_account(contract_id),
            kind=LedgerEntry.Kind.REFUND,
            amount=suspension.fee,
            idempotency_key=f"suspension:{suspension.pk}:fee-refund",
            description=str(_("Suspension fee")),
            actor=actor,
        )
    audit.record(actor, "suspension.cancelled", suspension, contract_id=contract_id)


# --- promised payment ---------------------------------------------------------------


@dataclass(frozen=True)
class PromisePlan:
    max_amount: int
    days: int
    fee: int
    expires_on: dt.date


def plan_promise(contract: Contract, today: dt.date | None = None) -> PromisePlan:
    from .selectors import monthly_total, unblock_threshold

    today = today or clock.today()
    policy = BillingPolicy.current()
    _require_in_service(contract)
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
    lock_account(contract_id)
    contract = _contract(contract_id)
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
    if plan.fee:
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-plan.fee,
            idempotency_key=f"promised:{promise.pk}:fee",
            description=str(_("Promised payment fee")),
            actor=actor,
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


def _expire_promise(promise: PromisedPayment, actor: Actor) -> None:
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


# --- the calendar -------------------------------------------------------------------


def advance(day: dt.date, actor: Actor) -> None:
    """Everything that happens on `day` before it is charged. Each step is idempotent."""
    for change in TariffChange.objects.filter(
        status=TariffChange.Status.SCHEDULED, effective_date__lte=day
    ).select_related("to_tariff"):
        with transaction.atomic():
            lock_account(change.contract_id)
            change.refresh_from_db()
            if change.status == TariffChange.Status.SCHEDULED:
                _apply_change(change, actor)
    for suspension in Suspension.objects.filter(status=Suspension.Status.ACTIVE, end_date__lt=day):
        with transaction.atomic():
            lock_account(suspension.contract_id)
            _finish_suspension(suspension, suspension.end_date + dt.timedelta(days=1), actor)
    for suspension in Suspension.objects.filter(
        status=Suspension.Status.SCHEDULED, start_date__lte=day
    ):
        with transaction.atomic():
            lock_account(suspension.contract_id)
            _start_suspension(suspension, actor)
    for promise in PromisedPayment.objects.filter(
        status=PromisedPayment.Status.ACTIVE, expires_on__lte=day
    ):
        with transaction.atomic():
            lock_account(promise.contract_id)
            promise.refresh_from_db()
            if promise.status == PromisedPayment.Status.ACTIVE:
                _expire_promise(promise, actor)


def promise_outstanding(contract: Contract) -> int:
    return (
        PromisedPayment.objects.filter(
            contract=contract, status=PromisedPayment.Status.ACTIVE
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
