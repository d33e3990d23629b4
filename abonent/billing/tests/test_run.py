"""The daily billing run: what it charges, that it charges once, and that it blocks."""

import datetime as dt

import pytest
from django.core.management import call_command

from abonent.billing.models import BillingRun, LedgerEntry
from abonent.billing.rules import daily_charge
from abonent.billing.run import run_billing
from abonent.billing.selectors import mismatched_balances
from abonent.billing.services import post_entry
from abonent.catalog.models import AddOn
from abonent.core.context import Actor
from abonent.core.models import AuditLog
from abonent.notifications.models import Message
from abonent.subscribers.models import ContractAddOn

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 10)  # November: 600 ₽ / 30 = 20 ₽ a day


def pay(contract, amount, key):
    post_entry(
        contract.account.pk,
        kind="payment",
        amount=amount,
        idempotency_key=key,
        description="t",
        actor=Actor.system(),
    )


def balance(contract):
    contract.account.refresh_from_db()
    return contract.account.balance


def test_daily_charge_once_per_day(contract):
    pay(contract, 1000_00, "p")
    run_billing(DAY)
    run_billing(DAY)  # re-run: nothing more
    assert balance(contract) == 1000_00 - 20_00
    entry = LedgerEntry.objects.get(kind="charge")
    assert entry.idempotency_key == f"sub:{contract.number}:2026-11-10"
    assert entry.effective_date == DAY
    run = BillingRun.objects.order_by("id").last()
    assert run is not None
    assert (run.status, run.charges_created, run.contracts_total) == ("done", 0, 1)


def test_a_month_of_runs_sums_to_the_price(contract):
    pay(contract, 1000_00, "p")
    for day in range(1, 31):
        run_billing(dt.date(2026, 11, day))
    assert balance(contract) == 1000_00 - 600_00
    assert mismatched_balances() == []


def test_monthly_tariff_charges_the_rest_of_the_month_then_full_months(contract):
    contract.tariff.charging_mode = "monthly"
    contract.tariff.save()
    pay(contract, 2000_00, "p")
    run_billing(dt.date(2026, 11, 21))  # 10 of 30 days left: 200 ₽
    run_billing(dt.date(2026, 11, 22))  # already charged this month
    run_billing(dt.date(2026, 12, 1))  # the whole December
    assert balance(contract) == 2000_00 - 200_00 - 600_00
    keys = set(LedgerEntry.objects.filter(kind="charge").values_list("idempotency_key", flat=True))
    assert keys == {f"sub:{contract.number}:2026-11", f"sub:{contract.number}:2026-12"}


def test_addons_charge_with_the_tariff_and_some_while_suspended(contract):
    static_ip = AddOn.objects.create(
        code="ip", name="IP", price=150_00, charges_while_suspended=True, suspended_price=30_00
    )
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    for addon in (static_ip, tv):
        ContractAddOn.objects.create(contract=contract, addon=addon, connected_on=DAY)
    pay(contract, 1000_00, "p")
    run_billing(DAY)
    assert balance(contract) == 1000_00 - 20_00 - 5_00 - 10_00
    contract.status = "suspended"
    contract.save()
    run_billing(DAY + dt.timedelta(days=1))
    assert balance(contract) == 1000_00 - 35_00 - 1_00  # only the reserved IP, at its reduced price


def test_nothing_is_charged_while_blocked_or_terminated(make_contract):
    blocked = make_contract().contract
    gone = make_contract().contract
    blocked.status, gone.status = "blocked_debt", "terminated"
    blocked.save()
    gone.save()
    run_billing(DAY)
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_contract_signed_later_is_not_charged_before(contract):
    contract.signed_on = DAY + dt.timedelta(days=5)
    contract.save()
    run_billing(DAY)
    assert not LedgerEntry.objects.exists()


def test_debt_blocks_after_grace_days_and_is_audited(contract, outbox):
    contract.tariff.grace_days = 2
    contract.tariff.save()
    pay(contract, 10_00, "p")
    run_billing(DAY)  # 10 - 20 = -10: in debt since DAY
    contract.refresh_from_db()
    assert contract.status == "active"
    run_billing(DAY + dt.timedelta(days=1))
    contract.refresh_from_db()
    assert contract.status == "active"
    run_billing(DAY + dt.timedelta(days=2))  # two days of grace are over
    contract.refresh_from_db()
    assert contract.status == "blocked_debt"
    assert (
        AuditLog.objects.filter(action="contract.blocked_for_debt", contract_id=contract.pk).count()
        == 1
    )
    assert Message.objects.filter(kind="blocked", contract_id=contract.pk).count() == 1
    run_billing(DAY + dt.timedelta(days=2))  # re-run: no second notice
    assert Message.objects.filter(kind="blocked", contract_id=contract.pk).count() == 1


def test_payment_covering_the_debt_unblocks_at_once(contract):
    contract.status = "blocked_debt"
    contract.save()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-300_00,
        idempotency_key="debt",
        description="d",
        actor=Actor.system(),
    )
    pay(contract, 300_00, "p2")  # balance 0: not enough for tomorrow's 20 ₽
    contract.refresh_from_db()
    assert contract.status == "blocked_debt"
    pay(contract, 20_00, "p3")
    contract.refresh_from_db()
    assert contract.status == "active"
    assert AuditLog.objects.filter(action="contract.unblocked").exists()


def test_reminders_when_the_money_runs_out_soon(contract, outbox):
    pay(contract, 80_00, "p")  # after today's 20 ₽: 60 ₽ = 3 days
    run_billing(DAY)
    reminder = Message.objects.get(kind="low_balance")
    assert reminder.contract_id == contract.pk
    assert "3" in reminder.text
    run_billing(DAY)
    assert Message.objects.filter(kind="low_balance").count() == 1


def test_stopped_halfway_then_rerun_charges_each_once(make_contract):
    contracts = [make_contract(phone=f"+7900111{i:04d}").contract for i in range(9)]
    for c in contracts:
        pay(c, 1000_00, f"p{c.pk}")
    with pytest.raises(RuntimeError):
        run_billing(DAY, batch_size=3, stop_after_batches=1)
    assert BillingRun.objects.get().status == "failed"
    assert LedgerEntry.objects.filter(kind="charge").count() == 3
    run_billing(DAY, batch_size=3)
    assert LedgerEntry.objects.filter(kind="charge").count() == 9
    assert all(balance(c) == 1000_00 - daily_charge(600_00, DAY) for c in contracts)


def test_bill_command(contract, capsys):
    call_command("bill", "--date", "2026-11-10", verbosity=0)
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    with pytest.raises(Exception, match="--date"):
        call_command("bill", "--date", "10.11.2026", verbosity=0)


@pytest.mark.parametrize("mode", ["daily", "monthly"])
def test_the_runs_keys_are_the_ones_everyone_else_looks_up(contract, mode):
    # The run builds its keys in SQL; tariff and add-on changes, refunds and the
    # termination settlement look the same charges up through `billing.keys`.
    from abonent.billing import keys

    contract.tariff.charging_mode = mode
    contract.tariff.save()
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    ContractAddOn.objects.create(contract=contract, addon=tv, connected_on=DAY)
    pay(contract, 2000_00, "p")
    run_billing(DAY)
    charged = set(
        LedgerEntry.objects.filter(kind="charge").values_list("idempotency_key", flat=True)
    )
    assert charged == {
        keys.subscription(contract.number, DAY, mode),
        keys.addon(contract.number, "tv", DAY, mode),
    }
    assert all(k.startswith(keys.addon_prefix(contract.number, "tv")) for k in charged if "tv" in k)
