import logging

import pytest

from abonent.notifications import services
from abonent.notifications.models import Message

from . import fakes

pytestmark = pytest.mark.django_db


def test_console_prints_one_line_and_keeps_the_text(capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_sms("+79001234567", "Ваш код: 123456", kind="test", secret="123456")
    assert "SMS to +79001234567: Ваш код: 123456\n" in capsys.readouterr().out
    message = Message.objects.get()
    assert message.status == "sent"
    assert message.text == "Ваш код: 123456"  # the development console shows codes
    assert message.body is None  # wiped once delivered


def test_real_gateway_masks_the_code_everywhere(
    real_gateway, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_sms("+79001234567", "Ваш код: 123456", kind="test", secret="123456")
    message = Message.objects.get()
    assert message.status == "sent"
    assert message.gateway == "smsc"
    assert "123456" not in message.text
    assert message.body is None
    assert real_gateway.requests[-1][1]["mes"] == "Ваш код: 123456"  # the subscriber gets it
    assert "123456" not in caplog.text


def test_retryable_failure_stays_queued_then_gives_up(real_gateway, settings):
    settings.SMS_HTTP_RETRIES = 0
    settings.SMS_DELIVERY_ATTEMPTS = 2
    real_gateway.fail_next = 100
    message = services.send_sms("+79001234567", "hello", kind="test")
    assert services.deliver_now(message.pk).status == "queued"
    failed = services.deliver_now(message.pk)
    assert failed.status == "failed"
    assert failed.attempts == 2
    assert failed.body is None


def test_permanent_failure_fails_at_once(real_gateway, settings):
    settings.SMSC_LOGIN = fakes.BROKE
    message = services.send_sms("+79001234567", "hello", kind="test")
    failed = services.deliver_now(message.pk)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "no_money" in failed.error


def test_delivery_is_idempotent(real_gateway):
    message = services.send_sms("+79001234567", "hello", kind="test")
    services.deliver_now(message.pk)
    services.deliver_now(message.pk)
    assert len(real_gateway.requests) == 1


def test_flash_call_keeps_only_a_digest(real_gateway):
    message = services.request_code_call("+79001234567", kind="test")
    delivered = services.deliver_now(message.pk)
    assert fakes.FLASH_CODE not in delivered.text
    assert fakes.FLASH_CODE not in delivered.call_code_digest
    assert services.call_code_matches(delivered, fakes.FLASH_CODE)
    assert not services.call_code_matches(delivered, "0000")
