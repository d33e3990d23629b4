"""Benchmark RADIUS through a real FreeRADIUS into the product, beside FreeRADIUS alone,
measured in the same run on the same machine (ratios are what to compare).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abonent .venv/bin/python bench/radius_load.py \
        [--subscribers 2000] [--seconds 5] [--web-workers 2]

It creates the database `abonent_bench_radius`, seeds it, registers 127.0.0.1 as a NAS,
then runs its own UDP load generator (loopback only, each phase bounded by --seconds)
against two FreeRADIUS instances in turn:

  baseline  the same radiusd.conf with `authorize { files; pap }` (a users file holding
            every login) and `accounting { ok }`: FreeRADIUS answering, nothing stored;
  product   the generated configuration: authorisation asks the product over rlm_rest
            (gunicorn), accounting is buffered in detail files and loaded in bulk;
  sql       the generated configuration with `--authorize sql`: FreeRADIUS reads the
            decision table the product keeps current (rlm_sql, PostgreSQL).

Every Interim-Update is a different session (a million sessions at 5-minute interims
look like that), so nothing collapses. "Stored" counts rows that reached PostgreSQL and
divides by the send time plus the ingest time, end to end, with no overlap credited.
BENCH_KEEP=/some/dir keeps both configurations and FreeRADIUS logs for a look afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from billing_run import prepare_database  # noqa: E402

SECRET = "bench-secret"
ACCESS_REQUEST, ACCESS_ACCEPT, ACCOUNTING_REQUEST = 1, 2, 4
SOCKETS, WINDOW, LOSS_TIMEOUT = 16, 24, 2.0
PACKETS_PER_SECOND_CAP = 60_000  # pre-encoded packets per phase second; above what 2 cores answer


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- packets (RFC 2865 / 2866) ---------------------------------------------------------


def attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!BB", kind, len(value) + 2) + value


def integer(kind: int, value: int) -> bytes:
    return attribute(kind, struct.pack("!I", value))


NAS_IP = attribute(4, socket.inet_aton("127.0.0.1"))


def access_request(ident: int, login: str, password: str) -> bytes:
    authenticator = secrets.token_bytes(16)
    pad = password.encode().ljust(16, b"\0")[:16]
    key = hashlib.md5(SECRET.encode() + authenticator).digest()
    hidden = bytes(a ^ b for a, b in zip(pad, key, strict=True))
    body = attribute(1, login.encode()) + attribute(2, hidden) + NAS_IP
    return struct.pack("!BBH", ACCESS_REQUEST, ident, 20 + len(body)) + authenticator + body


def interim_update(ident: int, login: str, session: str, n: int) -> bytes:
    body = (
        integer(40, 3)  # Acct-Status-Type = Interim-Update
        + attribute(44, session.encode())
        + attribute(1, login.encode())
        + NAS_IP
        + integer(42, 1_000_000 + n)  # Acct-Input-Octets
        + integer(43, 9_000_000 + n)  # Acct-Output-Octets
        + integer(46, 300)  # Acct-Session-Time
    )
    header = struct.pack("!BBH", ACCOUNTING_REQUEST, ident, 20 + len(body))
    authenticator = hashlib.md5(header + b"\0" * 16 + body + SECRET.encode()).digest()
    return header + authenticator + body


# --- the load generator --------------------------------------------------------------


def blast(port: int, packets: list[list[bytes]], seconds: float) -> dict[str, float]:
    """Send the pre-encoded packets (one list per socket, IDs 0..255 in turn) keeping
    WINDOW requests in flight per socket, until the lists run out or time is up."""
    socks = []
    for _ in packets:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
    queues = [deque(p) for p in packets]
    in_flight: list[dict[int, float]] = [{} for _ in packets]
    codes: dict[int, int] = {}
    sent = lost = 0
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    start = time.monotonic()
    deadline = start + seconds
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        for i, s in enumerate(socks):
            flight, queue = in_flight[i], queues[i]
            for ident in [k for k, at in flight.items() if now - at > LOSS_TIMEOUT]:
                del flight[ident]
                lost += 1
            while queue and len(flight) < WINDOW and queue[0][1] not in flight:
                data = queue.popleft()
                try:
                    s.send(data)
                except BlockingIOError:
                    queue.appendleft(data)
                    break
                flight[data[1]] = now
                sent += 1
        if not any(in_flight) and not any(queues):
            break
        ready, _w, _x = select.select(socks, [], [], 0.05)
        for s in ready:
            i = by_fd[s.fileno()]
            while True:
                try:
                    reply = s.recv(4096)
                except BlockingIOError:
                    break
                if in_flight[i].pop(reply[1], None) is not None:
                    codes[reply[0]] = codes.get(reply[0], 0) + 1
    elapsed = time.monotonic() - start
    for s in socks:
        s.close()
    answered = sum(codes.values())
    return {
        "sent": sent,
        "answered": answered,
        "lost": lost,  # no answer within LOSS_TIMEOUT
        "in_flight": sum(len(f) for f in in_flight),  # still waiting when time was up
        "codes": codes,  # type: ignore[dict-item]
        "seconds": elapsed,
        "rate": answered / elapsed,
    }


def spread(make, total: int) -> list[list[bytes]]:
    """`total` packets over SOCKETS sockets; packet k of a socket carries ID k % 256."""
    per_socket = [[] for _ in range(SOCKETS)]  # type: ignore[var-annotated]
    for n in range(total):
        lane = per_socket[n % SOCKETS]
        lane.append(make(len(lane) % 256, n))
    return per_socket


# --- FreeRADIUS ----------------------------------------------------------------------


def replace_block(text: str, header: str, replacement: str) -> str:
    """Replace the first `header {...}` block (braces balanced) with `replacement`."""
    start = text.index(header, text.index("server abonent {"))
    depth, i = 0, text.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return text[:start] + replacement + text[i:]


def baseline_config(product: Path, target: Path, users: list[tuple[str, str]]) -> Path:
    shutil.copytree(product, target)
    conf = (target / "radiusd.conf").read_text()
    conf = conf.replace(str(product), str(target))
    conf = conf.replace(
        "modules {",
        "modules {\n\talways ok {\n\t\trcode = ok\n\t}\n"
        f"\tfiles {{\n\t\tfilename = {target}/users\n\t}}",
        1,
    )
    conf = replace_block(conf, "\tauthorize {", "\tauthorize {\n\t\tfiles\n\t\tpap\n\t}")
    conf = replace_block(conf, "\taccounting {\n", "\taccounting {\n\t\tok\n\t}\n")
    (target / "radiusd.conf").write_text(conf)
    (target / "users").write_text(
        "".join(
            f'"{login}" Cleartext-Password := "{password}"\n\tMikrotik-Rate-Limit = "100M/100M"\n\n'
            for login, password in users
        )
    )
    return target


def start_freeradius(directory: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["freeradius", "-f", "-l", "stdout", "-d", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Ready to process requests" in line or process.poll() is not None:
            break
    if not any("Ready to process requests" in line for line in lines):
        process.kill()
        sys.exit("FreeRADIUS did not start:\n" + "".join(lines[-30:]))
    out = process.stdout
    log = open(directory / "bench.log", "w")  # noqa: SIM115 - kept open while it runs

    def drain() -> None:
        for line in out:
            log.write(line)
        log.close()

    threading.Thread(target=drain, daemon=True).start()
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if FreeRADIUS is still draining its pools after 10 s (a
    stuck rlm_rest connection must not end the benchmark)."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load phase")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers for rlm_rest")
    args = parser.parse_args()
    if shutil.which("freeradius") is None:
        sys.exit("FreeRADIUS is not installed: run scripts/ensure-system-deps.sh.")

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/abonent")
    os.environ["DATABASE_URL"] = prepare_database(base, "abonent_bench_radius", reuse=False)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    from abonent.network.detail import ingest_directory
    from abonent.network.management.commands.radius_config import write_config
    from abonent.network.models import Credential, Nas, Session

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", "--subscribers", str(args.subscribers), verbosity=0)
    Nas.objects.create(name="bench", ip="127.0.0.1", secret=SECRET)
    users = [
        (c.login, c.password)
        for c in Credential.objects.filter(contract__status="active").order_by("pk")
    ]
    logins = [login for login, _ in users]
    print(f"{len(users)} active logins; FreeRADIUS {_version()}; {os.cpu_count()} CPU(s)")

    total = int(args.seconds * PACKETS_PER_SECOND_CAP)
    t0 = time.perf_counter()
    auth_packets = spread(lambda i, n: access_request(i, *users[n % len(users)]), total)
    print(f"encoded {2 * total:,} packets in {time.perf_counter() - t0:.1f} s")

    def acct_packets(tag: str) -> list[list[bytes]]:
        return spread(
            lambda i, n: interim_update(i, logins[n % len(logins)], f"{tag}{n}", n), total
        )

    web_port = free_tcp_port()
    web = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{web_port}",
            f"--workers={args.web_workers}",
            # rlm_rest keeps a pool of open connections: a sync worker would sit on an
            # idle one; threads with keep-alive serve them all.
            "--worker-class=gthread",
            "--threads=8",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**os.environ},
    )
    with tempfile.TemporaryDirectory() as tmp:
        auth_port, acct_port = free_udp_port(), free_udp_port()
        product_dir = write_config(
            Path(tmp) / "product",
            api=f"http://127.0.0.1:{web_port}",
            listen="127.0.0.1",
            auth_port=auth_port,
            acct_port=acct_port,
            accounting="detail",
        )
        sql_dir = write_config(
            Path(tmp) / "sql",
            api=f"http://127.0.0.1:{web_port}",
            listen="127.0.0.1",
            auth_port=auth_port,
            acct_port=acct_port,
            accounting="detail",
            authorize="sql",
        )
        baseline_dir = baseline_config(product_dir, Path(tmp) / "baseline", users)
        _wait_for_web(web_port)

        results: dict[str, dict[str, float]] = {}
        try:
            phases = (
                ("alone", baseline_dir, "a"),
                ("product", product_dir, "p"),
                ("sql", sql_dir, ""),
            )
            for label, config, tag in phases:
                radiusd = start_freeradius(config)
                try:
                    results[f"auth {label}"] = blast(auth_port, auth_packets, args.seconds)
                    if tag:
                        acct = acct_packets(f"bench-{tag}-")
                        results[f"acct {label}"] = blast(acct_port, acct, args.seconds)
                finally:
                    stop(radiusd)
        finally:
            web.terminate()
            web.wait(timeout=10)
        if os.environ.get("BENCH_KEEP"):
            shutil.copytree(tmp, os.environ["BENCH_KEEP"], dirs_exist_ok=True)
        t0 = time.perf_counter()
        loaded = ingest_directory(product_dir / "radacct", include_open=True)
        ingest_seconds = time.perf_counter() - t0

    stored = Session.objects.filter(session_id__startswith="bench-p-").count()
    for name, r in results.items():
        print(
            f"{name:13} sent {r['sent']:>7,}  answered {r['answered']:>7,}  lost {r['lost']:>5,}"
            f"  in flight {r['in_flight']:>4,}"
            f"  {r['rate']:>8,.0f}/s  codes {r['codes']}"
        )
    send_seconds = results["acct product"]["seconds"]
    stored_rate = stored / (send_seconds + ingest_seconds)
    print(
        f"ingest: {loaded['records']:,} records from {loaded['files']} file(s) in {ingest_seconds:.2f} s"
        f" ({loaded['records'] / ingest_seconds:,.0f}/s); {stored:,} sessions in PostgreSQL"
    )

    def accepted(label: str) -> float:
        accepts = results[label]["codes"].get(ACCESS_ACCEPT, 0)  # type: ignore[attr-defined]
        return accepts / results[label]["seconds"]

    auth_rate, rest_rate = accepted("auth sql"), accepted("auth product")
    print()
    print(f"stored interim updates/s, end to end : {stored_rate:>8,.0f}   (goal >= 10,000)")
    print(
        f"  ratio to FreeRADIUS alone          : {stored_rate / results['acct alone']['rate']:>8.2f}"
    )
    print(f"accepted authorisations/s (rlm_sql)  : {auth_rate:>8,.0f}   (goal >= 2,000)")
    print(
        f"  ratio to FreeRADIUS alone (files)  : {auth_rate / results['auth alone']['rate']:>8.2f}"
    )
    print(f"accepted authorisations/s (rlm_rest) : {rest_rate:>8,.0f}")
    print(f"  ratio rlm_sql to rlm_rest          : {auth_rate / rest_rate:>8.2f}")
    if stored != loaded["records"] or loaded["ignored"]:
        sys.exit("Some accounting was not stored.")


def _version() -> str:
    out = subprocess.run(["freeradius", "-v"], capture_output=True, text=True).stdout
    match = re.search(r"Version ([\d.]+)", out)
    return match.group(1) if match else "?"


def _wait_for_web(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start")


if __name__ == "__main__":
    main()
