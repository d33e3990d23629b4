"""Tickets through the services: conversation, SLA clock with pauses, rating, reopen,
attachments refused with a clear message, outages linked."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.notifications.models import Message
from abonent.notifications.preferences import save as save_preferences
from abonent.support import selectors, services
from abonent.support.models import Outage, OutageArea, Ticket

from .conftest import PDF, FakeUpload

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
T0 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=MSK)


def subscriber(contract):
    return Actor(user=contract.user, channel="web")


def open_one(contract, **extra):
    values: dict = {"category": "slow_speed", "subject": "Медленно", "text": "Вечером 5 Мбит/с"}
    values.update(extra)
    return services.open_ticket(contract, actor=subscriber(contract), **values)


def test_conversation_sla_with_a_pause_and_rating(contract, operator, png):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = open_one(contract, files=[png()])
        assert (ticket.first_response_target, ticket.resolution_target) == (60, 24 * 60)
        clock.shift(dt.timedelta(minutes=20))
        services.staff_reply(
            ticket.pk, "Перезагрузите роутер", None, operator, wait_for_subscriber=True
        )
        clock.shift(dt.timedelta(hours=5))  # waiting for the subscriber: the clock stands
        services.subscriber_reply(ticket.pk, "Не помогло", None, subscriber(contract))
        clock.shift(dt.timedelta(minutes=40))
        services.staff_reply(ticket.pk, "Внутренняя заметка", None, operator, internal=True)
        services.resolve(ticket.pk, operator)
        ticket.refresh_from_db()
        assert ticket.first_response_seconds == 20 * 60
        assert ticket.resolution_seconds == 60 * 60  # 20 + 40 minutes; 5 h paused
        assert not ticket.first_response_breached
        assert not ticket.resolution_breached
        assert ticket.assignee == operator.user
        services.rate(ticket.pk, 5, "Спасибо", subscriber(contract))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating) == ("closed", 5)
    shown = selectors.ticket_for(contract, ticket.pk).visible_messages  # type: ignore[attr-defined]
    assert [m.text for m in shown] == [
        "Вечером 5 Мбит/с",
        "Перезагрузите роутер",
        "Не помогло",
    ]  # the internal note is not among them
    assert shown[0].attachments.get().content_type == "image/png"


def test_a_reply_is_told_by_sms_and_email_as_the_subscriber_chose(
    contract, operator, django_capture_on_commit_callbacks
):
    contract.user.email = "petrov@example.com"
    contract.user.save()
    ticket = open_one(contract)
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(ticket.pk, "Ответ", None, operator)
    assert Message.objects.filter(kind="support_reply", channel="sms").count() == 1
    assert Message.objects.filter(kind="support_reply", channel="email").count() == 1
    assert len(mail.outbox) == 1
    assert "Ответ" in mail.outbox[0].body
    save_preferences(contract.user, {"support_reply:sms": False})
    services.staff_reply(ticket.pk, "Ещё ответ", None, operator)
    assert Message.objects.filter(kind="support_reply", channel="sms").count() == 1
    assert Message.objects.filter(kind="support_reply", channel="email").count() == 2


def test_breaches_are_flagged_by_the_job_and_the_reply(contract, operator):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = open_one(contract, category="no_connection")  # 30 min / 4 h
        clock.shift(dt.timedelta(minutes=31))
        assert services.flag_breaches() == 1
        ticket.refresh_from_db()
        assert ticket.first_response_breached
        assert not ticket.resolution_breached
        clock.shift(dt.timedelta(hours=4))
        assert services.flag_breaches() == 1
        assert services.flag_breaches() == 0  # flags are raised once


def test_reopen_within_the_window_only(contract, operator):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = open_one(contract)
        services.resolve(ticket.pk, operator)
        services.rate(ticket.pk, 2, "", subscriber(contract))
        clock.shift(dt.timedelta(days=3))
        services.reopen(ticket.pk, subscriber(contract))
        ticket.refresh_from_db()
        assert (ticket.status, ticket.reopened, ticket.rating) == ("in_progress", 1, None)
        services.close(ticket.pk, subscriber(contract))
        clock.shift(dt.timedelta(days=8))
        with pytest.raises(services.TicketPolicy):
            services.reopen(ticket.pk, subscriber(contract))


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (FakeUpload("big.pdf", PDF + b"0" * (5 * 1024 * 1024)), "too large"),
        (FakeUpload("script.pdf", b"#!/bin/sh\nrm -rf /"), "only photos"),
        (FakeUpload("photo.exe", b"\x89PNG\r\n\x1a\n" + b"0" * 10), "only photos"),
        (FakeUpload("../../etc/passwd.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10), "simple file name"),
        (FakeUpload("..\\boot.ini.pdf", PDF), "simple file name"),
        (FakeUpload(".htaccess.png", b"\x89PNG\r\n\x1a\n"), "simple file name"),
        (FakeUpload("empty.png", b""), "empty"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_opened(contract, upload, message):
    with pytest.raises(ValidationFailed) as info, translation.override("en"):
        open_one(contract, files=[upload])
    assert message in str(info.value.fields["attachments"][0])
    assert not Ticket.objects.exists()


def test_bad_fields_are_refused(contract):
    with pytest.raises(ValidationFailed) as info:
        open_one(contract, category="love", subject=" ", text="x" * 5001)
    assert set(info.value.fields) == {"category", "subject", "text"}
    with pytest.raises(ValidationFailed):
        services.rate(open_one(contract).pk, "6", "", subscriber(contract))


def test_a_double_submit_opens_one_ticket(contract):
    assert open_one(contract, key="form-1").pk == open_one(contract, key="form-1").pk
    assert Ticket.objects.count() == 1


def test_an_outage_at_the_address_is_shown_and_linked(contract, make_contract):
    now = T0
    outage = Outage.objects.create(
        title="Авария на узле", text="Чиним", starts_at=now - dt.timedelta(hours=1)
    )
    OutageArea.objects.create(outage=outage, street=contract.address.street, house="")
    elsewhere = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    elsewhere.address.street = "Невский пр."
    elsewhere.address.save()
    with time_machine.travel(now, tick=False):
        assert list(selectors.outages_at(contract.address, now)) == [outage]
        assert not selectors.outages_at(elsewhere.address, now).exists()
        assert open_one(contract).outage == outage
        outage.ended_at = now
        outage.save()
        assert open_one(contract, key="2").outage is None


def test_another_subscribers_ticket_is_a_404(contract, make_contract):
    from django.http import Http404

    ticket = open_one(contract)
    other = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    with pytest.raises(Http404):
        selectors.ticket_for(other, ticket.pk)


def test_a_reopened_ticket_does_not_count_its_resolved_days(contract, operator):
    with time_machine.travel(T0, tick=False) as clock:
        ticket = open_one(contract)  # 60 min / 24 h
        clock.shift(dt.timedelta(minutes=10))
        services.staff_reply(ticket.pk, "Ответ", None, operator)
        clock.shift(dt.timedelta(minutes=50))
        services.resolve(ticket.pk, operator)
        clock.shift(dt.timedelta(days=5))
        services.subscriber_reply(ticket.pk, "Снова не работает", None, subscriber(contract))
        clock.shift(dt.timedelta(minutes=5))
        assert services.flag_breaches() == 0
        ticket.refresh_from_db()
        assert services.elapsed(ticket, T0 + dt.timedelta(days=5, minutes=65)) == 65 * 60


def test_the_resolution_notice_goes_out_and_in_russian(
    contract, operator, django_capture_on_commit_callbacks
):
    ticket = open_one(contract)
    with translation.override("en"):  # the operator works in English
        services.staff_reply(ticket.pk, "Ответ", None, operator)
        services.resolve(ticket.pk, operator)
    texts = list(
        Message.objects.filter(channel="sms").order_by("pk").values_list("text", flat=True)
    )
    assert len(texts) == 2
    assert "решено" in texts[1]
    assert all("Support" not in t for t in texts)


def test_long_client_keys_that_share_a_prefix_are_different_tickets(contract):
    first = open_one(contract, key="x" * 99 + "1")
    second = open_one(contract, key="x" * 99 + "2")
    assert first.pk != second.pk
