import json

import pytest

from abonent.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def call(client, method, path, body=None, token=None, lang="en", raw=None):
    headers = {"HTTP_ACCEPT_LANGUAGE": lang}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def login(client, number, password="correct horse battery", **extra):
    return call(
        client,
        "post",
        "/api/v1/auth/login",
        {"contract_number": number, "password": password, **extra},
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_login_returns_a_token_pair(client, contract):
    response = login(client, f" {contract.number} ", device_name="Pixel 7")
    assert response.status_code == 200
    data = response.json()
    assert data["access_token"].startswith("aa_")
    assert data["refresh_token"].startswith("ar_")
    assert data["expires_in"] == 900
    assert data["password_change_required"] is False
    assert ApiToken.objects.get().device_name == "Pixel 7"


@pytest.mark.parametrize(
    ("number", "password"),
    [("1000001", "wrong password"), ("8888888", "correct horse battery")],
)
def test_wrong_credentials_are_one_error(client, contract, number, password):
    error = assert_error(login(client, number, password), 401, "invalid_credentials")
    assert error["message"] == "The contract number or password is incorrect."
    assert "fields" not in error


def test_errors_speak_russian_when_asked(client, contract):
    response = call(
        client,
        "post",
        "/api/v1/auth/login",
        {"contract_number": contract.number, "password": "nope"},
        lang="ru",
    )
    assert (
        assert_error(response, 401, "invalid_credentials")["message"]
        == "Неверный номер договора или пароль."
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contract_number": "", "password": "x"}, "contract_number"),
        ({"contract_number": "1000001", "password": ""}, "password"),
        ({"password": "x"}, "contract_number"),
        ({"contract_number": "1" * 10_000, "password": "x"}, "contract_number"),
        ({"contract_number": "Иванов", "password": "x"}, "contract_number"),
        ({"contract_number": 1000001, "password": "x"}, "contract_number"),
        ({"contract_number": ["1"], "password": "x"}, "contract_number"),
        ({"contract_number": "1000001", "password": "x", "admin": True}, "admin"),
        ({"contract_number": "1000001", "password": "x", "device_name": "a\x00b"}, "device_name"),
    ],
)
def test_validation_errors_name_the_field(client, contract, body, field):
    error = assert_error(call(client, "post", "/api/v1/auth/login", body), 400, "validation_error")
    assert field in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"][field])


@pytest.mark.parametrize("raw", ["{bad json", "\xff\xfe", "[]", "null", '"text"'])
def test_malformed_bodies_are_400_not_500(client, db, raw):
    response = call(client, "post", "/api/v1/auth/login", raw=raw)
    assert_error(response, 400, "validation_error")


def test_validation_messages_are_translated(client, db):
    response = call(client, "post", "/api/v1/auth/login", {"password": "x"}, lang="ru")
    error = assert_error(response, 400, "validation_error")
    assert error["fields"]["contract_number"] == ["Обязательное поле."]


def test_refresh_rotates_and_logout_revokes(client, contract):
    pair = login(client, contract.number).json()
    new = call(client, "post", "/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert new.status_code == 200
    fresh = new.json()
    assert fresh["refresh_token"] != pair["refresh_token"]
    assert_error(
        call(client, "get", "/api/v1/account", token=pair["access_token"]),
        401,
        "invalid_credentials",
    )
    assert call(client, "get", "/api/v1/account", token=fresh["access_token"]).status_code == 200
    assert (
        call(client, "post", "/api/v1/auth/logout", token=fresh["access_token"]).status_code == 204
    )
    assert_error(
        call(client, "get", "/api/v1/account", token=fresh["access_token"]),
        401,
        "invalid_credentials",
    )
    assert_error(
        call(client, "post", "/api/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]}),
        401,
        "invalid_credentials",
    )


def test_password_change_required_locks_everything_but_the_change(client, make_contract):
    new = make_contract(keep_initial=True)
    pair = login(client, new.contract.number, new.initial_password).json()
    assert pair["password_change_required"] is True
    token = pair["access_token"]
    assert_error(
        call(client, "get", "/api/v1/account", token=token), 403, "password_change_required"
    )
    response = call(
        client,
        "post",
        "/api/v1/auth/password",
        {"old_password": new.initial_password, "new_password": "my own long secret"},
        token=token,
    )
    assert response.status_code == 204
    assert call(client, "get", "/api/v1/account", token=token).status_code == 200


def test_password_change_ends_other_devices(client, contract):
    phone = login(client, contract.number, device_name="phone").json()["access_token"]
    tablet = login(client, contract.number, device_name="tablet").json()["access_token"]
    response = call(
        client,
        "post",
        "/api/v1/auth/password",
        {"old_password": "correct horse battery", "new_password": "another long secret"},
        token=phone,
    )
    assert response.status_code == 204
    assert call(client, "get", "/api/v1/account", token=phone).status_code == 200
    assert_error(call(client, "get", "/api/v1/account", token=tablet), 401, "invalid_credentials")


def test_password_change_errors_are_fields(client, contract):
    token = login(client, contract.number).json()["access_token"]
    error = assert_error(
        call(
            client,
            "post",
            "/api/v1/auth/password",
            {"old_password": "nope", "new_password": "whatever long"},
            token=token,
        ),
        400,
        "validation_error",
    )
    assert "old_password" in error["fields"]


def test_unknown_api_path_and_method_are_json(client, db):
    assert_error(call(client, "get", "/api/v1/no-such-thing"), 404, "not_found")
    response = call(client, "get", "/api/v1/auth/login")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
