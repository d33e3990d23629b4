from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from abonent.accounts import tokens
from abonent.accounts.models import ApiToken, User
from abonent.core.context import Actor
from abonent.core.errors import PasswordChangeRequired

# While a password change is required, only these operations answer (api-v1.md).
ALLOWED_DURING_PASSWORD_CHANGE = {"auth_password", "auth_logout"}


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = tokens.authenticate_access(token)
        if api_token is None:
            return None
        if api_token.user.password_change_required:
            operation_id = _operation_id(request)
            if operation_id not in ALLOWED_DURING_PASSWORD_CHANGE:
                raise PasswordChangeRequired()
        request.user = api_token.user
        return api_token


def _operation_id(request: HttpRequest) -> str | None:
    match: Any = getattr(request, "resolver_match", None)
    return match.url_name if match else None


def current_token(request: HttpRequest) -> ApiToken:
    """The bearer token of an authenticated operation."""
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


def me(request: HttpRequest) -> User:
    return current_token(request).user


def api_actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, channel="api")
