"""Back-office search and the subscriber card on a large base, beside the cheapest
possible lookup measured in the same run (a contract by its unique number).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abonent .venv/bin/python bench/backoffice.py \
        [--subscribers 100000] [--reuse] [--repeat 5]

Creates (or reuses) the database `abonent_bench_backoffice`, seeds it with seed_demo,
then times each search the hotline makes and the card page through the whole Django
stack (a manager signed in with a second factor), printing the median time, the query
count and the ratio to the baseline. The goal is every search and the card under 1 s
on 100,000 subscribers, with query counts that do not depend on the base's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from billing_run import seeded_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args()
    seeded = seeded_django("abonent_bench_backoffice", args.subscribers, args.reuse)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from abonent.accounts.models import User
    from abonent.network.models import Credential
    from abonent.subscribers.models import Contract

    manager, _ = User.objects.get_or_create(
        username="bench-manager",
        defaults={"kind": User.Kind.STAFF, "role": User.Role.MANAGER, "is_staff": True},
    )
    manager.set_password("bench-password-1")
    manager.save()
    device, _ = TOTPDevice.objects.get_or_create(user=manager, name="bench", confirmed=True)
    client = Client()  # signs in the way staff do: password, then the authenticator code
    client.post("/staff/login/", {"username": manager.username, "password": "bench-password-1"})
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    client.post("/staff/login/verify/", {"token": f"{token:06d}"})

    middle = Contract.objects.order_by("pk")[seeded // 2]
    person = middle.subscriber
    login = Credential.objects.get(contract=middle).login

    def timed(fn):
        runs, queries = [], 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                fn()
                runs.append(time.perf_counter() - start)
            queries = len(ctx.captured_queries)
        return statistics.median(runs), queries

    baseline, _ = timed(lambda: Contract.objects.get(number=middle.number))

    def page(url, params=None):
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)

    cases = [
        ("search: contract number", lambda: page("/staff/contracts/", {"q": middle.number})),
        ("search: surname", lambda: page("/staff/contracts/", {"q": person.last_name})),
        ("search: phone, any format", lambda: page("/staff/contracts/", {"q": person.phone})),
        (
            "search: street and house",
            lambda: page(
                "/staff/contracts/", {"q": f"{middle.address.street} {middle.address.house}"}
            ),
        ),
        ("search: PPPoE login", lambda: page("/staff/contracts/", {"q": login})),
        ("search: IP address", lambda: page("/staff/contracts/", {"q": "100.64.0.1"})),
        ("subscriber card", lambda: page(f"/staff/contracts/{middle.pk}/")),
    ]
    print(f"baseline (a contract by number, ORM only): {baseline * 1000:.2f} ms")
    print(f"{'what':34} {'median':>10} {'queries':>8} {'ratio to baseline':>18}")
    worst = 0.0
    for name, fn in cases:
        seconds, queries = timed(fn)
        worst = max(worst, seconds)
        print(f"{name:34} {seconds * 1000:>8.1f} ms {queries:>8} {seconds / baseline:>18.0f}")
    print(f"slowest: {worst * 1000:.0f} ms (goal < 1000 ms on {seeded:,} subscribers)")


if __name__ == "__main__":
    main()
