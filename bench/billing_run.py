"""Benchmark the daily billing run on PostgreSQL against plain SQL, measured in the same
run on the same machine (ratios, not absolute times, are what to compare).

    .venv/bin/python bench/billing_run.py [--subscribers 100000] [--reuse]

It creates (or with --reuse keeps) the database `abonent_bench` next to DATABASE_URL's,
seeds it with `seed_demo`, then times:
  1. baseline: one `INSERT … SELECT` of one ledger row per account into the ledger table
     itself (same indexes, foreign keys and unique key), rolled back afterwards,
  2. the billing run for a day (every account charged once),
  3. an immediate re-run of the same day (must charge nothing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import dj_database_url
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(base_url: str, name: str, reuse: bool) -> str:
    cfg = dj_database_url.parse(base_url)
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    admin = psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists and not reuse:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        exists = None
    if not exists:
        admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    user = cfg["USER"] or "postgres"
    auth = f"{user}:{cfg['PASSWORD']}@" if cfg["PASSWORD"] else f"{user}@"
    return f"postgres://{auth}{cfg['HOST']}:{cfg['PORT'] or 5432}/{name}"


def seeded_django(name: str, subscribers: int, reuse: bool) -> int:
    """Django set up on the bench database `name`, migrated and holding `subscribers`
    demo subscribers (kept from an earlier run with `reuse`); returns the count."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/abonent")
    os.environ["DATABASE_URL"] = prepare_database(base, name, reuse)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from abonent.subscribers.models import Contract

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if not Contract.objects.exists():
        call_command("seed_demo", "--force", "--subscribers", str(subscribers), verbosity=0)
    seeded = Contract.objects.count()
    print(f"{seeded:,} contracts ready in {time.perf_counter() - started:.1f} s")
    return seeded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--day", default="2026-12-02")
    parser.add_argument(
        "--profile", action="store_true", help="print where the first run spends its time"
    )
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/abonent")
    os.environ["DATABASE_URL"] = prepare_database(base, "abonent_bench", args.reuse)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # Notices (block SMS, reminders) go to the job queue, as in production, where a
    # worker sends them; the run itself is what is measured.
    os.environ["HUEY_IMMEDIATE"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from abonent.billing.models import LedgerEntry
    from abonent.billing.run import run_billing
    from abonent.subscribers.models import Contract

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    call_command("seed_demo", "--force", "--subscribers", str(args.subscribers), verbosity=0)
    print(f"seed_demo --subscribers {args.subscribers}: {time.perf_counter() - t0:.1f} s")

    day = dt.date.fromisoformat(args.day)
    if LedgerEntry.objects.filter(effective_date=day, kind="charge").exists():
        sys.exit(
            f"{day} is already billed in this database; run without --reuse or pick another --day."
        )
    accounts = Contract.objects.exclude(status="terminated").count()

    # Baseline: the same number of rows straight into the real ledger table (its indexes,
    # foreign keys and unique key included), in a transaction that is then rolled back.
    with transaction.atomic(), connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute(
            """INSERT INTO billing_ledgerentry (account_id, kind, amount, currency, idempotency_key,
                                              description, effective_date, created_at)
               SELECT a.id, 'charge', -2167, 'RUB', 'bench:' || c.number || ':' || %s, t.name, %s, now()
               FROM billing_account a JOIN subscribers_contract c ON c.id = a.contract_id
               JOIN catalog_tariff t ON t.id = c.tariff_id""",
            [day.isoformat(), day],
        )
        baseline_rows = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred FK checks, timed too
        baseline = time.perf_counter() - t0
        transaction.set_rollback(True)

    t0 = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        first = profiler.runcall(run_billing, day)
        first_s = time.perf_counter() - t0
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        first = run_billing(day)
        first_s = time.perf_counter() - t0
    first.refresh_from_db()
    t0 = time.perf_counter()
    again = run_billing(day)
    again_s = time.perf_counter() - t0
    again.refresh_from_db()

    base_rate = baseline_rows / baseline
    first_rate = accounts / first_s
    again_rate = accounts / again_s
    print(f"accounts: {accounts}")
    print(
        f"baseline INSERT…SELECT: {baseline_rows} rows in {baseline:.2f} s = {base_rate:,.0f} rows/s"
    )
    print(
        f"billing run {day}: {first.charges_created} charges in {first_s:.2f} s = {first_rate:,.0f} accounts/s "
        f"(ratio to baseline {first_rate / base_rate:.2f})"
    )
    print(
        f"re-run of {day}: {again.charges_created} charges in {again_s:.2f} s = {again_rate:,.0f} accounts/s "
        f"(ratio to baseline {again_rate / base_rate:.2f}; to the first run {again_rate / first_rate:.2f})"
    )
    if again.charges_created != 0:
        sys.exit("FAIL: the re-run charged again")


if __name__ == "__main__":
    main()
