"""Where a subscriber is signed in: browsers (WebSession) and app devices (ApiToken).
They can see each and end one or all; a password change or reset ends the others."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.db import transaction

from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import NotFound

from .models import ApiToken, User, WebSession


@dataclass(frozen=True)
class Device:
    id: str  # "web-<pk>" or "app-<pk>"
    kind: str  # "web" | "app"
    name: str
    ip: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    current: bool


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def start_web_session(user: User, session_key: str, actor: Actor) -> None:
    WebSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip": actor.ip, "user_agent": actor.user_agent, "ended_at": None},
    )


def forget_web_session(session_key: str) -> None:
    WebSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=clock.now()
    )


def rekey_web_session(old_key: str, new_key: str) -> None:
    """The browser's session got a new id (a password change rotates it): the signed-in
    devices list follows it, so this browser can still be seen and ended."""
    if old_key and new_key and old_key != new_key:
        WebSession.objects.filter(session_key=old_key, ended_at__isnull=True).update(
            session_key=new_key
        )


def touch_web_session(session_key: str) -> None:
    WebSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        last_seen_at=clock.now()
    )


def list_devices(
    user: User, *, current_session_key: str | None = None, current_token_id: int | None = None
) -> list[Device]:
    now = clock.now()
    idle_since = now - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    devices = [
        Device(
            id=f"web-{s.pk}",
            kind="web",
            name=s.user_agent,
            ip=s.ip,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            current=s.session_key == current_session_key,
        )
        for s in WebSession.objects.filter(
            user=user, ended_at__isnull=True, last_seen_at__gt=idle_since
        )
    ]
    devices += [
        Device(
            id=f"app-{t.pk}",
            kind="app",
            name=t.device_name or t.user_agent,
            ip=t.ip,
            created_at=t.created_at,
            last_seen_at=t.last_used_at,
            current=t.pk == current_token_id,
        )
        for t in ApiToken.objects.filter(
            user=user, revoked_at__isnull=True, refresh_expires_at__gt=now
        )
    ]
    return sorted(
        devices, key=lambda d: (not d.current, -(d.last_seen_at or d.created_at).timestamp())
    )


@transaction.atomic
def end_device(user: User, device_id: str, actor: Actor) -> None:
    """End one of the user's own sessions; another user's id is simply not found."""
    kind, _sep, raw = device_id.partition("-")
    if not raw.isdigit():
        raise NotFound()
    if kind == "web":
        session = WebSession.objects.filter(pk=int(raw), user=user, ended_at__isnull=True).first()
        if session is None:
            raise NotFound()
        _end_web(session)
        audit.record(actor, "auth.session_ended", session)
    elif kind == "app":
        token = ApiToken.objects.filter(pk=int(raw), user=user, revoked_at__isnull=True).first()
        if token is None:
            raise NotFound()
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "auth.token_revoked", token)
    else:
        raise NotFound()


def _end_web(session: WebSession) -> None:
    _store()(session_key=session.session_key).delete()
    session.ended_at = clock.now()
    session.save(update_fields=["ended_at"])


def end_all(
    user: User, *, keep_session_key: str | None = None, keep_token_id: int | None = None
) -> None:
    """End every session of the user except, optionally, the caller's own."""
    for session in WebSession.objects.filter(user=user, ended_at__isnull=True).exclude(
        session_key=keep_session_key or ""
    ):
        _end_web(session)
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token_id is not None:
        tokens = tokens.exclude(pk=keep_token_id)
    tokens.update(revoked_at=clock.now())
