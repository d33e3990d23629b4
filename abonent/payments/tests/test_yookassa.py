"""The YooKassa adapter (official SDK) against a local fake of the YooKassa API, and
notifications from allowed and disallowed addresses."""

import datetime as dt
import json

import pytest
from django.db.models import Sum
from django.test import Client

from abonent.billing.models import LedgerEntry
from abonent.core.context import Actor
from abonent.payments import office, services, tasks
from abonent.payments.models import Payment, ProviderCall, Refund, WebhookEvent
from abonent.payments.providers import ProviderRefused, get_provider

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


@pytest.fixture
def manager_actor(db):
    from abonent.accounts.models import User

    user = User.objects.create_user(
        "manager1", "x" * 12, kind=User.Kind.STAFF, role=User.Role.MANAGER, is_staff=True
    )
    return Actor(user=user, channel="admin")


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
def test_an_autopay_charge_carries_its_receipt_and_is_logged(contract, yookassa):
    # 54-FZ: a saved card's charge is a payment like any other and needs its receipt.
    from abonent.billing.services import post_entry
    from abonent.payments import autopay
    from abonent.payments.models import AutopayRule

    first = start(contract, save=True)
    yookassa.set_status(first.provider_payment_id, "succeeded")
    services.refresh(first, Actor.system("job"))  # the card is saved, autopay on
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-460_00,
        idempotency_key="c",
        description="c",
        actor=Actor.system(),
    )  # 40 ₽ left: two days
    calls = ProviderCall.objects.filter(operation="create").count()
    rule = AutopayRule.objects.get(contract=contract)
    assert autopay.charge_if_due(rule.pk, dt.date(2026, 11, 10)) == "charged"
    body = yookassa.requests[-1][2]
    assert body["payment_method_id"] == f"pm-{first.provider_payment_id}"
    charge = Payment.objects.get(autopay_rule=rule)
    assert charge.receipt["items"][0]["amount"]["value"] == f"{charge.amount / 100:.2f}"
    assert body["receipt"]["customer"] == {"phone": "79001112233"}
    item = body["receipt"]["items"][0]
    assert item["amount"] == {"value": f"{charge.amount / 100:.2f}", "currency": "RUB"}
    assert (item["payment_subject"], item["payment_mode"]) == ("service", "full_prepayment")
    assert item["description"] == f"Автоплатёж, договор {contract.number}"
    logged = list(ProviderCall.objects.filter(operation="create").order_by("pk"))
    assert len(logged) == calls + 1
    assert (logged[-1].payment, logged[-1].ok) == (charge, True)


@pytest.mark.django_db
def test_refund_through_the_api(contract, yookassa):
    payment = start(contract)
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    with pytest.raises(ProviderRefused):  # the payment had a receipt: so must its refund
        get_provider().refund(payment.provider_payment_id, 100_00, "refund-0")
    receipt = services.refund_receipt(payment, 100_00)
    refund_id = get_provider().refund(payment.provider_payment_id, 100_00, "refund-1", receipt)
    assert refund_id.startswith("refund-")
    with pytest.raises(ProviderRefused):  # a 400: nothing happened there
        get_provider().refund("20000000-000f-5000-9000-000000000000", 100_00, "refund-2")


