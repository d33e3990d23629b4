"""The cabinet's gate: logged-in subscribers only, and none past this point until a
required password change is done."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from abonent.accounts.models import User

View = Callable[..., HttpResponseBase]


def subscriber_required(view: View | None = None, *, allow_password_change: bool = False) -> Any:
    def decorator(func: View) -> View:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated or getattr(user, "kind", None) != User.Kind.SUBSCRIBER:
                return redirect_to_login(request.get_full_path())
            if user.password_change_required and not allow_password_change:
                return redirect("cabinet:password_change")
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def me(request: HttpRequest) -> User:
    """The signed-in subscriber, typed (views behind subscriber_required only)."""
    return cast(User, request.user)
