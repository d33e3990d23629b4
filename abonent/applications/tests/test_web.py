"""The public form and status page, and the staff pipeline up to the printed contract."""

import datetime as dt
import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from abonent.accounts.models import User
from abonent.applications import services
from abonent.applications.models import Application, InstallSlot
from abonent.core import clock
from abonent.staff.tests.test_staff_2fa import enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(db):
    services.import_buildings("Невский пр.;28;4;120;connected;10;\nул. Дыбенко;5;1;1;none;0;\n")


FORM = {
    "full_name": "Петров Иван",
    "phone": "8 900 111-22-33",
    "street": "Невский проспект",
    "house": "28",
    "flat": "5",
    "call_time": "evening",
    "consent": "on",
}


def test_apply_see_the_answer_and_the_status_page(register):
    client = Client()
    response = client.post("/apply/", FORM)
    a = Application.objects.get()
    assert response["Location"].startswith(f"/apply/{a.public_id}/?t=")
    page = client.get(response["Location"]).content.decode()
    assert 'data-coverage="connectable"' in page
    again = client.post("/apply/", {**FORM, "phone": "+79001112233"})
    assert again.status_code == 200  # "already applied", without the link
    assert Application.objects.count() == 1


def test_an_uncovered_house_offers_to_notify(register):
    client = Client()
    response = client.post("/apply/", {**FORM, "street": "Дыбенко", "house": "5"})
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="watch"' in page
    a = Application.objects.get()
    client.post(f"/apply/{a.public_id}/watch/")
    from abonent.applications.models import CoverageWatch

    assert CoverageWatch.objects.get().house_key == "5"


def test_bad_input_robots_and_floods(register):
    client = Client()
    bad = client.post("/apply/", {**FORM, "street": "Нет такой", "phone": "12", "consent": ""})
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "улиц" in body  # the street message, in Russian
    assert "согласи" in body  # consent is required
    robot = client.post("/apply/", {**FORM, "website": "http://spam.example"})
    assert robot.status_code == 200
    assert not Application.objects.exists()
    codes = [
        client.post("/apply/", {**FORM, "phone": f"+7 900 000-{n:02d}-00"}).status_code
        for n in range(6)
    ]
    assert codes == [302, 302, 302, 429, 429, 429]


def test_street_suggestions(register):
    html = Client().get("/apply/streets/", {"street": "невс"}).content.decode()
    assert '<option value="Невский пр.">' in html


def test_staff_take_it_to_a_printed_contract_and_service(register, staff_user, tariff):
    staff_user.role = User.Role.MANAGER
    staff_user.save()
    Client().post("/apply/", {**FORM, "tariff_id": str(tariff.pk)})
    a = Application.objects.get()
    client, _codes = enrol(staff_user)
    assert "Петров Иван" in client.get("/staff/applications/").content.decode()
    url = f"/staff/applications/{a.pk}/"
    client.post(url, {"step": "feasible"})
    client.post(url, {"step": "called", "note": "перезвонили"})
    response = client.post(url, {"step": "signed", "tariff_id": str(tariff.pk)})
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    a.refresh_from_db()
    assert a.contract is not None
    number = a.contract.number
    assert number in text
    password = re.search(r"[Пп]ароль[^:]*:\s*(\S+)", text)
    assert password is not None
    assert a.contract.user.check_password(password.group(1))
    slot = InstallSlot.objects.create(
        technician=staff_user,
        starts_at=clock.now() + dt.timedelta(days=1),
        ends_at=clock.now() + dt.timedelta(days=1, hours=2),
    )
    client.post(url, {"step": "scheduled", "slot_id": str(slot.pk), "tariff_id": str(tariff.pk)})
    client.post(url, {"step": "installed"})
    client.post(url, {"step": "active"})
    a.refresh_from_db()
    a.contract.refresh_from_db()
    assert (a.stage, a.contract.status) == ("active", "active")
    page = client.get(url).content.decode()
    assert page.count("<li>") >= 6  # the history, with who and when
    bad = client.post(url, {"step": "feasible"})  # not from "active"
    assert bad.status_code == 200


def test_a_walk_in_at_the_office_joins_the_same_pipeline(register, staff_user):
    client, _codes = enrol(staff_user)
    for n in range(5):  # the office is one address for many people: no flood limit
        response = client.post(
            "/staff/applications/new/",
            {**FORM, "phone": f"+7 900 000-{n:02d}-11", "flat": str(n + 1)},
        )
        assert response.status_code == 302
    assert set(Application.objects.values_list("source", flat=True)) == {"office"}
    bad = client.post("/staff/applications/new/", {**FORM, "house": "сто"})
    assert bad.status_code == 200
    assert Application.objects.count() == 5


def test_a_duplicate_does_not_reveal_the_application(register):
    from abonent.notifications.models import Message

    Client().post("/apply/", FORM)
    a = Application.objects.get()
    stranger = Client()
    again = stranger.post("/apply/", FORM)
    assert again.status_code == 200
    assert str(a.public_id) not in again.content.decode()
    assert 'data-testid="apply-again"' in again.content.decode()
    assert Message.objects.filter(kind="application_received").count() == 2  # link re-sent
    api = stranger.post(
        "/api/v1/applications",
        {
            "full_name": "Петров Иван",
            "phone": "+79001112233",
            "address": {"street": "Невский проспект", "house": "28", "flat": "5"},
            "consent": True,
        },
        content_type="application/json",
    ).json()
    assert (api["duplicate"], api["id"], api["status_url"]) == (True, None, None)


def test_only_the_sms_link_confirms_the_phone(register):
    from abonent.applications.services import phone_token

    client = Client()
    client.post("/apply/", FORM)
    a = Application.objects.get()
    client.get(f"/apply/{a.public_id}/")
    client.get(f"/apply/{a.public_id}/", {"t": "forged"})
    a.refresh_from_db()
    assert a.phone_confirmed_at is None
    client.get(f"/apply/{a.public_id}/", {"t": phone_token(a)})
    a.refresh_from_db()
    assert a.phone_confirmed_at is not None


def test_application_views_and_search_results_are_audited(register, staff_user, contract):
    from abonent.core.models import AuditLog

    Client().post("/apply/", FORM)
    a = Application.objects.get()
    client, _codes = enrol(staff_user)
    client.get(f"/staff/applications/{a.pk}/")
    client.get("/staff/contracts/", {"q": contract.number})
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"application.viewed", "contract.found"} <= actions
    assert AuditLog.objects.filter(action="contract.found", contract_id=contract.pk).exists()


def test_the_admin_refuses_a_street_or_house_already_there(register, staff_user):
    staff_user.role = User.Role.TECHNICIAN
    staff_user.save()
    client, _codes = enrol(staff_user)
    response = client.post("/staff/admin/applications/street/add/", {"name": "Невский проспект"})
    assert response.status_code == 200
    assert "уже" in response.content.decode()
