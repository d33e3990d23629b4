"""Odd input to the new pages and endpoints: never a 500."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ODD = [
    "",
    "0",
    "-1",
    "abc",
    "²",
    "9" * 30,
    "../../etc/passwd",
    "<script>",
    "2026-13-45",
    "%00",
    "ы" * 300,
]


def test_public_and_api_pages(contract):
    c = Client()
    for v in ODD:
        for url, params in [
            ("/apply/streets/", {"street": v}),
            ("/api/v1/coverage", {"street": v, "house": v}),
            ("/api/v1/coverage/streets", {"q": v}),
        ]:
            assert c.get(url, params).status_code < 500, (url, v)
        assert (
            c.post(
                "/apply/",
                {"full_name": v, "phone": v, "street": v, "house": v, "flat": v, "consent": v},
            ).status_code
            < 500
        )
        assert (
            c.post(
                "/api/v1/applications", {"full_name": v}, content_type="application/json"
            ).status_code
            < 500
        )
        assert c.get(f"/api/v1/applications/{v}").status_code < 500
    s = Client()
    s.force_login(contract.user)
    for v in ODD:
        for url in ["/support/", f"/support/{v}/", "/profile/contract/", "/traffic/"]:
            assert s.get(url, {"from": v, "to": v}).status_code < 500, (url, v)
        assert (
            s.post("/support/new/", {"category": v, "subject": v, "text": v, "key": v}).status_code
            < 500
        )
        assert s.post("/profile/notifications/", {"support_reply__sms": v}).status_code < 500
        assert s.post("/profile/push/", v, content_type="application/json").status_code < 500


def test_staff_pages(contract, staff_user):
    from abonent.accounts.models import User
    from abonent.staff.tests.test_staff_2fa import enrol

    staff_user.role = User.Role.ADMIN
    staff_user.save()
    c, _ = enrol(staff_user)
    for v in ODD:
        for url, params in [
            ("/staff/contracts/", {"q": v}),
            (
                "/staff/tickets/",
                {"status": v, "category": v, "assignee": v, "older_than_hours": v, "q": v},
            ),
            ("/staff/applications/", {"stage": v}),
            ("/staff/audit/", {"contract": v, "actor": v, "date_from": v}),
            ("/staff/reports/", {"date_from": v, "date_to": v, "granularity": v}),
            ("/staff/quality/", {"month": v}),
            (f"/staff/contracts/{contract.pk}/terminate/", {"on": v}),
        ]:
            r = c.get(url, params)
            assert r.status_code < 500, (url, v, r.status_code)
        for action in ["cash", "correction", "tariff", "suspend", "promise", v[:20] or "x"]:
            r = c.post(
                f"/staff/contracts/{contract.pk}/action/{action}/",
                {"amount": v, "reason": v, "key": v, "tariff_id": v, "start": v, "end": v},
            )
            assert r.status_code < 500, (action, v)
        r = c.post("/staff/mass/message/", {"text": v, "street": v, "house": v, "balance_below": v})
        assert r.status_code < 500, v
        r = c.post("/staff/mass/price/", {"tariff_id": v, "price": v, "valid_from": v})
        assert r.status_code < 500, v
