import io
import re

import pytest
from pypdf import PdfReader

from abonent.accounts.models import User
from abonent.billing.models import LedgerEntry
from abonent.core.context import Actor
from abonent.core.errors import Forbidden, ValidationFailed
from abonent.payments import office, services
from abonent.payments.models import CashPayment, SandboxPayment
from abonent.staff.tests.test_staff_2fa import enrol

pytestmark = pytest.mark.django_db


def staff(role, name="Кассир Анна"):
    user = User.objects.create_user(
        f"s-{role}", "x" * 12, kind="staff", role=role, is_staff=True, full_name=name
    )
    return Actor(user=user, channel="admin")


def signed_in(staff_user, role):
    """The back office in a browser, signed in (with its second factor) in `role`."""
    staff_user.role = role
    staff_user.save()
    client, _codes = enrol(staff_user)
    return client


def test_cash_payment_with_a_printed_receipt(contract):
    cash = office.record_cash_payment(contract.pk, "1 500", staff("cashier"))
    contract.account.refresh_from_db()
    assert contract.account.balance == 1500_00
    assert cash.entry.kind == "payment"
    text = PdfReader(io.BytesIO(office.cash_receipt_pdf(cash))).pages[0].extract_text()
    assert f"№ {cash.pk}" in text
    assert contract.number in text
    assert "Петров Иван" in text
    assert "1\xa0500,00\xa0₽" in text or "1 500,00 ₽" in text
    assert "Кассир Анна" in text


def test_the_cash_form_sent_twice_takes_the_money_once(contract, staff_user):
    client = signed_in(staff_user, User.Role.CASHIER)
    url = f"/staff/admin/payments/cashpayment/take/{contract.pk}/"
    form = client.get(url).content.decode()
    key = re.search(r'name="key" value="([0-9a-f-]+)"', form)
    assert key is not None
    for _attempt in range(2):  # a double click
        response = client.post(url, {"amount": "700", "key": key.group(1)})
        assert response.status_code == 302
    assert CashPayment.objects.count() == 1
    contract.account.refresh_from_db()
    assert contract.account.balance == 700_00


def test_only_the_office_takes_cash(contract):
    for actor in (staff("technician"), Actor(user=contract.user, channel="web")):
        with pytest.raises(Forbidden):
            office.record_cash_payment(contract.pk, "100", actor)
    with pytest.raises(ValidationFailed):
        office.record_cash_payment(contract.pk, "ноль", staff("cashier"))
    assert not LedgerEntry.objects.exists()


def paid(contract, amount="500"):
    payment = services.start_payment(
        contract,
        amount,
        idempotency_key="k",
        return_url="http://t/{payment}/",
        actor=Actor.system(),
    )
    row = SandboxPayment.objects.get()
    row.status = "succeeded"
    row.save()
    services.refresh(payment, Actor.system("job"))
    payment.refresh_from_db()
    return payment


def test_refund_through_the_provider_as_a_ledger_entry(contract):
    payment = paid(contract)
    manager = staff("manager")
    first = office.refund(payment.pk, "200", "Двойная оплата", manager)
    assert first.status == "done"
    assert first.entry.amount == -200_00
    assert first.provider_refund_id.startswith("sbx_refund_")
    with pytest.raises(ValidationFailed):
        office.refund(payment.pk, "301", "ещё", manager)  # more than is left
    office.refund(payment.pk, "295,50", "почти всё", manager)
    with pytest.raises(ValidationFailed):
        office.refund(payment.pk, "0", "ноль", manager)
    office.refund(payment.pk, "4,50", "остаток меньше минимума пополнения", manager)
    contract.account.refresh_from_db()
    assert contract.account.balance == 0
    assert SandboxPayment.objects.get().metadata["refunds"]  # the provider was asked


@pytest.mark.django_db(transaction=True)
def test_no_transaction_and_no_lock_is_held_while_the_provider_is_asked(contract, monkeypatch):
    # A slow provider must not hold the account: the billing run and payments for this
    # contract go on meanwhile. Asked from another connection, the account row is free.
    from django.db import connection

    from abonent.payments.providers import get_provider

    payment = paid(contract)
    provider = get_provider(payment.provider)
    real = provider.refund
    seen: list[tuple[bool, bool]] = []

    def refund(*args):
        seen.append((connection.in_atomic_block, account_is_free(contract.account.pk)))
        return real(*args)

    monkeypatch.setattr(provider, "refund", refund)
    assert office.refund(payment.pk, "100", "двойная оплата", staff("manager")).status == "done"
    assert seen == [(False, True)]


