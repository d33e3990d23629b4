"""Fault tests (issue 12) with the real components: a private PostgreSQL cluster
restarted during a billing run, a private Redis stopped while payment notifications
arrive, an SMS gateway that hangs during "Forgot password?", and FreeRADIUS killed and
restarted while a NAS sends accounting. Each recovers with nothing lost or doubled,
checked on the ledger, the outbox and the traffic tables.

The machine's shared PostgreSQL on :5432 is never restarted: scenario 1 runs `manage.py`
in subprocesses against a cluster of its own (initdb + pg_ctl, as the `postgres` user)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from abonent.billing.models import LedgerEntry
from abonent.billing.selectors import mismatched_balances
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.testing import free_port
from abonent.notifications.tests import fakes

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(settings.BASE_DIR)
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUBSCRIBERS = 150


# --- helpers -------------------------------------------------------------------------


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def suite_database_url() -> str:
    """The pytest database, for subprocesses (the same way the crash test reaches it)."""
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DB_CONN_MAX_AGE": "0",
        **extra,
    }


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- 1. PostgreSQL restarted during a billing run --------------------------------------


class PrivatePostgres:
    """A throwaway cluster on a free port in a temp dir owned by `postgres`."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="abonent-faults-pg-"))
        # PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.base, "postgres", "postgres")
        self.data = self.base / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/abonent"

    def init(self) -> None:
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def _as_postgres(self, *command: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*self.as_user, *command],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def pg_ctl(self, action: str, *extra: str) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            *extra,
        )

    def start(self) -> None:
        self.pg_ctl("start")

    def create_database(self) -> None:
        self._as_postgres(
            str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "abonent"
        )

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self.as_user,
                    str(PG_BIN / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                ],
                capture_output=True,
                timeout=30,
            )
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 server binaries are missing in {PG_BIN} (postgresql-15).")
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.destroy()


def test_a_restarted_postgres_costs_no_request(private_postgres: PrivatePostgres):
    """A web worker's connection outlives requests (CONN_MAX_AGE) and is checked at the
    start of each one without a round trip (abonent.core.postgresql): a restart or a
    terminated backend is noticed before the request's first query, which then runs on a
    new connection instead of failing."""
    import dj_database_url
    import psycopg
    from django.db.utils import ConnectionHandler

    parsed = dj_database_url.parse(private_postgres.url, conn_max_age=600, conn_health_checks=True)
    parsed["ENGINE"] = "abonent.core.postgresql"
    db = ConnectionHandler({"default": parsed})["default"]

    def request() -> int:
        db.close_if_unusable_or_obsolete()  # what Django does at every request start
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    try:
        first = request()
        assert request() == first  # a healthy idle connection is kept
        assert db.is_usable()

        private_postgres.pg_ctl("restart", "-m", "fast")
        assert not db.is_usable()
        second = request()  # no OperationalError: a new connection
        assert second != first

        with psycopg.connect(private_postgres.url.replace("postgres://", "postgresql://")) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [second])
        wait_for(lambda: not db.is_usable(), 5, "the terminated connection to be noticed")
        assert request() not in (first, second)
    finally:
        db.close()


# Run inside `manage.py shell` against the private cluster: what a clean run of DAY
# charges, computed apart from the run's SQL (the crash test's function).
EXPECTED = """
import json
from abonent.billing.tests.test_crash_and_races import expected_charges
print(json.dumps(expected_charges()))
"""


