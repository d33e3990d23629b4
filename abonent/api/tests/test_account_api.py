import pytest
from django.test import Client

from abonent.billing import services as billing
from abonent.core.context import Actor

pytestmark = pytest.mark.django_db


def token_for(number, password="correct horse battery"):
    response = Client().post(
        "/api/v1/auth/login",
        {"contract_number": number, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def get_account(token, lang="ru"):
    return Client().get(
        "/api/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=lang
    )


def test_account_has_the_documented_fields(contract):
    billing.post_entry(
        contract.account.pk,
        kind="payment",
        amount=700_00,
        idempotency_key="p",
        description="t",
        actor=Actor.system(),
    )
    data = get_account(token_for(contract.number)).json()
    assert data["contract_number"] == contract.number
    assert data["full_name"] == "Петров Иван"
    assert data["status"] == "active"
    assert data["balance"] == {"amount": 700_00, "currency": "RUB"}
    assert data["tariff"]["name"] == "Оптимум 300"
    assert data["tariff"]["price"] == {"amount": 600_00, "currency": "RUB"}
    assert data["tariff"]["speed_mbps"] == 300
    assert data["next_charge"]["amount"]["currency"] == "RUB"
    assert isinstance(data["days_left"], int)
    assert data["address"].startswith("Санкт-Петербург, ул. Садовая, д. 10")
    assert {"addons", "notices", "promised_payment", "suspension"} <= set(data)


def test_the_token_decides_whose_account(make_contract):
    alice = make_contract(last_name="Алисова", phone="+79001110001").contract
    bob = make_contract(last_name="Бобров", phone="+79001110002").contract
    assert get_account(token_for(alice.number)).json()["contract_number"] == alice.number
    assert get_account(token_for(bob.number)).json()["contract_number"] == bob.number
    # No parameter can point the endpoint at someone else's contract.
    response = Client().get(
        f"/api/v1/account?contract_number={alice.number}",
        HTTP_AUTHORIZATION=f"Bearer {token_for(bob.number)}",
    )
    assert response.json()["contract_number"] == bob.number


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer " + "a" * 5000]
)
def test_no_valid_token_no_account(db, header):
    response = Client().get("/api/v1/account", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_openapi_document_and_docs(db):
    client = Client()
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/password",
        "/api/v1/account",
    ]:
        assert path in doc["paths"], path
    assert client.get("/api/v1/docs").status_code == 200


def test_account_query_count_is_pinned(contract, django_assert_num_queries):
    # the token with its user; the contract with its relations, add-ons and the
    # optional states in one (issue 12: ≤ 6)
    token = token_for(contract.number)
    with django_assert_num_queries(2):
        assert get_account(token).status_code == 200
