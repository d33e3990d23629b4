"""Friendly error pages; the API gets JSON instead (see abonent.api.errors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from abonent.core.http import json_error


def _page(request: HttpRequest, status: int, code: str, title: str, text: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(status, code, text)
    return render(request, "error.html", {"title": title, "text": text}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request, 400, "bad_request", _("Bad request"), _("The request could not be understood.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        403,
        "forbidden",
        _("Access denied"),
        _("You do not have permission to see this page."),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        404,
        "not_found",
        _("Page not found"),
        _("There is no such page. Check the address."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "internal_error",
        _("Something went wrong"),
        _(
            "We could not complete the request. Please try again in a minute; "
            "if it repeats, call the hotline."
        ),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        "forbidden",
        _("The page has expired"),
        _(
            "The form was open too long or cookies are blocked. "
            "Go back, reload the page and try again."
        ),
    )
