import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contract):
    token = (
        Client()
        .post(
            "/api/v1/auth/login",
            {"contract_number": contract.number, "password": "correct horse battery"},
            content_type="application/json",
        )
        .json()["access_token"]
    )

    def call(method, path, body=None, key=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "ru"}
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return getattr(Client(), method)(path, body, content_type="application/json", **headers)

    return call


def test_create_list_and_read_a_payment(api):
    created = api("post", "/api/v1/payments", {"amount": 500_00}, key="pay-1")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending"
    assert body["confirmation_url"].startswith("http://testserver/sandbox-pay/")
    assert api("get", "/api/v1/payments").json()[0]["id"] == body["id"]
    assert api("get", f"/api/v1/payments/{body['id']}").json()["amount"] == {
        "amount": 500_00,
        "currency": "RUB",
    }


@pytest.mark.parametrize("amount", [0, -1, 10_000_001, "500", 5.5, None])
def test_bad_amounts(api, amount):
    response = api("post", "/api/v1/payments", {"amount": amount}, key="k")
    assert response.status_code == 400
    assert "amount" in response.json()["error"]["fields"]


def test_same_key_different_amount_is_a_conflict(api):
    assert api("post", "/api/v1/payments", {"amount": 500_00}, key="same").status_code == 201
    again = api("post", "/api/v1/payments", {"amount": 500_00}, key="same")
    assert again.status_code == 201
    conflict = api("post", "/api/v1/payments", {"amount": 600_00}, key="same")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"


def test_missing_key_and_foreign_payment(api, make_contract):
    assert api("post", "/api/v1/payments", {"amount": 500_00}).status_code == 400
    assert api("get", "/api/v1/payments/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api("get", "/api/v1/payments/not-a-uuid").status_code == 404
