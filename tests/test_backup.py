"""Backups (security.md, "Reliability"): scripts/backup.sh then scripts/restore.sh into a
fresh database give back exactly the money that was there.

A source database of its own is migrated and gets demo subscribers and real money
movements through the services: the demo
payments, two billing days, sandbox card payments, a staff correction and a reversal.
backup.sh dumps it and archives the attachments; restore.sh creates a new database,
loads the dump and runs `check_balances`. Then both databases are read with psycopg and
compared: every account's balance, the ledger (count, sums by kind, and a digest of every
row), contracts, the id sequences, the immutability trigger, and the attachments byte
for byte."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent

# Runs inside `manage.py shell` against the source database: everything through services.
SEED = """
import datetime as dt
from django.core.management import call_command
from abonent.accounts.models import User
from abonent.billing import services as billing
from abonent.billing.models import LedgerEntry
from abonent.billing.run import run_billing
from abonent.core import clock
from abonent.core.context import Actor
from abonent.payments import services as payments
from abonent.payments.models import SandboxPayment
from abonent.subscribers.models import Contract

call_command("migrate", interactive=False, verbosity=0)
call_command("seed_demo", "--force", "--subscribers", "8", verbosity=0)
today = clock.today()
for day in (today, today + dt.timedelta(days=1)):
    run_billing(day)
contracts = list(Contract.objects.filter(status="active").order_by("number")[:3])
for n, contract in enumerate(contracts):
    payment = payments.start_payment(
        contract, str(150 + 25 * n), idempotency_key=f"backup-test-{n}",
        return_url="https://billing.example.net/payments/{payment}/", actor=Actor.system("web"),
    )
    row = SandboxPayment.objects.get(provider_payment_id=payment.provider_payment_id)
    row.status, row.card_last4 = "succeeded", "1111"
    row.save()
    payments.refresh(payment, Actor.system("job"))
admin = Actor(user=User.objects.get(username="admin"), channel="admin")
billing.post_correction(contracts[0].pk, -1234, "backup test: a correction", admin)
charge = LedgerEntry.objects.filter(kind="charge").order_by("id").first()
billing.reverse_entry(charge.pk, "backup test: a reversal", admin)
print("seeded", LedgerEntry.objects.count())
"""


def server_url(database: str) -> str:
    """DATABASE_URL of the test database's server, naming another database."""
    settings = connections["default"].settings_dict
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{database}"


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(server_url("postgres"), autocommit=True)


