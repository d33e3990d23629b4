"""Support through the web: the cabinet's pages and the staff desk."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from abonent.accounts.models import User
from abonent.core import clock
from abonent.core.context import Actor
from abonent.network.models import Nas, Session
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.support import services
from abonent.support.models import CannedAnswer, Outage, OutageArea, Ticket

from .conftest import PNG

pytestmark = pytest.mark.django_db


def as_subscriber(contract) -> Client:
    client = Client()
    client.force_login(contract.user)
    return client


def ask(client: Client, **extra):
    data = {
        "category": "no_connection",
        "subject": "Нет интернета",
        "text": "С утра не работает",
        "key": "k1",
        "attachments": [SimpleUploadedFile("router.png", PNG, content_type="image/png")],
    }
    data.update(extra)
    return client.post("/support/new/", data)


def test_a_subscriber_asks_with_a_photo_and_reads_the_answer(contract, operator):
    client = as_subscriber(contract)
    response = ask(client)
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/support/{ticket.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "С утра не работает" in page
    link = re.search(r'href="(/support/attachments/\d+/)"', page)
    assert link is not None
    download = client.get(link.group(1))
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"

    services.staff_reply(ticket.pk, "Проверьте кабель", None, operator)
    services.staff_reply(ticket.pk, "Кабель ок по RADIUS", None, operator, internal=True)
    page = client.get(f"/support/{ticket.pk}/").content.decode()
    assert "Проверьте кабель" in page
    assert "Кабель ок по RADIUS" not in page

    client.post(f"/support/{ticket.pk}/close/")
    client.post(f"/support/{ticket.pk}/rate/", {"score": "4", "comment": "Быстро"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.rating_comment) == ("closed", 4, "Быстро")
    assert (
        "4 из 5" in client.get(f"/support/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )


def test_another_subscribers_ticket_and_attachment_are_404(contract, make_contract):
    ask(as_subscriber(contract))
    ticket = Ticket.objects.get()
    attachment = ticket.messages.get().attachments.get()
    stranger = as_subscriber(make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract)
    for url in (
        f"/support/{ticket.pk}/",
        f"/support/attachments/{attachment.pk}/",
        f"/support/{ticket.pk + 1000}/",
    ):
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/support/{ticket.pk}/close/").status_code == 404
    assert stranger.post(f"/support/{ticket.pk}/", {"text": "моё!"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert Client().get(f"/support/attachments/{attachment.pk}/").status_code == 302  # to login


def raw_multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A form as a browser or an app would send it, with the file name exactly as given
    (Django's test client would trim a path off before sending)."""
    boundary = "----abonentboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for name, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("../../etc/passwd.png", PNG, "простое имя файла"),
        ("..\\..\\boot.png", PNG, "простое имя файла"),
        ("..", PNG, "простое имя файла"),
        ("report.pdf", b"MZ\x90\x00 not a pdf", "только фото"),
        ("huge.png", PNG + b"0" * (5 * 1024 * 1024), "слишком большой"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_opened(contract, name, data, message):
    fields = {"category": "other", "subject": "Файл", "text": "Смотрите файл", "key": "k"}
    body, content_type = raw_multipart(fields, [(name, data)])
    response = as_subscriber(contract).post("/support/new/", body, content_type=content_type)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_home_and_support_show_an_outage_at_the_address(contract):
    outage = Outage.objects.create(
        title="Авария на Садовой", text="Восстановим к 18:00", starts_at=clock.now()
    )
    OutageArea.objects.create(outage=outage, street=contract.address.street, house="10")
    client = as_subscriber(contract)
    assert "Авария на Садовой" in client.get("/").content.decode()
    assert "Авария на Садовой" in client.get("/support/").content.decode()
    # staff type streets as they like: the case does not matter, nor does a whole street
    OutageArea.objects.filter(outage=outage).update(street=contract.address.street.upper())
    assert "Авария на Садовой" in client.get("/").content.decode()
    OutageArea.objects.filter(outage=outage).update(house="")
    assert "Авария на Садовой" in client.get("/").content.decode()
    OutageArea.objects.filter(outage=outage).update(house="12")
    assert "Авария на Садовой" not in client.get("/").content.decode()
    Outage.objects.filter(pk=outage.pk).update(ended_at=clock.now())
    OutageArea.objects.filter(outage=outage).update(house="10")
    assert "Авария на Садовой" not in client.get("/").content.decode()


def test_staff_desk_queue_ticket_with_account_and_canned_answer(contract, staff_user):
    Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")
    now = clock.now()
    Session.objects.create(
        nas=Nas.objects.get(),
        session_id="S1",
        contract=contract,
        login="p1",
        started_at=now - dt.timedelta(hours=2),
        updated_at=now - dt.timedelta(hours=1),
        stopped_at=now - dt.timedelta(hours=1),
        terminate_cause="Lost-Carrier",
    )
    ask(as_subscriber(contract))
    ticket = Ticket.objects.get()
    canned = CannedAnswer.objects.create(title="Перезагрузка", text="Перезагрузите роутер.")
    client, _codes = enrol(staff_user)

    queue = client.get("/staff/tickets/").content.decode()
    assert "Нет интернета" in queue
    assert "Нет интернета" not in client.get("/staff/tickets/?breached=on").content.decode()
    assert client.get("/staff/tickets/?older_than_hours=-5").status_code == 200  # form error

    page = client.get(f"/staff/tickets/{ticket.pk}/?canned={canned.pk}").content.decode()
    assert contract.number in page
    assert "Lost-Carrier" in page  # the subscriber's sessions beside the ticket
    assert "Перезагрузите роутер." in page  # the canned answer is in the reply box
    response = client.post(
        f"/staff/tickets/{ticket.pk}/",
        {"action": "reply", "text": "Перезагрузите роутер.", "wait": "on"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("waiting", staff_user)
    client.post(f"/staff/tickets/{ticket.pk}/", {"action": "resolve"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert client.post(f"/staff/tickets/{ticket.pk}/", {"action": "dance"}).status_code == 200


def test_the_desk_is_for_verified_staff_with_the_role(contract, staff_user):
    from abonent.core.errors import Forbidden

    assert Client().get("/staff/tickets/")["Location"].startswith("/staff/login/")
    client = as_subscriber(contract)
    assert client.get("/staff/tickets/")["Location"].startswith("/staff/login/")
    staff_user.role = User.Role.CASHIER
    staff_user.save()
    unverified = Client()
    unverified.force_login(staff_user)
    assert unverified.get("/staff/tickets/")["Location"].startswith("/staff/login/")
    cashier, _codes = enrol(staff_user)  # second factor passed: now it is the role
    assert cashier.get("/staff/tickets/").status_code == 403
    ticket = Ticket.objects.create(
        contract=contract,
        category="other",
        subject="x",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    with pytest.raises(Forbidden):
        services.staff_reply(ticket.pk, "x", None, Actor(user=staff_user, channel="admin"))


def test_desk_actions_never_500(contract, staff_user):
    ask(as_subscriber(contract))
    ticket = Ticket.objects.get()
    client, _codes = enrol(staff_user)
    url = f"/staff/tickets/{ticket.pk}/"
    assert client.get(url, {"canned": "abc"}).status_code == 200
    assert client.get(url, {"canned": "²"}).status_code == 200
    assert client.post(url, {"action": "assign", "assignee": "²"}).status_code == 302
    assert client.post(url, {"action": "resolve"}).status_code == 302
    assert client.post(url, {"action": "resolve"}).status_code == 302  # twice: a message
    assert client.post(url, {"action": "assign", "assignee": "999999"}).status_code == 302


def test_demo_data_brings_canned_answers_and_the_admin_links_to_the_desk(db, staff_user):
    from django.core.management import call_command

    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    assert CannedAnswer.objects.count() == 3
    client, _codes = enrol(staff_user)
    assert 'href="/staff/tickets/"' in client.get("/staff/admin/").content.decode()
