"""Bearer tokens for the app: opaque random strings, stored hashed, per device.
Access tokens live minutes; a refresh token is single-use and rotates the pair."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from abonent.core import audit, clock, jsonrows
from abonent.core.context import Actor
from abonent.core.errors import InvalidCredentials

from .models import ApiToken, User

ACCESS_PREFIX = "aa_"
REFRESH_PREFIX = "ar_"


@dataclass(frozen=True)
class TokenPair:
    token: ApiToken
    access_token: str
    refresh_token: str
    expires_in: int


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _new_secrets(token: ApiToken) -> tuple[str, str]:
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token.access_hash = _digest(access)
    token.refresh_hash = _digest(refresh)
    token.access_expires_at = now + dt.timedelta(seconds=settings.API_ACCESS_TOKEN_SECONDS)
    token.refresh_expires_at = now + dt.timedelta(seconds=settings.API_REFRESH_TOKEN_SECONDS)
    return access, refresh


@transaction.atomic
def issue(user: User, actor: Actor, device_name: str = "") -> TokenPair:
    token = ApiToken(user=user, device_name=device_name, ip=actor.ip, user_agent=actor.user_agent)
    access, refresh = _new_secrets(token)
    token.save()
    audit.record(actor, "auth.token_issued", token, after={"device": device_name})
    return TokenPair(token, access, refresh, settings.API_ACCESS_TOKEN_SECONDS)


def authenticate_access(raw: str) -> ApiToken | None:
    """The live token for a bearer string, with its user, or None."""
    if not raw.startswith(ACCESS_PREFIX) or len(raw) > 200:
        return None
    row = _LIVE_TOKEN.row(_digest(raw), clock.now())
    token = jsonrows.from_flat(ApiToken, row, {"user": User}) if row else None
    if token is None or not token.user.is_active:
        return None
    return token


# Every API call starts here: the query is built once per process (core.jsonrows).
_LIVE_TOKEN = jsonrows.Prepared(
    lambda digest, now: ApiToken.objects.filter(
        access_hash=digest, revoked_at__isnull=True, access_expires_at__gt=now
    ).values_list(*jsonrows.flat(ApiToken, {"user": User})),
    kinds=(str, dt.datetime),
)


def refresh(raw: str, actor: Actor) -> TokenPair:
    if not raw.startswith(REFRESH_PREFIX) or len(raw) > 200:
        raise InvalidCredentials()
    pair = _rotate(_digest(raw), actor)
    if pair is None:  # raised only now, so that a reuse revocation stays committed
        raise InvalidCredentials()
    return pair


@transaction.atomic
def _rotate(digest: str, actor: Actor) -> TokenPair | None:
    now = clock.now()
    token = (
        ApiToken.objects.select_for_update()
        .select_related("user")
        .filter(Q(refresh_hash=digest) | Q(previous_refresh_hash=digest))
        .first()
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.previous_refresh_hash == digest:
        # A refresh token that was already used: someone replayed it. End the device.
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "auth.refresh_reuse_detected", token)
        return None
    if token.refresh_expires_at <= now:
        return None
    token.previous_refresh_hash = digest
    access, new_refresh = _new_secrets(token)
    token.last_used_at = now
    token.save()
    return TokenPair(token, access, new_refresh, settings.API_ACCESS_TOKEN_SECONDS)


@transaction.atomic
def revoke(token: ApiToken, actor: Actor) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    if updated:
        audit.record(actor, "auth.token_revoked", token)


def revoke_all(user: User, *, except_token_id: int | None = None) -> int:
    qs = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if except_token_id is not None:
        qs = qs.exclude(pk=except_token_id)
    return qs.update(revoked_at=clock.now())
