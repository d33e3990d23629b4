"""The YooKassa adapter (official SDK) against a local fake of the YooKassa API, and
notifications from allowed and disallowed addresses."""

import json

import pytest
from django.test import Client

from abonent.billing.models import LedgerEntry
from abonent.core.context import Actor
from abonent.payments import services
from abonent.payments.models import Payment, ProviderCall, WebhookEvent
from abonent.payments.providers import ProviderError, get_provider

from . import fake_yookassa


@pytest.fixture
def yookassa(settings):
    with fake_yookassa.running() as server:
        settings.PAYMENT_PROVIDER = "yookassa"
        settings.YOOKASSA_SHOP_ID = fake_yookassa.SHOP_ID
        settings.YOOKASSA_SECRET_KEY = fake_yookassa.SECRET
        settings.YOOKASSA_API_URL = server.url
        settings.YOOKASSA_WEBHOOK_NETWORKS = ["127.0.0.1/32"]
        get_provider.cache_clear()
        yield server
        get_provider.cache_clear()


def start(contract, key="k1", amount="500", save=False):
    return services.start_payment(
        contract,
        amount,
        idempotency_key=key,
        return_url="http://testserver/payments/{payment}/",
        actor=Actor.system("web"),
        save_method=save,
    )


def notify(server, payment_id, event="payment.succeeded", ip="127.0.0.1"):
    body = {
        "type": "notification",
        "event": event,
        "object": {"id": payment_id, "status": event.split(".")[1]},
    }
    return Client(REMOTE_ADDR=ip).post(
        "/webhooks/yookassa/", json.dumps(body), content_type="application/json"
    )


@pytest.mark.django_db
def test_create_sends_idempotence_key_amount_and_receipt(contract, yookassa, caplog):
    caplog.set_level("DEBUG")
    contract.subscriber.email = "ivan@example.ru"
    contract.subscriber.save()
    payment = start(contract, save=True)
    assert payment.provider == "yookassa"
    assert payment.confirmation_url.startswith("https://yoomoney.ru/checkout/")
    method, path, body, headers = yookassa.requests[-1]
    assert (method, path) == ("POST", "/v3/payments")
    assert headers["Idempotence-Key"] == f"abonent:{payment.public_id}"
    assert body["amount"] == {"value": "500.00", "currency": "RUB"}
    assert body["capture"] is True
    assert body["save_payment_method"] is True
    assert body["confirmation"]["return_url"] == f"http://testserver/payments/{payment.public_id}/"
    assert body["receipt"]["customer"] == {"phone": "79001112233", "email": "ivan@example.ru"}
    item = body["receipt"]["items"][0]
    assert (item["vat_code"], item["payment_subject"], float(item["quantity"])) == (
        1,
        "service",
        1.0,
    )
    calls = ProviderCall.objects.filter(provider="yookassa")
    assert calls.count() == 1
    assert fake_yookassa.SECRET not in json.dumps(list(calls.values("request", "response")))
    assert fake_yookassa.SECRET not in caplog.text


@pytest.mark.django_db
def test_notification_from_an_allowed_address_is_refetched_and_credited(
    contract, yookassa, django_capture_on_commit_callbacks
):
    payment = start(contract)
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(yookassa, payment.provider_payment_id).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert LedgerEntry.objects.get(kind="payment").amount == 500_00
    assert yookassa.requests[-1][0] == "GET"  # the notification was checked with the API


@pytest.mark.django_db
def test_notification_from_another_address_is_refused(contract, yookassa):
    payment = start(contract)
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    assert notify(yookassa, payment.provider_payment_id, ip="203.0.113.5").status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not LedgerEntry.objects.filter(kind="payment").exists()


@pytest.mark.django_db
def test_forged_success_is_checked_against_the_api(
    contract, yookassa, django_capture_on_commit_callbacks
):
    payment = start(contract)
    yookassa.set_status(payment.provider_payment_id, "canceled", "3d_secure_failed")
    with django_capture_on_commit_callbacks(execute=True):
        notify(yookassa, payment.provider_payment_id, "payment.succeeded")
    payment.refresh_from_db()
    assert (payment.status, payment.cancellation_reason) == ("canceled", "3d_secure_failed")
    assert not LedgerEntry.objects.filter(kind="payment").exists()


@pytest.mark.django_db
def test_saved_method_is_charged_without_confirmation(contract, yookassa):
    provider = get_provider()
    created = provider.create(
        amount=300_00,
        description="autopay",
        return_url="",
        idempotency_key="auto-1",
        metadata={},
        save_method=False,
        payment_method_id="pm-x",
    )
    assert created.status == "succeeded"
    assert "confirmation" not in yookassa.requests[-1][2]
    yookassa.decline_saved_with = "permission_revoked"
    declined = provider.create(
        amount=300_00,
        description="autopay",
        return_url="",
        idempotency_key="auto-2",
        metadata={},
        save_method=False,
        payment_method_id="pm-x",
    )
    assert (declined.status, declined.cancellation_reason) == ("canceled", "permission_revoked")


@pytest.mark.django_db
def test_refund_through_the_api(contract, yookassa):
    payment = start(contract)
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    refund_id = get_provider().refund(payment.provider_payment_id, 100_00, "refund-1")
    assert refund_id.startswith("refund-")
    with pytest.raises(ProviderError):
        get_provider().refund("no-such-payment", 100_00, "refund-2")


@pytest.mark.django_db
def test_errors_and_an_unreachable_api_are_clean(contract, yookassa, settings):
    settings.YOOKASSA_SECRET_KEY = "wrong"
    with pytest.raises(services.ProviderUnavailable):
        start(contract, key="bad-auth")
    assert Payment.objects.get(idempotency_key="bad-auth").status == "canceled"
    settings.YOOKASSA_SECRET_KEY = fake_yookassa.SECRET
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"  # nothing listens there
    with pytest.raises(services.ProviderUnavailable):
        start(contract, key="unreachable")
    assert ProviderCall.objects.filter(ok=False).count() == 2
