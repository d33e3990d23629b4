"""Error reporting to Sentry or anything speaking its protocol (GlitchTip, Bugsink):
set SENTRY_DSN. Personal data stays home: no cookies, headers, bodies or user details
are sent, only the stack, the URL path and the request id."""

from __future__ import annotations

from typing import Any

from . import requestid

_SCRUBBED_REQUEST_KEYS = ("cookies", "data", "headers", "query_string", "env")


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        for key in _SCRUBBED_REQUEST_KEYS:
            request.pop(key, None)
    event.pop("user", None)
    event.setdefault("tags", {})["request_id"] = requestid.current.get()
    return event


def init(dsn: str, environment: str, release: str, sample_rate: float = 1.0) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        sample_rate=sample_rate,
        traces_sample_rate=0.0,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,  # locals may hold passwords and passport data
        integrations=[DjangoIntegration()],
        # Not the auto-enabled ones: the huey integration adds a `sentry_headers`
        # argument to every job, which a worker without Sentry (or an older one) then
        # refuses — a payment notification would never be applied. Job errors still
        # arrive through the logging integration (huey logs them).
        auto_enabling_integrations=False,
        before_send=scrub,  # type: ignore[arg-type]
    )
