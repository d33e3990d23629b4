"""Write audit rows. Call from services, inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from .context import Actor
from .models import AuditLog


def record(
    actor: Actor,
    action: str,
    obj: models.Model,
    *,
    contract_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
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


def record_many(
    actor: Actor,
    action: str,
    objs: list[Any],
    *,
    after: dict[str, Any] | None = None,
) -> None:
    """One row per object (each with its contract), in one statement: a search result
    list is a read of every subscriber on it."""
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=actor.user,
            channel=actor.channel,
            ip=actor.ip,
            user_agent=actor.user_agent,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            contract_id=obj.pk if obj._meta.label_lower == "subscribers.contract" else None,
            after=after,
        )
        for obj in objs
    )
