"""Personal data retention (decision 0014): three years after a person's last contract
was terminated, settled, they are anonymised — the ledger, the contract number and the
tariff history stay; search no longer finds them, attachments are gone from disk, the
cabinet login is refused. Anyone with a live contract, a debt, or a more recent
termination is left alone."""

import datetime as dt
import os
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import translation

from abonent.accounts.models import ApiToken, User, WebSession
from abonent.accounts.services import authenticate_subscriber
from abonent.applications.models import Application, ApplicationEvent
from abonent.billing import lifecycle
from abonent.billing.models import Account, LedgerEntry, TariffChange
from abonent.billing.services import post_entry
from abonent.core.context import Actor
from abonent.core.errors import InvalidCredentials
from abonent.core.models import AuditLog
from abonent.notifications.models import Message
from abonent.subscribers import retention
from abonent.subscribers.models import Contract, Subscriber
from abonent.subscribers.selectors import search_contracts
from abonent.subscribers.services import AddressData, PersonData, create_contract
from abonent.subscribers.tasks import anonymise_former_subscribers
from abonent.support import services as support
from abonent.support.models import Attachment, Ticket, TicketMessage

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
PASSWORD = "correct horse battery"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SYSTEM = Actor.system("cli")
with translation.override("ru"):  # the provider's language, whatever the test runs in
    PLACEHOLDER = str(retention.PLACEHOLDER)


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC), tick=False)


@pytest.fixture
def staff(staff_user) -> Actor:
    return Actor(user=staff_user, channel="admin")


@pytest.fixture
def person(tariff):
    """A contract signed 1 March 2022 with a full set of personal data, its application,
    an SMS, a ticket with an attachment and money on the ledger."""

    def make(n: int, *, subscriber: Subscriber | None = None) -> Contract:
        with at(dt.date(2022, 3, 1)):
            new = create_contract(
                PersonData(
                    last_name=f"Кузнецов{n}",
                    first_name="Пётр",
                    middle_name="Ильич",
                    phone=f"+7 900 300-00-{n:02d}",
                    email=f"p{n}@example.ru",
                    passport_series="4006",
                    passport_number=f"1234{n:02d}",
                    passport_issued_by="ТП №1",
                    passport_issued_on=dt.date(2010, 5, 5),
                    birth_date=dt.date(1980, 1, 2),
                ),
                AddressData(street="ул. Садовая", house="10", flat=str(40 + n)),
                tariff,
                SYSTEM,
                signed_on=dt.date(2022, 3, 1),
                subscriber=subscriber,
            )
            contract = new.contract
            user = contract.user
            user.set_password(PASSWORD)
            user.password_change_required = False
            user.save()
            post_entry(
                contract.account.pk,
                kind="payment",
                amount=5000_00,
                idempotency_key=f"pay:{n}",
                description="payment",
                actor=SYSTEM,
            )
            Application.objects.create(
                full_name=f"Кузнецов{n} Пётр",
                phone=f"+79003000{n:03d}",
                street_text="Садовая",
                house_text="10",
                flat=str(40 + n),
                comment="звонить после 18, домофон 41",
                consent_at=dt.datetime(2022, 2, 20, tzinfo=dt.UTC),
                coverage="yes",
                stage="active",
                source_ip="203.0.113.7",
                contract=contract,
                created_at=dt.datetime(2022, 2, 20, tzinfo=dt.UTC),
                updated_at=dt.datetime(2022, 3, 1, tzinfo=dt.UTC),
            ).events.create(stage="active", note="паспорт проверен", created_at=NOW)
            Message.objects.create(
                channel="sms",
                to=f"+7900300{n:04d}",
                kind="reminder",
                text=f"Кузнецов{n}, пополните счёт",
                contract_id=contract.pk,
                gateway="console",
            )
            ticket = support.open_ticket(
                contract,
                category="other",
                subject="Мой паспорт",
                text="Фото паспорта во вложении",
                files=[SimpleUploadedFile("passport.png", PNG, content_type="image/png")],
                actor=Actor(user=user, channel="web"),
            )
            ticket.refresh_from_db()
        return contract

    return make


def terminate(contract: Contract, day: dt.date, staff: Actor) -> None:
    with at(day):
        result = lifecycle.terminate(contract.pk, None, staff, f"t:{contract.pk}")
        assert result.created
        assert result.paid_out > 0
    contract.refresh_from_db()
    assert contract.status == Contract.Status.TERMINATED
    assert Account.objects.get(contract=contract).balance == 0


def ledger() -> tuple:
    rows = LedgerEntry.objects.order_by("pk").values_list(
        "pk", "account_id", "kind", "amount", "idempotency_key", "description", "effective_date"
    )
    return list(rows), LedgerEntry.objects.aggregate(total=Sum("amount"))["total"]


