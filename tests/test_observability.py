"""Health, readiness, request ids in JSON logs, Prometheus metrics (also summed over
gunicorn workers), error reports to a Sentry-compatible server, the reports replica."""

# ruff: noqa: S310 — urlopen on our own loopback server

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from abonent.billing.models import BillingRun
from abonent.core import replica
from abonent.core.observability import requestid
from abonent.core.testing import free_port
from abonent.network import radius
from abonent.network.models import Nas
from abonent.payments.models import WebhookEvent

ROOT = Path(__file__).resolve().parent.parent


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


# --------------------------------------------------------------------------- health


def test_healthz_answers_without_the_database(client):
    # no django_db mark: any query here would fail the test
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_database_migrations_queue_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "queue": "ok", "cache": "ok"},
    }


@pytest.mark.django_db
def test_readyz_is_503_when_the_shared_cache_is_down(client):
    # A Redis nobody listens on: the load balancer must take this server out.
    dead = {
        "default": {
            "BACKEND": "abonent.core.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(CACHES=dead):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "queue": "ok",
        "cache": "fail",
    }


# --------------------------------------------------------------------------- request ids


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32
    assert first != second
    # nginx's $request_id is kept; anything that could forge a log line is not
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-4f2a9c01")["X-Request-ID"] == (
        "nginx-4f2a9c01"
    )
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level":"CRITICAL"}')
    assert len(forged["X-Request-ID"]) == 32
    assert "\n" not in forged["X-Request-ID"]


@pytest.mark.django_db
def test_log_lines_are_json_with_the_request_id(client):
    """The production formatter (settings.LOGGING, LOG_FORMAT=json) on Django's own
    'Not Found' warning: one JSON object per line, with the response's request id."""
    from pythonjsonlogger.json import JsonFormatter

    spec = dict(settings.LOGGING["formatters"]["json"])
    spec.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**spec))
    handler.addFilter(requestid.RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-abcdef123")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "Django logs a warning for a 404"
    record = lines[-1]
    assert record["request_id"] == "req-abcdef123"
    assert record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert "/no-such-page/" in record["message"]
    assert record["time"]


# --------------------------------------------------------------------------- metrics


@pytest.mark.django_db
def test_metrics_only_for_the_monitoring_network(client, settings):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404
    settings.METRICS_TOKEN = "scrape-me-please"
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer scrape-me-please"
        ).status_code
        == 200
    )
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer guess")
    ).status_code == 404


@pytest.mark.django_db
def test_request_count_and_latency_by_route(client):
    def count() -> float:
        text = client.get("/metrics").content.decode()
        return sample(text, "abonent_http_requests_total", view="healthz", status="200") or 0

    before = count()
    for _ in range(3):
        client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert count() == before + 3
    buckets = sample(text, "abonent_http_request_duration_seconds_count", view="healthz")
    assert buckets is not None
    assert buckets >= 3
    # an unknown path is not a label (unbounded cardinality), it is "unresolved"
    client.get("/no/such/page/zqxwvut/")
    text = client.get("/metrics").content.decode()
    assert sample(text, "abonent_http_requests_total", view="unresolved", status="404")
    assert "zqxwvut" not in text


@pytest.mark.django_db
def test_state_metrics_billing_run_webhook_lag_and_queue(client):
    now = timezone.now()
    BillingRun.objects.create(
        date=now.date(),
        status=BillingRun.Status.DONE,
        started_at=now - dt.timedelta(seconds=95),
        finished_at=now - dt.timedelta(seconds=20),
    )
    event = WebhookEvent.objects.create(provider="sandbox", event_key="evt-1", payload={})
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=now - dt.timedelta(seconds=300))
    text = client.get("/metrics").content.decode()
    assert sample(text, "abonent_billing_last_run_duration_seconds") == 75.0
    finished = sample(text, "abonent_billing_last_run_finished_timestamp_seconds")
    assert finished == pytest.approx((now - dt.timedelta(seconds=20)).timestamp())
    assert sample(text, "abonent_webhooks_unprocessed") == 1
    lag = sample(text, "abonent_webhook_oldest_unprocessed_seconds")
    assert lag is not None
    assert 300 <= lag < 330
    assert sample(text, "abonent_queue_up") == 1
    assert sample(text, "abonent_queue_depth", kind="pending") is not None


