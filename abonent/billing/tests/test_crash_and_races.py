"""A billing run killed by SIGKILL mid-way, then run again, leaves the same ledger as a
clean run; concurrent changes on one account never lose an update (PostgreSQL)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from abonent.billing import lifecycle
from abonent.billing.models import Account, BillingRun, LedgerEntry, TariffChange
from abonent.billing.rules import charge_amount
from abonent.billing.run import run_billing
from abonent.billing.selectors import mismatched_balances
from abonent.billing.services import post_entry
from abonent.catalog.models import Tariff
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.models import Contract

ROOT = Path(settings.BASE_DIR)
DAY = dt.date(2026, 12, 2)


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def bill(*extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "bill", "--date", DAY.isoformat(), "-v", "0", *extra],
        cwd=ROOT,
        env=env,
    )


def expected_charges() -> dict[str, int]:
    """What a clean run charges, computed independently of the run's SQL."""
    expected = {}
    for contract in Contract.objects.select_related("tariff").filter(
        status="active", signed_on__lte=DAY
    ):
        mode = contract.tariff.charging_mode
        period = f"{DAY:%Y-%m-%d}" if mode == "daily" else f"{DAY:%Y-%m}"
        expected[f"sub:{contract.number}:{period}"] = -charge_amount(
            contract.tariff.monthly_price, DAY, mode
        )
        for link in contract.addons.filter(disconnected_on__isnull=True).select_related("addon"):
            if link.addon.billing == "recurring" and link.connected_on <= DAY:
                expected[f"addon:{contract.number}:{link.addon.code}:{period}"] = -charge_amount(
                    link.addon.price, DAY, mode
                )
    return expected


@pytest.mark.django_db(transaction=True)
def test_killed_run_then_rerun_equals_a_clean_run():
    call_command("seed_demo", "--force", "--subscribers", "300", verbosity=0)
    balances_before = dict(Account.objects.values_list("id", "balance"))
    expected = expected_charges()

    process = bill("--batch-size", "5", "--pause", "0.05")
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline:
        done = (
            BillingRun.objects.filter(date=DAY).values_list("contracts_done", flat=True).first()
            or 0
        )
        if done >= 40:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # a real kill: no cleanup, no exception handler
    process.wait()
    assert 40 <= done < 300, "the kill should land in the middle of the run"
    partial = LedgerEntry.objects.filter(kind="charge", effective_date=DAY).count()
    assert 0 < partial < len(expected)
    assert BillingRun.objects.get(date=DAY).status == "running"  # died without a word

    assert bill().wait(timeout=120) == 0
    got = dict(
        LedgerEntry.objects.filter(kind="charge", effective_date=DAY).values_list(
            "idempotency_key", "amount"
        )
    )
    assert got == expected
    assert mismatched_balances() == []
    moved = {a: b - balances_before[a] for a, b in Account.objects.values_list("id", "balance")}
    assert sum(moved.values()) == sum(expected.values())


@pytest.mark.django_db(transaction=True)
def test_two_tariff_changes_at_once(make_contract):
    contract = make_contract().contract
    post_entry(
        contract.account.pk,
        kind="payment",
        amount=5000_00,
        idempotency_key="p",
        description="p",
        actor=Actor.system(),
    )
    targets = [
        Tariff.objects.create(
            code=f"t{i}",
            name=f"T{i}",
            monthly_price=price,
            speed_in_mbps=1,
            speed_out_mbps=1,
            change_fee=10_00,
        )
        for i, price in enumerate((800_00, 900_00))
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def change(tariff):
        try:
            barrier.wait()
            lifecycle.change_tariff(contract.pk, tariff.pk, Actor.system("web"), f"k{tariff.pk}")
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "policy_violation"]
    applied = TariffChange.objects.get(status="applied")
    contract.refresh_from_db()
    assert contract.tariff_id == applied.to_tariff_id
    assert (
        LedgerEntry.objects.filter(idempotency_key__endswith=":fee").count() == 1
    )  # one fee, not two
    assert mismatched_balances() == []


@pytest.mark.django_db(transaction=True)
def test_payments_during_a_billing_run_lose_nothing(make_contract):
    contracts = [make_contract(phone=f"+7900222{i:04d}").contract for i in range(20)]
    target = contracts[7].account
    errors: list[BaseException] = []

    def pay_many():
        try:
            for n in range(30):
                post_entry(
                    target.pk,
                    kind="payment",
                    amount=10_00,
                    idempotency_key=f"race:{n}",
                    description="p",
                    actor=Actor.system(),
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    payer = threading.Thread(target=pay_many)
    payer.start()
    run_billing(DAY, batch_size=1, pause=0.01)
    payer.join()
    assert errors == []
    target.refresh_from_db()
    total = LedgerEntry.objects.filter(account=target).aggregate(s=Sum("amount"))["s"]
    assert target.balance == total == 30 * 10_00 - charge_amount(600_00, DAY, "daily")
    assert mismatched_balances() == []
