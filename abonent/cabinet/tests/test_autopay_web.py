import pytest

from abonent.core.context import Actor
from abonent.payments import services
from abonent.payments.models import AutopayRule, SandboxPayment

pytestmark = pytest.mark.django_db


def test_autopay_page_saves_the_rule(subscriber_client, contract, saved_card):
    subscriber_client.cookies["abonent_language"] = "ru"
    page = subscriber_client.get("/payments/autopay/").content.decode()
    assert "Сохранённой карты нет" in page
    refused = subscriber_client.post("/payments/autopay/", {"enabled": "on", "threshold_days": "3"})
    assert "Сначала сохраните карту" in refused.content.decode()
    payment = services.start_payment(
        contract,
        "100",
        idempotency_key="x",
        save_method=True,
        return_url="http://t/{payment}/",
        actor=Actor.system(),
    )
    row = SandboxPayment.objects.get()
    row.status, row.card_last4 = "succeeded", "1111"
    row.save()
    services.refresh(payment, Actor.system("job"))
    bad = subscriber_client.post(
        "/payments/autopay/", {"enabled": "on", "threshold_days": "3", "amount": "много"}
    )
    assert "Введите сумму в рублях" in bad.content.decode()
    subscriber_client.post(
        "/payments/autopay/",
        {"enabled": "on", "threshold_days": "5", "amount": "300", "monthly_cap": "1 000"},
    )
    rule = AutopayRule.objects.get()
    assert (rule.threshold_days, rule.amount, rule.monthly_cap) == (5, 300_00, 1000_00)
    subscriber_client.post("/payments/autopay/", {"action": "delete"})
    assert not AutopayRule.objects.exists()
