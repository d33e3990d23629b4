"""Fixtures shared by every test: real services create the data, so tests exercise the
same paths production does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from abonent.accounts.models import User
from abonent.catalog.models import ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.subscribers.services import AddressData, NewContract, PersonData, create_contract


@pytest.fixture
def tariff(db: None) -> Tariff:
    return Tariff.objects.create(
        code="optimum",
        name="Оптимум 300",
        monthly_price=600_00,
        charging_mode=ChargingMode.DAILY,
        speed_in_mbps=300,
        speed_out_mbps=300,
    )


@pytest.fixture
def make_contract(tariff: Tariff):
    """Create a contract through the real service; the password is set to a known one
    and the forced change cleared unless asked to keep it."""

    def make(
        *,
        last_name: str = "Петров",
        phone: str = "+7 900 111-22-33",
        password: str | None = "correct horse battery",
        keep_initial: bool = False,
    ) -> NewContract:
        new = create_contract(
            PersonData(last_name=last_name, first_name="Иван", phone=phone),
            AddressData(street="ул. Садовая", house="10", flat="5"),
            tariff,
            Actor.system("cli"),
            signed_on=dt.date(2025, 1, 1),
        )
        if not keep_initial and password is not None:
            user = new.contract.user
            user.set_password(password)
            user.password_change_required = False
            user.save()
        return new

    return make


@pytest.fixture
def contract(make_contract):
    return make_contract().contract


@pytest.fixture
def subscriber_client(contract) -> Client:
    client = Client()
    response = client.post(
        "/login/", {"contract_number": contract.number, "password": "correct horse battery"}
    )
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user(
        "operator1",
        "staff-password-1",
        kind=User.Kind.STAFF,
        role=User.Role.OPERATOR,
        is_staff=True,
    )


@pytest.fixture
def outbox(db):
    """Messages sent so far, newest last; `outbox.code()` reads the last code."""
    import re

    from abonent.notifications.models import Message

    class Outbox:
        def all(self) -> list[Message]:
            return list(Message.objects.order_by("id"))

        def last(self) -> Message:
            message = Message.objects.order_by("-id").first()
            assert message is not None, "no message was sent"
            return message

        def code(self) -> str:
            match = re.search(r"\b(\d{4,6})\b", self.last().text)
            assert match, self.last().text
            return match.group(1)

    return Outbox()


@pytest.fixture
def real_gateway(settings):
    """Switch SMS delivery to the SMSC.ru adapter talking to a local fake server."""
    from abonent.notifications.gateways import _load
    from abonent.notifications.tests import fakes

    with fakes.running() as server:
        settings.SMS_GATEWAY = "smsc"
        settings.SMSC_URL = server.url
        settings.SMSC_LOGIN, settings.SMSC_PASSWORD = fakes.VALID
        _load.cache_clear()
        yield server
        _load.cache_clear()


@pytest.fixture
def saved_card(contract):
    """The subscriber paid 100 ₽ with card *1111 and ticked "save the card"."""
    from abonent.payments import services
    from abonent.payments.models import SandboxPayment, SavedMethod

    def make(card: str = "4111111111111111") -> SavedMethod:
        payment = services.start_payment(
            contract,
            "100",
            idempotency_key=f"save-{card}",
            save_method=True,
            return_url="http://testserver/payments/{payment}/",
            actor=Actor.system(),
        )
        row = SandboxPayment.objects.get(provider_payment_id=payment.provider_payment_id)
        row.status, row.card_last4 = "succeeded", card[-4:]
        row.save()
        services.refresh(payment, Actor.system("job"))
        return SavedMethod.objects.get(contract=contract, active=True)

    return make


@pytest.fixture
def november_10():
    """The clock stands still on 10 November 2026, 15:00 Moscow (30 days: 20 ₽ a day at 600 ₽)."""
    import time_machine

    with time_machine.travel(
        dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC), tick=False
    ) as traveller:
        yield traveller


@pytest.fixture
def funded(contract):
    """The contract with a 1000 ₽ payment on its balance."""
    from abonent.billing.services import post_entry

    post_entry(
        contract.account.pk,
        kind="payment",
        amount=1000_00,
        idempotency_key="funded",
        description="Оплата",
        actor=Actor.system(),
    )
    return contract
