"""Queue messages; delivery is a job (tasks.deliver) so the request that asks for an
SMS answers at once and the same way whether or not a message was really queued."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from abonent.core import clock
from abonent.core.secrets import keyed_digest

from .gateways import GatewayError, get_gateway
from .models import Message

logger = logging.getLogger("abonent.sms")
MASK = "••••••"


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

    transaction.on_commit(lambda: deliver(message.pk))
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

    transaction.on_commit(lambda: deliver_batch(message_ids))


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
        else:
            message.status = Message.Status.SENT
            message.sent_at = clock.now()
            message.error = ""
            message.body = None  # nothing secret stays behind once it is out
        message.save()
    return message
