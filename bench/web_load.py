"""The two most requested pages under load: the cabinet home and /api/v1/account, on
PostgreSQL with 100,000 subscribers, beside a bare "hello" view on the same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abonent .venv/bin/python bench/web_load.py \
        [--subscribers 100000] [--reuse] [--seconds 10] [--connections 50] [--workers 4] \
        [--rounds 3]

Seeds (or reuses) the database `abonent_bench_web`, then
1. in process (Django's test client, no network): p50/p99 and the query count of each
   page over --requests requests;
2. over loopback: gunicorn (sync workers; sessions in PostgreSQL, as in production)
   driven by wrk with --connections connections for --seconds each:
   /healthz (no database: the "hello" baseline), the home page with a subscriber's
   session cookie, /api/v1/account with a bearer token, taking turns for --rounds
   rounds. Printed: the median req/s, p50 and p99, and the median (and range) of each
   round's req/s as a ratio to that round's hello.

Needs wrk (Debian: apt-get install wrk). Goals
(issue 12): home and /api/v1/account at >= 0.2 of hello, <= 6 queries, in-process
p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from billing_run import seeded_django  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def wrk(url: str, seconds: int, connections: int, header: str | None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if header:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)

    def latency(pct: str) -> float:
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rate": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "bad": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--requests", type=int, default=1000, help="in-process, per page")
    parser.add_argument("--rounds", type=int, default=3, help="loopback runs of every page")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.test", LOG_LEVEL="WARNING")
    seeded = seeded_django("abonent_bench_web", args.subscribers, args.reuse)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from abonent.accounts.models import User
    from abonent.subscribers.demo import demo_password
    from abonent.subscribers.models import Contract

    contract = Contract.objects.select_related("user").order_by("pk")[seeded // 2]
    password = demo_password(int(contract.number))
    User.objects.filter(pk=contract.user_id).update(password_change_required=False)

    client = Client()
    response = client.post("/login/", {"contract_number": contract.number, "password": password})
    assert response.status_code == 302, "the subscriber could not sign in"
    session = client.cookies["sessionid"].value
    assert client.get("/").status_code == 200
    csrf = client.cookies["csrftoken"].value  # a browser sends both cookies
    token = client.post(
        "/api/v1/auth/login",
        {"contract_number": contract.number, "password": password},
        content_type="application/json",
    ).json()["access_token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    anonymous = Client()

    pages = {
        "hello (/healthz)": (lambda: anonymous.get("/healthz"), "/healthz", None),
        "cabinet home": (
            lambda: client.get("/"),
            "/",
            f"Cookie: sessionid={session}; csrftoken={csrf}",
        ),
        "/api/v1/account": (
            lambda: api.get("/api/v1/account"),
            "/api/v1/account",
            f"Authorization: Bearer {token}",
        ),
    }

    print(f"\nIn process, {args.requests} requests each (Django test client, PostgreSQL):")
    print(f"{'page':<20} {'p50 ms':>8} {'p99 ms':>8} {'queries':>8}")
    for name, (call, _path, _header) in pages.items():
        for _ in range(20):
            assert call().status_code == 200
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            call()
        print(
            f"{name:<20} {statistics.median(times):>8.2f} {percentile(times, 0.99):>8.2f} "
            f"{len(ctx.captured_queries):>8}"
        )
    connection.close()

    port = free_port()
    # in memory, as deploy/ puts it (/run): counters on disk cost writeback under load
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    metrics_dir = tempfile.mkdtemp(prefix="abonent-bench-metrics-", dir=shm)
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "DB_CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--workers={args.workers}",
            f"--bind=127.0.0.1:{port}",
            "--worker-class=sync",
            "--backlog=2048",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=30).read()  # noqa: S310 — our loopback
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
        print(
            f"\ngunicorn ({args.workers} sync workers) + wrk, {args.connections} connections, "
            f"{args.seconds} s each, loopback; {args.rounds} rounds, the pages taking turns "
            "(this VM's speed drifts between minutes: each round's ratio uses that round's "
            "hello):"
        )
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
        for round_no in range(1, args.rounds + 1):
            line = []
            for name, (_call, path, header) in pages.items():
                wrk(url + path, 2, args.connections, header)  # warm every worker's connections
                result = wrk(url + path, args.seconds, args.connections, header)
                runs[name].append(result)
                line.append(f"{name} {result['rate']:.0f}")
            print(f"  round {round_no}: " + ", ".join(line) + " req/s")
        hello_runs = runs[next(iter(pages))]
        print(
            f"{'page':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs hello':>9} "
            f"{'(rounds)':>12} {'non-2xx':>8}"
        )
        for name, results in runs.items():
            ratios = [r["rate"] / h["rate"] for r, h in zip(results, hello_runs, strict=True)]
            print(
                f"{name:<20} {statistics.median(r['rate'] for r in results):>8.0f} "
                f"{statistics.median(r['p50'] for r in results):>8.2f} "
                f"{statistics.median(r['p99'] for r in results):>8.2f} "
                f"{statistics.median(ratios):>9.2f} "
                f"{f'{min(ratios):.2f}–{max(ratios):.2f}':>12} "
                f"{sum(r['bad'] for r in results):>8.0f}"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
