"""Staff permissions are checked in services, not only in views (security.md)."""

from __future__ import annotations

from abonent.core.context import Actor
from abonent.core.errors import Forbidden

from .models import User


def require_role(actor: Actor, *roles: str) -> User:
    user = actor.user
    if (
        user is None
        or not user.is_active
        or user.kind != User.Kind.STAFF
        or (user.role not in roles and not user.is_superuser)
    ):
        raise Forbidden()
    return user
