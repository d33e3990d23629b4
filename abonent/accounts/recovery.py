"""“Forgot password?”: phone from the contract → code by SMS or flash call → new
password → signed in. Shared by the web cabinet and /api/v1/auth/recovery/*."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core import audit, clock, phones
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.notifications import services as notifications
from abonent.notifications.gateways import get_gateway

from . import otp, throttle
from .models import OneTimeCode, User
from .services import set_new_password, validate_new_password

RESET_PREFIX = "rs_"


@dataclass(frozen=True)
class Completed:
    user: User | None
    contracts: list[str] = field(default_factory=list)  # set when the caller must choose


def normalize_phone(raw: str) -> str:
    try:
        return phones.normalize(raw or "")
    except phones.InvalidPhone:
        raise ValidationFailed(
            fields={
                "phone": [_("Enter the phone number from your contract, e.g. +7 900 123-45-67.")]
            }
        ) from None


def users_for_phone(phone: str) -> list[User]:
    return list(
        User.objects.filter(
            kind=User.Kind.SUBSCRIBER, is_active=True, contract__subscriber__phone=phone
        )
        .exclude(contract__status="terminated")
        .select_related("contract")
        .order_by("username")
    )


def start(raw_phone: str, channel: str, actor: Actor) -> otp.Issued:
    phone = normalize_phone(raw_phone)
    if channel not in OneTimeCode.Channel.values:
        raise ValidationFailed(fields={"channel": [_("Choose SMS or a call.")]})
    if channel == OneTimeCode.Channel.CALL and not get_gateway().supports_call:
        channel = OneTimeCode.Channel.SMS
    users = users_for_phone(phone)
    return otp.issue(
        OneTimeCode.Purpose.RECOVERY,
        phone,
        ip=actor.ip,
        channel=channel,
        deliver=bool(users),
        contract_id=users[0].contract.pk if len(users) == 1 else None,
        text=lambda code: (
            gettext(
                "Password recovery code: %(code)s. Do not tell it to anyone: staff never ask for it."
            )
            % {"code": code}
        ),
    )


def verify(request_id: str, code: str) -> str:
    """A correct code gives a short-lived reset token (the next step's key)."""
    row = otp.verify(request_id, code, OneTimeCode.Purpose.RECOVERY)
    token = RESET_PREFIX + secrets.token_urlsafe(32)
    row.reset_digest = hashlib.sha256(token.encode()).hexdigest()
    row.reset_expires_at = clock.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TTL_SECONDS)
    row.save(update_fields=["reset_digest", "reset_expires_at"])
    return token


def contracts_for_token(reset_token: str) -> list[str]:
    row = _reset_row(reset_token, lock=False)
    return [u.username for u in users_for_phone(row.phone)]


def _reset_row(reset_token: str, *, lock: bool) -> OneTimeCode:
    digest = hashlib.sha256((reset_token or "").encode()).hexdigest()
    qs = OneTimeCode.objects.filter(reset_digest=digest, purpose=OneTimeCode.Purpose.RECOVERY)
    row = (qs.select_for_update() if lock else qs).first()
    if (
        not reset_token.startswith(RESET_PREFIX)
        or row is None
        or row.reset_used_at is not None
        or row.reset_expires_at is None
        or row.reset_expires_at <= clock.now()
    ):
        raise ValidationFailed(
            fields={"reset_token": [_("This recovery has expired. Please start again.")]}
        )
    return row


@transaction.atomic
def complete(
    reset_token: str, new_password: str, actor: Actor, contract_number: str | None = None
) -> Completed:
    row = _reset_row(reset_token, lock=True)
    users = users_for_phone(row.phone)
    if not users:
        raise ValidationFailed(
            fields={"reset_token": [_("This recovery has expired. Please start again.")]}
        )
    if len(users) > 1 and not contract_number:
        return Completed(None, [u.username for u in users])
    chosen = (
        users[0]
        if len(users) == 1 and not contract_number
        else next((u for u in users if u.username == (contract_number or "").strip()), None)
    )
    if chosen is None:
        raise ValidationFailed(fields={"contract_number": [_("Choose one of your contracts.")]})
    validate_new_password(chosen, new_password)
    set_new_password(chosen, new_password, must_change=False)
    row.reset_used_at = clock.now()
    row.save(update_fields=["reset_used_at"])
    throttle.lift_for_contract_after_recovery(chosen.username, actor)
    audit.record(
        Actor(user=chosen, channel=actor.channel, ip=actor.ip, user_agent=actor.user_agent),
        "auth.password_recovered",
        chosen,
        contract_id=chosen.contract.pk,
        after={"via": row.channel, "cabinet_enabled": True},
    )
    notifications.send_sms(
        row.phone,
        gettext(
            "The password of your personal cabinet (contract %(number)s) was changed. "
            "If it was not you, call %(hotline)s."
        )
        % {"number": chosen.username, "hotline": settings.PROVIDER_HOTLINE},
        kind="password_changed",
        contract_id=chosen.contract.pk,
    )
    return Completed(chosen)
