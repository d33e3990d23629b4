"""Staff log in with a password and a TOTP second factor; recovery codes work once."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonent.accounts import services
from abonent.accounts.models import User

pytestmark = pytest.mark.django_db


def totp(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def password_step(client, username="operator1", password="staff-password-1"):
    return client.post(
        "/staff/login/", {"username": username, "password": password, "next": "/staff/admin/"}
    )


def enrol(user) -> tuple[Client, list[str]]:
    client = Client()
    assert password_step(client)["Location"].startswith("/staff/login/setup/")
    setup = client.get("/staff/login/setup/")
    assert "<svg" in setup.content.decode()
    response = client.post("/staff/login/setup/?next=/staff/admin/", {"token": totp(user)})
    assert response["Location"].startswith("/staff/login/recovery-codes/")
    page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<code>([a-z0-9]+)</code>", page)
    assert len(codes) == 10
    return client, codes


def test_first_login_enrols_an_authenticator(staff_user):
    client, _codes = enrol(staff_user)
    assert client.get("/staff/admin/").status_code == 200


def test_password_alone_does_not_open_the_back_office(staff_user):
    client = Client()
    password_step(client)
    response = client.get("/staff/admin/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_later_logins_need_the_code(staff_user):
    enrol(staff_user)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60), tick=False) as clock:
        client = Client()
        assert password_step(client)["Location"].startswith("/staff/login/verify/")
        bad = client.post("/staff/login/verify/", {"token": "000000", "next": "/staff/admin/"})
        assert bad.status_code == 200
        assert client.get("/staff/admin/").status_code == 302
        clock.shift(2)  # django-otp makes each wrong code cost a growing wait
        good = client.post(
            "/staff/login/verify/", {"token": totp(staff_user), "next": "/staff/admin/"}
        )
        assert good["Location"] == "/staff/admin/"
        assert client.get("/staff/admin/").status_code == 200


def test_a_recovery_code_works_once(staff_user):
    _client, codes = enrol(staff_user)
    first = Client()
    password_step(first)
    # Without a "next", staff land on the contract search, the back office's front page.
    assert (
        first.post("/staff/login/verify/", {"token": codes[0]})["Location"] == "/staff/contracts/"
    )
    second = Client()
    password_step(second)
    assert second.post("/staff/login/verify/", {"token": codes[0]}).status_code == 200  # spent


def test_subscribers_cannot_use_the_staff_login(contract):
    client = Client()
    response = password_step(client, contract.number, "correct horse battery")
    assert response.status_code == 200
    assert client.get("/staff/admin/").status_code == 302


def test_hotline_operator_issues_a_temporary_password(staff_user, contract):
    client, _ = enrol(staff_user)
    url = f"/staff/admin/subscribers/contract/{contract.pk}/temporary-password/"
    assert (
        client.post(url, {"checks": ["contract_number"]}).status_code == 200
    )  # one check is not enough
    contract.user.refresh_from_db()
    assert contract.user.check_password("correct horse battery")
    page = client.post(url, {"checks": ["contract_number", "passport"]}).content.decode()
    found = re.search(r'data-testid="temporary-password">([^<]+)<', page)
    assert found is not None
    password = found.group(1)
    user = services.authenticate_subscriber(contract.number, password)
    assert user.password_change_required


def test_cashier_cannot_issue_passwords(contract):
    cashier = User.objects.create_user(
        "cashier1",
        "staff-password-1",
        kind="staff",
        role="cashier",
        is_staff=True,
        is_superuser=False,
    )
    TOTPDevice.objects.create(user=cashier, name="a", confirmed=True)
    client = Client()
    password_step(client, "cashier1")
    client.post("/staff/login/verify/", {"token": totp(cashier)})
    url = f"/staff/admin/subscribers/contract/{contract.pk}/temporary-password/"
    response = client.post(url, {"checks": ["contract_number", "passport"]})
    assert "temporary-password" not in response.content.decode()
    contract.user.refresh_from_db()
    assert contract.user.check_password("correct horse battery")


def test_demo_code_command_only_in_debug(staff_user, settings, capsys):
    from django.core.management import CommandError, call_command

    TOTPDevice.objects.create(user=staff_user, name="a", confirmed=True)
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("staff_totp_code", "operator1")
    settings.DEBUG = True
    call_command("staff_totp_code", "operator1")
    assert capsys.readouterr().out.strip() == totp(staff_user)