@pytest.fixture
def world(person, staff, make_contract):
    """Who is who on 27 November 2026 (three years back: 27 November 2023)."""
    gone = person(1)
    terminate(gone, dt.date(2023, 11, 26), staff)  # 3 years + 1 day ago
    recent = person(2)
    terminate(recent, dt.date(2023, 11, 28), staff)  # 3 years − 1 day ago
    active = person(3)
    debtor = person(4)
    terminate(debtor, dt.date(2022, 6, 1), staff)
    with at(dt.date(2024, 1, 10)):  # a charge found after termination: a debt
        post_entry(
            debtor.account.pk,
            kind="correction",
            amount=-150_00,
            idempotency_key="late-charge",
            description="equipment not returned",
            actor=SYSTEM,
        )
    owed = person(7)
    terminate(owed, dt.date(2022, 6, 1), staff)
    with at(dt.date(2022, 7, 1)):  # a payment after termination, not yet returned
        post_entry(
            owed.account.pk,
            kind="payment",
            amount=300_00,
            idempotency_key="late-payment",
            description="payment",
            actor=SYSTEM,
        )
    two = person(5)  # one person, two contracts: the other one is still live
    terminate(two, dt.date(2022, 6, 1), staff)
    person(6, subscriber=two.subscriber)
    with at(NOW.date()):
        yield {
            "gone": gone,
            "recent": recent,
            "active": active,
            "debtor": debtor,
            "owed": owed,
            "two": two,
        }


def anonymised(contract: Contract) -> bool:
    return Subscriber.objects.get(pk=contract.subscriber_id).anonymised_at is not None


def test_who_is_anonymised(world):
    assert retention.cutoff() == dt.date(2023, 11, 27)
    report = retention.run()
    assert report.subscribers == [world["gone"].subscriber_id]
    assert report.contracts == 1
    assert report.attachments == 1
    assert anonymised(world["gone"])
    for name in ("recent", "active", "debtor", "owed", "two"):
        assert not anonymised(world[name]), name


def test_the_person_is_gone_but_contract_ledger_and_tariff_history_stay(world):
    gone = world["gone"]
    user_id, number = gone.user_id, gone.number
    before_ledger = ledger()
    balances = dict(Account.objects.values_list("contract_id", "balance"))
    changes = list(TariffChange.objects.order_by("pk").values_list("pk", "contract_id"))
    file_path = Attachment.objects.get(message__ticket__contract=gone).file.path
    assert os.path.exists(file_path)

    retention.run()

    person = Subscriber.objects.get(pk=gone.subscriber_id)
    assert person.last_name == PLACEHOLDER
    assert (person.first_name, person.middle_name) == ("", "")
    assert (person.phone, person.phone_alt, person.email) == ("", "", "")
    assert person.passport_series is None
    assert person.passport_number is None
    assert person.passport_issued_by is None
    assert person.passport_issued_on is None
    assert person.passport_digest == ""
    assert person.birth_date is None
    contract = Contract.objects.select_related("address").get(pk=gone.pk)
    assert contract.number == number
    assert contract.status == Contract.Status.TERMINATED
    assert (contract.address.street, contract.address.house, contract.address.flat) == (
        "ул. Садовая",
        "10",
        "",
    )
    # Money: not one entry changed, balances and sums the same.
    assert ledger() == before_ledger
    assert dict(Account.objects.values_list("contract_id", "balance")) == balances
    assert list(TariffChange.objects.order_by("pk").values_list("pk", "contract_id")) == changes
    # The application, the outbox, the tickets.
    application = Application.objects.get(contract=gone)
    assert (application.full_name, application.phone, application.flat) == (PLACEHOLDER, "", "")
    assert application.comment == ""
    assert application.source_ip is None
    assert application.street_text == "Садовая"  # the building stays, for statistics
    assert not ApplicationEvent.objects.filter(application=application).exclude(note="").exists()
    message = Message.objects.get(contract_id=gone.pk)
    assert (message.to, message.text, message.body) == ("", "", None)
    ticket = Ticket.objects.get(contract=gone)
    assert ticket.subject == PLACEHOLDER
    assert set(TicketMessage.objects.filter(ticket=ticket).values_list("text", flat=True)) == {
        PLACEHOLDER
    }
    assert not Attachment.objects.filter(message__ticket=ticket).exists()
    assert not os.path.exists(file_path)
    # One audit row, by the system.
    row = AuditLog.objects.get(action="subscriber.anonymised")
    assert row.contract_id == gone.pk
    assert row.actor is None
    assert row.channel == "system"
    assert (row.after or {})["attachments_deleted"] == 1
    # The others keep everything.
    recent = Subscriber.objects.get(pk=world["recent"].subscriber_id)
    assert recent.last_name == "Кузнецов2"
    assert recent.passport_number == "123402"
    assert Attachment.objects.filter(message__ticket__contract=world["recent"]).exists()
    assert User.objects.get(pk=user_id).username == number


