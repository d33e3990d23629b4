"""One-time codes by SMS or flash call (security.md, "One-time codes"): 6 digits from
`secrets`, a keyed digest stored, 10 minutes, single use, 5 wrong tries per code and a
per-phone cap across codes, resend after 60 s, at most 5 an hour per phone and per
client address. Issuing answers the same way whether or not the phone is known."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abonent.core import clock
from abonent.core.errors import Throttled, ValidationFailed
from abonent.core.secrets import keyed_digest, same
from abonent.notifications import services as notifications

from .models import OneTimeCode, User

CODE_DIGITS = 6


@dataclass(frozen=True)
class Issued:
    request_id: str
    resend_after: int
    channel: str


def _wait_message(seconds: int) -> str:
    return ngettext(
        "A new code can be requested in %(n)d second.",
        "A new code can be requested in %(n)d seconds.",
        seconds,
    ) % {"n": seconds}


def check_issue_limits(purpose: str, phone: str, ip: str | None) -> None:
    now = clock.now()
    hour_ago = now - dt.timedelta(hours=1)
    recent = OneTimeCode.objects.filter(purpose=purpose, created_at__gt=hour_ago)
    last = (
        recent.filter(phone=phone)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        ready = last + dt.timedelta(seconds=settings.OTP_RESEND_SECONDS)
        if ready > now:
            wait = math.ceil((ready - now).total_seconds())
            raise Throttled(retry_after=wait, message=_wait_message(wait))
    for field, value in (("phone", phone), ("ip", ip)):
        if value is None:
            continue
        times = list(
            recent.filter(**{field: value})
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(times) >= settings.OTP_MAX_PER_HOUR:
            wait = max(1, math.ceil((times[0] + dt.timedelta(hours=1) - now).total_seconds()))
            raise Throttled(retry_after=wait, message=_wait_message(wait))


def issue(
    purpose: str,
    phone: str,
    *,
    ip: str | None,
    channel: str = OneTimeCode.Channel.SMS,
    user: User | None = None,
    deliver: bool = True,
    contract_id: int | None = None,
    text: Callable[[str], str] | None = None,
) -> Issued:
    """Create a code for `phone`. With deliver=False (an unknown phone) the row exists,
    limits apply and the answer is the same, but nothing is sent and no code can match."""
    check_issue_limits(purpose, phone, ip)
    now = clock.now()
    code = "".join(str(secrets.randbelow(10)) for _ in range(CODE_DIGITS))
    row = OneTimeCode(
        request_id=uuid.uuid4(),
        purpose=purpose,
        channel=channel,
        phone=phone,
        user=user,
        ip=ip,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    with transaction.atomic():
        # An earlier code for this phone that has not gone out yet (the gateway was
        # down) is withdrawn: only the newest code arrives, the one the person now
        # waits for, not two SMS with different codes once the gateway answers.
        notifications.cancel_queued(
            OneTimeCode.objects.filter(
                purpose=purpose,
                phone=phone,
                used_at__isnull=True,
                message__isnull=False,
                created_at__gt=now - dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
            ).values_list("message_id", flat=True),
            "superseded by a newer code",
        )
        if deliver and channel == OneTimeCode.Channel.CALL:
            row.message = notifications.request_code_call(
                phone, kind=f"{purpose}_code", contract_id=contract_id
            )
        elif deliver:
            row.code_digest = keyed_digest(code, "otp")
            body = text(code) if text else str(_("Your code: %(code)s") % {"code": code})
            row.message = notifications.send_sms(
                phone, body, kind=f"{purpose}_code", contract_id=contract_id, secret=code
            )
        else:
            row.code_digest = ""  # nothing can match
        row.save()
    return Issued(str(row.request_id), settings.OTP_RESEND_SECONDS, channel)


def _find(request_id: str, purpose: str) -> OneTimeCode | None:
    try:
        uid = uuid.UUID(str(request_id))
    except (ValueError, TypeError):
        return None
    return OneTimeCode.objects.select_for_update().filter(request_id=uid, purpose=purpose).first()


def _phone_failures_last_hour(phone: str, purpose: str) -> int:
    since = clock.now() - dt.timedelta(hours=1)
    return (
        OneTimeCode.objects.filter(phone=phone, purpose=purpose, created_at__gt=since).aggregate(
            n=Sum("failed_attempts")
        )["n"]
        or 0
    )


def _matches(row: OneTimeCode, code: str) -> bool:
    if row.channel == OneTimeCode.Channel.CALL:
        return row.message is not None and notifications.call_code_matches(row.message, code)
    return bool(row.code_digest) and same(keyed_digest(code, "otp"), row.code_digest)


BAD_CODE = _("The code is wrong or no longer valid. Request a new one.")


def verify(request_id: str, code: str, purpose: str) -> OneTimeCode:
    """Consume the code or raise. A wrong try is counted (and committed) even though
    the caller gets an error."""
    code = "".join((code or "").split())
    outcome: OneTimeCode | Exception
    with transaction.atomic():
        row = _find(request_id, purpose)
        now = clock.now()
        if not code.isdigit() or len(code) > 8:
            outcome = ValidationFailed(fields={"code": [_("Enter the code from the message.")]})
        elif row is None or row.used_at is not None or row.expires_at <= now:
            outcome = ValidationFailed(fields={"code": [BAD_CODE]})
        elif (
            row.failed_attempts >= settings.OTP_MAX_WRONG_PER_CODE
            or _phone_failures_last_hour(row.phone, purpose)
            >= settings.OTP_MAX_WRONG_PER_PHONE_HOUR
        ):
            outcome = ValidationFailed(
                fields={"code": [_("Too many wrong codes. Request a new one later.")]}
            )
        elif not _matches(row, code):
            row.failed_attempts += 1
            row.save(update_fields=["failed_attempts"])
            outcome = ValidationFailed(fields={"code": [BAD_CODE]})
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
            outcome = row
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
