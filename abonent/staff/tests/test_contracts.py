"""The "lost contract" desk: search by number, name, phone and address; a printed copy
has no password and is audited; a copy with a new temporary password needs identity
checks; only verified staff get in."""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from abonent.accounts.models import User
from abonent.core.models import AuditLog
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.subscribers.selectors import search_contracts

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


@pytest.fixture
def people(make_contract):
    return {
        "petrov": make_contract(last_name="Петров", phone="+7 900 111-22-33").contract,
        "sidorova": make_contract(last_name="Сидорова", phone="+7 911 222-33-44").contract,
    }


@pytest.fixture
def staff_client(staff_user):
    client, _codes = enrol(staff_user)
    return client


def numbers(client, query):
    response = client.get("/staff/contracts/", {"q": query})
    assert response.status_code == 200
    return {row[0].number for row in response.context["rows"]}


def test_search_by_number(staff_client, people):
    assert numbers(staff_client, people["sidorova"].number) == {people["sidorova"].number}


def test_search_by_surname_in_another_case_and_in_part(staff_client, people):
    assert numbers(staff_client, "сидорова") == {people["sidorova"].number}
    assert numbers(staff_client, "СИДОР") == {people["sidorova"].number}
    assert numbers(staff_client, "петров иван") == {people["petrov"].number}


@pytest.mark.parametrize(
    "written", ["8 (911) 222-33-44", "+7 (911) 222-33-44", "8 911 222 33 44", "9112223344"]
)
def test_search_by_phone_written_any_way(staff_client, people, written):
    assert numbers(staff_client, written) == {people["sidorova"].number}


def test_search_by_street_and_house(staff_client, people, make_contract):
    assert numbers(staff_client, "садовая") == {c.number for c in people.values()}
    assert numbers(staff_client, "ул. Садовая, д. 10") == {c.number for c in people.values()}
    assert numbers(staff_client, "Садовая 11") == set()
    assert numbers(staff_client, "Невский") == set()


@pytest.mark.parametrize("written", ["4006 123456", "4006123456", "40 06 123456"])
def test_search_by_passport_written_any_way(staff_client, people, written):
    subscriber = people["sidorova"].subscriber
    subscriber.passport_series, subscriber.passport_number = "40 06", "123456"
    subscriber.save()
    assert numbers(staff_client, written) == {people["sidorova"].number}
    assert numbers(staff_client, "4006 654321") == set()


def test_the_results_table_and_the_search_is_audited(staff_client, people):
    page = staff_client.get("/staff/contracts/", {"q": "Сидорова"}).content.decode()
    contract = people["sidorova"]
    assert contract.number in page
    assert "Сидорова Иван" in page
    assert "+7 911 222-33-44" in page
    assert "Садовая" in page
    assert contract.get_status_display() in page
    # One row per subscriber shown, so their own access log lists the search.
    row = AuditLog.objects.get(action="contract.found")
    assert (row.contract_id, row.after) == (contract.pk, {"query": "Сидорова"})


def test_empty_or_silly_queries_find_nothing(db, people):
    assert search_contracts("") == []
    assert search_contracts("   ") == []
    assert search_contracts("%") == []
    assert search_contracts("x" * 5000) == []


