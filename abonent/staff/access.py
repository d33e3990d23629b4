"""Staff pages outside the admin: the same gate as the admin site (a staff account that
passed the second factor), and an optional role list checked here as well as in the
services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def is_verified_staff(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and getattr(user, "kind", None) == "staff"
        and user.is_active
        and user.is_verified()
    )


def staff_required(*roles: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if not is_verified_staff(user):
                target = request.get_full_path()
                return redirect(f"{reverse('staff:login')}?{urlencode({'next': target})}")
            if roles and user.role not in roles and not user.is_superuser:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
