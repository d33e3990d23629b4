"""Autopay (billing.md): when the balance would not last `threshold_days` more days,
charge the saved card once a day at most; after a decline retry on +1 and +3 days,
then pause and tell the subscriber. A revoked or expired card pauses at once."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.billing.lifecycle.common import require_in_service
from abonent.billing.selectors import charge_outlook, monthly_total
from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.money import Money
from abonent.notifications import services as notifications
from abonent.subscribers.models import Contract

from .models import AutopayRule, Payment, SavedMethod
from .providers import ProviderError, ProviderPayment, get_provider

logger = logging.getLogger("abonent.payments")
RETRY_AFTER_DAYS = (1, 3)
PAUSE_AT_ONCE = {"permission_revoked", "card_expired"}
THRESHOLD_LIMITS = (1, 15)
# YooKassa keeps an Idempotence-Key for 24 hours.
KEY_KEPT_BY_PROVIDER = dt.timedelta(hours=23)


def remember_method(payment: Payment, state: ProviderPayment) -> SavedMethod | None:
    """After a payment the subscriber asked to save: keep the provider's token and turn
    autopay on with the default rule (they opted in with the tick box)."""
    token = state.metadata.get("saved_method_id")
    if not payment.save_method or not token:
        return None
    SavedMethod.objects.filter(contract_id=payment.contract_id, active=True).update(active=False)
    method = SavedMethod.objects.create(
        contract_id=payment.contract_id,
        provider=payment.provider,
        provider_method_id=token,
        title=state.metadata.get("saved_method_title") or gettext("Bank card"),
    )
    rule, _created = AutopayRule.objects.get_or_create(contract_id=payment.contract_id)
    rule.enabled, rule.paused_reason, rule.failures, rule.next_attempt_on = True, "", 0, None
    rule.save()
    return method


def active_method(contract: Contract) -> SavedMethod | None:
    return SavedMethod.objects.filter(contract=contract, active=True).first()


@transaction.atomic
def update_rule(
    contract: Contract,
    *,
    enabled: bool,
    threshold_days: int,
    amount: int | None,
    monthly_cap: int | None,
    actor: Actor,
) -> AutopayRule:
    if enabled:
        require_in_service(contract)
    errors: dict[str, list] = {}
    low, high = THRESHOLD_LIMITS
    if not low <= threshold_days <= high:
        errors["threshold_days"] = [
            _("Choose from %(low)d to %(high)d days.") % {"low": low, "high": high}
        ]
    for field, value in (("amount", amount), ("monthly_cap", monthly_cap)):
        if (
            value is not None
            and not settings.PAYMENT_MIN_KOPECKS <= value <= settings.PAYMENT_MAX_KOPECKS
        ):
            errors[field] = [
                _("The amount must be from %(min)s to %(max)s.")
                % {
                    "min": Money(settings.PAYMENT_MIN_KOPECKS).format(),
                    "max": Money(settings.PAYMENT_MAX_KOPECKS).format(),
                }
            ]
    if errors:
        raise ValidationFailed(fields=errors)
    if enabled and active_method(contract) is None:
        raise ValidationFailed(
            fields={"enabled": [_("Save a card first: tick “Save the card” when you pay.")]}
        )
    rule, _created = AutopayRule.objects.select_for_update().get_or_create(contract=contract)
    rule.enabled, rule.threshold_days, rule.amount, rule.monthly_cap = (
        enabled,
        threshold_days,
        amount,
        monthly_cap,
    )
    if enabled:
        rule.paused_reason, rule.failures, rule.next_attempt_on = "", 0, None
    rule.save()
    audit.record(
        actor,
        "autopay.updated",
        rule,
        contract_id=contract.pk,
        after={
            "enabled": enabled,
            "threshold_days": threshold_days,
            "amount": amount,
            "cap": monthly_cap,
        },
    )
    return rule


@transaction.atomic
def forget(contract: Contract, actor: Actor) -> None:
    """Delete the rule and the saved card (the token is simply never used again)."""
    SavedMethod.objects.filter(contract=contract, active=True).update(active=False)
    deleted, _rows = AutopayRule.objects.filter(contract=contract).delete()
    if not deleted:
        raise NotFound()
    audit.record(actor, "autopay.deleted", contract, contract_id=contract.pk)


def _amount_due(rule: AutopayRule, contract: Contract) -> int:
    if rule.amount:
        return rule.amount
    return max(monthly_total(contract) - contract.account.balance, settings.PAYMENT_MIN_KOPECKS)


def _charged_this_month(rule: AutopayRule, day: dt.date) -> int:
    return (
        Payment.objects.filter(
            autopay_rule=rule,
            status=Payment.Status.SUCCEEDED,
            created_at__year=day.year,
            created_at__month=day.month,
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )


def _tell(contract: Contract, text: str, kind: str, key: str) -> None:
    notifications.send_sms(
        contract.subscriber.phone, text, kind=kind, contract_id=contract.pk, dedupe_key=key
    )


def charge_if_due(rule_id: int, day: dt.date) -> str:
    from .services import apply_provider_state

    rule = AutopayRule.objects.select_related(
        "contract__account", "contract__tariff", "contract__subscriber"
    ).get(pk=rule_id)
    contract = rule.contract
    if not rule.enabled or rule.paused_reason or contract.status == Contract.Status.TERMINATED:
        return "off"
    if rule.next_attempt_on and rule.next_attempt_on > day:
        return "waiting_for_retry"
    if Payment.objects.filter(
        autopay_rule=rule, status=Payment.Status.PENDING, provider_payment_id=""
    ).exists():
        return "unresolved_charge"  # an earlier charge may have gone through: settle it first
    method = active_method(contract)
    if method is None:
        return "no_card"
    outlook = charge_outlook(contract, contract.account.balance, day)
    low = contract.status == Contract.Status.BLOCKED_DEBT or (
        outlook.days_left is not None and outlook.days_left < rule.threshold_days
    )
    if not low:
        return "not_needed"
    amount = _amount_due(rule, contract)
    if rule.monthly_cap is not None and _charged_this_month(rule, day) + amount > rule.monthly_cap:
        _tell(
            contract,
            gettext("Autopay skipped: this month's limit is reached. Please top up yourself."),
            "autopay_cap",
            f"autopay-cap:{rule.pk}:{day:%Y-%m}",
        )
        return "cap_reached"
    try:
        payment = Payment.objects.create(
            contract=contract,
            amount=amount,
            provider=method.provider,
            idempotency_key=f"autopay:{rule.pk}:{day:%Y-%m-%d}",
            autopay_rule=rule,
        )
    except IntegrityError:
        return "already_tried_today"
    try:
        state = _create_charge(payment, method)
    except ProviderError:
        # Not the card's fault; and the charge may have reached the provider before the
        # error (a timeout), so the payment stays pending: `resume_charge` asks again with
        # the same Idempotence-Key, which returns that charge rather than a second one.
        return "provider_unavailable"
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id=state.id)
    payment.provider_payment_id = state.id
    result = apply_provider_state(payment.pk, state, Actor.system("job"))
    if state.status == "succeeded":
        AutopayRule.objects.filter(pk=rule.pk).update(failures=0, next_attempt_on=None)
        return "charged"
    if state.status == "canceled":
        return _declined(rule, contract, method, state.cancellation_reason, day)
    return result


def _create_charge(payment: Payment, method: SavedMethod) -> ProviderPayment:
    """The charge of a saved card, with its 54-FZ receipt like any payment (kept on the
    payment, so that asking again sends the same one), logged as a provider call."""
    from .services import call_provider, receipt_for

    contract = Contract.objects.select_related("subscriber").get(pk=payment.contract_id)
    description = gettext("Autopay, contract %(number)s") % {"number": contract.number}
    if not payment.receipt:
        payment.receipt = receipt_for(contract, payment.amount, description)
        Payment.objects.filter(pk=payment.pk).update(receipt=payment.receipt)
    provider = get_provider(method.provider)
    return call_provider(
        provider.name,
        "create",
        payment,
        {"amount": payment.amount, "description": description, "saved_method": method.pk},
        lambda: provider.create(
            amount=payment.amount,
            description=description,
            return_url="",
            idempotency_key=f"abonent:{payment.public_id}",
            metadata={"contract": contract.number, "payment": str(payment.public_id)},
            save_method=False,
            receipt=payment.receipt,
            payment_method_id=method.provider_method_id,
        ),
    )


def resume_charge(payment: Payment, now: dt.datetime) -> str:
    """An autopay charge whose create call failed: ask again with the same key. After a
    day the provider forgets the key, and then it is given up as never made."""
    from .services import apply_provider_state

    if now - payment.created_at > KEY_KEPT_BY_PROVIDER:
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELED, cancellation_reason="provider_unavailable"
        )
        return "given_up"
    # The card it was made with, even if it has been switched off since.
    method = (
        SavedMethod.objects.filter(contract_id=payment.contract_id, provider=payment.provider)
        .order_by("-pk")
        .first()
    )
    if method is None:
        return "no_card"
    try:
        state = _create_charge(payment, method)
    except ProviderError:
        return "provider_unavailable"
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id=state.id)
    return apply_provider_state(payment.pk, state, Actor.system("job"))


def _declined(
    rule: AutopayRule, contract: Contract, method: SavedMethod, reason: str, day: dt.date
) -> str:
    failures = rule.failures + 1
    if reason in PAUSE_AT_ONCE or failures > len(RETRY_AFTER_DAYS):
        AutopayRule.objects.filter(pk=rule.pk).update(
            failures=failures, paused_reason=reason or "declined", next_attempt_on=None
        )
        if reason in PAUSE_AT_ONCE:
            SavedMethod.objects.filter(pk=method.pk).update(active=False)
        _tell(
            contract,
            gettext(
                "Autopay is paused: the card was declined. Top up yourself or save another card."
            ),
            "autopay_paused",
            f"autopay-paused:{rule.pk}:{day:%Y-%m-%d}",
        )
        return "paused"
    retry_on = day + dt.timedelta(days=RETRY_AFTER_DAYS[failures - 1])
    AutopayRule.objects.filter(pk=rule.pk).update(failures=failures, next_attempt_on=retry_on)
    _tell(
        contract,
        gettext("Autopay: the card was declined; we will try again on %(date)s.")
        % {"date": retry_on.strftime("%d.%m.%Y")},
        "autopay_declined",
        f"autopay-declined:{rule.pk}:{day:%Y-%m-%d}",
    )
    return "declined"


def run_autopay(day: dt.date) -> dict[str, int]:
    results: dict[str, int] = {}
    for rule_id in AutopayRule.objects.filter(enabled=True, paused_reason="").values_list(
        "pk", flat=True
    ):
        try:
            outcome = charge_if_due(rule_id, day)
        except Exception:  # one bad account must not stop the others
            logger.exception("autopay failed for rule %s", rule_id)
            outcome = "error"
        results[outcome] = results.get(outcome, 0) + 1
    return results
