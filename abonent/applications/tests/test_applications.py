"""From an application to a working contract: addresses as people write them, the
coverage answer, duplicates and floods, the pipeline, the register import."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from abonent.applications import addresses, coverage, services
from abonent.applications.models import Application, Building, CoverageWatch, InstallSlot, Stage
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import Throttled, ValidationFailed
from abonent.network.models import RadiusAttribute
from abonent.notifications.models import Message
from abonent.subscribers.models import Contract

pytestmark = pytest.mark.django_db
STATUS_URL = "http://testserver/apply/{id}/"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def register(db):
    services.import_buildings(
        "street;house;entrances;flats;network;free_ports;planned_on\n"
        "Невский пр.;28;4;120;connected;10;\n"
        "Невский пр.;30 лит. А;2;40;connected;0;\n"
        "ул. Садовая;10к2;6;200;planned;0;2027-03-01\n"
        "ул. Садовая;12;6;200;none;0;\n"
    )


def data(**extra):
    values: dict = {
        "full_name": "Петров Иван Сергеевич",
        "phone": "8 (900) 111-22-33",
        "street": "пр. Невский",
        "house": "д. 28",
        "flat": "5",
        "consent": True,
    }
    values.update(extra)
    return services.ApplicationData(**values)


def submit(ip="203.0.113.5", **extra):
    return services.submit(
        data(**extra), source="web", ip=ip, status_url=STATUS_URL, actor=Actor.system("web")
    )


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("пр. Невский", "невский|пр"),
        ("Невский просп.", "невский|пр"),
        ("Невский проспект", "невский|пр"),
        ("г. Санкт-Петербург, ул.Садовая", "садовая|ул"),
        ("2-я Советская ул.", "2-я советская|ул"),
    ],
)
def test_streets_as_people_write_them(written, key):
    assert str(addresses.street_key(written)) == key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("д. 10", "10"),
        ("10к2", "10 к2"),
        ("10 корп. 2", "10 к2"),
        ("10А", "10 лит а"),
        ("10 лит. А", "10 лит а"),
        ("д.10, корп.2, лит.Б", "10 к2 лит б"),
        ("10/2", "10/2"),
        ("ноль", None),
        ("0", None),
    ],
)
def test_houses_as_people_write_them(written, key):
    assert addresses.house_key(written) == key


def test_the_coverage_answer(register):
    assert coverage.check("Невский", "28").coverage == "connectable"
    assert coverage.check("Невский проспект", "30А").coverage == "needs_survey"  # no free port
    planned = coverage.check("Садовая ул.", "10 корп 2")
    assert planned.coverage == "needs_survey"
    assert "03.2027" in planned.message
    assert coverage.check("ул. Садовая", "12").coverage == "not_covered"
    missing = coverage.check("ул. Садовая", "999")
    assert missing.coverage == "not_covered"
    assert "no house 999" in missing.message
    with pytest.raises(ValidationFailed) as info:
        coverage.check("ул. Несуществующая", "сто")
    assert set(info.value.fields) == {"street", "house"}


def test_an_application_normalises_the_phone_answers_and_sends_the_link(register):
    result = submit()
    a = result.application
    assert (result.created, a.coverage, a.phone, a.building.house) == (
        True,
        "connectable",
        "+79001112233",
        "28",
    )
    sms = Message.objects.get(kind="application_received")
    assert str(a.public_id) in sms.text
    assert a.events.get().stage == "new"


@pytest.mark.parametrize(
    "phone", ["+7 900 111-22-33", "89001112233", "7(900)1112233", "900 111 22 33"]
)
def test_common_phone_formats_are_one_number(register, phone):
    assert submit(phone=phone).application.phone == "+79001112233"


def test_bad_input_is_answered_per_field_and_nothing_is_stored(register):
    with pytest.raises(ValidationFailed) as info:
        submit(full_name=" ", phone="12345", street="ул. Нет Такой", house="?", consent=False)
    assert set(info.value.fields) == {"full_name", "phone", "street", "house", "consent"}
    assert not Application.objects.exists()


def test_a_duplicate_returns_the_open_application(register):
    first = submit().application
    again = submit(phone="+7 900 111 22 33", house="28")
    assert (again.created, again.application.pk) == (False, first.pk)
    assert Application.objects.count() == 1


def test_fifty_applications_from_one_address_in_a_minute(register):
    answers = []
    for n in range(50):
        try:
            submit(phone=f"+7 900 000-{n:02d}-00", ip=f"198.51.100.{n}")
            answers.append("created")
        except Throttled as exc:
            answers.append(str(exc.message))
    assert answers[:3] == ["created"] * 3
    assert set(answers[3:]) == {
        "Too many applications for this address. Try again in 10 minutes or call us."
    }
    assert Application.objects.count() == 3


def test_a_contract_signed_after_a_price_change_was_announced_is_told(
    register, staff_user, make_contract
):
    from abonent.accounts.models import User
    from abonent.catalog.models import TariffPrice
    from abonent.notifications.models import Message

    staff_user.role = User.Role.MANAGER
    staff_user.save()
    staff = Actor(user=staff_user, channel="admin")
    a = submit().application
    services.move(a.pk, Stage.FEASIBLE, staff)
    services.move(a.pk, Stage.CALLED, staff)
    tariff = make_contract().contract.tariff
    TariffPrice.objects.create(
        tariff=tariff,
        monthly_price=tariff.monthly_price + 50_00,
        valid_from=clock.today() + dt.timedelta(days=40),
    )
    signed = services.sign_contract(a.pk, staff, tariff_id=tariff.pk)
    notice = Message.objects.get(kind="price_change")
    assert (notice.contract_id, notice.to) == (signed.new.contract.pk, a.phone)


def test_the_pipeline_to_a_working_contract(register, staff_user, make_contract):
    from abonent.accounts.models import User

    staff_user.role = User.Role.MANAGER
    staff_user.save()
    staff = Actor(user=staff_user, channel="admin")
    a = submit().application
    with pytest.raises(services.StageConflict):
        services.sign_contract(a.pk, staff)  # not called back yet
    services.move(a.pk, Stage.FEASIBLE, staff)
    services.move(a.pk, Stage.CALLED, staff, note="Удобно в субботу")
    tariff = make_contract().contract.tariff  # any live tariff
    signed = services.sign_contract(a.pk, staff, tariff_id=tariff.pk)
    contract = signed.new.contract
    contract.refresh_from_db()
    assert contract.status == "connecting"
    assert contract.user.password_change_required
    assert contract.user.check_password(signed.new.initial_password)
    slot = InstallSlot.objects.create(
        technician=staff_user,
        starts_at=clock.now() + dt.timedelta(days=1),
        ends_at=clock.now() + dt.timedelta(days=1, hours=3),
    )
    services.schedule(a.pk, slot.pk, staff)
    services.move(a.pk, Stage.INSTALLED, staff)
    services.activate(a.pk, staff)
    contract.refresh_from_db()
    a.refresh_from_db()
    assert (a.stage, contract.status) == ("active", "active")
    assert Building.objects.get(pk=a.building_id).free_ports == 9
    assert RadiusAttribute.objects.filter(contract=contract).exists()
    assert [e.stage for e in a.events.all()] == [
        "new",
        "feasible",
        "called",
        "signed",
        "scheduled",
        "installed",
        "active",
    ]
    kinds = set(Message.objects.values_list("kind", flat=True))
    assert {"application_feasible", "application_signed", "application_scheduled"} <= kinds
    with pytest.raises(services.StageConflict):
        services.move(a.pk, Stage.FEASIBLE, staff)


def test_rejection_needs_a_reason_and_a_cashier_cannot_work_the_pipeline(register, staff_user):
    from abonent.accounts.models import User
    from abonent.core.errors import Forbidden

    a = submit().application
    staff = Actor(user=staff_user, channel="admin")
    with pytest.raises(ValidationFailed):
        services.reject(a.pk, " ", staff)
    services.reject(a.pk, "Нет свободных портов в подъезде", staff)
    assert Application.objects.get().stage == "rejected"
    cashier = User.objects.create_user("cash1", "pw-cash-12345", kind="staff", role="cashier")
    with pytest.raises(Forbidden):
        services.move(
            submit(phone="+79002223344").application.pk,
            "feasible",
            Actor(user=cashier, channel="admin"),
        )


def test_people_waiting_for_their_house_hear_once(register):
    services.watch("8 900 555 66 77", "ул. Садовая", "12")
    services.watch("+7 900 555-66-77", "Садовая ул", "д. 12")  # the same wish
    assert CoverageWatch.objects.count() == 1
    assert services.notify_watchers() == 0
    Building.objects.filter(house_key="12").update(network="connected", free_ports=5)
    assert services.notify_watchers() == 1
    assert services.notify_watchers() == 0
    assert Message.objects.filter(kind="coverage_available").count() == 1


def test_the_register_import_reports_bad_lines_and_is_repeatable(db):
    text = "Невский пр.;28;4;120;connected;10;\nНевский пр.;;1;1;connected;1;\nул. Марата;5;x;1;есть;1;\n"
    first = services.import_buildings(text)
    assert (first.created, first.updated, len(first.errors)) == (1, 0, 2)
    assert first.errors[0].startswith("line 2")
    again = services.import_buildings(text)
    assert (again.created, again.updated) == (0, 1)


def test_the_public_api(register):
    client = Client()
    response = client.post(
        "/api/v1/applications",
        {
            "full_name": "Сидоров Пётр",
            "phone": "+7 (900) 777-88-99",
            "address": {"street": "Невский проспект", "house": "28", "flat": "7"},
            "consent": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["coverage"] == "connectable"
    again = client.post(
        "/api/v1/applications",
        {
            "full_name": "Сидоров Пётр",
            "phone": "89007778899",
            "address": {"street": "пр. Невский", "house": "д. 28", "flat": "7"},
            "consent": True,
        },
        content_type="application/json",
    )
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    bad = client.post(
        "/api/v1/applications",
        {
            "full_name": "X Y",
            "phone": "1",
            "address": {"street": "Нет", "house": "1"},
            "consent": False,
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) >= {"phone", "street", "consent"}
    answer = client.get("/api/v1/coverage", {"street": "Садовая ул.", "house": "12"}).json()
    assert answer["coverage"] == "not_covered"
    assert client.get("/api/v1/coverage/streets", {"q": "невск"}).json() == [
        {"name": "Невский пр."}
    ]
    assert Contract.objects.count() == 0