def test_search_no_longer_finds_the_person(world, staff_user):
    gone = world["gone"]
    for query in ("+7 900 300-00-01", "89003000001", "4006 123401", "Кузнецов1", "Садовая 10 41"):
        assert gone in search_contracts(query), query
    retention.run()
    for query in ("+7 900 300-00-01", "89003000001", "4006 123401", "Кузнецов1", "Садовая 10 41"):
        assert gone not in search_contracts(query), query
    assert search_contracts(gone.number) == [gone]  # the contract itself is still there
    assert world["recent"] in search_contracts("4006 123402")


def test_the_cabinet_login_is_refused(world):
    gone = world["gone"]
    web, app = Client(), Client()
    assert (
        web.post("/login/", {"contract_number": gone.number, "password": PASSWORD}).status_code
        == 302
    )
    assert (
        app.post(
            "/api/v1/auth/login",
            {"contract_number": gone.number, "password": PASSWORD},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert WebSession.objects.filter(user_id=gone.user_id).exists()

    retention.run()

    user = User.objects.get(pk=gone.user_id)
    assert not user.is_active
    assert not user.has_usable_password()
    assert not user.cabinet_enabled
    assert not WebSession.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    with pytest.raises(InvalidCredentials):
        authenticate_subscriber(gone.number, PASSWORD)
    assert web.get("/").status_code == 302  # the open session ended: back to the login
    response = Client().post("/login/", {"contract_number": gone.number, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with the error
    assert Client().post(
        "/api/v1/auth/login",
        {"contract_number": gone.number, "password": PASSWORD},
        content_type="application/json",
    ).status_code in (400, 401)


def test_the_audit_trail_keeps_its_rows_without_the_data(world, staff_user):
    gone = world["gone"]
    AuditLog.objects.create(
        channel="web",
        action="profile.phone_changed",
        object_type="subscribers.subscriber",
        object_id=str(gone.subscriber_id),
        contract_id=gone.pk,
        before={"phone": "+79003000001"},
        after={"phone": "+79003009999"},
    )
    AuditLog.objects.create(
        actor=staff_user,
        channel="web",
        action="contract.found",
        object_type="subscribers.contract",
        object_id=str(gone.pk),
        contract_id=gone.pk,
        after={"query": "Кузнецов1"},
    )
    count = AuditLog.objects.filter(contract_id=gone.pk).count()
    retention.run()
    assert AuditLog.objects.filter(contract_id=gone.pk).count() == count + 1
    changed = AuditLog.objects.get(action="profile.phone_changed")
    assert (changed.before, changed.after) == ({"phone": ""}, {"phone": ""})
    assert AuditLog.objects.get(action="contract.found").after == {"query": ""}


def test_a_second_run_changes_nothing_and_dry_run_changes_nothing(world):
    before = list(Subscriber.objects.order_by("pk").values())
    out = StringIO()
    call_command("retention", "--dry-run", "--only", "personal", stdout=out)
    assert "1 (1 contract(s)) would be anonymised" in out.getvalue()
    assert f"subscriber ids: {world['gone'].subscriber_id}" in out.getvalue()
    assert list(Subscriber.objects.order_by("pk").values()) == before
    assert not AuditLog.objects.filter(action="subscriber.anonymised").exists()

    anonymise_former_subscribers.call_local()
    after_first = list(Subscriber.objects.order_by("pk").values())
    audit_rows = AuditLog.objects.count()
    again = retention.run()
    assert again.subscribers == []
    assert retention.anonymise(world["gone"].subscriber_id, retention.cutoff()) is None
    assert list(Subscriber.objects.order_by("pk").values()) == after_first
    assert AuditLog.objects.count() == audit_rows
    out = StringIO()
    call_command("retention", "--only", "personal", stdout=out)
    assert "0 (0 contract(s)) anonymised" in out.getvalue()


def test_the_period_has_a_floor(settings):
    settings.RETENTION_PERSONAL_DATA_YEARS = 0
    with at(NOW.date()):
        assert retention.cutoff() == dt.date(2025, 11, 27)


def test_the_day_after_the_period_the_next_one_goes(world):
    retention.run()
    with at(dt.date(2026, 11, 29)):
        assert retention.cutoff() == dt.date(2023, 11, 29)
        assert retention.run().subscribers == [world["recent"].subscriber_id]
