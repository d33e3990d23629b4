"""Every error the API returns has the shape of api-v1.md, in the language of
Accept-Language, and never carries a trace."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from abonent.core.errors import DomainError, Throttled
from abonent.core.http import json_error

logger = logging.getLogger(__name__)


def _message_for(error: dict[str, Any]) -> str:
    """pydantic speaks English only; say the common cases in the user's language."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        limit = int(ctx.get("max_length", 0))
        return ngettext("At most %(n)d character.", "At most %(n)d characters.", limit) % {
            "n": limit
        }
    if kind == "string_too_short":
        return _("This field is required.")
    if kind in {"string_type", "string_unicode"}:
        return _("Must be text.")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("Must be a whole number.")
    if kind in {"bool_type", "bool_parsing"}:
        return _("Must be true or false.")
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return _("Must be a JSON object.")
    if kind == "extra_forbidden":
        return _("Unexpected field.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    return _("Invalid value.")


def _field_name(error: dict[str, Any]) -> str:
    sources = ("body", "payload", "query", "path", "header")
    loc = [str(p) for p in error.get("loc", ()) if p not in sources]
    return ".".join(loc) or "__all__"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        return json_error(exc.status, exc.code, exc.message, exc.fields or None, headers)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(error), []).append(_message_for(error))
        return json_error(400, "validation_error", _("Please correct the errors below."), fields)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return json_error(
            401,
            "invalid_credentials",
            _("Your session has ended or the token is invalid. Please log in again."),
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            return json_error(400, "validation_error", _("The request body is not valid JSON."))
        if exc.status_code == 405:
            return json_error(405, "method_not_allowed", _("This method is not allowed here."))
        if exc.status_code == 429:
            return json_error(429, "throttled", _("Too many attempts. Please try again later."))
        return json_error(exc.status_code, "error", _("The request cannot be completed."))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return json_error(404, "not_found", _("Not found."))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return json_error(
            500,
            "internal_error",
            _("We could not complete the request. Please try again later."),
        )
