"""Prometheus metrics.

Counters and histograms that happen in a process (requests, SMS failures, RADIUS
records) are prometheus_client metrics; under gunicorn and the huey worker set
PROMETHEUS_MULTIPROC_DIR so every process writes to it and /metrics adds them up.
What the database already knows (the last billing run, webhooks waiting, queue depth)
is read when /metrics is scraped, so it is right whichever process did the work and
however many web servers there are."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "abonent_http_requests_total",
    "HTTP requests by method, route name and status.",
    ["method", "view", "status"],
)
LATENCY = Histogram(
    "abonent_http_request_duration_seconds",
    "Time from the first middleware to the response, by route name.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SMS_FAILURES = Counter(
    "abonent_sms_failures_total",
    "SMS and flash-call sends the gateway refused or did not answer.",
    ["gateway", "code"],
)
SMS_SENT = Counter(
    "abonent_sms_sent_total", "SMS and flash calls the gateway accepted.", ["gateway"]
)
RADIUS_RECORDS = Counter(
    "abonent_radius_accounting_records_total",
    "Accounting records taken in (rest: one request each; detail: from the buffer files).",
    ["path"],
)


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unresolved"  # 404s and the like: never the raw path (unbounded labels)
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method or "", view, str(response.status_code)).inc()
        return response


class StateCollector(Collector):
    """What the database and the queue hold right now."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from abonent.billing.models import BillingRun
        from abonent.payments.models import WebhookEvent

        now = timezone.now()
        last = (
            BillingRun.objects.filter(status=BillingRun.Status.DONE, finished_at__isnull=False)
            .order_by("-finished_at")
            .values("started_at", "finished_at")
            .first()
        )
        duration = GaugeMetricFamily(
            "abonent_billing_last_run_duration_seconds", "Wall time of the last finished run."
        )
        finished = GaugeMetricFamily(
            "abonent_billing_last_run_finished_timestamp_seconds",
            "When the last billing run finished (alert when it is over a day old).",
        )
        if last and last["started_at"] and last["finished_at"]:
            duration.add_metric([], (last["finished_at"] - last["started_at"]).total_seconds())
            finished.add_metric([], last["finished_at"].timestamp())
        yield duration
        yield finished

        failed = GaugeMetricFamily(
            "abonent_billing_runs_failed", "Billing runs that stopped with an error, by status."
        )
        failed.add_metric([], BillingRun.objects.filter(status=BillingRun.Status.FAILED).count())
        yield failed

        waiting = WebhookEvent.objects.filter(processed_at__isnull=True).aggregate(
            n=Count("id"), oldest=Min("received_at")
        )
        pending = GaugeMetricFamily(
            "abonent_webhooks_unprocessed", "Payment notifications received but not applied."
        )
        pending.add_metric([], waiting["n"])
        yield pending
        lag = GaugeMetricFamily(
            "abonent_webhook_oldest_unprocessed_seconds",
            "Age of the oldest payment notification not yet applied (the webhook lag).",
        )
        lag.add_metric([], (now - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0)
        yield lag

        yield from queue_depth()


def queue_depth() -> Iterator[GaugeMetricFamily]:
    from huey.contrib.djhuey import HUEY

    depth = GaugeMetricFamily("abonent_queue_depth", "Jobs waiting in the queue.", labels=["kind"])
    try:
        depth.add_metric(["pending"], HUEY.pending_count())
        depth.add_metric(["scheduled"], HUEY.scheduled_count())
    except Exception:
        up = GaugeMetricFamily("abonent_queue_up", "Whether the queue storage answered.")
        up.add_metric([], 0)
        yield up
        return
    yield depth
    up = GaugeMetricFamily("abonent_queue_up", "Whether the queue storage answered.")
    up.add_metric([], 1)
    yield up


def exposition() -> tuple[bytes, str]:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector())
    return generate_latest(registry) + generate_latest(state), CONTENT_TYPE_LATEST
