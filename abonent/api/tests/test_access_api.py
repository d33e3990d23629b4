import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def post(path, body, token=None, lang="en"):
    headers = {"HTTP_ACCEPT_LANGUAGE": lang}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().post(path, body, content_type="application/json", **headers)


def token_for(number, password="correct horse battery"):
    return post("/api/v1/auth/login", {"contract_number": number, "password": password}).json()[
        "access_token"
    ]


def test_recovery_over_the_api(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = post("/api/v1/auth/recovery/start", {"phone": "+79001112233", "channel": "sms"})
    assert started.status_code == 202
    body = started.json()
    assert body["resend_after"] == 60
    verified = post(
        "/api/v1/auth/recovery/verify", {"request_id": body["request_id"], "code": outbox.code()}
    )
    assert verified.status_code == 200
    assert verified.json()["contracts"] == [contract.number]
    done = post(
        "/api/v1/auth/recovery/complete",
        {"reset_token": verified.json()["reset_token"], "new_password": "a brand new secret"},
    )
    assert done.status_code == 200
    assert done.json()["contract_number"] == contract.number
    assert done.json()["access_token"].startswith("aa_")


def test_recovery_start_is_the_same_for_unknown_phones(contract):
    known = post("/api/v1/auth/recovery/start", {"phone": "+79001112233"})
    unknown = post("/api/v1/auth/recovery/start", {"phone": "+79009999999"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())


def test_recovery_resend_is_throttled_with_retry_after(contract):
    post("/api/v1/auth/recovery/start", {"phone": "+79001112233"})
    again = post("/api/v1/auth/recovery/start", {"phone": "+79001112233"})
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "throttled"
    assert 0 < int(again["Retry-After"]) <= 60


def test_several_contracts_answer_409_with_the_choice(
    make_contract, outbox, django_capture_on_commit_callbacks
):
    first, second = make_contract().contract, make_contract().contract
    with django_capture_on_commit_callbacks(execute=True):
        request_id = post("/api/v1/auth/recovery/start", {"phone": "+79001112233"}).json()[
            "request_id"
        ]
    reset = post(
        "/api/v1/auth/recovery/verify", {"request_id": request_id, "code": outbox.code()}
    ).json()["reset_token"]
    choice = post(
        "/api/v1/auth/recovery/complete",
        {"reset_token": reset, "new_password": "a brand new secret"},
    )
    assert choice.status_code == 409
    assert choice.json()["contracts"] == [first.number, second.number]
    assert choice.json()["error"]["code"] == "conflict"
    done = post(
        "/api/v1/auth/recovery/complete",
        {
            "reset_token": reset,
            "new_password": "a brand new secret",
            "contract_number": second.number,
        },
    )
    assert done.json()["contract_number"] == second.number


def test_wrong_code_is_a_validation_error(contract):
    request_id = post("/api/v1/auth/recovery/start", {"phone": "+79001112233"}).json()["request_id"]
    response = post("/api/v1/auth/recovery/verify", {"request_id": request_id, "code": "000000"})
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


def test_login_is_throttled_with_retry_after(contract):
    for _ in range(3):
        post("/api/v1/auth/login", {"contract_number": contract.number, "password": "nope"})
    response = post("/api/v1/auth/login", {"contract_number": contract.number, "password": "nope"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response["Retry-After"] == "1"


def test_devices_list_and_end(contract):
    phone = token_for(contract.number)
    tablet = token_for(contract.number)
    listed = Client().get("/api/v1/auth/devices", HTTP_AUTHORIZATION=f"Bearer {phone}").json()
    assert len(listed) == 2
    assert listed[0]["current"] is True
    other = next(d for d in listed if not d["current"])
    response = Client().delete(
        f"/api/v1/auth/devices/{other['id']}", HTTP_AUTHORIZATION=f"Bearer {phone}"
    )
    assert response.status_code == 204
    assert Client().get("/api/v1/account", HTTP_AUTHORIZATION=f"Bearer {tablet}").status_code == 401
    missing = Client().delete(
        "/api/v1/auth/devices/app-999999", HTTP_AUTHORIZATION=f"Bearer {phone}"
    )
    assert missing.status_code == 404


def test_opt_out_over_the_api(contract):
    token = token_for(contract.number)
    assert post("/api/v1/cabinet/opt-out", {"password": "wrong"}, token).status_code == 400
    assert (
        post("/api/v1/cabinet/opt-out", {"password": "correct horse battery"}, token).status_code
        == 204
    )
    again = post(
        "/api/v1/auth/login",
        {"contract_number": contract.number, "password": "correct horse battery"},
    )
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "cabinet_disabled"


def test_second_factor_over_the_api(contract, outbox, django_capture_on_commit_callbacks):
    token = token_for(contract.number)
    switched = post(
        "/api/v1/profile/second-factor",
        {"enabled": True, "password": "correct horse battery"},
        token,
    )
    assert switched.json()["login_sms_2fa"] is True
    with django_capture_on_commit_callbacks(execute=True):
        first = post(
            "/api/v1/auth/login",
            {"contract_number": contract.number, "password": "correct horse battery"},
        )
    assert first.status_code == 202
    assert first.json()["second_factor_required"] is True
    assert "access_token" not in first.json()
    done = post(
        "/api/v1/auth/login/verify",
        {"request_id": first.json()["request_id"], "code": outbox.code()},
    )
    assert done.status_code == 200
    assert done.json()["access_token"].startswith("aa_")


def test_profile_email_and_phone(contract, outbox, django_capture_on_commit_callbacks):
    token = token_for(contract.number)
    auth = f"Bearer {token}"
    patched = Client().patch(
        "/api/v1/profile",
        {"email": "a@b.ru"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert patched.json()["email"] == "a@b.ru"
    bad = Client().patch(
        "/api/v1/profile",
        {"email": "nope"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert bad.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        started = post("/api/v1/profile/phone", {"phone": "+79010000007"}, token)
    assert started.status_code == 202
    confirmed = post(
        "/api/v1/profile/phone/confirm",
        {"request_id": started.json()["request_id"], "code": outbox.code()},
        token,
    )
    assert confirmed.json()["phone"] == "+79010000007"
