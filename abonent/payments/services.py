"""Payments: start one, learn its fate from the provider, credit it exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.models import User
from abonent.billing.lifecycle.common import require_in_service
from abonent.billing.models import LedgerEntry
from abonent.billing.services import post_entry
from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import Money, MoneyParseError
from abonent.notifications import push
from abonent.notifications import services as notifications
from abonent.subscribers.models import Contract

from .models import Payment, ProviderCall, WebhookEvent
from .providers import ProviderError, ProviderPayment, get_provider

logger = logging.getLogger("abonent.payments")
WEBHOOK_STALLED_AFTER = dt.timedelta(minutes=2)
WEBHOOK_GIVE_UP_AFTER = dt.timedelta(days=3)


class ProviderUnavailable(DomainError):
    code = "provider_unavailable"
    status = 503
    default_message = _("The payment service does not answer. Please try again in a few minutes.")


class IdempotencyConflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This request key was already used for a different payment.")


def parse_amount(value: str | int, minimum: int | None = None) -> int:
    """Kopecks from what a person typed ("500", "500,50", "1 000") or the API sent
    (kopecks). `minimum` replaces the top-up minimum (a refund may be a few kopecks)."""
    if isinstance(value, bool):
        raise ValidationFailed(fields={"amount": [_("Enter the amount in rubles, e.g. 500.")]})
    if isinstance(value, int):
        kopecks = value
    else:
        try:
            kopecks = Money.parse(str(value)).kopecks
        except MoneyParseError:
            raise ValidationFailed(
                fields={"amount": [_("Enter the amount in rubles, e.g. 500 or 500,50.")]}
            ) from None
    low = settings.PAYMENT_MIN_KOPECKS if minimum is None else minimum
    high = settings.PAYMENT_MAX_KOPECKS
    if kopecks < low or kopecks > high:
        raise ValidationFailed(
            fields={
                "amount": [
                    _("The amount must be from %(min)s to %(max)s.")
                    % {"min": Money(low).format(), "max": Money(high).format()}
                ]
            }
        )
    return kopecks


def call_provider(
    provider: str, operation: str, payment: Payment | None, request: dict[str, Any], fn: Any
) -> Any:
    """Run `fn` (one call to the provider) and keep a `ProviderCall` row of it: what was
    asked, how it went, how long it took."""
    started = time.monotonic()
    row = ProviderCall(provider=provider, operation=operation, payment=payment, request=request)
    try:
        result = fn()
    except ProviderError as exc:
        row.error = str(exc)[:300]
        raise
    else:
        row.ok = True
        if isinstance(result, ProviderPayment):
            row.response = {
                "id": result.id,
                "status": result.status,
                "amount": result.amount,
                "cancellation_reason": result.cancellation_reason,
            }
        elif isinstance(result, str):
            row.response = {"id": result}
        return result
    finally:
        row.duration_ms = int((time.monotonic() - started) * 1000)
        row.save()


def receipt_for(contract: Contract, kopecks: int, description: str) -> dict[str, Any]:
    """The 54-FZ receipt fields YooKassa's API takes (customer contact, one service item,
    VAT code, payment subject and mode, tax system)."""
    person = contract.subscriber
    customer = {"phone": person.phone.lstrip("+")}
    if person.email:
        customer["email"] = person.email
    return {
        "customer": customer,
        "items": [
            {
                "description": description[:128],
                "quantity": "1.00",
                "amount": {"value": f"{kopecks / 100:.2f}", "currency": "RUB"},
                "vat_code": settings.RECEIPT_VAT_CODE,
                "payment_subject": "service",
                "payment_mode": "full_prepayment",
            }
        ],
        "tax_system_code": settings.RECEIPT_TAX_SYSTEM_CODE,
    }


def refund_receipt(payment: Payment, kopecks: int) -> dict[str, Any] | None:
    """The 54-FZ receipt of a refund of `kopecks` from `payment`: the payment's own
    customer, item and tax system, for the refunded amount (none if the payment had no
    receipt)."""
    if not payment.receipt or not payment.receipt.get("items"):
        return None
    item = payment.receipt["items"][0]
    amount = {"value": f"{kopecks / 100:.2f}", "currency": payment.currency}
    return {**payment.receipt, "items": [{**item, "quantity": "1.00", "amount": amount}]}


def start_payment(
    contract: Contract,
    amount: str | int,
    *,
    idempotency_key: str,
    return_url: str,
    actor: Actor,
    save_method: bool = False,
) -> Payment:
    """Create the payment here and at the provider. `return_url` may hold "{payment}",
    replaced by the payment's public id (the provider sends the subscriber back there)."""
    require_in_service(contract)
    kopecks = parse_amount(amount)
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.contract_id != contract.pk or existing.amount != kopecks:
            raise IdempotencyConflict()
        return existing
    provider = get_provider()
    try:
        payment = Payment.objects.create(
            contract=contract,
            amount=kopecks,
            provider=provider.name,
            idempotency_key=idempotency_key,
            save_method=save_method,
        )
    except IntegrityError:  # a racing twin with the same key
        return start_payment(
            contract,
            kopecks,
            idempotency_key=idempotency_key,
            return_url=return_url,
            actor=actor,
            save_method=save_method,
        )
    description = gettext("Internet, contract %(number)s") % {"number": contract.number}
    return_url = return_url.replace("{payment}", str(payment.public_id))
    payment.receipt = receipt_for(contract, kopecks, description)
    try:
        created = call_provider(
            provider.name,
            "create",
            payment,
            {"amount": kopecks, "description": description, "save_method": save_method},
            lambda: provider.create(
                amount=kopecks,
                description=description,
                return_url=return_url,
                idempotency_key=f"abonent:{payment.public_id}",
                metadata={"contract": contract.number, "payment": str(payment.public_id)},
                save_method=save_method,
                receipt=payment.receipt,
            ),
        )
    except ProviderError:
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.CANCELED, cancellation_reason="provider_unavailable"
        )
        raise ProviderUnavailable() from None
    payment.provider_payment_id = created.id
    payment.confirmation_url = created.confirmation_url
    payment.save(update_fields=["provider_payment_id", "confirmation_url", "receipt", "updated_at"])
    audit.record(
        actor, "payment.started", payment, contract_id=contract.pk, after={"amount": kopecks}
    )
    return payment


