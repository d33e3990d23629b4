"""Web push through a local push service speaking RFC 8030: the service receives a
VAPID-signed, aes128gcm-encrypted message that only the subscribed device's keys can
read; a device that is gone (410) is forgotten; the subscriber's choices are kept."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.test import Client

from abonent.core.context import Actor
from abonent.notifications import preferences
from abonent.notifications.models import Message, PushSubscription
from abonent.notifications.services import deliver_now
from abonent.support import services as support

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class PushService:
    """Stands in for the browser vendor's push service: records what it is sent."""

    def __init__(self, status: int = 201) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push/device-1"

    def close(self) -> None:
        self.server.shutdown()


class Device:
    """The browser's side of a subscription: its ECDH key pair and auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh = b64(point)

    def read(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


def subscribe(client: Client, endpoint: str, device: Device) -> None:
    response = client.post(
        "/profile/push/",
        json.dumps(
            {"endpoint": endpoint, "keys": {"p256dh": device.p256dh, "auth": b64(device.auth)}}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200


def test_a_support_reply_reaches_the_device_encrypted_and_signed(
    contract, staff_user, push_service, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(contract.user)
    device = Device()
    subscribe(client, push_service.url, device)
    ticket = support.open_ticket(
        contract,
        category="other",
        subject="Вопрос",
        text="Текст",
        actor=Actor(user=contract.user, channel="web"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        support.staff_reply(ticket.pk, "Ответ", None, Actor(user=staff_user, channel="admin"))
    message = Message.objects.get(channel="push")
    assert message.status == "sent"
    (headers, body) = push_service.received[0]
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=")
    assert f"k={settings.VAPID_PUBLIC_KEY}" in headers["authorization"]
    payload = device.read(body)
    assert payload["url"] == f"/support/{ticket.pk}/"
    assert f"№{ticket.pk}" in payload["body"]
    assert b"\xd0\x9e\xd1\x82" not in body  # not readable on the wire


def test_a_device_that_is_gone_is_forgotten_and_choices_are_kept(
    contract, django_capture_on_commit_callbacks
):
    gone = PushService(status=410)
    try:
        client = Client()
        client.force_login(contract.user)
        subscribe(client, gone.url, Device())
        from abonent.notifications import push

        assert (
            push.queue(
                contract.user,
                "support_reply",
                "t",
                "b",
                "/",
                contract_id=contract.pk,
                dedupe_key="k",
            )
            == 1
        )
        message = Message.objects.get(channel="push")
        deliver_now(message.pk)
        message.refresh_from_db()
        assert message.status == "failed"
        assert not PushSubscription.objects.exists()
        subscribe(client, gone.url, Device())
        preferences.save(contract.user, {"support_reply:push": False})
        assert (
            push.queue(
                contract.user,
                "support_reply",
                "t",
                "b",
                "/",
                contract_id=contract.pk,
                dedupe_key="k2",
            )
            == 0
        )
    finally:
        gone.close()


def test_bad_subscriptions_are_refused(contract, settings):
    client = Client()
    client.force_login(contract.user)
    assert (
        client.post("/profile/push/", "not json", content_type="application/json").status_code
        == 400
    )
    settings.PUSH_ALLOW_HTTP = False
    bad = client.post(
        "/profile/push/",
        json.dumps({"endpoint": "http://evil.example/x", "keys": {"p256dh": "a", "auth": "b"}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert not PushSubscription.objects.exists()


def test_an_outage_and_a_low_balance_reach_the_devices_at_the_address(contract, make_contract):
    from abonent.billing.notices import push_low_balance
    from abonent.core import clock
    from abonent.support.models import Outage, OutageArea

    client = Client()
    client.force_login(contract.user)
    subscribe(client, "https://push.example/d1", Device())
    elsewhere = make_contract(last_name="Иванов", phone="+7 900 555-66-77").contract
    elsewhere.address.street = "Невский пр."
    elsewhere.address.save()
    other = Client()
    other.force_login(elsewhere.user)
    subscribe(other, "https://push.example/d2", Device())

    outage = Outage.objects.create(title="Авария", text="Чиним", starts_at=clock.now())
    OutageArea.objects.create(outage=outage, street=contract.address.street, house="")
    assert support.announce_outage(outage.pk) == 1
    assert support.announce_outage(outage.pk) == 1  # queued again, but deduplicated:
    assert Message.objects.filter(channel="push", kind="outage").count() == 1
    assert (
        push_low_balance([("+7", "Баланса хватит на 1 день", "low_balance", contract.pk, "r:1")])
        == 1
    )
    assert json.loads(Message.objects.get(kind="low_balance").text)["url"] == "/payments/"
