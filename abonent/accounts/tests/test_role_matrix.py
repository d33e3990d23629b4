"""Least privilege, as a matrix: every staff role against every action in
`STAFF_ACTIONS`. An action a role has must not be refused for lack of permission; an
action it lacks must be refused (Forbidden in the service, 403 on the page) and change
nothing."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from abonent.accounts import services as accounts
from abonent.accounts import throttle
from abonent.accounts.models import LoginLock, User
from abonent.accounts.permissions import EVERY_ROLE, STAFF_ACTIONS
from abonent.applications import services as applications
from abonent.billing import lifecycle
from abonent.billing.models import LedgerEntry
from abonent.billing.services import post_correction, post_entry
from abonent.catalog.models import Tariff
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError, Forbidden
from abonent.payments import office
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.support import services as support

pytestmark = pytest.mark.django_db

PAGES = {
    "view_subscriber": "/staff/contracts/{contract}/",
    "audit_log": "/staff/audit/",
    "reports": "/staff/reports/",
    "mass_operations": "/staff/mass/",
    "import": "/staff/import/",
}


def staff(role: str) -> User:
    return User.objects.create_user(
        "operator1", "staff-password-1", kind=User.Kind.STAFF, role=role, is_staff=True
    )


def _application() -> int:
    applications.import_buildings("Садовая ул.;10;1;10;connected;5;\n")
    return applications.submit(
        applications.ApplicationData(
            full_name="Петров Иван",
            phone="+79005550011",
            street="Садовая",
            house="10",
            consent=True,
        ),
        source="web",
        ip=None,
        status_url="http://t/{id}/",
        actor=Actor.system(),
    ).application.pk


def attempts(contract, make_contract) -> dict[str, Callable[[Actor], object]]:
    other = Tariff.objects.create(
        code="fast", name="Быстрый", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    today = clock.today()
    return {
        "temporary_password": lambda a: accounts.issue_temporary_password(
            contract.user, ["contract_number", "passport"], a
        ),
        "restore_cabinet": lambda a: accounts.restore_cabinet(contract.user, a),
        "lift_login_lock": lambda a: throttle.lift(
            LoginLock.objects.create(
                scope="contract",
                key=contract.number,
                created_at=clock.now(),
                locked_until=clock.now() + dt.timedelta(hours=1),
            ).pk,
            a,
        ),
        "cash_payment": lambda a: office.record_cash_payment(contract.pk, "500", a, key="m"),
        "correction": lambda a: post_correction(contract.pk, 100_00, "ошибка списания", a),
        "refund": lambda a: office.refund(0, "10", "x", a),
        "tariff_change": lambda a: lifecycle.change_tariff(contract.pk, other.pk, a, "m"),
        "suspension": lambda a: lifecycle.suspend(
            contract.pk, today + dt.timedelta(days=1), today + dt.timedelta(days=20), a
        ),
        "promised_payment": lambda a: lifecycle.take_promise(contract.pk, None, a),
        "terminate": lambda a: lifecycle.terminate(contract.pk, today, a, "m"),
        "tickets": lambda a: support.staff_reply(
            support.open_ticket(
                contract,
                category="other",
                subject="Вопрос",
                text="Текст",
                actor=Actor(user=contract.user, channel="web"),
            ).pk,
            "Ответ",
            None,
            a,
        ),
        "applications": lambda a: applications.move(_application(), "feasible", a),
        "sign_contract": lambda a: applications.sign_contract(_application(), a),
    }


SERVICE_ACTIONS = sorted(set(STAFF_ACTIONS) - set(PAGES) - {"contract_copy"})


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_services(contract, make_contract, action, role):
    post_entry(
        contract.account.pk,
        kind="payment",
        amount=5000_00,
        idempotency_key="matrix-funds",
        description="funds",
        actor=Actor.system(),
    )
    entries = LedgerEntry.objects.count()
    attempt = attempts(contract, make_contract)[action]
    actor = Actor(user=staff(role), channel="admin")
    if role in STAFF_ACTIONS[action]:
        try:
            attempt(actor)
        except Forbidden:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"{role} may {action} but was refused")
        except DomainError:
            pass  # allowed; the state of the test contract may still say no
    else:
        with pytest.raises(Forbidden):
            attempt(actor)
        assert LedgerEntry.objects.count() == entries


def test_every_service_action_is_in_the_matrix():
    assert set(SERVICE_ACTIONS) | set(PAGES) | {"contract_copy"} == set(STAFF_ACTIONS)


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("action", sorted(PAGES))
def test_pages(contract, action, role):
    client, _codes = enrol(staff(role))
    response = client.get(PAGES[action].format(contract=contract.pk))
    if role in STAFF_ACTIONS[action]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_a_subscriber_acts_on_their_own_contract_without_a_staff_role(contract):
    today = clock.today()
    lifecycle.suspend(
        contract.pk,
        today + dt.timedelta(days=1),
        today + dt.timedelta(days=20),
        Actor(user=contract.user, channel="web"),
    )
    with pytest.raises(Forbidden):
        post_correction(contract.pk, 100, "x", Actor(user=contract.user, channel="web"))
    assert Client().get("/staff/contracts/").status_code != 200


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("operator", "/staff/admin/support/outage/add/", 200),
        ("operator", "/staff/admin/catalog/tariff/", 403),
        ("technician", "/staff/admin/applications/building/add/", 200),
        ("technician", "/staff/admin/support/cannedanswer/", 403),
        ("cashier", "/staff/admin/support/outage/", 403),
        ("manager", "/staff/admin/support/slatarget/", 200),
        ("manager", "/staff/admin/catalog/tariff/1/delete/", 403),
    ],
)
def test_the_admin_site_shows_each_role_its_reference_data(role, url, status):
    from abonent.catalog.models import Tariff

    Tariff.objects.create(
        pk=1, code="t1", name="T", monthly_price=1, speed_in_mbps=1, speed_out_mbps=1
    )
    client, _codes = enrol(staff(role))
    assert client.get(url).status_code == status


def test_an_operator_declares_an_outage_in_the_admin(db):
    from abonent.support.models import Outage

    client, _codes = enrol(staff("operator"))
    response = client.post(
        "/staff/admin/support/outage/add/",
        {
            "title": "Авария на Садовой",
            "text": "Чиним кабель",
            "starts_at_0": "27.11.2026",
            "starts_at_1": "10:00",
            "areas-TOTAL_FORMS": "1",
            "areas-INITIAL_FORMS": "0",
            "areas-0-street": "ул. Садовая",
            "areas-0-house": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Outage.objects.get().areas.get().street == "ул. Садовая"
