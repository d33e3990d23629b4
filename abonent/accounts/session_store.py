"""Sessions in PostgreSQL, read together with their signed-in subscriber in one query.

Every cabinet page needs the session and then the user it names. Read through a cache
(Django's `cached_db`) that was a Redis round trip and then a database one; under load
every round trip costs far more than its query (decision 0016). Here the session's own
query also brings the subscriber whose browser session it is (`accounts.WebSession`),
and `SubscriberBackend.get_user` takes that user instead of asking again — only if it
is the very user the session names. Staff sessions (no such row) load their user as
before. Nothing is cached outside PostgreSQL, so ending a session (logout, "end this
session", a password change) is immediate on every web server, and Redis being down
does not touch signing in."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.contrib.sessions.models import Session
from django.db.models import OuterRef
from django.utils import timezone

from abonent.core import jsonrows

from .models import User

_SESSION = jsonrows.Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
        "session_data",
        jsonrows.first_row(
            User.objects.filter(
                kind=User.Kind.SUBSCRIBER,
                web_sessions__session_key=OuterRef("session_key"),
                web_sessions__ended_at__isnull=True,
            )
        ),
    ),
    kinds=(str, dt.datetime),
)

# The subscriber the current request's session query brought (one per thread/task).
_loaded_user: ContextVar[User | None] = ContextVar("abonent_session_user", default=None)


class SessionStore(DbStore):
    def load(self) -> dict[str, Any]:
        _loaded_user.set(None)
        key = self.session_key
        row = _SESSION.row(key, timezone.now()) if key else None
        if row is None:
            self._session_key = None  # unknown or expired: a new session, as Django does
            return {}
        _loaded_user.set(jsonrows.instance(User, row[1]))
        return self.decode(row[0])


def user_loaded_with_session(user_id: int) -> User | None:
    """The subscriber this request's session query brought, if it is `user_id`; taken
    once, so it never outlives the request that loaded it."""
    user = _loaded_user.get()
    _loaded_user.set(None)
    return user if user is not None and user.pk == user_id else None
