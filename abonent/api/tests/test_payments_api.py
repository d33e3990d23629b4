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


def test_autopay_over_the_api(api, contract, saved_card):
    assert api("get", "/api/v1/autopay").json() == {
        "enabled": False,
        "threshold_days": 3,
        "amount": "cover_month",
        "monthly_cap": None,
        "method": None,
        "paused_reason": "",
    }
    refused = api("put", "/api/v1/autopay", {"enabled": True, "threshold_days": 3})
    assert refused.status_code == 400  # no card saved yet
    saved_card()
    body = api(
        "put",
        "/api/v1/autopay",
        {"enabled": True, "threshold_days": 5, "amount": 300_00, "monthly_cap": 1000_00},
    ).json()
    assert body["method"] == {"title": "Card *1111"}
    assert (body["threshold_days"], body["amount"]["amount"], body["monthly_cap"]["amount"]) == (
        5,
        300_00,
        1000_00,
    )
    assert api("put", "/api/v1/autopay", {"enabled": True, "threshold_days": 99}).status_code == 400
    assert api("delete", "/api/v1/autopay").status_code == 204
    assert api("get", "/api/v1/autopay").json()["method"] is None
