"""The decision table FreeRADIUS reads (rlm_sql) follows every change made through the
services at once, and `reconcile` repairs anything written around them."""

import datetime as dt

import pytest

from abonent.billing.lifecycle.addons import set_addon
from abonent.billing.lifecycle.suspension import resume, suspend
from abonent.billing.notices import block_debtors
from abonent.billing.services import post_entry
from abonent.catalog import services as catalog
from abonent.catalog.models import AddOn
from abonent.core import clock
from abonent.core.context import Actor
from abonent.network import grants
from abonent.network.models import Credential, RadiusAttribute
from abonent.subscribers.models import Contract

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def table(contract: Contract) -> set[tuple[str, str, str, str]]:
    return {
        (row.vendor, row.kind, row.attribute, row.value)
        for row in RadiusAttribute.objects.filter(contract=contract)
    }


def assert_in_step() -> None:
    """Nothing for reconcile to repair: the services already wrote the decision."""
    changes = grants.reconcile()
    assert (changes.added, changes.removed) == (0, 0)


def pay(contract: Contract, amount: int, key: str) -> None:
    post_entry(
        contract.account.pk,
        kind="payment" if amount > 0 else "charge",
        amount=amount,
        idempotency_key=key,
        description=key,
        actor=SYSTEM,
    )


def test_a_new_contract_can_connect_at_its_tariff_speed(contract):
    password = Credential.objects.get(contract=contract).password
    assert table(contract) == {
        ("", "check", "Cleartext-Password", f'"{password}"'),
        ("mikrotik", "reply", "Mikrotik-Rate-Limit", '"300000k/300000k"'),
        ("accel", "reply", "Filter-Id", '"300000/300000"'),
    }
    assert_in_step()


def test_values_are_quoted_for_rlm_sql():
    assert grants.quote('a"b\\c`d') == '"a\\"b\\\\c`d"'


def test_every_change_through_the_services_rewrites_the_decision(contract):
    login = Credential.objects.get(contract=contract).login
    pay(contract, -100_00, "debt")
    today = clock.today()
    contract.account.debt_since = today - dt.timedelta(days=30)
    contract.account.save(update_fields=["debt_since"])
    assert block_debtors(today, 0, 10**9, SYSTEM) == 1
    assert ("", "reply", "Mikrotik-Address-List", '"abonent-blocked"') in table(contract)
    assert ("mikrotik", "reply", "Mikrotik-Rate-Limit", '"512k/512k"') in table(contract)
    assert_in_step()

    pay(contract, 500_00, "unblock")  # unblocks: full speed in the same transaction
    assert ("mikrotik", "reply", "Mikrotik-Rate-Limit", '"300000k/300000k"') in table(contract)
    assert not any(row[2] == "Mikrotik-Address-List" for row in table(contract))
    assert_in_step()

    suspension = suspend(contract.pk, today, today + dt.timedelta(days=20), SYSTEM)
    assert table(contract) == set()  # suspended: no row, FreeRADIUS rejects
    assert_in_step()
    resume(contract.pk, suspension.pk, SYSTEM)
    assert len(table(contract)) == 3
    assert_in_step()

    credential = Credential.objects.get(contract=contract)
    credential.static_ip = "198.51.100.9"
    credential.save()
    static_ip = AddOn.objects.create(code="static-ip", name="IP", price=100_00)
    set_addon(contract.pk, static_ip.pk, True, SYSTEM)
    assert ("", "reply", "Framed-IP-Address", '"198.51.100.9"') in table(contract)
    assert_in_step()

    contract.tariff.speed_in_mbps = 500
    contract.tariff.save()
    catalog.speed_changed(contract.tariff)
    assert ("accel", "reply", "Filter-Id", '"500000/300000"') in table(contract)
    assert RadiusAttribute.objects.filter(login=login).count() == 4
    assert_in_step()


def test_reconcile_repairs_what_was_written_around_the_services(contract, make_contract):
    other = make_contract(last_name="Иванов", phone="+7 900 222-33-44").contract
    RadiusAttribute.objects.filter(contract=contract, kind="check").update(value='"stolen"')
    RadiusAttribute.objects.filter(contract=other, vendor="accel").delete()
    Contract.objects.filter(pk=other.pk).update(status=Contract.Status.TERMINATED)
    before = table(contract)

    changes = grants.reconcile()

    assert table(other) == set()  # terminated: its rows are gone
    password = Credential.objects.get(contract=contract).password
    assert ("", "check", "Cleartext-Password", f'"{password}"') in table(contract)
    assert len(table(contract)) == len(before)
    assert (changes.added, changes.removed) == (1, 1 + 2)
    assert_in_step()


def test_a_credential_edited_in_the_back_office_is_what_freeradius_reads(contract, staff_user):
    from abonent.accounts.models import User
    from abonent.staff.tests.test_staff_2fa import enrol

    staff_user.role, staff_user.is_superuser = User.Role.ADMIN, True
    staff_user.save()
    client, _codes = enrol(staff_user)
    credential = Credential.objects.get(contract=contract)
    response = client.post(
        f"/staff/admin/network/credential/{credential.pk}/change/",
        {"contract": contract.pk, "login": "flat-5", "password": "new-secret", "static_ip": ""},
    )
    assert response.status_code == 302
    assert ("", "check", "Cleartext-Password", '"new-secret"') in table(contract)
    assert set(RadiusAttribute.objects.values_list("login", flat=True)) == {"flat-5"}
    assert_in_step()
    # Not a number: the admin's "not found", never a 500.
    url = "/staff/admin/subscribers/contract/abc/temporary-password/"
    assert client.get(url).status_code in (302, 404)


@pytest.mark.django_db(transaction=True)
def test_writers_of_one_contract_take_turns(contract):
    """Two changes of one contract at once through different rows: its tariff's speed
    raised (the tariff row) while the contract is blocked (its own row). Neither sees
    the other's uncommitted work; without the lock both would replace the speed row
    they saw and the table would end with two speeds for one router."""
    import threading

    from django.db import connections, transaction

    from abonent.catalog.models import Tariff

    a_synced, b_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def raise_speed() -> None:
        try:
            with transaction.atomic():
                Tariff.objects.filter(pk=contract.tariff_id).update(speed_in_mbps=500)
                grants.sync([contract.pk])
                a_synced.set()
                b_started.wait(5)
                threading.Event().wait(0.5)  # B is inside its sync now, if it can be
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def block() -> None:
        try:
            a_synced.wait(5)
            with transaction.atomic():
                Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.BLOCKED_DEBT)
                b_started.set()
                grants.sync([contract.pk])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=raise_speed), threading.Thread(target=block)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    rates = sorted(row for row in table(contract) if row[2] in ("Mikrotik-Rate-Limit", "Filter-Id"))
    assert rates == [
        ("accel", "reply", "Filter-Id", '"512/512"'),
        ("mikrotik", "reply", "Mikrotik-Rate-Limit", '"512k/512k"'),
    ]
    assert_in_step()
