"""GET /api/v1/contract and /api/v1/contract/pdf: the app's "My contract", the same data
and document as the web cabinet, for the token's own contract only."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from abonent.billing import lifecycle
from abonent.catalog.models import AddOn
from abonent.core.context import Actor
from abonent.network.models import Credential

from .test_account_api import token_for

pytestmark = pytest.mark.django_db


def get(path, token, lang="ru"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=lang)


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_contract_details(funded):
    tv = AddOn.objects.create(code="tv", name="Телевидение", price=300_00)
    lifecycle.set_addon(funded.pk, tv.pk, True, Actor.system())
    response = get("/api/v1/contract", token_for(funded.number))
    assert response.status_code == 200
    data = response.json()
    assert data["contract_number"] == funded.number
    assert data["signed_on"] == "2025-01-01"
    assert data["status"] == "active"
    assert data["status_display"] == "Активен"
    assert data["full_name"] == "Петров Иван"
    assert data["address"] == "Санкт-Петербург, ул. Садовая, д. 10, кв. 5"
    assert data["tariff"]["name"] == "Оптимум 300"
    assert data["tariff"]["price"] == {"amount": 600_00, "currency": "RUB"}
    assert data["tariff"]["speed_mbps"] == 300
    assert [(a["name"], a["price"]["amount"]) for a in data["addons"]] == [("Телевидение", 300_00)]
    assert data["pppoe_login"] == Credential.objects.get(contract=funded).login
    assert "password" not in str(data).lower()


def test_contract_pdf_without_password(make_contract):
    new = make_contract(keep_initial=True)
    user = new.contract.user
    user.set_password("correct horse battery")
    user.password_change_required = False
    user.save()
    response = get("/api/v1/contract/pdf", token_for(new.contract.number))
    assert f"contract-{new.contract.number}.pdf" in response["Content-Disposition"]
    text = pdf_text(response)
    assert new.contract.number in text
    assert "Петров Иван" in text
    assert "Оптимум 300" in text
    assert new.initial_password not in text
    assert "correct horse battery" not in text


def test_the_token_decides_whose_contract(make_contract):
    alice = make_contract(last_name="Алисова", phone="+79001110001").contract
    bob = make_contract(last_name="Бобров", phone="+79001110002").contract
    token = token_for(bob.number)
    data = get(f"/api/v1/contract?contract_number={alice.number}", token).json()
    assert data["contract_number"] == bob.number
    text = pdf_text(get(f"/api/v1/contract/pdf?contract_number={alice.number}", token))
    assert bob.number in text
    assert alice.number not in text
    assert "Алисова" not in text


@pytest.mark.parametrize("path", ["/api/v1/contract", "/api/v1/contract/pdf"])
def test_no_token_no_contract(db, path):
    response = Client().get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_required_password_change_comes_first(make_contract):
    new = make_contract(keep_initial=True)
    response = Client().post(
        "/api/v1/auth/login",
        {"contract_number": new.contract.number, "password": new.initial_password},
        content_type="application/json",
    )
    token = response.json()["access_token"]
    for path in ("/api/v1/contract", "/api/v1/contract/pdf"):
        blocked = get(path, token)
        assert blocked.status_code == 403
        assert blocked.json()["error"]["code"] == "password_change_required"


def test_documented_in_openapi(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/contract" in doc["paths"]
    pdf = doc["paths"]["/api/v1/contract/pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
