import datetime as dt

import pytest

from abonent.accounts.models import User
from abonent.billing.models import BillingRun, LedgerEntry
from abonent.billing.services import post_correction, post_entry, reverse_entry
from abonent.billing.tasks import days_to_bill
from abonent.core.context import Actor
from abonent.core.errors import Forbidden, ValidationFailed
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db


def staff(role):
    return Actor(
        user=User.objects.create_user(
            f"s-{role}", "x" * 12, kind="staff", role=role, is_staff=True
        ),
        channel="admin",
    )


def test_correction_needs_a_reason_and_a_role(contract):
    manager = staff("manager")
    with pytest.raises(ValidationFailed):
        post_correction(contract.pk, 100_00, "  ", manager)
    with pytest.raises(Forbidden):
        post_correction(contract.pk, 100_00, "goodwill", staff("technician"))
    with pytest.raises(Forbidden):
        post_correction(contract.pk, 100_00, "goodwill", Actor(user=contract.user, channel="web"))
    assert not LedgerEntry.objects.exists()
    posted = post_correction(contract.pk, 100_00, "Компенсация за аварию", manager)
    assert posted.entry.kind == "correction"
    assert AuditLog.objects.filter(action="ledger.correction", actor=manager.user).exists()


def test_an_entry_is_reversed_once_by_a_new_entry(contract):
    wrong = post_entry(
        contract.account.pk,
        kind="charge",
        amount=-500_00,
        idempotency_key="oops",
        description="ошибка",
        actor=Actor.system(),
    ).entry
    manager = staff("manager")
    first = reverse_entry(wrong.pk, "ошибочное списание", manager)
    second = reverse_entry(wrong.pk, "ещё раз", manager)
    assert first.entry.pk == second.entry.pk
    assert first.entry.amount == 500_00
    assert first.entry.reverses == wrong
    contract.account.refresh_from_db()
    assert contract.account.balance == 0
    wrong.refresh_from_db()
    assert wrong.amount == -500_00  # the original is untouched


def test_a_correction_that_covers_the_debt_unblocks(contract):
    contract.status = "blocked_debt"
    contract.save()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-100_00,
        idempotency_key="d",
        description="d",
        actor=Actor.system(),
    )
    post_correction(contract.pk, 200_00, "перерасчёт", staff("manager"))
    contract.refresh_from_db()
    assert contract.status == "active"


def test_the_job_catches_up_missed_days():
    today = dt.date(2026, 11, 10)
    assert days_to_bill(today) == [today]
    BillingRun.objects.create(date=dt.date(2026, 11, 7), status="done")
    assert days_to_bill(today) == [dt.date(2026, 11, 8), dt.date(2026, 11, 9), today]
    BillingRun.objects.create(date=today, status="done")
    assert days_to_bill(today) == []
