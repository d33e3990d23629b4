"""The API operations that give the app what the cabinet already had: notification
preferences, the receipt of a paid payment, the application status page."""

import pytest
from django.test import Client

from abonent.applications import services as applications
from abonent.core.context import Actor
from abonent.payments import services as payments
from abonent.payments.models import SandboxPayment

from .test_account_api import token_for

pytestmark = pytest.mark.django_db


def auth(contract):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(contract.number)}"}


def test_notification_preferences(contract):
    headers = auth(contract)
    client = Client()
    assert (
        client.get("/api/v1/notification-preferences", **headers).json()["choices"][
            "support_reply:sms"
        ]
        is True
    )
    saved = client.put(
        "/api/v1/notification-preferences",
        {"choices": {"support_reply:sms": False, "nonsense:fax": True}},
        content_type="application/json",
        **headers,
    ).json()["choices"]
    assert saved["support_reply:sms"] is False
    assert "nonsense:fax" not in saved
    bad = client.put(
        "/api/v1/notification-preferences",
        {"choices": "all"},
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 400


def test_the_receipt_of_a_paid_payment_only(contract, make_contract):
    payment = payments.start_payment(
        contract, "500", idempotency_key="r", return_url="http://t/{payment}/", actor=Actor.system()
    )
    client = Client()
    url = f"/api/v1/payments/{payment.public_id}/receipt"
    assert client.get(url, **auth(contract)).status_code == 404  # not paid yet
    row = SandboxPayment.objects.get()
    row.status = "succeeded"
    row.save()
    payments.refresh(payment, Actor.system("job"))
    receipt = client.get(url, **auth(contract)).json()
    assert receipt["items"][0]["amount"]["value"] == "500.00"
    other = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    assert client.get(url, **auth(other)).status_code == 404


def test_the_application_status_cancel_and_watch(db):
    applications.import_buildings("Невский пр.;28;1;1;connected;5;\nул. Дыбенко;5;1;1;none;0;\n")
    client = Client()
    created = client.post(
        "/api/v1/applications",
        {
            "full_name": "Сидоров Пётр",
            "phone": "+7 900 777-88-99",
            "address": {"street": "Дыбенко", "house": "5"},
            "consent": True,
        },
        content_type="application/json",
    ).json()
    from urllib.parse import urlparse

    public_id = urlparse(created["status_url"]).path.rstrip("/").rsplit("/", 1)[-1]
    status = client.get(f"/api/v1/applications/{public_id}").json()
    assert (status["stage"], status["coverage"], status["can_watch"]) == (
        "new",
        "not_covered",
        True,
    )
    assert client.post(f"/api/v1/applications/{public_id}/watch").status_code == 204
    cancelled = client.post(f"/api/v1/applications/{public_id}/cancel").json()
    assert (cancelled["stage"], cancelled["can_cancel"]) == ("cancelled", False)
    assert (
        client.get("/api/v1/applications/00000000-0000-4000-8000-000000000000").status_code == 404
    )
    assert client.get("/api/v1/applications/not-a-uuid").status_code in (400, 404, 422)
