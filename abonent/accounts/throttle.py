"""Login throttling: per contract number and per client address. After a few failures
each further try must wait longer (1, 2, 4 ... 60 s); after LOGIN_LOCK_FAILURES in the
window the contract (or address) is locked for LOGIN_LOCK_SECONDS. The answer never
depends on whether the contract exists."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.utils.translation import ngettext

from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import NotFound, Throttled

from .models import LoginFailure, LoginLock

MAX_DELAY_SECONDS = 60


def _active_lock(scope: str, key: str, now: dt.datetime) -> LoginLock | None:
    return (
        LoginLock.objects.filter(scope=scope, key=key, locked_until__gt=now, lifted_at__isnull=True)
        .order_by("-locked_until")
        .first()
    )


def _throttled(seconds: float) -> Throttled:
    wait = max(1, math.ceil(seconds))
    if wait >= 60:
        minutes = math.ceil(wait / 60)
        msg = ngettext(
            "Too many failed attempts. Try again in %(n)d minute or recover the password.",
            "Too many failed attempts. Try again in %(n)d minutes or recover the password.",
            minutes,
        ) % {"n": minutes}
    else:
        msg = ngettext(
            "Too many failed attempts. Wait %(n)d second and try again.",
            "Too many failed attempts. Wait %(n)d seconds and try again.",
            wait,
        ) % {"n": wait}
    return Throttled(retry_after=wait, message=msg)


def check(contract_number: str, ip: str | None) -> None:
    """Raise Throttled if this attempt may not be made now."""
    now = clock.now()
    for scope, key in ((LoginLock.Scope.CONTRACT, contract_number), (LoginLock.Scope.IP, ip)):
        if key:
            lock = _active_lock(scope, key, now)
            if lock:
                raise _throttled((lock.locked_until - now).total_seconds())
    since = now - dt.timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    recent = list(
        LoginFailure.objects.filter(contract_number=contract_number, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.LOGIN_LOCK_FAILURES]
    )
    extra = len(recent) - settings.LOGIN_FREE_FAILURES
    if extra >= 0:
        delay = min(2**extra, MAX_DELAY_SECONDS)
        ready_at = recent[0] + dt.timedelta(seconds=delay)
        if ready_at > now:
            raise _throttled((ready_at - now).total_seconds())


def record_failure(contract_number: str, actor: Actor) -> None:
    """Count a failure; lock the contract or the address when it crosses the line.
    Committed on its own, whatever the caller does next."""
    now = clock.now()
    since = now - dt.timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    with transaction.atomic():
        failure = LoginFailure.objects.create(
            contract_number=contract_number, ip=actor.ip, created_at=now
        )
        checks = [
            (
                LoginLock.Scope.CONTRACT,
                contract_number,
                settings.LOGIN_LOCK_FAILURES,
                LoginFailure.objects.filter(contract_number=contract_number, created_at__gt=since),
            )
        ]
        if actor.ip:
            checks.append(
                (
                    LoginLock.Scope.IP,
                    actor.ip,
                    settings.LOGIN_IP_LOCK_FAILURES,
                    LoginFailure.objects.filter(ip=actor.ip, created_at__gt=since),
                )
            )
        for scope, key, limit, failures in checks:
            if failures.count() >= limit and _active_lock(scope, key, now) is None:
                lock = LoginLock.objects.create(
                    scope=scope,
                    key=key,
                    created_at=now,
                    locked_until=now + dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS),
                )
                audit.record(actor, "auth.login_locked", lock, after={"scope": scope, "key": key})
        del failure


def record_success(contract_number: str) -> None:
    LoginFailure.objects.filter(contract_number=contract_number).delete()


@transaction.atomic
def lift(lock_id: int, actor: Actor) -> LoginLock:
    from .permissions import require_action

    require_action(actor, "lift_login_lock")
    lock = LoginLock.objects.select_for_update().filter(pk=lock_id).first()
    if lock is None:
        raise NotFound()
    if lock.lifted_at is None:
        lock.lifted_at = clock.now()
        lock.lifted_by = actor.user
        lock.save(update_fields=["lifted_at", "lifted_by"])
        if lock.scope == LoginLock.Scope.CONTRACT:
            LoginFailure.objects.filter(contract_number=lock.key).delete()
        else:
            LoginFailure.objects.filter(ip=lock.key).delete()
        audit.record(
            actor, "auth.login_unlocked", lock, after={"scope": lock.scope, "key": lock.key}
        )
    return lock


def lift_for_contract_after_recovery(contract_number: str, actor: Actor) -> None:
    """Whoever proved they hold the contract's phone (or was verified by the hotline)
    is not an attacker guessing its password: clear its failures and locks."""
    now = clock.now()
    for lock in LoginLock.objects.filter(
        scope=LoginLock.Scope.CONTRACT,
        key=contract_number,
        locked_until__gt=now,
        lifted_at__isnull=True,
    ):
        lock.lifted_at = now
        lock.lifted_by = actor.user
        lock.save(update_fields=["lifted_at", "lifted_by"])
        audit.record(
            actor, "auth.login_unlocked", lock, after={"scope": lock.scope, "key": lock.key}
        )
    LoginFailure.objects.filter(contract_number=contract_number).delete()
