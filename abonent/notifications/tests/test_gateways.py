"""The real SMSC.ru and SMS.ru adapters against local servers speaking their APIs."""

import pytest
from django.test import override_settings

from abonent.notifications.gateways import GatewayError
from abonent.notifications.gateways.smsc import SmscGateway
from abonent.notifications.gateways.smsru import SmsRuGateway

from . import fakes


@pytest.fixture
def fake():
    with fakes.running() as server:
        yield server


def smsc(fake, login="correct-login", psw="correct-psw"):
    with override_settings(
        SMSC_URL=fake.url, SMSC_LOGIN=login, SMSC_PASSWORD=psw, SMS_HTTP_RETRIES=2
    ):
        return SmscGateway()


def smsru(fake, api_id=fakes.API_ID):
    with override_settings(SMSRU_URL=fake.url, SMSRU_API_ID=api_id, SMS_HTTP_RETRIES=2):
        return SmsRuGateway()


def test_smsc_sends_an_sms(fake):
    sent = smsc(fake).send_sms("+79001234567", "Код: 123456")
    assert sent.provider_id == "1"
    path, form = fake.requests[-1]
    assert path == "/sys/send.php"
    assert form["phones"] == "79001234567"
    assert form["mes"] == "Код: 123456"
    assert form["fmt"] == "3"
    assert form["charset"] == "utf-8"


def test_smsc_flash_call_returns_the_code(fake):
    called = smsc(fake).send_code_call("+79001234567")
    assert called.code == fakes.FLASH_CODE
    assert fake.requests[-1][1]["call"] == "1"


@pytest.mark.parametrize(
    ("gateway_kwargs", "phone", "code"),
    [
        ({"psw": "wrong"}, "+79001234567", "bad_credentials"),
        ({"login": fakes.BROKE}, "+79001234567", "no_money"),
        ({}, "+1234", "invalid_number"),
    ],
)
def test_smsc_errors_are_not_retryable(fake, gateway_kwargs, phone, code):
    with pytest.raises(GatewayError) as info:
        smsc(fake, **gateway_kwargs).send_sms(phone, "x")
    assert info.value.code == code
    assert not info.value.retryable
    assert len(fake.requests) == 1  # no pointless retries


def test_smsru_sends_an_sms(fake):
    sent = smsru(fake).send_sms("+79001234567", "Код: 654321")
    assert sent.provider_id.endswith("-10000000")
    path, form = fake.requests[-1]
    assert path == "/sms/send"
    assert (form["to"], form["msg"], form["json"]) == ("79001234567", "Код: 654321", "1")


def test_smsru_flash_call(fake):
    assert smsru(fake).send_code_call("+79001234567").code == fakes.FLASH_CODE
    assert fake.requests[-1][0] == "/code/call"


@pytest.mark.parametrize(
    ("api_id", "phone", "code"),
    [
        ("wrong", "+79001234567", "bad_credentials"),
        (fakes.BROKE, "+79001234567", "no_money"),
        (fakes.API_ID, "+1234", "invalid_number"),
    ],
)
def test_smsru_errors(fake, api_id, phone, code):
    with pytest.raises(GatewayError) as info:
        smsru(fake, api_id).send_sms(phone, "x")
    assert info.value.code == code
    assert not info.value.retryable


def test_server_errors_are_retried_with_a_cap(fake):
    fake.fail_next = 2
    assert smsru(fake).send_sms("+79001234567", "x").provider_id  # 500, 500, then OK
    assert len(fake.requests) == 3
    fake.fail_next = 10
    with pytest.raises(GatewayError) as info:
        smsc(fake).send_sms("+79001234567", "x")
    assert info.value.retryable
    assert len(fake.requests) == 3 + 3  # one try plus SMS_HTTP_RETRIES


def test_unreachable_gateway_is_a_retryable_error():
    with override_settings(
        SMSRU_URL="http://127.0.0.1:9", SMSRU_API_ID="x", SMS_HTTP_RETRIES=0, SMS_TIMEOUT=1
    ):
        gateway = SmsRuGateway()
    with pytest.raises(GatewayError) as info:
        gateway.send_sms("+79001234567", "x")
    assert info.value.retryable