@pytest.mark.django_db
def test_radius_and_sms_counters(
    client, real_gateway, settings, django_capture_on_commit_callbacks
):
    def read(name: str, **labels: str) -> float:
        return sample(client.get("/metrics").content.decode(), name, **labels) or 0

    Nas.objects.create(name="bras-1", ip="10.0.0.1", secret="s", vendor="mikrotik")
    before = read("abonent_radius_accounting_records_total", path="rest")
    packet = {
        "NAS-IP-Address": {"value": ["10.0.0.1"]},
        "Acct-Status-Type": {"value": ["Start"]},
        "Acct-Session-Id": {"value": ["s-1"]},
        "User-Name": {"value": ["nobody"]},
    }
    radius.accounting(packet)
    radius.accounting(packet)
    assert read("abonent_radius_accounting_records_total", path="rest") == before + 2

    from abonent.notifications import services as notifications

    def sms_failures() -> float:
        text = client.get("/metrics").content.decode()
        return sum(
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "abonent_sms_failures_total"
        )

    failed_before = sms_failures()
    real_gateway.fail_next = settings.SMS_HTTP_RETRIES + 1  # every try of this attempt: 500
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_sms("+79001234567", "test", kind="test")
    failures = sms_failures()
    assert failures == failed_before + 1


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_add_up_in_one_scrape(tmp_path):
    """gunicorn workers, PROMETHEUS_MULTIPROC_DIR: /metrics sums what each served, also
    workers that have since been recycled."""
    port = free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--max-requests",  # workers are recycled: their counts must not be lost
            "10",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=30).read()  # none abandoned
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)

        def served() -> float:
            text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
            return sample(text, "abonent_http_requests_total", view="healthz", status="200") or 0

        before = served()
        with ThreadPoolExecutor(10) as pool:  # more at once than one worker can hold
            statuses = list(
                pool.map(lambda _: urllib.request.urlopen(f"{base}/healthz").status, range(40))
            )
        after = served()
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert statuses == [200] * 40
    writers = {f.name.rsplit("_", 1)[-1] for f in tmp_path.glob("counter_*.db")}
    assert len(writers) >= 4, "40 requests, a new worker every 10"
    assert after - before == 40  # one scrape adds up what every worker counted


# --------------------------------------------------------------------------- Sentry


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.django_db
@pytest.mark.urls("tests.observability_urls")
def test_errors_reach_a_sentry_compatible_server_without_personal_data(subscriber_client):
    import sentry_sdk

    from abonent.core.observability import sentry

    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    try:
        sentry.init(dsn, environment="test", release="abonent@test")
        subscriber_client.raise_request_exception = False
        response = subscriber_client.get("/boom/?passport=4010123456")
        sentry_sdk.flush(timeout=10)
    finally:
        # no DSN: reporting off again for the rest of the suite (and no auto-enabled
        # integrations patching huey, see abonent.core.observability.sentry)
        sentry_sdk.init(auto_enabling_integrations=False)
        server.shutdown()
    assert response.status_code == 500
    assert "Traceback" not in response.content.decode()
    envelopes = b"\n".join(_Collector.received).decode()
    events = [
        json.loads(line)
        for line in envelopes.splitlines()
        if line.startswith("{") and '"exception"' in line
    ]
    assert len(events) == 1
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["environment"] == "test"
    # the session cookie, the query string and the locals stay home
    assert subscriber_client.cookies["sessionid"].value not in envelopes
    assert "4010123456" not in envelopes
    assert "user" not in event
    # huey's enqueue is not wrapped to add `sentry_headers` to every job (a worker
    # without Sentry refuses such a job: a payment notification never applied)
    from huey.api import Huey

    assert not hasattr(Huey.enqueue, "__wrapped__")


# --------------------------------------------------------------------------- replica


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_reports_read_from_the_replica_and_the_rest_from_the_primary(
    settings, staff_user, subscriber_client
):
    """The test settings define 'replica' as a second connection to the test database
    (TEST MIRROR) — what a streaming replica is to Django; committed data is seen."""
    settings.REPORTS_FROM_REPLICA = True
    replica_alias = connections[replica.ALIAS]
    from abonent.reports.tests.test_reports import NOV_QUERY, URL, client_as

    manager = client_as(staff_user, "manager")
    with (
        CaptureQueriesContext(replica_alias) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
    ):
        assert manager.get(URL, NOV_QUERY).status_code == 200
    report_tables = ("billing_ledgerentry", "billing_account")
    assert any(t in q["sql"] for q in on_replica.captured_queries for t in report_tables)
    assert not any("billing_ledgerentry" in q["sql"] for q in on_primary.captured_queries), (
        "report figures must not be computed on the primary"
    )
    # the audit row of the debtors read is a write: the primary
    assert any("INSERT" in q["sql"] for q in on_primary.captured_queries)
    assert not any("INSERT" in q["sql"] for q in on_replica.captured_queries)
    # the cabinet never reads the replica (a payment must show at once)
    with CaptureQueriesContext(replica_alias) as cabinet:
        assert subscriber_client.get("/").status_code == 200
    assert cabinet.captured_queries == []