@transaction.atomic
def apply_provider_state(payment_id: int, state: ProviderPayment, actor: Actor) -> str:
    """Move our payment to what the provider says, crediting the ledger once. Only a
    state fetched from the provider is passed here, never a webhook's word."""
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if state.id != payment.provider_payment_id:
        return "id_mismatch"
    if payment.status == Payment.Status.SUCCEEDED or (
        payment.status == Payment.Status.CANCELED and not _given_up_unanswered(payment, state)
    ):
        return "already_final"
    if state.status == "succeeded":
        if state.amount != payment.amount or state.currency != payment.currency:
            logger.error(
                "payment %s: provider amount %s %s differs from ours %s",
                payment.pk,
                state.amount,
                state.currency,
                payment.amount,
            )
            return "amount_mismatch"
        posted = post_entry(
            Contract.objects.values_list("account__id", flat=True).get(pk=payment.contract_id),
            kind=LedgerEntry.Kind.PAYMENT,
            amount=payment.amount,
            idempotency_key=f"payment:{payment.provider}:{payment.provider_payment_id}",
            description=gettext("Payment by card (%(provider)s)") % {"provider": payment.provider},
            actor=actor,
        )
        payment.status = Payment.Status.SUCCEEDED
        payment.entry = posted.entry
        payment.save(update_fields=["status", "entry", "updated_at"])
        from .autopay import remember_method

        remember_method(payment, state)
        phone = Contract.objects.values_list("subscriber__phone", flat=True).get(
            pk=payment.contract_id
        )
        text = gettext("Payment of %(amount)s received. Thank you!") % {
            "amount": payment.money.format()
        }
        notifications.send_sms(
            phone,
            text,
            kind="payment_received",
            contract_id=payment.contract_id,
            dedupe_key=f"paid:{payment.pk}",
        )
        owner = Contract.objects.values_list("user", flat=True).get(pk=payment.contract_id)
        if owner is not None:
            push.queue(
                User.objects.get(pk=owner),
                "payment_received",
                settings.PROVIDER_NAME,
                text,
                "/payments/",
                contract_id=payment.contract_id,
                dedupe_key=f"paid:{payment.pk}",
            )
        return "credited"
    if state.status == "canceled":
        payment.status = Payment.Status.CANCELED
        payment.cancellation_reason = state.cancellation_reason[:60]
        payment.save(update_fields=["status", "cancellation_reason", "updated_at"])
        return "canceled"
    if state.status == "waiting_for_capture" and payment.status == Payment.Status.PENDING:
        payment.status = Payment.Status.WAITING_FOR_CAPTURE
        payment.save(update_fields=["status", "updated_at"])
        return "waiting"
    return "unchanged"


