"""Web push (VAPID, RFC 8030/8291/8292) as a channel beside SMS and e-mail: a browser or
the installed cabinet subscribes; a notice is queued as an outbox Message per device and
delivered by the same job, encrypted to the device's keys by pywebpush."""

from __future__ import annotations

import base64
import json
import logging
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from abonent.accounts.models import User
from abonent.core.errors import ValidationFailed

from . import preferences
from .gateways import GatewayError
from .models import Message, PushSubscription

logger = logging.getLogger("abonent.sms")
PREFIX = "push:"  # Message.to of a push: the subscription's id


def enabled() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY)


def subscribe(user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> None:
    """Idempotent: the same endpoint again updates its keys (browsers rotate them)."""
    if not endpoint.startswith("https://") and not settings.DEBUG and not settings.PUSH_ALLOW_HTTP:
        raise ValidationFailed(fields={"endpoint": [_("A push endpoint must be https.")]})
    if not (0 < len(endpoint) <= 1000 and 0 < len(p256dh) <= 200 and 0 < len(auth) <= 100):
        raise ValidationFailed(fields={"endpoint": [_("This push subscription is not valid.")]})
    try:
        with transaction.atomic():
            PushSubscription.objects.update_or_create(
                endpoint=endpoint,
                defaults={
                    "user": user,
                    "p256dh": p256dh,
                    "auth": auth,
                    "user_agent": user_agent[:300],
                },
            )
    except IntegrityError:  # a twin request
        pass


def unsubscribe(user: User, endpoint: str) -> None:
    PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()


def queue(
    user: User,
    event: str,
    title: str,
    body: str,
    url: str,
    *,
    contract_id: int | None,
    dedupe_key: str,
) -> int:
    """One outbox message per device of the user, if they want this event by push."""
    if not enabled() or not preferences.wants(user, event, "push"):
        return 0
    from .services import queue_push_message

    queued = 0
    for sub in PushSubscription.objects.filter(user=user):
        payload = json.dumps({"title": title, "body": body, "url": url}, ensure_ascii=False)
        queue_push_message(
            f"{PREFIX}{sub.pk}", payload, event, contract_id, f"{dedupe_key}:push:{sub.pk}"
        )
        queued += 1
    return queued


@cache
def _private_key() -> str:
    """pywebpush takes the raw key as base64url (DER) or a PEM file path; settings hold
    the PEM text, so it is converted once."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(settings.VAPID_PRIVATE_KEY.encode(), password=None)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(der).decode().rstrip("=")


def deliver(message: Message) -> None:
    """Send one push; a device that is gone (404/410) is forgotten, not retried."""
    from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

    sub = PushSubscription.objects.filter(pk=int(message.to.removeprefix(PREFIX))).first()
    if sub is None:
        raise GatewayError("push_gone", "the device unsubscribed", retryable=False)
    try:
        webpush(
            subscription_info={
                "endpoint": sub.endpoint,
                "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            },
            data=message.body or message.text,
            vapid_private_key=_private_key(),
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=24 * 3600,
            timeout=10,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (404, 410):
            sub.delete()
            raise GatewayError("push_gone", str(status), retryable=False) from exc
        raise GatewayError(
            "push_failed", str(status), retryable=status >= 500 or status == 429
        ) from exc
