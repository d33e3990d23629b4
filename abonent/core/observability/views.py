"""/healthz (the process answers), /readyz (it can do its work: database, migrations,
queue, cache) and /metrics (Prometheus, for the monitoring network only)."""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from abonent.core.context import client_ip

from . import metrics

logger = logging.getLogger(__name__)
_migrations_done = False  # once true in a process it stays true until the next deploy


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    # No database, no session: the load balancer's liveness probe and the load test's
    # "hello" baseline.
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _migrations() -> None:
    global _migrations_done
    if _migrations_done:
        return
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")
    _migrations_done = True


def _queue() -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.pending_count()


def _cache() -> None:
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not keep a value")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "migrations": _migrations,
    "queue": _queue,
    "cache": _cache,
}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "fail"
        else:
            results[name] = "ok"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503
    )


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and secrets.compare_digest(offered, f"Bearer {token}"):
        return True
    try:
        ip = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return HttpResponse(status=404)  # not advertised to the world
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
