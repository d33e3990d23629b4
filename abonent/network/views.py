"""The HTTP side of rlm_rest. FreeRADIUS authenticates with a shared key header; the
endpoints are meant for the RADIUS servers only (bind them to a private address)."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import radius

logger = logging.getLogger("abonent.radius")
KEY_HEADER = "X-Abonent-Radius-Key"


def _parse(request: HttpRequest) -> dict | None:
    if not hmac.compare_digest(request.headers.get(KEY_HEADER, ""), settings.RADIUS_API_KEY):
        return None
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


@csrf_exempt
@require_POST
def authorize(request: HttpRequest) -> HttpResponse:
    packet = _parse(request)
    if packet is None:
        return HttpResponse(status=403)
    decision = radius.authorize(packet)
    if decision.status != 200:
        return HttpResponse(status=decision.status)
    return JsonResponse(decision.attributes)


@csrf_exempt
@require_POST
def accounting(request: HttpRequest) -> HttpResponse:
    packet = _parse(request)
    if packet is None:
        return HttpResponse(status=403)
    try:
        radius.accounting(packet)
    except Exception:
        # 5xx: FreeRADIUS sends no Accounting-Response and the NAS retries: nothing is lost.
        logger.exception("accounting ingest failed")
        return HttpResponse(status=503)
    return HttpResponse(status=204)