def production_env(database_url: str, media: Path, tmp: Path) -> dict[str, str]:
    """What /etc/abonent/abonent.env gives the scripts on a server (production settings)."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        RADIUS_API_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="billing.example.net",
        DATABASE_URL=database_url,
        ALLOW_SANDBOX_PAYMENTS="1",
        HUEY_IMMEDIATE="1",  # no worker here: jobs run where they are enqueued
        HUEY_SQLITE_PATH=str(tmp / "huey.sqlite3"),
        PRIVATE_MEDIA_ROOT=str(media),
        ABONENT_PYTHON=sys.executable,
    )
    return env


def run(args: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def snapshot(database_url: str) -> dict[str, object]:
    """What must survive a backup: money to the kopeck, and every ledger row."""
    with psycopg.connect(database_url) as conn:

        def rows(query: str) -> list[tuple]:
            return conn.execute(query).fetchall()

        return {
            "balances": rows(
                "SELECT c.number, a.balance, a.currency FROM billing_account a"
                " JOIN subscribers_contract c ON c.id = a.contract_id ORDER BY c.number"
            ),
            "ledger_totals": rows(
                "SELECT count(*), coalesce(sum(amount), 0) FROM billing_ledgerentry"
            ),
            "ledger_by_kind": rows(
                "SELECT kind, count(*), sum(amount) FROM billing_ledgerentry"
                " GROUP BY kind ORDER BY kind"
            ),
            "ledger_digest": rows(
                "SELECT md5(string_agg(concat_ws('|', id, account_id, kind, amount, currency,"
                " idempotency_key, effective_date, reverses_id, created_by_id, created_at),"
                " ';' ORDER BY id)) FROM billing_ledgerentry"
            ),
            "contracts": rows("SELECT count(*) FROM subscribers_contract"),
            "contract_statuses": rows(
                "SELECT status, count(*) FROM subscribers_contract GROUP BY status ORDER BY 1"
            ),
            "payments": rows(
                "SELECT status, count(*), sum(amount) FROM payments_payment GROUP BY 1 ORDER BY 1"
            ),
            "ledger_sequence": rows("SELECT last_value, is_called FROM billing_ledgerentry_id_seq"),
            "mismatched": rows(
                "SELECT a.id FROM billing_account a LEFT JOIN billing_ledgerentry e"
                " ON e.account_id = a.id GROUP BY a.id"
                " HAVING a.balance <> coalesce(sum(e.amount), 0)"
            ),
            "immutability_triggers": rows(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'billing_ledgerentry'::regclass AND NOT tgisinternal"
                " ORDER BY tgname"
            ),
        }


def files_of(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """A new, empty source database and the name to restore into; both dropped afterwards."""
    pid = os.getpid()
    source, restored = f"abonent_backup_src_{pid}", f"abonent_backup_restored_{pid}"
    with admin_connection() as conn:
        for name in (source, restored):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source)))
    try:
        yield source, restored
    finally:
        with admin_connection() as conn:
            for name in (source, restored):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def test_a_restored_backup_has_identical_balances_ledger_and_attachments(databases, tmp_path):
    source, restored = databases
    source_url, restored_url = server_url(source), server_url(restored)
    media, backups = tmp_path / "private", tmp_path / "backups"
    env = production_env(source_url, media, tmp_path)

    seeded = run([sys.executable, "manage.py", "shell", "-c", SEED], env)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    # Ticket attachments as the support desk stores them, one with an awkward name.
    for relative in ("tickets/2026/11/a1/scan.pdf", "tickets/2026/11/b2/фото договора.jpg"):
        path = media / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(4096))
    before = snapshot(source_url)
    assert before["ledger_totals"][0][0] >= 20, "too little money moved to prove anything"
    assert {kind for kind, *_ in before["ledger_by_kind"]} >= {"payment", "charge", "correction"}
    assert before["mismatched"] == []

    # An older set that retention (BACKUP_KEEP=2) keeps, and one it removes.
    backups.mkdir()
    for stamp in ("20200101T000000Z", "20200102T000000Z"):
        for suffix in (".dump", ".private.tar.gz", ".sha256"):
            (backups / f"abonent-{stamp}{suffix}").write_text("old")
    backed_up = run(["scripts/backup.sh", str(backups)], {**env, "BACKUP_KEEP": "2"})
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    dumps = sorted(backups.glob("abonent-*.dump"))
    assert [d.name for d in dumps[:1]] == ["abonent-20200102T000000Z.dump"]
    assert len(dumps) == 2, [d.name for d in dumps]
    assert not list(backups.glob("abonent-20200101T000000Z*")), "retention kept an old set"
    assert not list(backups.glob("*.partial"))
    dump = dumps[-1]
    assert (backups / dump.name.replace(".dump", ".private.tar.gz")).exists()
    assert (backups / dump.name.replace(".dump", ".sha256")).exists()
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # personal data: the owner only

    restored_media = tmp_path / "restored-private"
    restore_env = {**env, "DATABASE_URL": restored_url, "PRIVATE_MEDIA_ROOT": str(restored_media)}
    result = run(["scripts/restore.sh", str(dump)], restore_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All balances equal their ledger sums." in result.stdout

    after = snapshot(restored_url)
    for key, value in before.items():
        assert after[key] == value, key
    assert after["immutability_triggers"], "the ledger's immutability trigger was not restored"
    assert files_of(restored_media) == files_of(media)

    # A restore never overwrites: the same target again is refused, the data untouched.
    again = run(["scripts/restore.sh", str(dump)], restore_env)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert snapshot(restored_url) == after


def test_restore_refuses_a_damaged_backup(tmp_path):
    """A dump that does not match its checksum is not loaded (no database is created)."""
    dump = tmp_path / "abonent-20261127T000000Z.dump"
    dump.write_bytes(b"PGDMP-not-really")
    (tmp_path / "abonent-20261127T000000Z.sha256").write_text(f"{'0' * 64}  {dump.name}\n")
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/never_created",
        "ABONENT_PYTHON": sys.executable,
    }
    result = run(["scripts/restore.sh", str(dump)], env)
    assert result.returncode != 0
    assert "does not match its checksums" in result.stderr


def test_the_database_password_goes_to_libpq_by_environment_not_command_line():
    """backup.sh and restore.sh hand DATABASE_URL to pg_dump as PG* variables (a password
    in arguments is readable by every user in `ps`), percent-encoding undone."""
    url = "postgres://abonent:p%40ss%3Aw%2Fd@db.example.net:6432/abonent_live?sslmode=require"
    script = 'source deploy/pg_env.sh && pg_env_from_url "$1" && echo "$PGHOST|$PGPORT|$PGUSER|$PGPASSWORD|$PGDATABASE|$PGSSLMODE"'
    result = subprocess.run(
        ["bash", "-c", script, "-", url],
        cwd=ROOT,
        env={**os.environ, "ABONENT_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "db.example.net|6432|abonent|p@ss:w/d|abonent_live|require"
    bad = subprocess.run(
        ["bash", "-c", 'source deploy/pg_env.sh && pg_env_from_url "$1"', "-", "sqlite:///x.db"],
        cwd=ROOT,
        env={**os.environ, "ABONENT_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "not PostgreSQL" in bad.stderr
