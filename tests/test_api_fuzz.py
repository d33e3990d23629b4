"""Schemathesis against /api/v1/openapi.json, signed in as a demo subscriber (issue 12).

Every operation of the served document is fuzzed in process, through Django's WSGI
handler, with valid and invalid input (the coverage phase's boundary values and a
bounded number of generated cases). For every answer: never a 5xx, a status code the
document lists, the content type it lists, and a body that matches its schema.

Bounded and deterministic: MAX_EXAMPLES generated cases per operation, a fixed seed,
derandomized generation, no example database. Nothing is excluded. Each operation is a
test of its own, in a savepoint of the seeded demo data (rolled back after it), and every
case carries a fresh access token of the demo subscriber, so a case that logs out or ends
a device does not turn the next ones into 401s.

What random input cannot reach (the right password, ids of existing records, a second
factor, a switched-off cabinet) is driven step by step in `test_documented_answers`,
under the same checks.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import werkzeug
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from abonent.accounts import tokens
from abonent.accounts.models import User
from abonent.core import clock
from abonent.core.context import Actor

# 20 cases per operation keep the module under a minute on two cores; a deeper
# local run: API_FUZZ_MAX_EXAMPLES=100.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_MAX_EXAMPLES", "20"))
SEED = 20261127
DEMO_CONTRACT = "1000001"
DEMO_PASSWORD = "demo-1000001"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # The demo data and the per-case token are fixtures of the test on purpose.
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",  # valid and invalid input
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        # One operation per test, each in its own savepoint: no cross-operation scenarios.
        "phases": {"stateful": {"enabled": False}},
    }
)

# The served document, as the Android app and integrators read it.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler(), config=CONFIG)


@pytest.fixture(scope="module")
def demo_subscriber(django_db_setup: None, django_db_blocker: Any) -> Iterator[User]:
    """`seed_demo` once for the module, in a transaction rolled back at its end; each
    test runs in a savepoint of it (pytest-django's `db`)."""
    # Requests through the WSGI handler share this connection and its transaction, as
    # with Django's test client: the handler must not close it when a request ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", subscribers=3, force=True, verbosity=0)
            # Through the same handler (Django's test client would reconnect the signals).
            response = werkzeug.Client(schema.app).post(
                "/api/v1/auth/login",
                json={"contract_number": DEMO_CONTRACT, "password": DEMO_PASSWORD},
            )
            assert response.status_code == 200, response.get_data()
            signed_in: dict[str, Any] = response.json or {}
            assert signed_in["password_change_required"] is False
            yield User.objects.get(username=DEMO_CONTRACT)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def bearer(user: User) -> dict[str, str]:
    pair = tokens.issue(user, Actor.system("cli"), device_name="fuzz")
    return {"Authorization": f"Bearer {pair.access_token}"}


@schema.parametrize()
def test_api(case: Any, db: None, demo_subscriber: User) -> None:
    secured = bool(case.operation.definition.raw.get("security"))
    case.call_and_validate(headers=bearer(demo_subscriber) if secured else {}, checks=CHECKS)


class Api:
    """One call of a documented operation, validated like the fuzzed ones."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(
        self,
        method: str,
        path: str,
        expect: int,
        *,
        headers: dict[str, str] | None = None,
        **case: Any,
    ) -> Any:
        operation = schema[path][method]
        if "body" in case:
            case.setdefault("media_type", "application/json")
        response = operation.Case(**case).call_and_validate(
            headers={**self.headers, **(headers or {})}, checks=CHECKS
        )
        assert response.status_code == expect, response.text_lossy
        return response


def test_documented_answers(db: None, demo_subscriber: User) -> None:
    api = Api(bearer(demo_subscriber))
    public = Api({})
    login = {"contract_number": DEMO_CONTRACT, "password": DEMO_PASSWORD}

    # Auth: the wrong password, a refresh token used twice, another device ended.
    public("POST", "/api/v1/auth/login", 401, body={**login, "password": "wrong-password"})
    pair = public("POST", "/api/v1/auth/login", 200, body=login).json()
    refresh = {"refresh_token": pair["refresh_token"]}
    public("POST", "/api/v1/auth/refresh", 200, body=refresh)
    public("POST", "/api/v1/auth/refresh", 401, body=refresh)
    devices = api("GET", "/api/v1/auth/devices", 200).json()
    other = next(d for d in devices if not d["current"])
    api(
        "DELETE",
        "/api/v1/auth/devices/{device_id}",
        204,
        path_parameters={"device_id": other["id"]},
    )

    # The statement as a file; autopay with nothing to forget.
    for kind in ("csv", "pdf"):
        api("GET", "/api/v1/account/statement", 200, query={"format": kind})
    api("DELETE", "/api/v1/autopay", 404)

    # A top-up, and its receipt before it is paid.
    payment = api(
        "POST",
        "/api/v1/payments",
        201,
        body={"amount": 500_00},
        headers={"Idempotency-Key": "fuzz-top-up"},
    ).json()
    ids = {"payment_id": payment["id"]}
    api("GET", "/api/v1/payments/{payment_id}", 200, path_parameters=ids)
    api("GET", "/api/v1/payments/{payment_id}/receipt", 404, path_parameters=ids)

    # A ticket's life: open, reply, close, rate.
    ticket = api(
        "POST",
        "/api/v1/tickets",
        201,
        body={"category": "slow_speed", "subject": "Медленно", "text": "Вечером 5 Мбит/с"},
    ).json()
    ids = {"ticket_id": ticket["id"]}
    api("GET", "/api/v1/tickets/{ticket_id}", 200, path_parameters=ids)
    api(
        "POST",
        "/api/v1/tickets/{ticket_id}/messages",
        201,
        path_parameters=ids,
        body={"text": "И утром"},
    )
    api("POST", "/api/v1/tickets/{ticket_id}/close", 200, path_parameters=ids)
    api("POST", "/api/v1/tickets/{ticket_id}/rating", 200, path_parameters=ids, body={"score": 5})

    # Previews of a tariff change, an add-on and a suspension.
    tariffs = api("GET", "/api/v1/tariffs", 200).json()
    other_tariff = next(t for t in tariffs if not t["current"])
    api("POST", "/api/v1/tariff-changes/preview", 200, body={"tariff_id": other_tariff["id"]})
    addon = next(a for a in api("GET", "/api/v1/addons", 200).json() if not a["active"])
    api(
        "POST",
        "/api/v1/addons/{addon_id}",
        200,
        path_parameters={"addon_id": addon["id"]},
        query={"preview": True},
    )
    start = clock.today() + dt.timedelta(days=3)
    api(
        "POST",
        "/api/v1/suspensions/preview",
        200,
        body={"start_date": str(start), "end_date": str(start + dt.timedelta(days=14))},
    )

    # The SMS second factor: login then answers 202.
    toggle = {"enabled": True, "password": DEMO_PASSWORD}
    api("POST", "/api/v1/profile/second-factor", 200, body=toggle)
    public("POST", "/api/v1/auth/login", 202, body=login)
    api("POST", "/api/v1/profile/second-factor", 200, body={**toggle, "enabled": False})

    # A new password; then cabinet access switched off: login answers 403.
    new_password = "fuzz-new-password-1"
    api(
        "POST",
        "/api/v1/auth/password",
        204,
        body={"old_password": DEMO_PASSWORD, "new_password": new_password},
    )
    api("POST", "/api/v1/cabinet/opt-out", 204, body={"password": new_password})
    public("POST", "/api/v1/auth/login", 403, body={**login, "password": new_password})
