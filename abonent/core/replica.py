"""Reports read from a PostgreSQL streaming replica when one is configured
(DATABASE_REPLICA_URL), so month-long aggregations never compete with payments and
the billing run for the primary's CPU and buffers.

Only code that asks for it goes there (``with replica.reading(): ...``): a report may
see data a second or two old, a payment page may not. Writes always go to the primary,
and without a replica everything reads the primary."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections

ALIAS = "replica"
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reading", default=False)


def configured() -> bool:
    return settings.REPORTS_FROM_REPLICA and ALIAS in connections.settings


@contextlib.contextmanager
def reading() -> Iterator[None]:
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return ALIAS if _reading.get() and configured() else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is the same database, a little later

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != ALIAS  # the replica follows the primary's WAL; never migrated itself
