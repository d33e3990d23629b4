"""Support over the API: tickets with attachments (multipart or JSON), the conversation,
close/reopen/rating, downloads only for the owner, outages at the address."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from abonent.core.context import Actor
from abonent.support import services
from abonent.support.models import Attachment, Outage, OutageArea, Ticket, TicketMessage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
BOUNDARY = "abonent-test-boundary"


def token_for(contract):
    response = Client().post(
        "/api/v1/auth/login",
        {"contract_number": contract.number, "password": "correct horse battery"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


class Api:
    def __init__(self, token):
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    def client(self):
        return Client(headers=self.headers)

    def __call__(self, method, path, body=None, **headers):
        """A JSON request (or none, for GET)."""
        return getattr(self.client(), method)(
            path, body, content_type="application/json", **headers
        )

    def form(self, path, data, **headers):
        """multipart/form-data, as the test client encodes it."""
        return self.client().post(path, data, **headers)

    def raw(self, path, fields, files):
        """multipart/form-data built by hand: file names go out exactly as given."""
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for filename, data, content_type in files:
            parts.append(
                f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
                f'name="attachments"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        parts.append(f"--{BOUNDARY}--\r\n".encode())
        return self.client().post(
            path, b"".join(parts), content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )


@pytest.fixture
def api(contract):
    return Api(token_for(contract))


@pytest.fixture
def other(make_contract):
    """Another subscriber with a token of their own."""
    contract = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    return Api(token_for(contract))


@pytest.fixture
def operator(staff_user):
    return Actor(user=staff_user, channel="admin")


FIELDS = {"category": "slow_speed", "subject": "Медленно", "text": "Вечером 5 Мбит/с"}


def open_ticket(api, **extra):
    response = api("post", "/api/v1/tickets", {**FIELDS, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def path_of(url):
    assert url.startswith("http://testserver/api/v1/")
    return url.removeprefix("http://testserver")


def test_full_flow_with_an_attachment(api, contract, operator):
    opened = api.form(
        "/api/v1/tickets",
        {**FIELDS, "attachments": [SimpleUploadedFile("фото.png", PNG, "image/png")]},
        HTTP_IDEMPOTENCY_KEY="open-1",
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    ticket_id = body["id"]
    assert (body["category"], body["subject"], body["status"]) == ("slow_speed", "Медленно", "new")
    assert (body["can_rate"], body["can_reopen"], body["rating"]) == (False, False, None)
    [first] = body["messages"]
    assert (first["text"], first["from_staff"]) == ("Вечером 5 Мбит/с", False)
    [shown] = first["attachments"]
    assert (shown["name"], shown["content_type"], shown["size"]) == (
        "фото.png",
        "image/png",
        len(PNG),
    )

    listed = api("get", "/api/v1/tickets")
    assert listed.status_code == 200
    assert [(t["id"], t["status"], t["rating"]) for t in listed.json()] == [
        (ticket_id, "new", None)
    ]

    detail = api("get", f"/api/v1/tickets/{ticket_id}").json()
    assert detail["messages"][0]["attachments"] == [shown]

    download = api("get", path_of(shown["url"]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%D1%84%D0%BE%D1%82%D0%BE.png" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"

    services.staff_reply(ticket_id, "Перезагрузите роутер", None, operator)
    services.staff_reply(ticket_id, "Внутренняя заметка", None, operator, internal=True)
    detail = api("get", f"/api/v1/tickets/{ticket_id}").json()
    assert [(m["text"], m["from_staff"]) for m in detail["messages"]] == [
        ("Вечером 5 Мбит/с", False),
        ("Перезагрузите роутер", True),
    ]
    assert detail["status"] == "in_progress"

    closed = api("post", f"/api/v1/tickets/{ticket_id}/close")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["can_rate"], closed.json()["can_reopen"]) == (
        "closed",
        True,
        True,
    )

    rated = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": 5, "comment": "Спасибо"})
    assert rated.status_code == 200, rated.content
    assert (rated.json()["status"], rated.json()["rating"], rated.json()["can_rate"]) == (
        "closed",
        5,
        False,
    )
    assert rated.json()["rating_comment"] == "Спасибо"
    ticket = Ticket.objects.get(pk=ticket_id)
    assert (ticket.status, ticket.rating) == ("closed", 5)

    again = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": 4})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "policy_violation"
    assert again.json()["error"]["message"] == "This ticket is already rated. Thank you!"
    assert Ticket.objects.get(pk=ticket_id).rating == 5


def test_the_same_idempotency_key_opens_one_ticket(api):
    first = api("post", "/api/v1/tickets", FIELDS, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api("post", "/api/v1/tickets", FIELDS, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other_key = api("post", "/api/v1/tickets", FIELDS, HTTP_IDEMPOTENCY_KEY="k-2")
    assert other_key.json()["id"] != first.json()["id"]
    assert Ticket.objects.count() == 2
    too_long = api("post", "/api/v1/tickets", FIELDS, HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert too_long.status_code == 400
    assert "Idempotency-Key" in too_long.json()["error"]["fields"]


def test_replies_as_json_and_multipart(api, operator):
    ticket_id = open_ticket(api)["id"]
    as_json = api("post", f"/api/v1/tickets/{ticket_id}/messages", {"text": "Ещё вопрос"})
    assert as_json.status_code == 201, as_json.content
    assert (as_json.json()["text"], as_json.json()["attachments"]) == ("Ещё вопрос", [])
    with_file = api.form(
        f"/api/v1/tickets/{ticket_id}/messages",
        {
            "text": "Скриншот и договор",
            "attachments": [
                SimpleUploadedFile("speed.png", PNG, "image/png"),
                SimpleUploadedFile("договор.pdf", PDF, "application/pdf"),
            ],
        },
    )
    assert with_file.status_code == 201, with_file.content
    files = with_file.json()["attachments"]
    assert [(f["name"], f["content_type"]) for f in files] == [
        ("speed.png", "image/png"),
        ("договор.pdf", "application/pdf"),
    ]
    pdf = api("get", path_of(files[1]["url"]))
    assert b"".join(pdf.streaming_content) == PDF
    assert pdf["Content-Type"] == "application/pdf"
    detail = api("get", f"/api/v1/tickets/{ticket_id}").json()
    assert [m["text"] for m in detail["messages"]] == [
        FIELDS["text"],
        "Ещё вопрос",
        "Скриншот и договор",
    ]


def test_reopen_within_the_window_only(api):
    ticket_id = open_ticket(api)["id"]
    assert api("post", f"/api/v1/tickets/{ticket_id}/close").json()["status"] == "closed"
    reopened = api("post", f"/api/v1/tickets/{ticket_id}/reopen")
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["can_reopen"]) == ("in_progress", False)
    api("post", f"/api/v1/tickets/{ticket_id}/close")
    Ticket.objects.filter(pk=ticket_id).update(closed_at=timezone.now() - dt.timedelta(days=8))
    assert api("get", f"/api/v1/tickets/{ticket_id}").json()["can_reopen"] is False
    late = api("post", f"/api/v1/tickets/{ticket_id}/reopen")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "policy_violation"
    assert Ticket.objects.get(pk=ticket_id).status == "closed"
    # a reply to a long-closed ticket is refused the same way
    reply = api("post", f"/api/v1/tickets/{ticket_id}/messages", {"text": "Снова"})
    assert reply.status_code == 409


def test_rating_an_open_ticket_is_a_conflict(api):
    ticket_id = open_ticket(api)["id"]
    response = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": 5})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "policy_violation"


def assert_not_found(response):
    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_another_subscribers_ticket_and_files_are_404(api, other):
    opened = api.form(
        "/api/v1/tickets",
        {**FIELDS, "attachments": [SimpleUploadedFile("photo.png", PNG, "image/png")]},
    ).json()
    ticket_id = opened["id"]
    attachment = opened["messages"][0]["attachments"][0]
    assert_not_found(other("get", f"/api/v1/tickets/{ticket_id}"))
    assert_not_found(other("post", f"/api/v1/tickets/{ticket_id}/messages", {"text": "Чужое"}))
    assert_not_found(other("post", f"/api/v1/tickets/{ticket_id}/close"))
    assert_not_found(other("post", f"/api/v1/tickets/{ticket_id}/reopen"))
    assert_not_found(other("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": 1}))
    assert_not_found(other("get", path_of(attachment["url"])))
    assert other("get", "/api/v1/tickets").json() == []
    ticket = Ticket.objects.get(pk=ticket_id)
    assert (ticket.status, ticket.rating, ticket.messages.count()) == ("new", None, 1)

    # the other subscriber's own ticket id does not unlock the first one's file
    their_ticket = open_ticket(other)["id"]
    assert_not_found(other("get", f"/api/v1/tickets/{their_ticket}/attachments/{attachment['id']}"))
    # nor does the owner get a file under another ticket's path
    own_second = open_ticket(api, subject="Второй")["id"]
    assert_not_found(api("get", f"/api/v1/tickets/{own_second}/attachments/{attachment['id']}"))


def test_unknown_ids_are_404(api):
    for response in (
        api("get", "/api/v1/tickets/999999"),
        api("post", "/api/v1/tickets/999999/messages", {"text": "x"}),
        api("post", "/api/v1/tickets/999999/close"),
        api("post", "/api/v1/tickets/999999/reopen"),
        api("post", "/api/v1/tickets/999999/rating", {"score": 5}),
        api("get", "/api/v1/tickets/999999/attachments/1"),
        api("get", "/api/v1/tickets/99999999999999999999"),
    ):
        assert_not_found(response)
    malformed = api("get", "/api/v1/tickets/abc")  # as for every numeric id in the API
    assert malformed.status_code == 400
    assert malformed.json()["error"]["fields"] == {"ticket_id": ["Must be a whole number."]}


def test_an_internal_note_attachment_is_not_downloadable(api, operator):
    ticket_id = open_ticket(api)["id"]
    services.staff_reply(
        ticket_id, "Заметка", [SimpleUploadedFile("note.png", PNG)], operator, internal=True
    )
    note_file = Attachment.objects.get(message__internal=True)
    assert_not_found(api("get", f"/api/v1/tickets/{ticket_id}/attachments/{note_file.pk}"))


def test_a_quality_control_ticket_is_hidden_until_staff_write(api, contract, operator):
    ticket = services.open_proactive(
        origin=Ticket.Origin.LINE,
        category="no_connection",
        subject="Обрывы",
        text="Линия нестабильна",
        dedupe_key="line-1",
        contract=contract,
    )
    assert ticket is not None
    assert api("get", "/api/v1/tickets").json() == []
    assert_not_found(api("get", f"/api/v1/tickets/{ticket.pk}"))
    assert_not_found(api("post", f"/api/v1/tickets/{ticket.pk}/close"))


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**FIELDS, "category": "love"}, "category", "Choose a topic."),
        ({**FIELDS, "text": "   "}, "text", "This field is required."),
        ({"category": "other", "subject": "Вопрос"}, "text", "This field is required."),
        ({**FIELDS, "subject": ""}, "subject", "This field is required."),
        ({**FIELDS, "text": "x" * 5001}, "text", "At most 5000 characters, please."),
        ({**FIELDS, "text": 5}, "text", "Must be text."),
        ({**FIELDS, "priority": "high"}, "priority", "Unexpected field."),
    ],
)
def test_bad_ticket_fields_are_400(api, body, field, message):
    response = api("post", "/api/v1/tickets", body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert message in response.json()["error"]["fields"][field]
    assert not Ticket.objects.exists()


def test_a_body_that_is_not_an_object_or_not_json_is_400(api):
    assert api("post", "/api/v1/tickets", [1, 2]).status_code == 400
    broken = api.client().post("/api/v1/tickets", "{", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "validation_error"


def test_bad_multipart_fields_are_400(api):
    response = api.form("/api/v1/tickets", {"category": "love", "subject": "", "text": ""})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"category", "subject", "text"}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "too large"),
        ("script.pdf", b"#!/bin/sh\nrm -rf /", "only photos"),
        ("photo.exe", PNG, "only photos"),
        ("photo.pdf", PNG, "only photos"),
        (".htaccess.png", PNG, "simple file name"),
    ],
)
def test_bad_attachments_are_400(api, name, data, message):
    response = api.form(
        "/api/v1/tickets", {**FIELDS, "attachments": [SimpleUploadedFile(name, data)]}
    )
    assert response.status_code == 400, response.content
    [said] = response.json()["error"]["fields"]["attachments"]
    assert message in said
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("name", ["../../x.png", "..\\..\\x.png", "dir/x.png", ".."])
def test_a_file_name_with_a_path_is_refused_not_trimmed(api, name):
    response = api.raw("/api/v1/tickets", FIELDS, [(name, PNG, "image/png")])
    assert response.status_code == 400, response.content
    [said] = response.json()["error"]["fields"]["attachments"]
    assert "use a simple file name" in said
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_a_plain_hand_built_multipart_works(api):
    response = api.raw("/api/v1/tickets", FIELDS, [("speed.png", PNG, "image/png")])
    assert response.status_code == 201, response.content
    assert response.json()["messages"][0]["attachments"][0]["name"] == "speed.png"


def test_too_many_files_are_refused(api, settings):
    files = [SimpleUploadedFile(f"p{i}.png", PNG) for i in range(6)]
    response = api.form("/api/v1/tickets", {**FIELDS, "attachments": files})
    assert response.status_code == 400
    assert "at most 5 files" in response.json()["error"]["fields"]["attachments"][0]


def test_a_bad_reply_is_400_and_adds_nothing(api):
    ticket_id = open_ticket(api)["id"]
    empty = api("post", f"/api/v1/tickets/{ticket_id}/messages", {"text": ""})
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"]["text"] == ["This field is required."]
    traversal = api.raw(
        f"/api/v1/tickets/{ticket_id}/messages", {"text": "Файл"}, [("../x.png", PNG, "image/png")]
    )
    assert traversal.status_code == 400
    assert "simple file name" in traversal.json()["error"]["fields"]["attachments"][0]
    assert TicketMessage.objects.filter(ticket_id=ticket_id).count() == 1


@pytest.mark.parametrize("score", [0, 6, "x", None, True, 4.5, "", -1])
def test_bad_scores_are_400(api, score):
    ticket_id = open_ticket(api)["id"]
    api("post", f"/api/v1/tickets/{ticket_id}/close")
    response = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": score})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["score"] == ["Choose a rating from 1 to 5."]
    assert Ticket.objects.get(pk=ticket_id).rating is None


def test_a_missing_score_and_a_long_comment_are_400(api):
    ticket_id = open_ticket(api)["id"]
    api("post", f"/api/v1/tickets/{ticket_id}/close")
    missing = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"comment": "?"})
    assert missing.status_code == 400
    assert "score" in missing.json()["error"]["fields"]
    long = api("post", f"/api/v1/tickets/{ticket_id}/rating", {"score": 3, "comment": "x" * 1001})
    assert long.status_code == 400
    assert "comment" in long.json()["error"]["fields"]


def test_outages_at_the_subscribers_address(api, contract):
    now = timezone.now()
    here = Outage.objects.create(
        title="Авария на узле",
        text="Чиним",
        starts_at=now - dt.timedelta(hours=1),
        expected_end_at=now + dt.timedelta(hours=3),
    )
    OutageArea.objects.create(outage=here, street=contract.address.street, house="")
    planned = Outage.objects.create(
        title="Плановые работы", text="Замена коммутатора", starts_at=now + dt.timedelta(days=2)
    )
    OutageArea.objects.create(
        outage=planned, street=contract.address.street, house=contract.address.house
    )
    elsewhere = Outage.objects.create(
        title="Невский", text="Не у нас", starts_at=now - dt.timedelta(hours=1)
    )
    OutageArea.objects.create(outage=elsewhere, street="Невский пр.", house="")
    other_house = Outage.objects.create(
        title="Соседний дом", text="Не у нас", starts_at=now - dt.timedelta(hours=1)
    )
    OutageArea.objects.create(outage=other_house, street=contract.address.street, house="99")
    ended = Outage.objects.create(
        title="Была", text="Закончилась", starts_at=now - dt.timedelta(days=1), ended_at=now
    )
    OutageArea.objects.create(outage=ended, street=contract.address.street, house="")

    response = api("get", "/api/v1/outages")
    assert response.status_code == 200
    body = response.json()
    assert [o["id"] for o in body] == [here.pk, planned.pk]
    assert body[0]["title"] == "Авария на узле"
    assert body[0]["text"] == "Чиним"
    assert body[0]["expected_end_at"] is not None
    assert body[1]["expected_end_at"] is None

    # a ticket opened during the outage shows it
    detail = open_ticket(api, category="no_connection")
    assert detail["outage"]["title"] == "Авария на узле"
    assert detail["outage"]["text"] == "Чиним"


def test_a_ticket_without_an_outage_has_none(api):
    assert open_ticket(api)["outage"] is None


def test_support_needs_a_token():
    for method, path in (
        ("get", "/api/v1/tickets"),
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/outages"),
        ("get", "/api/v1/tickets/1/attachments/1"),
    ):
        response = getattr(Client(), method)(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
