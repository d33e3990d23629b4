"""My contract: the page and the PDF show the signed-in subscriber's own contract and
nothing else; the PDF never carries a cabinet password."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from abonent.billing import lifecycle
from abonent.catalog.models import AddOn
from abonent.core.context import Actor
from abonent.network.models import Credential

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def login(number, password="correct horse battery") -> Client:
    client = Client()
    response = client.post("/login/", {"contract_number": number, "password": password})
    assert response.status_code == 302, response.content
    return client


def test_the_profile_links_to_my_contract(subscriber_client):
    assert 'href="/profile/contract/"' in subscriber_client.get("/profile/").content.decode()


def test_my_contract_page(subscriber_client, funded):
    tv = AddOn.objects.create(code="tv", name="Телевидение", price=300_00)
    lifecycle.set_addon(funded.pk, tv.pk, True, Actor.system())
    response = subscriber_client.get("/profile/contract/")
    assert response.status_code == 200
    page = response.content.decode()
    assert funded.number in page
    assert "1 января 2025" in page
    assert "Активен" in page
    assert "Санкт-Петербург, ул. Садовая, д. 10, кв. 5" in page
    assert "Оптимум 300" in page
    assert "Телевидение" in page
    credential = Credential.objects.get(contract=funded)
    assert credential.login in page
    assert credential.password not in page  # the profile shows it on request, not here
    assert 'href="/profile/contract.pdf"' in page


def test_the_pdf_is_the_contract_without_a_password(make_contract):
    new = make_contract(keep_initial=True)
    client = Client()
    client.post(
        "/login/", {"contract_number": new.contract.number, "password": new.initial_password}
    )
    # Still on the initial password: the cabinet (and the PDF) wait for the change.
    assert client.get("/profile/contract.pdf")["Location"].startswith("/profile/password/")
    user = new.contract.user
    user.set_password("correct horse battery")
    user.password_change_required = False
    user.save()
    response = login(new.contract.number).get("/profile/contract.pdf")
    assert "attachment" in response["Content-Disposition"]
    assert new.contract.number in response["Content-Disposition"]
    text = pdf_text(response)
    assert new.contract.number in text
    assert "Петров Иван" in text
    assert "Оптимум 300" in text
    assert new.initial_password not in text
    assert "correct horse battery" not in text


def test_each_subscriber_gets_only_their_own_contract(make_contract):
    alice = make_contract(last_name="Алисова", phone="+79001110001").contract
    bob = make_contract(last_name="Бобров", phone="+79001110002").contract
    for me, other in ((alice, bob), (bob, alice)):
        client = login(me.number)
        # There is no id in the URL to change; a query parameter changes nothing.
        for url in (
            "/profile/contract.pdf",
            f"/profile/contract.pdf?contract={other.number}",
            f"/profile/contract.pdf?contract_id={other.pk}",
        ):
            text = pdf_text(client.get(url))
            assert me.number in text
            assert other.number not in text
            assert other.subscriber.last_name not in text
        response = client.get(f"/profile/contract/?contract={other.number}")
        assert response.context["contract"] == me
        assert f'data-testid="contract-number">{me.number}<' in response.content.decode()
        assert other.subscriber.last_name not in response.content.decode()


def test_anonymous_and_staff_are_sent_to_the_cabinet_login(contract, staff_user):
    for url in ("/profile/contract/", "/profile/contract.pdf"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    from abonent.staff.tests.test_staff_2fa import enrol

    staff, _codes = enrol(staff_user)
    assert staff.get("/profile/contract.pdf")["Location"].startswith("/login/")


def test_the_page_in_english(subscriber_client, contract):
    subscriber_client.cookies["abonent_language"] = "en"
    page = subscriber_client.get("/profile/contract/").content.decode()
    assert "My contract" in page
    assert "Active" in page