def succeeded(contract, yookassa, key="k1"):
    payment = start(contract, key=key)
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    services.refresh(payment, Actor.system("job"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


@pytest.mark.django_db
def test_a_refund_whose_answer_is_lost_is_asked_again_and_made_once(
    contract, yookassa, manager_actor, time_machine
):
    time_machine.move_to("2026-11-27 12:00:00+00:00", tick=False)
    payment = succeeded(contract, yookassa)
    yookassa.lose_answers = 1  # YooKassa makes the refund; its answer is a 500
    booked = office.refund(payment.pk, "200", "двойная оплата", manager_actor)
    assert booked.status == Refund.Status.PENDING
    assert len(yookassa.refunds) == 1
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00  # booked: debited at once
    tasks.retry_pending_refunds.call_local()  # too early: the first call may be running
    assert Refund.objects.get().attempts == 1
    time_machine.shift(dt.timedelta(minutes=3))
    tasks.retry_pending_refunds.call_local()
    booked.refresh_from_db()
    assert (booked.status, booked.attempts) == (Refund.Status.DONE, 2)
    assert [booked.provider_refund_id] == list(yookassa.refunds)  # one refund there
    asked = [r for r in yookassa.requests if r[1].endswith("/refunds")]
    assert [r[3].get("Idempotence-Key") for r in asked] == [booked.entry.idempotency_key] * 2
    item = asked[0][2]["receipt"]["items"][0]  # the refund's own 54-FZ receipt
    assert item["amount"]["value"] == "200.00"
    assert asked[0][2]["receipt"]["customer"] == {"phone": "79001112233"}
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


@pytest.mark.django_db
def test_a_refund_unanswered_for_a_day_is_left_to_staff(
    contract, yookassa, manager_actor, time_machine, caplog
):
    # YooKassa forgets an Idempotence-Key after 24 hours: asking again then could
    # refund twice, so the refund waits for a person instead.
    time_machine.move_to("2026-11-27 12:00:00+00:00", tick=False)
    payment = succeeded(contract, yookassa)
    yookassa.lose_answers = 1
    booked = office.refund(payment.pk, "200", "двойная оплата", manager_actor)
    time_machine.shift(dt.timedelta(hours=24))
    tasks.retry_pending_refunds.call_local()
    booked.refresh_from_db()
    assert (booked.status, booked.attempts) == (Refund.Status.UNCONFIRMED, 1)
    assert "check it in the provider's dashboard" in caplog.text
    asked = [r for r in yookassa.requests if r[1].endswith("/refunds")]
    assert len(asked) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("refunded", "balance"), [(True, 300_00), (False, 500_00)])
def test_staff_settle_an_unconfirmed_refund(
    contract, yookassa, manager_actor, time_machine, refunded, balance
):
    from abonent.core.errors import Forbidden, ValidationFailed

    time_machine.move_to("2026-11-27 12:00:00+00:00", tick=False)
    payment = succeeded(contract, yookassa)
    yookassa.lose_answers = 1
    booked = office.refund(payment.pk, "200", "двойная оплата", manager_actor)
    with pytest.raises(ValidationFailed):  # still being asked: not for a person yet
        office.settle_unconfirmed(booked.pk, refunded, manager_actor)
    time_machine.shift(dt.timedelta(hours=24))
    tasks.retry_pending_refunds.call_local()
    cashier = manager_actor.user
    cashier.role = "cashier"
    cashier.save()
    with pytest.raises(Forbidden):
        office.settle_unconfirmed(booked.pk, refunded, Actor(user=cashier, channel="admin"))
    cashier.role = "manager"
    cashier.save()
    settled = office.settle_unconfirmed(booked.pk, refunded, manager_actor)
    assert settled.status == (Refund.Status.DONE if refunded else Refund.Status.REFUSED)
    contract.account.refresh_from_db()
    assert contract.account.balance == balance
    assert (
        LedgerEntry.objects.filter(account=contract.account).aggregate(s=Sum("amount"))["s"]
        == balance
    )
    with pytest.raises(ValidationFailed):  # once
        office.settle_unconfirmed(booked.pk, not refunded, manager_actor)


@pytest.mark.django_db
def test_the_refund_form_sent_twice_books_one_refund(contract, yookassa, manager_actor):
    payment = succeeded(contract, yookassa)
    first = office.refund(payment.pk, "200", "двойная оплата", manager_actor, key="form-1")
    again = office.refund(payment.pk, "200", "двойная оплата", manager_actor, key="form-1")
    assert first.pk == again.pk
    assert Refund.objects.count() == 1
    assert len(yookassa.refunds) == 1
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00


@pytest.mark.django_db
def test_a_card_refund_is_not_reversed_by_hand(contract, yookassa, manager_actor):
    from abonent.billing.services import reverse_entry
    from abonent.core.errors import ValidationFailed

    payment = succeeded(contract, yookassa)
    booked = office.refund(payment.pk, "200", "двойная оплата", manager_actor)
    with pytest.raises(ValidationFailed):
        reverse_entry(booked.entry.pk, "ошибка", manager_actor)
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00


@pytest.mark.django_db
def test_a_refused_refund_gives_the_balance_back(contract, yookassa, manager_actor):
    payment = succeeded(contract, yookassa)
    yookassa.set_status(payment.provider_payment_id, "canceled")  # not refundable there
    with pytest.raises(office.RefundRefused):
        office.refund(payment.pk, "200", "двойная оплата", manager_actor)
    refused = Refund.objects.get()
    assert refused.status == Refund.Status.REFUSED
    assert refused.reversal is not None
    assert refused.reversal.reverses == refused.entry
    assert refused.reversal.amount == 200_00
    contract.account.refresh_from_db()
    assert contract.account.balance == 500_00
    assert (
        LedgerEntry.objects.filter(account=contract.account).aggregate(s=Sum("amount"))["s"]
        == 500_00
    )
    tasks.retry_pending_refunds.call_local()  # a refused refund is not asked again
    assert Refund.objects.get().attempts == 1
    # the whole payment may still be refunded once the provider agrees
    yookassa.set_status(payment.provider_payment_id, "succeeded")
    assert office.refund(payment.pk, "500", "полный возврат", manager_actor).status == "done"


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