def test_the_contract_card_is_audited(staff_client, people):
    contract = people["petrov"]
    response = staff_client.get(f"/staff/contracts/{contract.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Петров Иван" in page
    assert contract.number in page
    row = AuditLog.objects.get(action="contract.viewed")
    assert row.contract_id == contract.pk
    assert row.actor is not None
    assert row.actor.username == "operator1"
    assert staff_client.get("/staff/contracts/999999/").status_code == 404


def test_a_copy_has_no_password_and_is_audited(staff_client, make_contract):
    new = make_contract(keep_initial=True)
    contract = new.contract
    response = staff_client.get(f"/staff/contracts/{contract.pk}/copy.pdf")
    assert response.status_code == 200
    text = pdf_text(response)
    assert contract.number in text
    assert "Петров Иван" in text
    assert new.initial_password not in text
    row = AuditLog.objects.get(action="contract.copy_printed")
    assert row.contract_id == contract.pk
    assert row.actor is not None
    assert row.actor.username == "operator1"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("checks", [[], ["contract_number"], ["contract_number", "nonsense"]])
def test_a_copy_with_a_password_needs_two_checks(staff_client, contract, checks):
    before = User.objects.get(pk=contract.user_id).password
    url = f"/staff/contracts/{contract.pk}/copy-with-password/"
    response = staff_client.post(url, {"checks": checks})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors  # the message is shown on the page
    assert 'role="alert"' in response.content.decode()
    assert User.objects.get(pk=contract.user_id).password == before
    assert not AuditLog.objects.filter(action="auth.temporary_password_issued").exists()
    assert not AuditLog.objects.filter(action="contract.copy_printed").exists()


def test_a_copy_with_a_new_temporary_password(staff_client, contract):
    url = f"/staff/contracts/{contract.pk}/copy-with-password/"
    assert staff_client.get(url)["Location"] == f"/staff/contracts/{contract.pk}/"
    response = staff_client.post(url, {"checks": ["contract_number", "full_name"]})
    assert response.status_code == 200
    text = pdf_text(response)
    user = User.objects.get(pk=contract.user_id)
    assert user.password_change_required
    assert not user.check_password("correct horse battery")  # the old one stopped working
    # The new password is in the PDF, next to the login; it works and must be changed.
    printed = re.search(r"(?:Password|Пароль): (\S{10,})", text)
    assert printed is not None, text
    password = printed.group(1)
    assert user.check_password(password)
    issued = AuditLog.objects.get(action="auth.temporary_password_issued")
    assert issued.contract_id == contract.pk
    assert issued.after == {"checks": ["contract_number", "full_name"]}
    assert password not in str(issued.after)
    printed_row = AuditLog.objects.get(action="contract.copy_printed")
    assert printed_row.after == {"with_password": True}
    subscriber = Client()
    subscriber.post("/login/", {"contract_number": contract.number, "password": password})
    assert subscriber.get("/")["Location"].startswith("/profile/password/")


def test_a_cashier_prints_copies_but_issues_no_passwords(staff_user, contract):
    staff_user.role = User.Role.CASHIER
    staff_user.save()
    client, _codes = enrol(staff_user)
    assert client.get(f"/staff/contracts/{contract.pk}/copy.pdf").status_code == 200
    response = client.post(
        f"/staff/contracts/{contract.pk}/copy-with-password/",
        {"checks": ["contract_number", "full_name"]},
    )
    assert response.status_code == 400
    assert User.objects.get(pk=contract.user_id).check_password("correct horse battery")


@pytest.mark.parametrize(
    "path",
    ["", "{pk}/", "{pk}/copy.pdf", "{pk}/copy-with-password/"],
)
def test_anonymous_and_subscribers_are_sent_to_the_staff_login(
    contract, subscriber_client, staff_user, path
):
    url = "/staff/contracts/" + path.format(pk=contract.pk)
    for client in (Client(), subscriber_client):
        for response in (client.get(url), client.post(url, {"checks": ["a", "b"]})):
            assert response.status_code == 302
            assert response["Location"].startswith("/staff/login/")
    # A staff member who gave the password but not the code is not in either.
    half = Client()
    half.post("/staff/login/", {"username": "operator1", "password": "staff-password-1"})
    assert half.get(url)["Location"].startswith("/staff/login/")
    assert (
        not AuditLog.objects.filter(action__startswith="contract")
        .exclude(action="contract.created")
        .exists()
    )


def test_a_technician_sees_the_card_but_prints_nothing(staff_user, contract):
    """A technician needs the address and the sessions for a visit (view_subscriber),
    not the contract or its passwords (contract_copy)."""
    staff_user.role = User.Role.TECHNICIAN
    staff_user.save()
    client, _codes = enrol(staff_user)
    assert client.get("/staff/contracts/").status_code == 200
    assert (
        'data-testid="print-copy"'
        not in client.get(f"/staff/contracts/{contract.pk}/").content.decode()
    )
    assert client.get(f"/staff/contracts/{contract.pk}/copy.pdf").status_code == 403