def _given_up_unanswered(payment: Payment, state: ProviderPayment) -> bool:
    """We cancelled it because the create call got no answer, yet the provider says the
    money was taken: it is credited (a provider's final state never changes, so this
    cannot undo a real cancellation)."""
    lost = payment.cancellation_reason == "provider_unavailable"
    if lost and state.status == "succeeded":
        logger.warning("payment %s: cancelled here, succeeded at the provider", payment.pk)
    return lost and state.status == "succeeded"


def _adopt(provider_name: str, provider_id: str) -> Payment | None:
    """A notification for a provider id we never stored (the create call's answer was
    lost): ask the provider, and link it to our payment by the id we put in metadata."""
    provider = get_provider(provider_name)
    try:
        state = provider.fetch(provider_id)
    except ProviderError:
        return None
    try:
        public_id = uuid.UUID(str(state.metadata.get("payment", "")))
    except ValueError:
        return None
    payment = Payment.objects.filter(
        provider=provider_name, public_id=public_id, provider_payment_id=""
    ).first()
    if payment is None or state.id != provider_id:
        return None
    linked = Payment.objects.filter(pk=payment.pk, provider_payment_id="").update(
        provider_payment_id=provider_id
    )
    return Payment.objects.get(pk=payment.pk) if linked else None


def refresh(payment: Payment, actor: Actor) -> str:
    """Ask the provider about a payment and apply the answer."""
    provider = get_provider(payment.provider)
    try:
        state = call_provider(
            provider.name,
            "fetch",
            payment,
            {"id": payment.provider_payment_id},
            lambda: provider.fetch(payment.provider_payment_id),
        )
    except ProviderError:
        return "provider_unavailable"
    return apply_provider_state(payment.pk, state, actor)


def receive_webhook(
    provider_name: str, payload: dict, source_ip: str | None
) -> WebhookEvent | None:
    """Store a notification in the inbox (a duplicate is recognised by its key) and
    leave the rest to the job. Returns None for a duplicate."""
    provider = get_provider(provider_name)
    key = provider.event_key(payload)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider_name, event_key=key, payload=payload, source_ip=source_ip
            )
    except IntegrityError:
        # A redelivery. If the first one's job was lost (the queue was down), this is
        # the moment to do it; processing is idempotent, so a twin job does no harm.
        unprocessed = (
            WebhookEvent.objects.filter(
                provider=provider_name, event_key=key, processed_at__isnull=True
            )
            .values_list("pk", flat=True)
            .first()
        )
        if unprocessed is not None:
            _process_later(unprocessed)
        return None
    _process_later(event.pk)
    return event


def _process_later(event_id: int) -> None:
    """The job after commit. robust: with the queue (Redis) down the notification is
    still answered 200 — it is stored — and `retry_unprocessed_webhooks` takes it up."""
    from .tasks import process_webhook

    transaction.on_commit(lambda: process_webhook(event_id), robust=True)


def unprocessed_webhooks(now: dt.datetime) -> list[int]:
    """Notifications stored but never processed (their job was lost, or gave up while
    the provider did not answer), from the last three days."""
    return list(
        WebhookEvent.objects.filter(
            processed_at__isnull=True,
            received_at__lt=now - WEBHOOK_STALLED_AFTER,
            received_at__gt=now - WEBHOOK_GIVE_UP_AFTER,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def process_webhook_now(event_id: int) -> str:
    event = WebhookEvent.objects.get(pk=event_id)
    if event.processed_at is not None:
        return event.result
    provider = get_provider(event.provider)
    provider_id = provider.payment_id_in(event.payload)
    payment = Payment.objects.filter(
        provider=event.provider, provider_payment_id=provider_id or "~"
    ).first()
    if payment is None and provider_id:
        payment = _adopt(event.provider, provider_id)
    if payment is None:
        logger.warning("%s notification for an unknown payment %r", event.provider, provider_id)
        result = "unknown_payment"
    else:
        result = refresh(payment, Actor.system("job"))
    from abonent.core import clock

    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=clock.now(), result=result)
    return result
