import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_forgot_password_link_and_whole_flow(contract, outbox, django_capture_on_commit_callbacks):
    client = Client()
    client.cookies["abonent_language"] = "ru"
    assert "Забыли пароль?" in client.get("/login/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/password/forgot/", {"phone": "8 (900) 111-22-33", "channel": "sms"}
        )
    assert response["Location"] == "/password/forgot/code/"
    page = client.get("/password/forgot/code/").content.decode()
    assert "+7 900 ***-**-33" in page
    assert 'data-countdown="60"' in page or 'data-countdown="59"' in page
    response = client.post("/password/forgot/code/", {"code": outbox.code()})
    assert response["Location"] == "/password/forgot/new/"
    response = client.post(
        "/password/forgot/new/",
        {"new_password": "a brand new secret", "new_password_again": "a brand new secret"},
    )
    assert response["Location"] == "/"
    assert "Петров" in client.get("/").content.decode()


def test_wrong_code_shows_a_message(contract, django_capture_on_commit_callbacks):
    client = Client()
    client.cookies["abonent_language"] = "ru"
    client.post("/password/forgot/", {"phone": "+79001112233", "channel": "sms"})
    body = client.post("/password/forgot/code/", {"code": "99999"}).content.decode()
    assert "Код неверный или больше не действует" in body


def test_resend_too_early_says_how_long(contract):
    client = Client()
    client.cookies["abonent_language"] = "ru"
    client.post("/password/forgot/", {"phone": "+79001112233", "channel": "sms"})
    response = client.post("/password/forgot/resend/", follow=True)
    assert "Новый код можно запросить через" in response.content.decode()


def test_steps_cannot_be_skipped(db):
    client = Client()
    assert client.get("/password/forgot/code/")["Location"] == "/password/forgot/"
    assert client.get("/password/forgot/new/")["Location"] == "/password/forgot/"


def test_bad_phone_is_explained(db):
    client = Client()
    client.cookies["abonent_language"] = "ru"
    body = client.post(
        "/password/forgot/", {"phone": "мой телефон", "channel": "sms"}
    ).content.decode()
    assert "Введите номер телефона из договора" in body


def test_opt_out_then_login_explains_how_to_return(subscriber_client, contract):
    subscriber_client.cookies["abonent_language"] = "ru"
    response = subscriber_client.post(
        "/profile/security/", {"action": "opt_out", "password": "correct horse battery"}
    )
    assert response["Location"] == "/login/"
    body = subscriber_client.post(
        "/login/", {"contract_number": contract.number, "password": "correct horse battery"}
    ).content.decode()
    assert "отключён по просьбе абонента" in body
    assert "Забыли пароль?" in body


def test_phone_change_needs_the_code_from_the_new_phone(
    subscriber_client, contract, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_client.post("/profile/phone/", {"phone": "+7 901 000-00-07"})
    assert outbox.last().to == "+79010000007"
    code = outbox.code()
    with django_capture_on_commit_callbacks(execute=True):
        response = subscriber_client.post("/profile/phone/", {"code": code})
    assert response["Location"] == "/profile/"
    contract.subscriber.refresh_from_db()
    assert contract.subscriber.phone == "+79010000007"
    assert outbox.last().to == "+79001112233"  # the old phone is told
    assert outbox.last().kind == "phone_changed"


def test_email_change(subscriber_client, contract):
    subscriber_client.post("/profile/email/", {"email": "ivan@example.ru"})
    contract.subscriber.refresh_from_db()
    assert contract.subscriber.email == "ivan@example.ru"
    subscriber_client.post("/profile/email/", {"email": "not an email"})
    contract.subscriber.refresh_from_db()
    assert contract.subscriber.email == "ivan@example.ru"


def test_an_unknown_security_action_changes_nothing(contract):
    from abonent.accounts import second_factor
    from abonent.core.context import Actor

    second_factor.set_enabled(contract.user, True, "correct horse battery", Actor.system())
    client = Client()
    client.force_login(contract.user)
    response = client.post(
        "/profile/security/", {"action": "2fa_maybe", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    contract.user.refresh_from_db()
    assert contract.user.login_sms_2fa is True
