"""Who is acting, from where, through which channel: passed explicitly to services so
the audit log can say it, whatever the caller (web, API, command, job)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from django.http import HttpRequest

    from abonent.accounts.models import User

Channel = Literal["web", "api", "admin", "cli", "job", "system"]


@dataclass(frozen=True)
class Actor:
    user: User | None
    channel: Channel
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def system(cls, channel: Channel = "system") -> Actor:
        return cls(user=None, channel=channel)

    @classmethod
    def from_request(cls, request: HttpRequest, channel: Channel = "web") -> Actor:
        user = (
            request.user
            if getattr(request, "user", None) and request.user.is_authenticated
            else None
        )
        return cls(
            user=user,
            channel=channel,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )


def client_ip(request: HttpRequest) -> str | None:
    # Behind the reverse proxy, nginx sets X-Real-IP; we never trust X-Forwarded-For
    # chains from the client. Deployments without a proxy get REMOTE_ADDR.
    from django.conf import settings

    if getattr(settings, "TRUST_X_REAL_IP", False):
        real = request.META.get("HTTP_X_REAL_IP")
        if real:
            return real
    return request.META.get("REMOTE_ADDR")