class Ledger:
    """Reads the private cluster's ledger directly (no Django there)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.db = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)

    def charges(self, day: dt.date) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for key, amount in self.db.execute(
            "SELECT idempotency_key, amount FROM billing_ledgerentry"
            " WHERE kind = 'charge' AND effective_date = %s ORDER BY id",
            [day],
        ):
            found.setdefault(key, []).append(amount)
        return found

    def balances(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT id, balance FROM billing_account").fetchall())

    def mismatched(self) -> list[tuple[int, int, int]]:
        """check_balances: every cached balance equals the sum of its entries."""
        return self.db.execute(
            "SELECT a.id, a.balance, COALESCE(SUM(e.amount), 0) FROM billing_account a"
            " LEFT JOIN billing_ledgerentry e ON e.account_id = a.id"
            " GROUP BY a.id HAVING a.balance <> COALESCE(SUM(e.amount), 0)"
        ).fetchall()

    def runs(self, day: dt.date) -> list[tuple[str, int, int]]:
        return self.db.execute(
            "SELECT status, charges_created, contracts_done FROM billing_billingrun"
            " WHERE date = %s ORDER BY id",
            [day],
        ).fetchall()


def test_postgres_restarted_during_a_billing_run(private_postgres: PrivatePostgres):
    """`pg_ctl restart -m fast` while `manage.py bill` is half-way: the run fails with
    the database's error; the next run charges exactly what is missing."""
    from abonent.billing.tests.test_crash_and_races import DAY

    env = django_env(private_postgres.url)
    # The schema (and reference rows) of the pytest database, faster than migrating.
    dump = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-d", suite_database_url()],
        capture_output=True,
        timeout=60,
        check=True,
    )
    subprocess.run(
        [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", private_postgres.url],
        input=dump.stdout,
        capture_output=True,
        timeout=60,
        check=True,
    )
    seeded = manage("seed_demo", "--force", "--subscribers", str(SUBSCRIBERS), env=env)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    computed = manage("shell", "-c", EXPECTED, env=env)
    assert computed.returncode == 0, computed.stderr[-3000:]
    expected: dict[str, int] = json.loads(computed.stdout.strip().splitlines()[-1])
    ledger = Ledger(private_postgres.url)
    before = ledger.balances()
    assert ledger.charges(DAY) == {}
    assert len(expected) > SUBSCRIBERS * 2 // 3  # the demo data bills most of its contracts

    bill = subprocess.Popen(
        [
            *(sys.executable, "manage.py", "bill", "--date", DAY.isoformat(), "-v", "0"),
            *("--batch-size", "5", "--pause", "0.05"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def half_way() -> int:
            runs = ledger.runs(DAY)
            return runs[0][2] if runs and runs[0][2] >= SUBSCRIBERS // 3 else 0

        done_before_restart = wait_for(half_way, 60, "the billing run to get a third through")
        private_postgres.pg_ctl("restart", "-m", "fast")
        _out, err = bill.communicate(timeout=60)
    finally:
        stop(bill)
    assert bill.returncode == 1, err[-3000:]
    # It ends on the database's error (the last exception line of the traceback): the
    # session was terminated, or the reconnect found the server shutting down.
    raised = [line for line in err.splitlines() if line.startswith(("django.", "psycopg."))]
    assert raised[-1].startswith("django.db.utils.OperationalError: "), err[-3000:]
    assert done_before_restart < SUBSCRIBERS

    ledger = Ledger(private_postgres.url)  # the restart ended the old connection
    partial = sum(len(amounts) for amounts in ledger.charges(DAY).values())
    assert 0 < partial < len(expected)
    assert ledger.mismatched() == []  # batches are whole: charged rows and balances agree
    # The failure is recorded when the database is back in time, else the row stays
    # "running" as after a kill; either way the next run starts afresh.
    assert ledger.runs(DAY)[0][0] in ("failed", "running")

    rerun = manage("bill", "--date", DAY.isoformat(), "-v", "0", env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # Every contract charged exactly once: one entry per key, the amounts of a clean run.
    assert ledger.charges(DAY) == {key: [amount] for key, amount in expected.items()}
    assert ledger.mismatched() == []
    after = ledger.balances()
    assert sum(after[a] - before[a] for a in before) == sum(expected.values())
    runs = ledger.runs(DAY)
    assert [status for status, _charges, _done in runs][1:] == ["done"]
    assert sum(charges for _status, charges, _done in runs) == len(expected)  # none twice
    checked = manage("check_balances", env=env)
    assert (checked.returncode, checked.stdout.strip()) == (
        0,
        "All balances equal their ledger sums.",
    )


# --- 2. Redis down while payments arrive ---------------------------------------------


class RedisServer:
    """A private redis-server on a free port, nothing saved: a restart loses the queue,
    as a crashed Redis without persistence does."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16) == b"+PONG\r\n"
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, "redis-server to answer")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
        wait_for(lambda: not self.answers(), 5, "redis-server to stop")


class Queue:
    def __init__(self, redis: RedisServer, consumer: subprocess.Popen, log: Path) -> None:
        self.redis, self.consumer, self.log = redis, consumer, log


@pytest.fixture
def redis_queue(tmp_path: Path) -> Iterator[Queue]:
    """Jobs go through a real Redis to a real huey consumer (`manage.py run_huey`), as in
    production: this process enqueues into it, the consumer works on the test database."""
    from huey.contrib.djhuey import HUEY as huey_app
    from huey.storage import RedisStorage

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (Debian's redis-server package).")
    redis = RedisServer(tmp_path)
    saved = huey_app.storage, huey_app._immediate
    consumer: subprocess.Popen | None = None
    try:
        redis.start()
        huey_app._immediate = False
        huey_app.storage = RedisStorage(name=huey_app.name, url=redis.url)
        log = tmp_path / "consumer.log"
        with log.open("w") as out:
            consumer = subprocess.Popen(
                [
                    *(sys.executable, "manage.py", "run_huey", "--no-periodic", "-w", "2"),
                    *("-k", "thread", "--delay", "0.1", "--max-delay", "0.5"),
                ],
                cwd=ROOT,
                env=django_env(suite_database_url(), REDIS_URL=redis.url, HUEY_IMMEDIATE="0"),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        yield Queue(redis, consumer, log)
    finally:
        if consumer is not None:
            stop(consumer)
        redis.stop()
        huey_app.storage, huey_app._immediate = saved


def test_redis_down_while_payments_arrive(redis_queue: Queue, contract):
    """Notifications that arrive while the job queue is down are stored and answered 200
    (the provider stops retrying); once Redis is back a redelivery or the periodic sweep
    processes them: each payment credited once, one SMS each, late duplicates change
    nothing. An SMS queued during the outage is sent by the outbox sweep."""
    from abonent.notifications.models import Message
    from abonent.notifications.tasks import deliver_stalled
    from abonent.payments import services
    from abonent.payments.models import Payment, SandboxPayment, WebhookEvent
    from abonent.payments.providers.sandbox import SIGNATURE_HEADER, notification, sign
    from abonent.payments.tasks import retry_unprocessed_webhooks

    payments = [
        services.start_payment(
            contract,
            amount,
            idempotency_key=f"fault-{amount}",
            return_url="http://testserver/payments/{payment}/",
            actor=Actor.system("web"),
        )
        for amount in ("500", "300,50")
    ]
    rows = [SandboxPayment.objects.get(provider_payment_id=p.provider_payment_id) for p in payments]
    for row in rows:  # the subscriber paid on the provider's page
        row.status, row.card_last4 = "succeeded", "1111"
        row.save()
    provider = Client()

    def notify(row: SandboxPayment) -> tuple[int, dict]:
        body = notification(row, "payment.succeeded")
        response = provider.post(
            "/webhooks/sandbox/",
            body,
            content_type="application/json",
            headers={SIGNATURE_HEADER: sign(body)},
        )
        return response.status_code, response.json()

    def credited() -> list[str]:
        return sorted(
            Payment.objects.filter(status="succeeded").values_list("provider_payment_id", flat=True)
        )

    redis_queue.redis.stop()
    started = time.monotonic()
    assert notify(rows[0]) == (200, {"status": "accepted"})
    assert notify(rows[0]) == (200, {"status": "duplicate"})  # the provider's retry
    assert notify(rows[1]) == (200, {"status": "accepted"})
    assert time.monotonic() - started < 10  # answered, not hung on the dead queue
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 2
    assert credited() == []
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    # Meanwhile someone asks for a recovery code: the page works, the SMS waits.
    browser = Client()
    response = browser.post("/password/forgot/", {"phone": "+7 900 111-22-33", "channel": "sms"})
    assert (response.status_code, response["Location"]) == (302, "/password/forgot/code/")
    code_sms = Message.objects.get(kind="recovery_code")
    assert (code_sms.status, code_sms.attempts) == ("queued", 0)

    redis_queue.redis.start()  # empty: whatever was queued before is gone
    # A redelivery of the first notification takes up its lost job at once.
    assert notify(rows[0]) == (200, {"status": "duplicate"})
    wait_for(lambda: credited() == [rows[0].provider_payment_id], 20, "the redelivered payment")
    # The second one is not redelivered: the periodic sweep finds it (run now, as the
    # consumer's scheduler does every 2 minutes; its notification is older than that).
    WebhookEvent.objects.filter(processed_at__isnull=True).update(
        received_at=clock.now() - dt.timedelta(minutes=3)
    )
    retry_unprocessed_webhooks()
    wait_for(lambda: len(credited()) == 2, 20, "the swept payment")
    wait_for(
        lambda: Message.objects.filter(kind="payment_received", status="sent").count() == 2,
        20,
        "both payment SMS",
    )
    # The code SMS whose job was lost goes out from the outbox sweep (every 2 minutes).
    Message.objects.filter(pk=code_sms.pk).update(created_at=clock.now() - dt.timedelta(minutes=3))
    deliver_stalled()
    wait_for(
        lambda: Message.objects.filter(pk=code_sms.pk, status="sent").exists(), 20, "the code SMS"
    )

    # Late duplicates and another sweep after recovery change nothing.
    assert [notify(rows[0]), notify(rows[1])] == [(200, {"status": "duplicate"})] * 2
    retry_unprocessed_webhooks()
    deliver_stalled()
    time.sleep(1)  # let the consumer take anything left; nothing should be

    account = contract.account
    account.refresh_from_db()
    assert dict(
        LedgerEntry.objects.filter(account=account).values_list("idempotency_key", "amount")
    ) == {
        f"payment:sandbox:{rows[0].provider_payment_id}": 500_00,
        f"payment:sandbox:{rows[1].provider_payment_id}": 300_50,
    }
    assert account.balance == 800_50
    assert mismatched_balances() == []
    assert sorted(WebhookEvent.objects.values_list("event_key", "result")) == sorted(
        (f"payment.succeeded:{row.provider_payment_id}", "credited") for row in rows
    )
    assert sorted(
        Message.objects.filter(kind="payment_received").values_list(
            "dedupe_key", "status", "attempts"
        )
    ) == sorted((f"paid:{p.pk}", "sent", 1) for p in payments)
    assert list(Message.objects.filter(kind="recovery_code").values_list("status", "attempts")) == [
        ("sent", 1)
    ]
    assert redis_queue.consumer.poll() is None, redis_queue.log.read_text()[-3000:]


def test_the_cabinet_rides_out_a_redis_restart(tmp_path: Path, contract) -> None:
    """Signing in and the cabinet need PostgreSQL only (sessions live there, decision
    0016): with the shared cache gone a subscriber signs in and opens the home page;
    the cache's one client per process (abonent.core.cache) serves again once Redis is
    back."""
    from django.core.cache import caches
    from django.test import override_settings

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (Debian's redis-server package).")
    redis = RedisServer(tmp_path)
    redis.start()
    shared = {
        **settings.CACHES,
        "default": {"BACKEND": "abonent.core.cache.RedisCache", "LOCATION": redis.url},
    }
    try:
        with override_settings(CACHES=shared):
            cache = caches["default"]
            cache.set("probe", "before")
            client = cache._cache.get_client()  # type: ignore[attr-defined]
            assert cache._cache.get_client() is client  # type: ignore[attr-defined]

            redis.stop()
            browser = Client()
            response = browser.post(
                "/login/", {"contract_number": contract.number, "password": "correct horse battery"}
            )
            assert response.status_code == 302
            assert contract.number in browser.get("/").content.decode()

            redis.start()  # empty: nothing was saved
            assert cache.get("probe") is None
            cache.set("probe", "after")
            assert cache.get("probe") == "after"
            assert cache._cache.get_client() is client  # type: ignore[attr-defined]
            assert contract.number in browser.get("/").content.decode()
    finally:
        redis.stop()


# --- 3. SMS gateway timing out during password recovery --------------------------------


class HangingHandler(fakes.Handler):
    """While the gateway hangs, a request is read, held past the client's timeout and
    dropped unanswered: the gateway never took it."""

    server: HangingGateway

    def do_POST(self) -> None:
        if self.server.hanging:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.server.hung += 1
            time.sleep(self.server.hang_for)
            self.close_connection = True
            return
        super().do_POST()


class HangingGateway(fakes.FakeGateway):
    """The SMSC.ru stand-in of the gateway tests, able to hang; `requests` holds only
    what it took (and so delivered)."""

    def __init__(self) -> None:
        super().__init__()
        self.RequestHandlerClass = HangingHandler
        self.hanging = False
        self.hang_for = 0.0
        self.hung = 0


@pytest.fixture
def hanging_gateway(settings) -> Iterator[HangingGateway]:
    from abonent.core.testing import serving
    from abonent.notifications.gateways import _load

    with serving(HangingGateway()) as server:
        settings.SMS_GATEWAY = "smsc"
        settings.SMSC_URL = server.url
        settings.SMSC_LOGIN, settings.SMSC_PASSWORD = fakes.VALID
        settings.SMS_TIMEOUT = 0.5
        settings.SMS_HTTP_RETRIES = 2
        server.hang_for = 1.5
        _load.cache_clear()
        yield server
        _load.cache_clear()


def run_due_jobs() -> int:
    """What the consumer's scheduler does once retries are due: tests run jobs inline
    (huey immediate mode), where a retry scheduled for later waits in memory."""
    from huey.contrib.djhuey import HUEY as huey_app

    due = huey_app.read_schedule(dt.datetime(2100, 1, 1))
    for task in due:
        huey_app.execute(task, dt.datetime(2100, 1, 1))
    return len(due)


def test_sms_gateway_timing_out_during_password_recovery(contract, hanging_gateway):
    """The "Forgot password?" flow while the gateway hangs: the page answers after one
    timeout (no resend of a request the gateway may have taken), asking again is not
    blocked, the code that did not go out is withdrawn, and once the gateway answers
    exactly one code SMS is delivered and recovery completes."""
    import re

    from abonent.accounts.models import OneTimeCode
    from abonent.notifications.models import Message
    from abonent.notifications.tasks import deliver_stalled

    run_due_jobs()  # forget retries other tests left behind
    phone = contract.subscriber.phone
    browser = Client()
    browser.cookies["abonent_language"] = "ru"
    hanging_gateway.hanging = True

    response = browser.post("/password/forgot/", {"phone": "8 (900) 111-22-33", "channel": "sms"})
    assert (response.status_code, response["Location"]) == (302, "/password/forgot/code/")
    # Sent once: a send that timed out may have been taken, so it is not re-sent at once
    # (that was three SMS per try, and the page waited for all three timeouts).
    assert hanging_gateway.hung == 1
    page = browser.get("/password/forgot/code/")
    assert page.status_code == 200
    assert (
        "Если номер +7 900 ***-**-33 указан в договоре, на него уже отправлено SMS с кодом."
        in page.content.decode()
    )
    first = Message.objects.get(kind="recovery_code")
    assert (first.status, first.attempts, first.error) == ("queued", 1, "timeout: ReadTimeout")

    # A minute later the person asks again (not blocked), the gateway still hangs.
    OneTimeCode.objects.update(created_at=clock.now() - dt.timedelta(seconds=61))
    response = browser.post("/password/forgot/resend/", follow=True)
    assert response.status_code == 200
    assert "Новый код отправлен." in response.content.decode()
    assert hanging_gateway.hung == 2
    first.refresh_from_db()
    assert (first.status, first.error) == ("failed", "superseded by a newer code")
    second = Message.objects.filter(kind="recovery_code").latest("pk")
    assert (second.status, second.attempts) == ("queued", 1)

    # The gateway answers again; the scheduled retries run: only the newest code goes out.
    hanging_gateway.hanging = False
    assert run_due_jobs() == 2
    assert [(path, form["phones"]) for path, form in hanging_gateway.requests] == [
        ("/sys/send.php", phone.lstrip("+"))
    ]
    text = hanging_gateway.requests[0][1]["mes"]
    match = re.fullmatch(
        r"Код для восстановления пароля: (\d{6})\. Никому его не сообщайте: "
        r"сотрудники никогда его не спрашивают\.",
        text,
    )
    assert match, text
    response = browser.post("/password/forgot/code/", {"code": match.group(1)})
    assert response["Location"] == "/password/forgot/new/"
    response = browser.post(
        "/password/forgot/new/",
        {"new_password": "a brand new secret", "new_password_again": "a brand new secret"},
    )
    assert response["Location"] == "/"
    assert "Петров" in browser.get("/").content.decode()

    # Later sweeps and retries send nothing more: one code SMS, one "password changed".
    with time_machine.travel(clock.now() + dt.timedelta(hours=2), tick=False):
        deliver_stalled.call_local()
    run_due_jobs()
    assert [form["mes"] for _path, form in hanging_gateway.requests] == [
        text,
        f"Пароль от личного кабинета (договор {contract.number}) изменён. "
        f"Если это были не вы, позвоните {settings.PROVIDER_HOTLINE}.",
    ]
    assert sorted(Message.objects.values_list("kind", "status", "attempts")) == [
        ("password_changed", "sent", 1),
        ("recovery_code", "failed", 1),
        ("recovery_code", "sent", 2),
    ]


def test_a_code_the_gateway_could_not_take_in_time_is_not_sent_late(contract, hanging_gateway):
    """The gateway is back only after the code expired: the retry does not deliver a
    dead code; asking again sends a fresh one, once."""
    from abonent.notifications.models import Message

    run_due_jobs()  # forget retries other tests left behind
    browser = Client()
    browser.cookies["abonent_language"] = "ru"
    hanging_gateway.hanging = True
    browser.post("/password/forgot/", {"phone": "+7 900 111-22-33", "channel": "sms"})
    hanging_gateway.hanging = False
    with time_machine.travel(clock.now() + dt.timedelta(minutes=11), tick=False):
        assert run_due_jobs() == 1
        assert list(Message.objects.values_list("status", "attempts", "error")) == [
            ("failed", 1, "expired before it could be sent")
        ]
        assert hanging_gateway.requests == []
        response = browser.post("/password/forgot/resend/", follow=True)
        assert "Новый код отправлен." in response.content.decode()
    assert [form["mes"][:31] for _path, form in hanging_gateway.requests] == [
        "Код для восстановления пароля: "
    ]
    assert sorted(Message.objects.values_list("status", "attempts")) == [
        ("failed", 1),
        ("sent", 1),
    ]


# --- 4. FreeRADIUS restarted during accounting ----------------------------------------


class NasAccounting:
    """A router's accounting client: sends a request and retransmits the very same
    packet until FreeRADIUS answers (RFC 2866), as a NAS does; counts transmissions."""

    def __init__(self, port: int, secret: str) -> None:
        from pyrad.client import Client as RadiusClient

        from abonent.network.management.commands.simulate_nas import _dictionary

        self.port = port
        self.client = RadiusClient(
            server="127.0.0.1", acctport=port, secret=secret.encode(), dict=_dictionary()
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)

    def send(self, login: str, session: str, kind: str, octets_in: int, octets_out: int) -> int:
        from pyrad import packet

        from abonent.network.management.commands.simulate_nas import STATUS

        request = self.client.CreateAcctPacket(User_Name=login)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Acct-Status-Type"] = STATUS[kind]
        request["Acct-Session-Id"] = session
        request["Acct-Input-Octets"] = octets_in
        request["Acct-Output-Octets"] = octets_out
        if kind == "Stop":
            request["Acct-Terminate-Cause"] = 1  # User-Request
        raw = request.RequestPacket()
        deadline = time.monotonic() + 25
        sent = 0
        while time.monotonic() < deadline:
            self.sock.sendto(raw, ("127.0.0.1", self.port))
            sent += 1
            try:
                data = self.sock.recv(4096)
            except OSError:  # no answer (yet): send it again
                continue
            reply = request.CreateReply(packet=data)
            if request.VerifyReply(reply, data) and reply.code == packet.AccountingResponse:
                return sent
        raise AssertionError(f"no Accounting-Response for {session} {kind} after {sent} sends")

    def close(self) -> None:
        self.sock.close()


def test_freeradius_restarted_during_accounting(live_server, tmp_path, monkeypatch):
    """FreeRADIUS is killed while an Interim-Update it forwarded is being stored (so the
    NAS never gets its answer) and while a Stop is on its way; it is started again. The
    NAS's retransmissions reach the new instance: the interim arrives twice and counts
    once, the Stop is not lost, the traffic is exactly what the counters say."""
    from abonent.network import radius
    from abonent.network.management.commands.radius_config import write_config
    from abonent.network.models import Credential, Nas, Session, TrafficDaily
    from abonent.network.tests.test_freeradius import SECRET, free_udp_port, start_freeradius

    if shutil.which("freeradius") is None:
        pytest.fail(
            "FreeRADIUS is not installed: run scripts/ensure-system-deps.sh (make test does)."
        )
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    Nas.objects.create(name="lab", ip="127.0.0.1", secret=SECRET)
    TrafficDaily.objects.all().delete()  # forget the demo history: count only what comes now
    first, second = Credential.objects.order_by("contract_id")[:2]
    acct_port = free_udp_port()
    directory = write_config(
        tmp_path / "raddb",
        api=live_server.url,
        listen="127.0.0.1",
        auth_port=free_udp_port(),
        acct_port=acct_port,
    )

    stored: list[tuple[str, str]] = []
    in_flight, release = threading.Event(), threading.Event()
    real_accounting = radius.accounting

    def accounting(packet: dict[str, Any]) -> str:
        result = real_accounting(packet)  # committed
        session = str(radius.value(packet, "Acct-Session-Id"))
        kind = str(radius.value(packet, "Acct-Status-Type"))
        stored.append((session, kind))
        if (session, kind) == ("F-1", "Interim-Update") and not in_flight.is_set():
            in_flight.set()
            release.wait(10)  # the answer is held until FreeRADIUS has been killed
        return result

    monkeypatch.setattr(radius, "accounting", accounting)
    server = start_freeradius(directory)
    nas_a, nas_b = NasAccounting(acct_port, SECRET), NasAccounting(acct_port, SECRET)
    sends: dict[str, int] = {}
    try:
        nas_a.send(first.login, "F-1", "Start", 0, 0)
        nas_b.send(second.login, "F-2", "Start", 0, 0)

        def interim() -> None:
            sends["interim"] = nas_a.send(first.login, "F-1", "Interim-Update", 10_000, 200_000)

        def stop_second() -> None:
            sends["stop"] = nas_b.send(second.login, "F-2", "Stop", 30_000, 400_000)

        threads = [threading.Thread(target=interim)]
        threads[0].start()
        wait_for(in_flight.is_set, 10, "the interim update to reach the product")
        server.kill()  # a crash: the request in flight dies with it, unanswered
        server.wait(timeout=5)
        release.set()
        threads.append(threading.Thread(target=stop_second))
        threads[1].start()
        time.sleep(1.2)  # the NAS keeps retransmitting into the void
        server = start_freeradius(directory)
        for thread in threads:
            thread.join(timeout=30)
        assert sends["interim"] >= 2  # the answer was lost: the NAS had to send it again
        assert sends["stop"] >= 2  # nobody listened at first
        nas_a.send(first.login, "F-1", "Stop", 15_000, 250_000)
    finally:
        release.set()
        nas_a.close()
        nas_b.close()
        stop(server)

    # The interim reached the product twice (once per FreeRADIUS) and counted once.
    assert sorted(stored) == [
        ("F-1", "Interim-Update"),
        ("F-1", "Interim-Update"),
        ("F-1", "Start"),
        ("F-1", "Stop"),
        ("F-2", "Start"),
        ("F-2", "Stop"),
    ]
    assert sorted(
        Session.objects.values_list(
            "session_id", "login", "bytes_in", "bytes_out", "terminate_cause"
        )
    ) == [
        ("F-1", first.login, 15_000, 250_000, "User-Request"),
        ("F-2", second.login, 30_000, 400_000, "User-Request"),
    ]
    assert Session.objects.filter(stopped_at__isnull=True).count() == 0
    assert sorted(
        TrafficDaily.objects.values_list("contract_id", "day", "bytes_in", "bytes_out")
    ) == [
        (first.contract_id, clock.today(), 15_000, 250_000),
        (second.contract_id, clock.today(), 30_000, 400_000),
    ]
