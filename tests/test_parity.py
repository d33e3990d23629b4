"""The app can do what the web cabinet does: every cabinet page and action (its URL
name) has its /api/v1 operations, which call the same services. A new cabinet URL
without an entry here, or an entry whose operation is not in the OpenAPI document,
fails this test."""

from __future__ import annotations

import pytest

from abonent.api.api import api
from abonent.cabinet import urls as cabinet_urls

Operation = tuple[str, str]  # (method, path)

CABINET_TO_API: dict[str, list[Operation]] = {
    "home": [("get", "/api/v1/account")],
    "login": [("post", "/api/v1/auth/login")],
    "login_code": [("post", "/api/v1/auth/login/verify")],
    "logout": [("post", "/api/v1/auth/logout")],
    "recovery": [("post", "/api/v1/auth/recovery/start")],
    "recovery_code": [("post", "/api/v1/auth/recovery/verify")],
    "recovery_resend": [("post", "/api/v1/auth/recovery/start")],  # asking again resends
    "recovery_password": [("post", "/api/v1/auth/recovery/complete")],
    "apply": [("post", "/api/v1/applications"), ("get", "/api/v1/coverage")],
    "apply_streets": [("get", "/api/v1/coverage/streets")],
    "application": [("get", "/api/v1/applications/{public_id}")],
    "application_cancel": [("post", "/api/v1/applications/{public_id}/cancel")],
    "application_watch": [("post", "/api/v1/applications/{public_id}/watch")],
    "profile": [("get", "/api/v1/profile")],
    "password_change": [("post", "/api/v1/auth/password")],
    "profile_email": [("patch", "/api/v1/profile")],
    "profile_phone": [
        ("post", "/api/v1/profile/phone"),
        ("post", "/api/v1/profile/phone/confirm"),
    ],
    "sessions": [("get", "/api/v1/auth/devices"), ("delete", "/api/v1/auth/devices/{device_id}")],
    "security": [("post", "/api/v1/profile/second-factor"), ("post", "/api/v1/cabinet/opt-out")],
    "notifications": [
        ("get", "/api/v1/notification-preferences"),
        ("put", "/api/v1/notification-preferences"),
    ],
    "push": [
        ("get", "/api/v1/push-subscriptions/key"),
        ("post", "/api/v1/push-subscriptions"),
        ("delete", "/api/v1/push-subscriptions"),
    ],
    "contract": [("get", "/api/v1/contract")],
    "contract_pdf": [("get", "/api/v1/contract/pdf")],
    "services": [("get", "/api/v1/tariffs"), ("get", "/api/v1/addons")],
    "tariff_change": [
        ("post", "/api/v1/tariff-changes/preview"),
        ("post", "/api/v1/tariff-changes"),
    ],
    "tariff_change_cancel": [("delete", "/api/v1/tariff-changes/{change_id}")],
    "addon": [("post", "/api/v1/addons/{addon_id}"), ("delete", "/api/v1/addons/{addon_id}")],
    "suspension": [("post", "/api/v1/suspensions/preview"), ("post", "/api/v1/suspensions")],
    "suspension_action": [
        ("post", "/api/v1/suspensions/{suspension_id}/resume"),
        ("delete", "/api/v1/suspensions/{suspension_id}"),
    ],
    "traffic": [("get", "/api/v1/traffic"), ("get", "/api/v1/sessions")],
    "payments": [("get", "/api/v1/payments"), ("get", "/api/v1/account/statement")],
    "pay": [("post", "/api/v1/payments")],
    "promise": [("post", "/api/v1/promised-payment")],
    "autopay": [
        ("get", "/api/v1/autopay"),
        ("put", "/api/v1/autopay"),
        ("delete", "/api/v1/autopay"),
    ],
    "payment": [("get", "/api/v1/payments/{payment_id}")],
    "receipt": [("get", "/api/v1/payments/{payment_id}/receipt")],
    "support": [("get", "/api/v1/tickets"), ("get", "/api/v1/outages")],
    "ticket_new": [("post", "/api/v1/tickets")],
    "ticket": [
        ("get", "/api/v1/tickets/{ticket_id}"),
        ("post", "/api/v1/tickets/{ticket_id}/messages"),
    ],
    "ticket_action": [
        ("post", "/api/v1/tickets/{ticket_id}/close"),
        ("post", "/api/v1/tickets/{ticket_id}/reopen"),
        ("post", "/api/v1/tickets/{ticket_id}/rating"),
    ],
    "ticket_attachment": [("get", "/api/v1/tickets/{ticket_id}/attachments/{attachment_id}")],
}
# Reviewed: cabinet URLs with no API counterpart, and why. (Language switching is
# Django's set_language, outside the cabinet's URL map; the app sends Accept-Language.)
EXEMPT: dict[str, str] = {}


def cabinet_actions() -> set[str]:
    return {p.name for p in cabinet_urls.urlpatterns if getattr(p, "name", None)}


def api_operations() -> set[Operation]:
    paths = api.get_openapi_schema()["paths"]
    return {(method, path) for path, ops in paths.items() for method in ops}


def problems(
    mapping: dict[str, list[Operation]], actions: set[str], operations: set[Operation]
) -> list[str]:
    found = []
    for name in sorted(actions - set(mapping) - set(EXEMPT)):
        found.append(f"cabinet:{name} has no API counterpart listed")
    for name, ops in sorted(mapping.items()):
        if name not in actions:
            found.append(f"cabinet:{name} is listed but no longer exists")
        for method, path in ops:
            if (method, path) not in operations:
                found.append(f"cabinet:{name} needs {method.upper()} {path}, which the API lacks")
    return found


def test_every_cabinet_action_has_its_api_operations():
    assert problems(CABINET_TO_API, cabinet_actions(), api_operations()) == []


@pytest.mark.parametrize("dropped", ["pay", "ticket_new", "notifications"])
def test_the_check_fails_when_an_operation_or_a_mapping_is_missing(dropped):
    """The deliberately incomplete map and API: the check names what is missing."""
    incomplete = {k: v for k, v in CABINET_TO_API.items() if k != dropped}
    assert problems(incomplete, cabinet_actions(), api_operations()) == [
        f"cabinet:{dropped} has no API counterpart listed"
    ]
    removed = set(CABINET_TO_API[dropped])
    report = problems(CABINET_TO_API, cabinet_actions(), api_operations() - removed)
    assert report
    assert all(f"cabinet:{dropped} needs" in line for line in report)


def test_the_openapi_document_is_valid_and_complete():
    """OpenAPI 3, and every operation has a summary, a request schema where it takes a
    body, a success response schema, and its error responses documented."""
    import json

    from openapi_spec_validator import validate

    schema = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    validate(schema)
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), where
            assert {"400", "409", "429"} <= codes, where
            if "{" in path:
                assert "404" in codes, where
            if op.get("security"):
                assert {"401", "403"} <= codes, where
            if method in ("post", "put", "patch") and op.get("requestBody"):
                assert op["requestBody"]["content"], where
