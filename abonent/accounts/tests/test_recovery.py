"""security.md, "One-time codes", through the recovery flow."""

import json

import pytest
import time_machine
from django.utils import timezone

from abonent.accounts import recovery, tokens
from abonent.accounts.models import OneTimeCode
from abonent.core.context import Actor
from abonent.core.errors import Throttled, ValidationFailed
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db
PHONE = "+7 900 111-22-33"


def web(ip="10.0.0.1"):
    return Actor(user=None, channel="web", ip=ip)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def start(phone=PHONE, ip="10.0.0.1", channel="sms"):
    return recovery.start(phone, channel, web(ip))


def test_full_recovery(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    code = outbox.code()
    assert len(code) == 6
    token = recovery.verify(issued.request_id, code)
    done = recovery.complete(token, "a brand new secret", web())
    assert done.user == contract.user
    contract.user.refresh_from_db()
    assert contract.user.check_password("a brand new secret")
    assert outbox.last().kind == "password_changed"
    assert AuditLog.objects.filter(action="auth.password_recovered").exists()


def test_code_is_stored_only_as_a_digest(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start()
    row = OneTimeCode.objects.get()
    assert outbox.code() not in row.code_digest
    assert len(row.code_digest) == 64


def test_unknown_phone_looks_exactly_the_same(contract, outbox):
    known = start(PHONE, ip="10.0.0.1")
    unknown = start("+7 900 999-99-99", ip="10.0.0.2")
    assert set(known.__dict__) == set(unknown.__dict__)
    assert (known.resend_after, known.channel) == (unknown.resend_after, unknown.channel)
    assert len(outbox.all()) == 1  # only the real subscriber got an SMS
    with pytest.raises(ValidationFailed) as info:
        recovery.verify(unknown.request_id, "123456")
    assert "code" in info.value.fields


def test_wrong_code_five_times_kills_the_code(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    right = outbox.code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            recovery.verify(issued.request_id, wrong)
    assert OneTimeCode.objects.get().failed_attempts == 5  # counted, although each call raised
    with pytest.raises(ValidationFailed) as info:
        recovery.verify(issued.request_id, right)
    assert "Слишком много неверных кодов" in str(info.value.fields["code"][0])


def test_a_new_code_does_not_reset_the_failure_count(
    contract, outbox, clock, django_capture_on_commit_callbacks
):
    for _ in range(2):
        issued = start()
        for _ in range(5):
            with pytest.raises(ValidationFailed):
                recovery.verify(
                    issued.request_id, "000000" if outbox.code() != "000000" else "111111"
                )
        clock.shift(61)
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    with pytest.raises(ValidationFailed) as info:
        recovery.verify(issued.request_id, outbox.code())
    assert "Слишком много неверных кодов" in str(info.value.fields["code"][0])


def test_expired_code_is_refused(contract, outbox, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    clock.shift(10 * 60 + 1)
    with pytest.raises(ValidationFailed):
        recovery.verify(issued.request_id, outbox.code())


def test_code_is_single_use(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    recovery.verify(issued.request_id, outbox.code())
    with pytest.raises(ValidationFailed):
        recovery.verify(issued.request_id, outbox.code())


def test_resend_before_60_seconds_says_how_long(contract, clock):
    start()
    clock.shift(45)
    with pytest.raises(Throttled) as info:
        start()
    assert info.value.retry_after == 15
    assert "15" in str(info.value.message)
    clock.shift(15)
    start()


@pytest.mark.parametrize("phone", [PHONE, "+7 900 999-99-99"])
def test_at_most_five_codes_an_hour_per_phone(contract, clock, phone):
    for i in range(5):
        start(phone, ip=f"10.0.1.{i}")
        clock.shift(61)
    with pytest.raises(Throttled):
        start(phone, ip="10.0.2.1")
    clock.shift(3600)
    start(phone, ip="10.0.2.1")


def test_at_most_five_codes_an_hour_per_client_address(contract, clock):
    for i in range(5):
        start(f"+7 900 555-00-0{i}", ip="10.9.9.9")
    with pytest.raises(Throttled):
        start("+7 900 555-00-09", ip="10.9.9.9")


def test_reset_ends_every_session_and_revokes_tokens(
    contract, outbox, django_capture_on_commit_callbacks
):
    pair = tokens.issue(contract.user, web())
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    recovery.complete(
        recovery.verify(issued.request_id, outbox.code()), "a brand new secret", web()
    )
    assert tokens.authenticate_access(pair.access_token) is None


def test_reset_token_is_single_use_and_expires(
    contract, outbox, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    token = recovery.verify(issued.request_id, outbox.code())
    recovery.complete(token, "a brand new secret", web())
    with pytest.raises(ValidationFailed):
        recovery.complete(token, "another new secret", web())
    clock.shift(61)
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    token = recovery.verify(issued.request_id, outbox.code())
    clock.shift(15 * 60 + 1)
    with pytest.raises(ValidationFailed):
        recovery.complete(token, "too late secret", web())


def test_one_phone_several_contracts_asks_which(
    make_contract, outbox, django_capture_on_commit_callbacks
):
    first = make_contract().contract
    second = make_contract().contract  # the same phone
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    token = recovery.verify(issued.request_id, outbox.code())
    choice = recovery.complete(token, "a brand new secret", web())
    assert choice.user is None
    assert choice.contracts == [first.number, second.number]
    with pytest.raises(ValidationFailed):
        recovery.complete(token, "a brand new secret", web(), contract_number="7777777")
    done = recovery.complete(token, "a brand new secret", web(), contract_number=second.number)
    assert done.user == second.user


def test_weak_new_password_changes_nothing(contract, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    token = recovery.verify(issued.request_id, outbox.code())
    with pytest.raises(ValidationFailed):
        recovery.complete(token, "123", web())
    contract.user.refresh_from_db()
    assert contract.user.check_password("correct horse battery")
    recovery.complete(token, "now a good secret", web())  # the token still works


def test_recovery_switches_an_opted_out_cabinet_back_on(
    contract, outbox, django_capture_on_commit_callbacks
):
    contract.user.cabinet_enabled = False
    contract.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    recovery.complete(
        recovery.verify(issued.request_id, outbox.code()), "a brand new secret", web()
    )
    contract.user.refresh_from_db()
    assert contract.user.cabinet_enabled


def test_flash_call_code_works(contract, real_gateway, django_capture_on_commit_callbacks):
    from abonent.notifications.tests.fakes import FLASH_CODE

    with django_capture_on_commit_callbacks(execute=True):
        issued = start(channel="call")
    assert issued.channel == "call"
    assert recovery.verify(issued.request_id, FLASH_CODE).startswith("rs_")


def test_no_secret_reaches_logs_or_audit(
    contract, real_gateway, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        issued = start()
    code = real_gateway.requests[-1][1]["mes"].split(": ")[1][:6]
    token = recovery.verify(issued.request_id, code)
    with django_capture_on_commit_callbacks(execute=True):
        recovery.complete(token, "a brand new secret", web())
    audit = json.dumps(
        list(AuditLog.objects.values("before", "after", "action")), ensure_ascii=False
    )
    from abonent.notifications.models import Message

    outbox = " ".join(Message.objects.values_list("text", flat=True))
    for secret in (code, token, "a brand new secret"):
        assert secret not in caplog.text
        assert secret not in audit
        assert secret not in outbox


@pytest.mark.parametrize("phone", ["", "abc", "12", "+7 900", "7" * 50])
def test_malformed_phone_is_a_field_error(db, phone):
    with pytest.raises(ValidationFailed) as info:
        start(phone)
    assert "phone" in info.value.fields
    assert not OneTimeCode.objects.exists()


def test_a_code_is_bound_to_its_purpose(contract, outbox, django_capture_on_commit_callbacks):
    from abonent.accounts import second_factor

    with django_capture_on_commit_callbacks(execute=True):
        issued = second_factor.send_login_code(contract.user, web())
    with pytest.raises(ValidationFailed):
        recovery.verify(issued.request_id, outbox.code())  # a login code opens no recovery


def test_a_phone_change_code_is_bound_to_its_subscriber(
    make_contract, outbox, django_capture_on_commit_callbacks
):
    from abonent.subscribers import services as subscribers

    mine = make_contract().contract
    theirs = make_contract(phone="+79005556677").contract
    with django_capture_on_commit_callbacks(execute=True):
        issued = subscribers.start_phone_change(mine.user, "+79010000001", web())
    with pytest.raises(ValidationFailed):
        subscribers.confirm_phone_change(theirs.user, issued.request_id, outbox.code(), web())
    theirs.subscriber.refresh_from_db()
    assert theirs.subscriber.phone == "+79005556677"
