"""The subscriber card: a cashier's cash payment and a manager's correction reach the
ledger, the statement and the audit log (a correction is a new entry, never an edit);
search by PPPoE login and IP; the audit log per subscriber with its CSV export; pinned
query counts that do not grow with the number of subscribers."""

import datetime as dt
import re

import pytest

from abonent.accounts.models import User
from abonent.billing.models import LedgerEntry
from abonent.billing.selectors import statement
from abonent.core import clock
from abonent.core.models import AuditLog
from abonent.network.models import Credential, Nas, Session
from abonent.staff.tests.test_staff_2fa import enrol

pytestmark = pytest.mark.django_db


def as_role(staff_user, role):
    staff_user.role = role
    staff_user.save()
    client, _codes = enrol(staff_user)
    return client


def key_of(page: str) -> str:
    found = re.search(r'name="key" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


def test_cash_and_correction_reach_ledger_statement_and_audit(contract, staff_user):
    cashier = as_role(staff_user, User.Role.CASHIER)
    url = f"/staff/contracts/{contract.pk}/"
    page = cashier.get(url).content.decode()
    assert 'data-testid="cash-form"' in page
    assert 'data-testid="correction-form"' not in page  # not the cashier's to do
    key = key_of(page)
    for _twice in range(2):  # a double submit takes the money once
        cashier.post(f"{url}action/cash/", {"amount": "700", "key": key})
    assert LedgerEntry.objects.filter(kind="payment", amount=700_00).count() == 1
    refused = cashier.post(f"{url}action/correction/", {"amount": "-50", "reason": "x", "key": "k"})
    assert refused.status_code == 302
    assert not LedgerEntry.objects.filter(kind="correction").exists()

    staff_user.role = User.Role.MANAGER  # the same person, promoted: the role is read each time
    staff_user.save()
    manager = cashier
    page = manager.get(url).content.decode()
    before = list(LedgerEntry.objects.values_list("pk", "amount", "description"))
    manager.post(
        f"{url}action/correction/",
        {"amount": "-150,50", "reason": "Двойное зачисление", "key": key_of(page)},
    )
    correction = LedgerEntry.objects.get(kind="correction")
    assert (correction.amount, correction.description) == (-150_50, "Двойное зачисление")
    # Nothing that was there changed: the correction is one more entry.
    assert (
        list(
            LedgerEntry.objects.exclude(pk=correction.pk).values_list("pk", "amount", "description")
        )
        == before
    )
    lines = statement(contract, clock.today() - dt.timedelta(days=1), clock.today()).lines
    assert [line.entry.amount for line in lines][-2:] == [700_00, -150_50]
    actions = set(AuditLog.objects.filter(contract_id=contract.pk).values_list("action", flat=True))
    assert {"payment.cash", "contract.viewed"} <= actions
    assert any(a.startswith("ledger.") for a in actions), actions
    assert "Двойное зачисление" in manager.get(url).content.decode()


def test_bad_amounts_and_missing_reason_change_nothing(contract, staff_user):
    manager = as_role(staff_user, User.Role.MANAGER)
    url = f"/staff/contracts/{contract.pk}/action/"
    manager.post(url + "correction/", {"amount": "сто", "reason": "x", "key": "a"})
    manager.post(url + "correction/", {"amount": "100", "reason": "", "key": "b"})
    manager.post(url + "cash/", {"amount": "-5", "key": "c"})
    assert not LedgerEntry.objects.exists()
    assert manager.post(url + "dance/").status_code == 302


def test_search_by_network_login_and_ip(contract, make_contract, staff_user):
    other = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    Credential.objects.filter(contract=other).update(login="ivanov-home", static_ip="198.51.100.20")
    nas = Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")
    Session.objects.create(
        nas=nas,
        session_id="S1",
        contract=contract,
        login="x",
        framed_ip="100.64.1.2",
        started_at=clock.now(),
        updated_at=clock.now(),
    )
    client = as_role(staff_user, User.Role.OPERATOR)

    def found(q):
        return {row[0].number for row in client.get("/staff/contracts/", {"q": q}).context["rows"]}

    assert found("IVANOV-home") == {other.number}
    assert found("198.51.100.20") == {other.number}
    assert found("100.64.1.2") == {contract.number}
    assert found("203.0.113.9") == set()


def test_the_audit_log_per_subscriber_and_its_export(contract, staff_user):
    manager = as_role(staff_user, User.Role.MANAGER)
    manager.get(f"/staff/contracts/{contract.pk}/")
    page = manager.get("/staff/audit/", {"contract": contract.number}).content.decode()
    assert "contract.viewed" in page
    export = manager.get("/staff/audit/", {"contract": contract.number, "format": "csv"})
    body = export.content.decode()
    assert body.startswith("\ufeff")
    assert "contract.viewed" in body
    assert "operator1" in body
    assert AuditLog.objects.filter(action="audit.exported", contract_id=contract.pk).exists()
    assert (
        manager.get("/staff/audit/", {"contract": "999999"}).status_code == 200
    )  # an error, not a 500


def test_card_and_search_query_counts_do_not_grow(
    make_contract, staff_user, django_assert_max_num_queries
):
    people = [
        make_contract(last_name=f"Смирнов{n}", phone=f"+7 900 100-{n:02d}-00").contract
        for n in range(12)
    ]
    client = as_role(staff_user, User.Role.MANAGER)

    def measure(url, params=None):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params or {}).status_code == 200
        return len(ctx.captured_queries)

    few = measure("/staff/contracts/", {"q": "Смирнов1"})  # 3 matches (1, 10, 11)
    many = measure("/staff/contracts/", {"q": "Смирнов"})  # 12 matches
    assert few == many
    card = measure(f"/staff/contracts/{people[0].pk}/")
    with django_assert_max_num_queries(card):
        client.get(f"/staff/contracts/{people[-1].pk}/")
    assert card <= 40
