"""The office: cash payments with a printed receipt, and refunds through the provider.
Both are staff actions, checked by role here, in the service."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import require_action
from abonent.billing import keys
from abonent.billing.lifecycle.common import require_in_service
from abonent.billing.models import LedgerEntry
from abonent.billing.services import lock_account, post_entry
from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.pdf import new_document
from abonent.subscribers.models import Contract

from .models import CashPayment, Payment, Refund
from .providers import ProviderError, ProviderRefused, get_provider
from .services import call_provider, parse_amount, refund_receipt

logger = logging.getLogger("abonent.payments")


@transaction.atomic
def record_cash_payment(
    contract_id: int, amount: str | int, actor: Actor, key: str | None = None
) -> CashPayment:
    """`key` comes with the form, so a double click or a re-sent form takes the money once."""
    cashier = require_action(actor, "cash_payment")
    kopecks = parse_amount(amount)
    account = lock_account(contract_id)
    require_in_service(Contract.objects.get(pk=contract_id))  # a closed account takes no money
    posted = post_entry(
        account.pk,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=kopecks,
        idempotency_key=f"cash:{key or uuid.uuid4()}",
        description=gettext("Cash payment at the office"),
        actor=actor,
    )
    if not posted.created:
        return CashPayment.objects.get(entry=posted.entry)
    cash = CashPayment.objects.create(
        contract_id=contract_id, amount=kopecks, cashier=cashier, entry=posted.entry
    )
    audit.record(actor, "payment.cash", cash, contract_id=contract_id, after={"amount": kopecks})
    return cash


def cash_receipt_pdf(cash: CashPayment) -> bytes:
    contract = Contract.objects.select_related("subscriber", "address").get(pk=cash.contract_id)
    pdf = new_document(gettext("Receipt"))
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(
        0,
        8,
        f"{settings.PROVIDER_NAME}: {gettext('Receipt')} № {cash.pk}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", size=11)
    rows = [
        (
            gettext("Date"),
            formats.date_format(timezone.localtime(cash.created_at), "DATETIME_FORMAT"),
        ),
        (gettext("Contract"), contract.number),
        (gettext("Subscriber"), contract.subscriber.full_name),
        (gettext("Address"), str(contract.address)),
        (gettext("Amount"), cash.money.format()),
        (gettext("Purpose"), gettext("Internet access, top-up of the personal account")),
        (gettext("Cashier"), cash.cashier.full_name or cash.cashier.username),
    ]
    for label, value in rows:
        pdf.cell(40, 7, f"{label}:")
        pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(
        0,
        7,
        gettext("Signature of the cashier") + " ____________________",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


class RefundRefused(DomainError):
    code = "refund_refused"
    status = 409
    default_message = _(
        "The payment service refused the refund; the balance is as it was. Check the "
        "payment in the provider's dashboard."
    )


def refund(
    payment_id: int, amount: str | int, reason: str, actor: Actor, key: str | None = None
) -> Refund:
    """Return money paid by card: book it (the balance is debited at once, a refund
    entry, never an edit of the payment), then ask the provider — with no transaction
    open, so no lock waits on its answer. Refused, the debit is reversed and
    RefundRefused raised; unanswered, the refund is returned pending and
    `retry_pending_refunds` asks again with the same key. `key` (the form's): the
    same key again returns the refund it booked instead of booking another."""
    record = _book_refund(payment_id, amount, reason, actor, key)
    settled = settle_refund(record.pk)
    if settled.status == Refund.Status.REFUSED:
        raise RefundRefused()
    return settled


@transaction.atomic
def _book_refund(
    payment_id: int, amount: str | int, reason: str, actor: Actor, key: str | None
) -> Refund:
    staff = require_action(actor, "refund")
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for the refund.")]})
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound()
    if key and (booked := Refund.objects.filter(request_key=key).first()) is not None:
        return booked  # checked under the payment's lock: a twin request waited for us
    if payment.status != Payment.Status.SUCCEEDED:
        raise ValidationFailed(fields={"payment": [_("Only a completed payment can be refunded.")]})
    kopecks = parse_amount(amount, minimum=1)  # the rest of a payment may be under 10 ₽
    already = (
        payment.refunds.exclude(status=Refund.Status.REFUSED).aggregate(s=Sum("amount"))["s"] or 0
    )
    if kopecks > payment.amount - already:
        raise ValidationFailed(
            fields={"amount": [_("That is more than is left to refund of this payment.")]}
        )
    account = lock_account(payment.contract_id)
    contract = Contract.objects.get(pk=payment.contract_id)
    if contract.status == Contract.Status.TERMINATED and kopecks > account.balance:
        # The termination already paid the rest out: this would return it twice.
        raise ValidationFailed(
            fields={"amount": [_("The contract is terminated and its balance was paid out.")]}
        )
    # Every booking is a new key (a refused one is not asked again); asking again for
    # the same booking reuses its key, which the provider answers with the same refund.
    number = payment.refunds.count() + 1
    posted = post_entry(
        account.pk,
        kind=LedgerEntry.Kind.REFUND,
        amount=-kopecks,
        idempotency_key=keys.card_refund(payment.provider, payment.provider_payment_id, number),
        description=reason.strip(),
        actor=actor,
    )
    record = Refund.objects.create(
        payment=payment,
        amount=kopecks,
        reason=reason.strip(),
        entry=posted.entry,
        created_by=staff,
        request_key=key or None,
    )
    audit.record(
        actor,
        "payment.refund_booked",
        record,
        contract_id=payment.contract_id,
        after={"amount": kopecks, "payment": str(payment.public_id)},
    )
    return record


def settle_refund(refund_id: int) -> Refund:
    """Ask the provider for a booked refund (no transaction open around the call) and
    record its answer; a refund already settled is returned as it is."""
    record = Refund.objects.select_related("payment", "entry").get(pk=refund_id)
    if record.status != Refund.Status.PENDING:
        return record
    Refund.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
    payment = record.payment
    provider = get_provider(payment.provider)
    key = record.entry.idempotency_key
    try:
        provider_refund_id = call_provider(
            provider.name,
            "refund",
            payment,
            {"amount": record.amount, "refund": record.pk, "key": key},
            lambda: provider.refund(
                payment.provider_payment_id,
                record.amount,
                key,
                refund_receipt(payment, record.amount),
            ),
        )
    except ProviderRefused as exc:
        return _refused(record.pk, str(exc))
    except ProviderError as exc:
        logger.warning(
            "refund %s: no answer from the provider (%s), asked again later", record.pk, exc
        )
        record.refresh_from_db()
        return record
    return _done(record.pk, Refund.Status.PENDING, Actor.system(), provider_refund_id)


def settle_unconfirmed(refund_id: int, refunded: bool, actor: Actor) -> Refund:
    """Staff's word on a refund the provider never answered, after checking it in the
    provider's dashboard: made (done) or not made (the debit reversed, as on a
    refusal)."""
    require_action(actor, "refund")
    record = Refund.objects.filter(pk=refund_id).first()
    if record is None:
        raise NotFound()
    if record.status != Refund.Status.UNCONFIRMED:
        raise ValidationFailed(
            fields={
                "status": [
                    _("Only a refund the payment service did not confirm is settled by hand.")
                ]
            }
        )
    if not refunded:
        return _refused(record.pk, "not found in the provider's dashboard", actor)
    return _done(record.pk, Refund.Status.UNCONFIRMED, actor)


@transaction.atomic
def _done(refund_id: int, was: str, actor: Actor, provider_refund_id: str = "") -> Refund:
    """The refund is made: from `was` (pending, or unconfirmed on staff's word) to done."""
    record = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
    if record.status != was:
        return record  # settled meanwhile
    record.status = Refund.Status.DONE
    record.provider_refund_id = provider_refund_id or record.provider_refund_id
    record.save(update_fields=["status", "provider_refund_id"])
    audit.record(
        actor,
        "payment.refunded",
        record,
        contract_id=record.payment.contract_id,
        after={"amount": record.amount, "payment": str(record.payment.public_id)},
    )
    return record


@transaction.atomic
def _refused(refund_id: int, why: str, actor: Actor | None = None) -> Refund:
    record = Refund.objects.select_for_update().select_related("payment", "entry").get(pk=refund_id)
    if record.status not in (Refund.Status.PENDING, Refund.Status.UNCONFIRMED):
        return record
    lock_account(record.payment.contract_id)
    posted = post_entry(
        record.entry.account_id,
        kind=LedgerEntry.Kind.CORRECTION,
        amount=record.amount,
        idempotency_key=f"refund-refused:{record.pk}",
        description=gettext("The payment service refused the refund"),
        actor=actor or Actor.system(),
        reverses=record.entry,
    )
    record.status = Refund.Status.REFUSED
    record.reversal = posted.entry
    record.save(update_fields=["status", "reversal"])
    audit.record(
        actor or Actor.system(),
        "payment.refund_refused",
        record,
        contract_id=record.payment.contract_id,
        after={"amount": record.amount, "provider": why[:100]},
    )
    return record


# YooKassa keeps an Idempotence-Key for 24 hours: after that the same key would be a
# new refund, so a refund still unanswered is left to staff instead of asked again.
ASK_AGAIN_FOR = dt.timedelta(hours=23)


def pending_refunds(now: dt.datetime, older_than: dt.timedelta) -> list[int]:
    """Pending refunds booked more than `older_than` ago and less than a day ago; older
    ones become `unconfirmed` (logged as an error)."""
    expired = Refund.objects.filter(
        status=Refund.Status.PENDING, created_at__lt=now - ASK_AGAIN_FOR
    )
    for record in expired:
        logger.error(
            "refund %s of payment %s unanswered for a day: check it in the provider's "
            "dashboard (the balance is debited)",
            record.pk,
            record.payment_id,
        )
    expired.update(status=Refund.Status.UNCONFIRMED)
    return list(
        Refund.objects.filter(
            status=Refund.Status.PENDING,
            created_at__lt=now - older_than,
            created_at__gte=now - ASK_AGAIN_FOR,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
