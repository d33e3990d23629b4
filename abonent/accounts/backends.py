"""Two doors, never crossed: subscribers authenticate by contract number through
`services.authenticate_subscriber`; staff use the staff login (Django admin for now).
Each backend only ever returns users of its own kind, also when restoring a session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from abonent.core import jsonrows

from .models import User
from .session_store import user_loaded_with_session


class StaffBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        try:
            user = User.objects.get(username=username.strip(), kind=User.Kind.STAFF)
        except User.DoesNotExist:
            User().set_password(password)  # same cost as a real check: no timing hint
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.filter(pk=user_id, kind=User.Kind.STAFF).first()
        return user if user and self.user_can_authenticate(user) else None

    # What a role may see and edit in the admin site (permissions.ADMIN_MODELS); groups
    # and per-user permissions still add to it.
    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        from .permissions import admin_allows

        if getattr(user_obj, "kind", None) == User.Kind.STAFF and admin_allows(user_obj, perm):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        from .permissions import admin_apps

        if getattr(user_obj, "kind", None) == User.Kind.STAFF:
            apps = admin_apps(user_obj)
            if "*" in apps or app_label in apps:
                return True
        return super().has_module_perms(user_obj, app_label)


class SubscriberBackend(ModelBackend):
    """Only restores sessions; the password check lives in the service so that the
    web and the API share one implementation."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def get_user(self, user_id: int) -> User | None:
        # Every cabinet page starts here: the query is built once per process.
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = user_loaded_with_session(pk)  # the session's own query brought it
        if user is None:
            row = _SUBSCRIBER.row(pk)
            user = jsonrows.from_flat(User, row) if row else None
        return user if user and self.user_can_authenticate(user) else None


_SUBSCRIBER = jsonrows.Prepared(
    lambda user_id: User.objects.filter(pk=user_id, kind=User.Kind.SUBSCRIBER).values_list(
        *jsonrows.flat(User)
    )
)
