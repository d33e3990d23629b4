"""The cabinet as an installable app (PWA, and a Trusted Web Activity for the store):
the manifest, the service worker, the offline page and Android's asset links."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME = "#0b5cad"
# Bumped when the shell changes: the worker drops the old cache.
SHELL_VERSION = "2026-11-27.1"


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    name = _("%(provider)s personal cabinet") % {"provider": settings.PROVIDER_NAME}
    data = {
        "name": name,
        "short_name": settings.PROVIDER_NAME,
        "description": _("Balance, payments, tariff, traffic and support"),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "dir": "ltr",
        "id": "/",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": "#ffffff",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/icon-512-maskable.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the root so it controls the whole cabinet; never cached by the
    browser itself, so a new version is picked up at once."""
    response = render(
        request,
        "pwa/sw.js",
        {
            "version": SHELL_VERSION,
            "provider": settings.PROVIDER_NAME,
            "icon": static("icons/icon-192.png"),
            "shell": [
                "/offline/",
                static("css/app.css"),
                static("js/pwa.js"),
                static("js/offline.js"),
                static("icons/icon-192.png"),
            ],
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the app shows without a network: the last balance this device saw."""
    return render(request, "pwa/offline.html", {})


@require_GET
def asset_links(request: HttpRequest) -> JsonResponse:
    """Digital Asset Links for publishing the PWA as a Trusted Web Activity: set
    TWA_PACKAGE_NAME and TWA_SHA256_FINGERPRINTS (comma-separated) for the store build."""
    statements = []
    if settings.TWA_PACKAGE_NAME:
        statements.append(
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": settings.TWA_PACKAGE_NAME,
                    "sha256_cert_fingerprints": settings.TWA_SHA256_FINGERPRINTS,
                },
            }
        )
    return JsonResponse(statements, safe=False)
