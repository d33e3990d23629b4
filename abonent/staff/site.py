from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class StaffAdminSite(admin.AdminSite):
    """Only staff who passed the second factor (TOTP or a recovery code) get in."""

    site_header = "abonent"
    site_title = "abonent"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(
            super().has_permission(request)
            and getattr(user, "kind", None) == "staff"
            and user.is_verified()
        )

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('staff:login')}?{urlencode({'next': target})}")