def account_is_free(account_id: int) -> bool:
    import threading

    from django.db import OperationalError, connections, transaction

    from abonent.billing.models import Account

    free: list[bool] = []

    def probe() -> None:
        try:
            with transaction.atomic():
                Account.objects.select_for_update(nowait=True).get(pk=account_id)
            free.append(True)
        except OperationalError:
            free.append(False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return free == [True]


def test_the_refund_page_sent_twice_refunds_once(contract, staff_user):
    from abonent.payments.models import Refund

    payment = paid(contract)
    client = signed_in(staff_user, User.Role.MANAGER)
    url = f"/staff/admin/payments/payment/{payment.pk}/refund/"
    form = client.get(url).content.decode()
    key = re.search(r'name="key" value="([0-9a-f-]+)"', form)
    assert key is not None
    for _attempt in range(2):  # a double click
        response = client.post(url, {"amount": "200", "reason": "двойная", "key": key.group(1)})
        assert response.status_code == 302
    assert list(Refund.objects.values_list("amount", "status")) == [(200_00, "done")]
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00
    page = client.get(response["Location"]).content.decode()
    assert "Возврат выполнен" in page


def test_an_unconfirmed_refund_is_settled_from_the_list_of_refunds(contract, staff_user):
    from abonent.payments.models import Refund

    payment = paid(contract)
    client = signed_in(staff_user, User.Role.MANAGER)
    booked = office.refund(payment.pk, "200", "двойная", Actor(user=staff_user, channel="admin"))
    Refund.objects.filter(pk=booked.pk).update(status=Refund.Status.UNCONFIRMED)
    response = client.post(
        "/staff/admin/payments/refund/",
        {"action": "mark_not_refunded", "_selected_action": [booked.pk]},
        follow=True,
    )
    assert response.status_code == 200
    booked.refresh_from_db()
    assert booked.status == Refund.Status.REFUSED
    contract.account.refresh_from_db()
    assert contract.account.balance == 500_00


def test_bad_refund_input_is_refused_with_a_message_and_books_nothing(contract, staff_user):
    from abonent.payments.models import Refund

    payment = paid(contract)
    client = signed_in(staff_user, User.Role.MANAGER)
    url = f"/staff/admin/payments/payment/{payment.pk}/refund/"
    for form in (
        {"amount": "200", "reason": "двойная", "key": "not-a-key"},
        {"amount": "двести", "reason": "двойная", "key": "8d0c1a52-8a0c-4c3e-9a55-0a3c2a1f7e11"},
        {"amount": "600", "reason": "двойная", "key": "8d0c1a52-8a0c-4c3e-9a55-0a3c2a1f7e12"},
    ):
        response = client.post(url, form)
        assert response.status_code == 200  # the form again, with its error
        assert 'class="errorlist' in response.content.decode()
    assert not Refund.objects.exists()
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    # settling a refund the provider did answer is refused with a message, nothing moves
    done = office.refund(payment.pk, "200", "двойная", Actor(user=staff_user, channel="admin"))
    response = client.post(
        "/staff/admin/payments/refund/",
        {"action": "mark_not_refunded", "_selected_action": [done.pk]},
        follow=True,
    )
    assert "Вручную закрывается только возврат" in response.content.decode()
    done.refresh_from_db()
    assert done.status == Refund.Status.DONE
    contract.account.refresh_from_db()
    assert contract.account.balance == 300_00


def test_refund_rules(contract):
    payment = paid(contract)
    with pytest.raises(Forbidden):
        office.refund(payment.pk, "100", "x", staff("cashier"))
    with pytest.raises(ValidationFailed):
        office.refund(payment.pk, "100", "  ", staff("manager"))
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_a_terminated_contract_takes_no_new_money(contract):
    from abonent.billing.lifecycle.common import PolicyViolation
    from abonent.payments import autopay
    from abonent.subscribers.models import Contract

    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.TERMINATED)
    contract.refresh_from_db()
    with pytest.raises(PolicyViolation):
        services.start_payment(
            contract, "500", idempotency_key="t", return_url="http://t/", actor=Actor.system()
        )
    with pytest.raises(PolicyViolation):
        office.record_cash_payment(contract.pk, "500", staff("cashier"), key="t")
    with pytest.raises(PolicyViolation):
        autopay.update_rule(
            contract,
            enabled=True,
            threshold_days=3,
            amount=500_00,
            monthly_cap=None,
            actor=Actor.system(),
        )
    assert not LedgerEntry.objects.exists()


def test_a_card_refund_after_termination_cannot_pay_out_twice(contract):
    from abonent.billing import lifecycle

    payment = paid(contract)
    manager = staff("manager")
    lifecycle.terminate(contract.pk, None, manager, "t")  # pays the rest out
    with pytest.raises(ValidationFailed):
        office.refund(payment.pk, "500", "на карту", manager)
    contract.account.refresh_from_db()
    assert contract.account.balance == 0
