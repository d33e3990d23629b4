"""Sessions in PostgreSQL, read through the shared cache (Django's `cached_db`), that
carry on from the database while Redis is unreachable.

Django's `cached_db` already tolerates a failed read and a failed write after a save,
but not the write-back after a read from the database: with Redis down every signed-in
page answered 500 instead of reading the session from PostgreSQL (found by
tests/test_faults.py). Deleting stays strict — a session ended while its cached copy
cannot be removed must not come back when Redis does."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore

logger = logging.getLogger(__name__)


class SessionStore(CachedDbStore):
    def load(self) -> dict[str, Any]:
        base: Any = self  # django-stubs do not declare cached_db's private members
        try:
            data = base._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unreachable; reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = base._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            expiry = self.get_expiry_age(expiry=stored.expire_date)
            base._cache.set(self.cache_key, data, expiry)
        except Exception:
            logger.warning("Session cache unreachable; the session was not cached")
        return data
