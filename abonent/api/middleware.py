"""Whatever answers an /api/ request with an error (Django's 405, CSRF, 413 for an
over-large body...) the client gets the API's JSON error shape, never an HTML page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from abonent.core.http import json_error

_CODES = {
    400: ("validation_error", _("The request could not be understood.")),
    403: ("forbidden", _("You do not have permission to do this.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("This method is not allowed here.")),
    413: ("validation_error", _("The request is too large.")),
    429: ("throttled", _("Too many attempts. Please try again later.")),
}


class ApiErrorsAsJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _CODES.get(
                response.status_code, ("internal_error", _("The request cannot be completed."))
            )
            new = json_error(response.status_code, code, message)
            for header in (
                "Allow",
                "Retry-After",
                "WWW-Authenticate",
                "Content-Security-Policy",
                "X-Frame-Options",
            ):
                if header in response:
                    new[header] = response[header]
            return new
        return response
