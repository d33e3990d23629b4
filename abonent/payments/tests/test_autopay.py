import datetime as dt

import pytest

from abonent.billing.models import LedgerEntry
from abonent.billing.services import post_entry
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.notifications.models import Message
from abonent.payments import autopay
from abonent.payments.models import AutopayRule, Payment, SavedMethod

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 10)


def test_paying_with_save_keeps_only_a_token_and_turns_autopay_on(contract, saved_card):
    saved_card()
    method = SavedMethod.objects.get(contract=contract)
    assert method.title == "Card *1111"
    assert method.provider_method_id.startswith("sbx_pm_1111_")
    rule = AutopayRule.objects.get(contract=contract)
    assert (rule.enabled, rule.threshold_days, rule.amount) == (True, 3, None)


def test_low_balance_is_topped_up_once(contract, saved_card):
    saved_card()  # balance 100 ₽: 5 days at 20 ₽
    rule = AutopayRule.objects.get()
    assert autopay.charge_if_due(rule.pk, DAY) == "not_needed"
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-60_00,
        idempotency_key="c",
        description="c",
        actor=Actor.system(),
    )  # 40 ₽ left: two days
    assert autopay.charge_if_due(rule.pk, DAY) == "charged"
    assert autopay.charge_if_due(rule.pk, DAY) == "not_needed"  # now covered
    contract.account.refresh_from_db()
    assert contract.account.balance == 600_00  # topped up to cover the month
    assert Payment.objects.filter(autopay_rule=rule, status="succeeded").count() == 1
    results = autopay.run_autopay(DAY)
    assert results == {"not_needed": 1}


def test_declined_card_is_retried_then_paused_with_a_notice(contract, saved_card):
    saved_card("5555555555554444")
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-100_00,
        idempotency_key="c",
        description="c",
        actor=Actor.system(),
    )
    rule_id = AutopayRule.objects.get().pk
    assert autopay.charge_if_due(rule_id, DAY) == "declined"
    assert autopay.charge_if_due(rule_id, DAY + dt.timedelta(days=0)) == "waiting_for_retry"
    assert autopay.charge_if_due(rule_id, DAY + dt.timedelta(days=1)) == "declined"  # +1 day
    assert autopay.charge_if_due(rule_id, DAY + dt.timedelta(days=2)) == "waiting_for_retry"
    assert (
        autopay.charge_if_due(rule_id, DAY + dt.timedelta(days=4)) == "paused"
    )  # +3 days, then pause
    rule = AutopayRule.objects.get()
    assert rule.paused_reason == "insufficient_funds"
    assert Message.objects.filter(kind="autopay_paused").count() == 1
    assert Message.objects.filter(kind="autopay_declined").count() == 2
    assert autopay.charge_if_due(rule_id, DAY + dt.timedelta(days=10)) == "off"
    assert not LedgerEntry.objects.filter(
        kind="payment", idempotency_key__startswith="payment:sandbox", amount__gt=100_00
    ).exists()


def test_monthly_cap(contract, saved_card):
    saved_card()
    autopay.update_rule(
        contract,
        enabled=True,
        threshold_days=3,
        amount=300_00,
        monthly_cap=500_00,
        actor=Actor.system(),
    )
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-100_00,
        idempotency_key="c1",
        description="c",
        actor=Actor.system(),
    )
    assert autopay.charge_if_due(AutopayRule.objects.get().pk, DAY) == "charged"
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-300_00,
        idempotency_key="c2",
        description="c",
        actor=Actor.system(),
    )
    assert (
        autopay.charge_if_due(AutopayRule.objects.get().pk, DAY + dt.timedelta(days=1))
        == "cap_reached"
    )


def test_rule_validation_and_forget(contract, saved_card):
    with pytest.raises(ValidationFailed):
        autopay.update_rule(
            contract,
            enabled=True,
            threshold_days=3,
            amount=None,
            monthly_cap=None,
            actor=Actor.system(),
        )
    saved_card()
    with pytest.raises(ValidationFailed):
        autopay.update_rule(
            contract,
            enabled=True,
            threshold_days=0,
            amount=5,
            monthly_cap=None,
            actor=Actor.system(),
        )
    autopay.forget(contract, Actor.system())
    assert not AutopayRule.objects.exists()
    assert not SavedMethod.objects.filter(active=True).exists()


def test_a_charge_whose_answer_was_lost_is_settled_once(contract, saved_card, monkeypatch):
    """The provider took the money but its answer timed out: the payment stays pending,
    no second charge is made, and the periodic job settles it with the same key."""
    from django.utils import timezone

    from abonent.payments.providers import ProviderError, get_provider
    from abonent.payments.tasks import reconcile_pending

    method = saved_card()
    rule = AutopayRule.objects.get()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-60_00,
        idempotency_key="c",
        description="c",
        actor=Actor.system(),
    )
    provider_class = type(get_provider(method.provider))
    real_create = provider_class.create
    answers = []

    def answer_lost_once(self, **kwargs):
        result = real_create(self, **kwargs)
        answers.append(result)
        if len(answers) == 1:
            raise ProviderError("timeout")
        return result

    monkeypatch.setattr(provider_class, "create", answer_lost_once)
    assert autopay.charge_if_due(rule.pk, DAY) == "provider_unavailable"
    payment = Payment.objects.get(autopay_rule=rule)
    assert payment.status == "pending"  # not "canceled": the money may have been taken
    assert autopay.charge_if_due(rule.pk, DAY + dt.timedelta(days=1)) == "unresolved_charge"
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=15)
    )
    reconcile_pending.call_local()
    reconcile_pending.call_local()
    assert {a.id for a in answers} == {answers[0].id}  # the same charge, asked for again
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    contract.account.refresh_from_db()
    assert contract.account.balance == 600_00
    assert LedgerEntry.objects.filter(kind="payment").count() == 2  # the card save + this
