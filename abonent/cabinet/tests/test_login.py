import datetime as dt

import pytest
import time_machine
from django.test import Client

from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db

GENERIC_RU = "Неверный номер договора или пароль."


def post_login(client, number, password, lang="ru"):
    client.cookies["abonent_language"] = lang
    return client.post("/login/", {"contract_number": number, "password": password})


def test_login_page_is_russian_by_default(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Номер договора" in response.content.decode()


def test_successful_login_goes_home_and_is_audited(client, contract):
    response = post_login(client, f"  {contract.number} ", "correct horse battery")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert AuditLog.objects.filter(action="auth.login", object_id=str(contract.user.pk)).exists()
    home = client.get("/")
    assert contract.number in home.content.decode()


@pytest.mark.parametrize(
    ("number", "password"),
    [("1000001", "wrong password"), ("7777777", "correct horse battery")],
)
def test_wrong_password_and_unknown_contract_look_the_same(client, contract, number, password):
    response = post_login(client, number, password)
    assert response.status_code == 200
    body = response.content.decode()
    assert GENERIC_RU in body
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("number", "password", "message"),
    [
        ("", "", "Введите номер договора."),
        ("", "", "Введите пароль."),
        ("1" * 10_000, "x", "Номер договора — до 12 цифр"),
        ("Иванов", "пароль", "Номер договора — до 12 цифр"),
        ("1000001\x00", "x", "ноль-байт"),
    ],
)
def test_bad_input_gets_a_clear_russian_message(client, contract, number, password, message):
    response = post_login(client, number, password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_non_ascii_password_is_just_a_wrong_password(client, contract):
    response = post_login(client, contract.number, "пароль😀\u202e")
    assert response.status_code == 200
    assert GENERIC_RU in response.content.decode()


def test_messages_in_english_when_chosen(client, contract):
    response = post_login(client, contract.number, "nope", lang="en")
    assert "The contract number or password is incorrect." in response.content.decode()


def test_session_id_rotates_at_login(client, contract):
    client.get("/login/")
    client.session.save()
    before = client.session.session_key
    post_login(client, contract.number, "correct horse battery")
    assert client.session.session_key != before


def test_cabinet_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_next_is_followed_only_within_the_site(client, contract):
    client.post(
        "/login/?next=/profile/",
        {
            "contract_number": contract.number,
            "password": "correct horse battery",
            "next": "/profile/",
        },
    )
    assert client.get("/profile/").status_code == 200
    other = Client()
    response = other.post(
        "/login/",
        {
            "contract_number": contract.number,
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


def test_logout_ends_the_session(subscriber_client):
    response = subscriber_client.post("/logout/")
    assert response.status_code == 302
    assert subscriber_client.get("/").status_code == 302


def test_logout_needs_post(subscriber_client):
    assert subscriber_client.get("/logout/").status_code == 405


def test_staff_login_does_not_open_the_cabinet(client, staff_user):
    client.force_login(staff_user, backend="abonent.accounts.backends.StaffBackend")
    assert client.get("/").status_code == 302


def test_session_has_an_absolute_lifetime(subscriber_client):
    assert subscriber_client.get("/").status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12, minutes=1)
    with time_machine.travel(later):
        # Even a session kept busy is over after 12 hours.
        assert subscriber_client.get("/").status_code == 302


def test_session_cookie_flags(client, contract):
    response = post_login(client, contract.number, "correct horse battery")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 30 * 60  # idle timeout, renewed on each request


def test_csrf_is_enforced_with_a_friendly_page(contract):
    client = Client(enforce_csrf_checks=True)
    client.cookies["abonent_language"] = "ru"
    response = client.post(
        "/login/", {"contract_number": contract.number, "password": "correct horse battery"}
    )
    assert response.status_code == 403
    assert "Страница устарела" in response.content.decode()


def test_session_ends_after_thirty_idle_minutes(subscriber_client):
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start + dt.timedelta(minutes=20)):
        assert subscriber_client.get("/").status_code == 200  # activity renews the session
    with time_machine.travel(start + dt.timedelta(minutes=45)):
        assert subscriber_client.get("/").status_code == 200  # 25 idle minutes: still fine
    with time_machine.travel(start + dt.timedelta(minutes=45 + 31)):
        assert subscriber_client.get("/").status_code == 302  # 31 idle minutes: over
