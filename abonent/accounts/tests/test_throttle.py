"""security.md, "Passwords and login": growing delay, temporary lock, audited, liftable."""

import pytest
import time_machine
from django.utils import timezone

from abonent.accounts import services, throttle
from abonent.accounts.models import LoginLock
from abonent.core.context import Actor
from abonent.core.errors import Forbidden, InvalidCredentials, Throttled
from abonent.core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def attempt(number, password, ip="10.0.0.1"):
    return services.authenticate_subscriber(
        number, password, Actor(user=None, channel="web", ip=ip)
    )


def fail(number, ip="10.0.0.1"):
    with pytest.raises(InvalidCredentials):
        attempt(number, "wrong password", ip)


def test_growing_delay_after_three_failures(contract, clock):
    for _ in range(3):
        fail(contract.number)  # three tries come freely
    for wait in (1, 2, 4, 8):
        with pytest.raises(Throttled) as info:  # then each must wait twice as long
            attempt(contract.number, "correct horse battery")
        assert info.value.retry_after == wait
        clock.shift(wait)
        fail(contract.number)


def test_lock_after_ten_failures_in_fifteen_minutes(contract, clock):
    for _ in range(10):
        clock.shift(61)  # slower than the delays
        fail(contract.number)
    lock = LoginLock.objects.get(scope="contract", key=contract.number)
    assert AuditLog.objects.filter(action="auth.login_locked", object_id=str(lock.pk)).exists()
    clock.shift(61)
    with pytest.raises(Throttled) as info:
        attempt(contract.number, "correct horse battery")  # even the right password waits
    assert 0 < info.value.retry_after <= 15 * 60
    clock.shift(15 * 60)
    assert attempt(contract.number, "correct horse battery") == contract.user


def test_unknown_contract_is_throttled_the_same_way(db, clock):
    for _ in range(10):
        clock.shift(61)
        fail("7777777")
    with pytest.raises(Throttled):
        attempt("7777777", "anything")
    assert LoginLock.objects.filter(key="7777777").exists()


def test_success_clears_the_count(contract, clock):
    for _ in range(3):
        fail(contract.number)
    clock.shift(1)
    attempt(contract.number, "correct horse battery")
    for _ in range(3):
        fail(contract.number)  # no delay yet: the count started again


def test_client_address_is_locked_across_contracts(make_contract, settings, clock):
    settings.LOGIN_IP_LOCK_FAILURES = 5
    contract = make_contract().contract
    for i in range(5):
        fail(f"70000{i:02d}", ip="10.6.6.6")
    with pytest.raises(Throttled):
        attempt(contract.number, "correct horse battery", ip="10.6.6.6")
    assert attempt(contract.number, "correct horse battery", ip="10.7.7.7") == contract.user


def test_staff_lift_a_lock_and_it_is_audited(contract, staff_user, clock):
    for _ in range(10):
        clock.shift(61)
        fail(contract.number)
    lock = LoginLock.objects.get()
    throttle.lift(lock.pk, Actor(user=staff_user, channel="admin"))
    assert attempt(contract.number, "correct horse battery") == contract.user
    row = AuditLog.objects.get(action="auth.login_unlocked")
    assert row.actor == staff_user


def test_only_staff_lift_locks(contract, clock):
    for _ in range(10):
        clock.shift(61)
        fail(contract.number)
    with pytest.raises(Forbidden):
        throttle.lift(LoginLock.objects.get().pk, Actor(user=contract.user, channel="web"))
