import datetime as dt
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from abonent.billing import services
from abonent.billing.models import Account, LedgerEntry
from abonent.billing.selectors import charge_outlook, ledger_sum, mismatched_balances
from abonent.core.context import Actor
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("job")


def pay(account, amount, key):
    return services.post_entry(
        account.pk,
        kind="payment",
        amount=amount,
        idempotency_key=key,
        description="test",
        actor=SYSTEM,
    )


def test_entry_moves_the_cached_balance_and_is_audited(contract):
    account = contract.account
    posted = pay(account, 500_00, "p-1")
    assert posted.created
    account.refresh_from_db()
    assert account.balance == 500_00 == ledger_sum(account.pk)
    row = AuditLog.objects.get(action="ledger.payment")
    assert row.contract_id == contract.pk
    assert row.before == {"balance": 0}
    assert row.after is not None
    assert row.after["balance"] == 500_00


def test_same_key_twice_credits_once(contract):
    account = contract.account
    first = pay(account, 500_00, "provider:abc")
    second = pay(account, 500_00, "provider:abc")
    assert not second.created
    assert second.entry.pk == first.entry.pk
    account.refresh_from_db()
    assert account.balance == 500_00
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_same_key_concurrently_credits_once(contract):
    account_id = contract.account.pk
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            services.post_entry(
                account_id,
                kind="payment",
                amount=100_00,
                idempotency_key="webhook:evt-1",
                description="race",
                actor=SYSTEM,
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Account.objects.get(pk=account_id).balance == 100_00
    assert LedgerEntry.objects.filter(idempotency_key="webhook:evt-1").count() == 1


def test_entries_cannot_be_changed_or_deleted_by_the_orm(contract):
    entry = pay(contract.account, 100_00, "k").entry
    entry.amount = 1
    with pytest.raises(ValueError, match="immutable"):
        entry.save()
    with pytest.raises(ValueError, match="immutable"):
        entry.delete()


def test_the_database_refuses_to_rewrite_the_ledger(contract):
    pay(contract.account, 100_00, "k")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        LedgerEntry.objects.update(amount=1)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        LedgerEntry.objects.all()._raw_delete(using="default")
    assert LedgerEntry.objects.get().amount == 100_00


def test_zero_amount_is_refused(contract):
    with pytest.raises(ValueError, match="moves money"):
        pay(contract.account, 0, "zero")


def test_check_balances_proves_and_detects(contract):
    pay(contract.account, 100_00, "k")
    call_command("check_balances")
    Account.objects.filter(pk=contract.account.pk).update(balance=1)  # simulate a bug
    assert mismatched_balances() == [(contract.account.pk, 1, 100_00)]
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_balances")


def test_outlook_daily_counts_days_the_balance_covers(contract):
    today = dt.date(2026, 11, 10)  # November: 600 ₽ / 30 = 20 ₽ a day
    outlook = charge_outlook(contract, 100_00, today=today)
    assert outlook.next_charge is not None
    assert outlook.next_charge.date == dt.date(2026, 11, 11)
    assert outlook.next_charge.amount.kopecks == 20_00
    assert outlook.days_left == 5
    assert charge_outlook(contract, -1, today=today).days_left == 0


def test_outlook_monthly_charges_on_the_first(contract):
    contract.tariff.charging_mode = "monthly"
    outlook = charge_outlook(contract, 1300_00, today=dt.date(2026, 11, 10))
    assert outlook.next_charge is not None
    assert outlook.next_charge.date == dt.date(2026, 12, 1)
    assert outlook.next_charge.amount.kopecks == 600_00
    # 21 days to Dec 1, then December (31) and January (31) are covered by 1300 ₽.
    assert outlook.days_left == 21 + 31 + 31


def test_no_charges_while_not_active(contract):
    contract.status = "suspended"
    outlook = charge_outlook(contract, 100_00, today=dt.date(2026, 11, 10))
    assert outlook.next_charge is None
    assert outlook.days_left is None
