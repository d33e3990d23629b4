"""A request id on every log line, every response and every error report.

The id comes from the proxy's ``X-Request-ID`` when it looks like one (nginx sets
``$request_id``), otherwise it is made here, so one id follows a request from nginx
through gunicorn into the logs and Sentry."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_id() -> str:
    return uuid.uuid4().hex


def incoming_id(request: HttpRequest) -> str:
    # A client-chosen id is accepted only in a harmless shape: it ends up in log lines.
    offered = request.META.get("HTTP_X_REQUEST_ID", "")
    return offered if _VALID.match(offered) else new_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_id(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request (or job) id on every record, for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs 4xx/5xx after the middleware has returned, with the request.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current.get()
        return True
