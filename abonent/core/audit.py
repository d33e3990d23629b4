"""Write audit rows. Call from services, inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from .context import Actor
from .models import AuditLog


def _row(
    actor: Actor,
    action: str,
    obj: models.Model,
    contract_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog(
        actor=actor.user,
        channel=actor.channel,
        ip=actor.ip,
        user_agent=actor.user_agent,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        contract_id=contract_id,
        before=before,
        after=after,
    )


def record(
    actor: Actor,
    action: str,
    obj: models.Model,
    *,
    contract_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    row = _row(actor, action, obj, contract_id, before, after)
    row.save()
    return row


def record_many(
    actor: Actor, action: str, contracts: list[Any], *, after: dict[str, Any] | None = None
) -> None:
    """One row per contract, in one statement: a search result list is a read of every
    subscriber on it, and each subscriber's own log must show it."""
    AuditLog.objects.bulk_create(_row(actor, action, c, c.pk, after=after) for c in contracts)
