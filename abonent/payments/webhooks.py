"""Where providers post their notifications. Each is authenticated as the provider
allows (sandbox: HMAC signature; YooKassa: source address allowlist), stored in the
inbox and answered at once; a job re-fetches the payment from the provider and acts
only on that answer."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from abonent.core.context import client_ip

from . import services
from .providers import PROVIDERS
from .providers.sandbox import SIGNATURE_HEADER, verify
from .providers.yookassa import address_allowed

logger = logging.getLogger("abonent.payments")
MAX_BODY = 64 * 1024


def _authentic(provider: str, request: HttpRequest) -> bool:
    if provider == "sandbox":
        return verify(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    if provider == "yookassa":
        return address_allowed(client_ip(request))
    return False


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in PROVIDERS:
        return JsonResponse({"error": "unknown provider"}, status=404)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "too large"}, status=413)
    if not _authentic(provider, request):
        logger.warning(
            "%s notification refused from %s: not authentic", provider, client_ip(request)
        )
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "not an object"}, status=400)
    event = services.receive_webhook(provider, payload, client_ip(request))
    return JsonResponse({"status": "accepted" if event else "duplicate"})
