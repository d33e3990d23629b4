"""Queue messages; delivery is a job (tasks.deliver) so the request that asks for an
SMS answers at once and the same way whether or not a message was really queued."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q

from abonent.core import clock
from abonent.core.observability import metrics
from abonent.core.secrets import keyed_digest

from .gateways import GatewayError, get_gateway
from .models import Message

logger = logging.getLogger("abonent.sms")
MASK = "••••••"
STALLED_AFTER = dt.timedelta(minutes=2)
GIVE_UP_AFTER = dt.timedelta(days=1)
STALLED_BATCH = 500  # per sweep; the next one takes the rest
CODE_KIND_SUFFIX = "_code"  # one-time codes (accounts.otp): useless once expired
CODE_EXPIRED = "expired before it could be sent"


def _queue(
    channel: str,
    to: str,
    text: str,
    kind: str,
    contract_id: int | None,
    secret: str | None,
    dedupe_key: str | None = None,
) -> Message:
    gateway = get_gateway()
    if dedupe_key is not None:
        existing = Message.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    shown = text if (secret is None or gateway.shows_secrets) else text.replace(secret, MASK)
    message = Message.objects.create(
        channel=channel,
        to=to,
        kind=kind,
        text=shown,
        # Only a text with a secret in it needs its own (encrypted) deliverable copy.
        body=text if shown != text else None,
        contract_id=contract_id,
        gateway=gateway.name,
        dedupe_key=dedupe_key,
    )
    from .tasks import deliver

    # robust: with the job queue (Redis) down the message stays queued and the
    # periodic `deliver_stalled` sends it; the caller's committed work does not fail.
    transaction.on_commit(lambda: deliver(message.pk), robust=True)
    return message


def send_sms(
    to: str,
    text: str,
    *,
    kind: str,
    contract_id: int | None = None,
    secret: str | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """`secret` (a one-time code inside `text`) is masked in the outbox for every
    gateway except the development console. With `dedupe_key`, a second call with the
    same key sends nothing."""
    return _queue(Message.Channel.SMS, to, text, kind, contract_id, secret, dedupe_key)


def send_email(
    to: str,
    subject: str,
    text: str,
    *,
    kind: str,
    contract_id: int | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """An e-mail through Django's mail backend, queued and delivered like an SMS. The
    subject is the first line of the stored text."""
    return _queue(
        Message.Channel.EMAIL, to, f"{subject}\n{text}", kind, contract_id, None, dedupe_key
    )


def queue_push_message(
    to: str, payload: str, kind: str, contract_id: int | None, dedupe_key: str
) -> Message:
    """See `push.queue`: the payload (title, body, link) travels as the message text."""
    return _queue(Message.Channel.PUSH, to, payload, kind, contract_id, None, dedupe_key)


def send_bulk_sms(items: Sequence[tuple[str, str, str, int | None, str]]) -> int:
    """Queue many notices at once: (phone, text, kind, contract_id, dedupe_key) each.
    One INSERT; keys already used are skipped; one delivery job for the lot."""
    if not items:
        return 0
    gateway = get_gateway()
    keys = [item[4] for item in items]
    Message.objects.bulk_create(
        [
            Message(
                channel=Message.Channel.SMS,
                to=to,
                kind=kind,
                text=text,
                contract_id=contract_id,
                gateway=gateway.name,
                dedupe_key=key,
            )
            for to, text, kind, contract_id, key in items
        ],
        ignore_conflicts=True,
    )
    ids = list(
        Message.objects.filter(
            dedupe_key__in=keys, status=Message.Status.QUEUED, attempts=0
        ).values_list("pk", flat=True)
    )
    deliver_later(ids)
    return len(ids)


def deliver_later(message_ids: list[int]) -> None:
    """One delivery job for a batch of queued messages, once the transaction commits."""
    if not message_ids:
        return
    from .tasks import deliver_batch

    transaction.on_commit(lambda: deliver_batch(message_ids), robust=True)  # see _queue


def cancel_queued(message_ids: Iterable[int], reason: str) -> int:
    """Withdraw messages not sent yet (a one-time code replaced by a newer one): the job
    leaves them alone. A message being sent right now holds its row lock; the update
    waits for it and then finds it sent."""
    return Message.objects.filter(pk__in=list(message_ids), status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, error=reason[:300], body=None
    )


def stalled_messages(now: dt.datetime) -> list[int]:
    """Queued messages whose delivery job was lost (the queue was down when they were
    queued, or lost its scheduled retries): never tried after STALLED_AFTER, tried but
    not retried after the whole retry schedule. Older than a day: left alone. At most
    STALLED_BATCH, oldest first."""
    from .tasks import RETRY_DELAYS

    never_tried = Q(attempts=0, created_at__lt=now - STALLED_AFTER)
    not_retried = Q(
        attempts__gt=0,
        created_at__lt=now - dt.timedelta(seconds=sum(RETRY_DELAYS)) - STALLED_AFTER,
    )
    return list(
        Message.objects.filter(status=Message.Status.QUEUED, created_at__gt=now - GIVE_UP_AFTER)
        .filter(never_tried | not_retried)
        .order_by("pk")
        .values_list("pk", flat=True)[:STALLED_BATCH]
    )


def _code_expired(message: Message, now: dt.datetime) -> bool:
    return message.kind.endswith(CODE_KIND_SUFFIX) and message.created_at < now - dt.timedelta(
        seconds=settings.OTP_TTL_SECONDS
    )


def expire_stale_codes(now: dt.datetime) -> int:
    """A one-time code that could not go out while it was valid is not sent late."""
    return Message.objects.filter(
        status=Message.Status.QUEUED,
        kind__endswith=CODE_KIND_SUFFIX,
        created_at__lt=now - dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
    ).update(status=Message.Status.FAILED, error=CODE_EXPIRED, body=None)


def request_code_call(to: str, *, kind: str, contract_id: int | None = None) -> Message:
    """A flash call: the code is the last digits of the calling number, known only once
    the gateway has placed the call (see `call_code_matches`)."""
    return _queue(Message.Channel.CALL, to, "", kind, contract_id, None)


def call_code_matches(message: Message, code: str) -> bool:
    return bool(message.call_code_digest) and keyed_digest(code, "call") == message.call_code_digest


def _mail(message: Message) -> None:
    subject, _sep, body = (message.body or message.text).partition("\n")
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [message.to])
    except (OSError, smtplib.SMTPException) as exc:
        raise GatewayError("mail", str(exc), retryable=True) from exc


def deliver_now(message_id: int) -> Message:
    """One delivery attempt. Safe to run twice: a sent message is left alone."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status != Message.Status.QUEUED:
            return message
        if _code_expired(message, clock.now()):
            # A retry (or the sweep) after the code's lifetime would deliver a code that
            # no longer works: the person has asked for a new one or will.
            message.status, message.error, message.body = Message.Status.FAILED, CODE_EXPIRED, None
            message.save(update_fields=["status", "error", "body"])
            return message
        message.attempts += 1
        gateway = get_gateway()
        try:
            if message.channel == Message.Channel.CALL:
                called = gateway.send_code_call(message.to)
                message.provider_id = called.provider_id
                message.call_code_digest = keyed_digest(called.code, "call")
                message.text = f"code {called.code}" if gateway.shows_secrets else f"code {MASK}"
            elif message.channel == Message.Channel.EMAIL:
                _mail(message)
            elif message.channel == Message.Channel.PUSH:
                from . import push

                push.deliver(message)
            else:
                sent = gateway.send_sms(message.to, message.body or message.text)
                message.provider_id = sent.provider_id
        except GatewayError as exc:
            message.error = str(exc)[:300]
            if not exc.retryable or message.attempts >= settings.SMS_DELIVERY_ATTEMPTS:
                message.status = Message.Status.FAILED
                message.body = None
            logger.warning("message %s via %s failed: %s", message.pk, gateway.name, exc.code)
            if message.channel in (Message.Channel.SMS, Message.Channel.CALL):
                metrics.SMS_FAILURES.labels(gateway.name, exc.code).inc()
        else:
            if message.channel in (Message.Channel.SMS, Message.Channel.CALL):
                metrics.SMS_SENT.labels(gateway.name).inc()
            message.status = Message.Status.SENT
            message.sent_at = clock.now()
            message.error = ""
            message.body = None  # nothing secret stays behind once it is out
        message.save()
    return message
