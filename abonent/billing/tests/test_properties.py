"""Property-based: whatever a subscriber and the calendar do, in any order, the books
balance, no key is used twice and no day is charged twice."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abonent.billing import lifecycle
from abonent.billing.models import Account, LedgerEntry
from abonent.billing.run import run_billing
from abonent.billing.services import post_correction, post_entry
from abonent.catalog.models import AddOn, ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.services import AddressData, PersonData, create_contract

pytestmark = pytest.mark.django_db
START = dt.date(2026, 1, 25)

ops = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=300_000)),
        st.tuples(st.just("bill"), st.integers(min_value=1, max_value=9)),
        st.tuples(st.just("change"), st.integers(min_value=0, max_value=2)),
        st.tuples(st.just("suspend"), st.integers(min_value=7, max_value=20)),
        st.tuples(st.just("resume"), st.just(0)),
        st.tuples(st.just("promise"), st.just(0)),
        st.tuples(st.just("correct"), st.integers(min_value=-50_000, max_value=50_000)),
        st.tuples(st.just("addon"), st.integers(min_value=0, max_value=1)),
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
def test_books_always_balance(staff_user_factory, script):
    with transaction.atomic():
        _play(staff_user_factory(), script)
        transaction.set_rollback(True)


@pytest.fixture
def staff_user_factory(db):
    from abonent.accounts.models import User

    def make():
        return User.objects.create_user(
            "mgr", "x" * 12, kind="staff", role="manager", is_staff=True
        )

    return make


def _play(manager, script):
    tariffs = [
        Tariff.objects.create(
            code="a", name="A", monthly_price=600_00, speed_in_mbps=1, speed_out_mbps=1
        ),
        Tariff.objects.create(
            code="b",
            name="B",
            monthly_price=900_00,
            speed_in_mbps=1,
            speed_out_mbps=1,
            charging_mode=ChargingMode.MONTHLY,
        ),
        Tariff.objects.create(
            code="c", name="C", monthly_price=301_37, speed_in_mbps=1, speed_out_mbps=1
        ),
    ]
    addons = [
        AddOn.objects.create(
            code="ip", name="IP", price=150_00, charges_while_suspended=True, suspended_price=7_77
        ),
        AddOn.objects.create(code="tv", name="TV", price=299_00),
    ]
    me = Actor.system("web")
    day = START
    with time_machine.travel(dt.datetime(2026, 1, 25, 9, tzinfo=dt.UTC), tick=False) as clock:
        contract = create_contract(
            PersonData(last_name="П", first_name="И", phone="+79001112233"),
            AddressData(street="S", house="1"),
            tariffs[0],
            me,
            signed_on=START,
        ).contract
        for n, (op, arg) in enumerate(script):
            try:
                if op == "pay":
                    post_entry(
                        contract.account.pk,
                        kind="payment",
                        amount=arg,
                        idempotency_key=f"pay:{n}",
                        description="p",
                        actor=me,
                    )
                elif op == "bill":
                    for _ in range(arg):
                        run_billing(day)
                        before = LedgerEntry.objects.count()
                        run_billing(day)  # the same day again: a day is never charged twice
                        assert LedgerEntry.objects.count() == before
                        day += dt.timedelta(days=1)
                        clock.move_to(dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC))
                elif op == "change":
                    lifecycle.change_tariff(contract.pk, tariffs[arg].pk, me, f"chg:{n}")
                elif op == "suspend":
                    lifecycle.suspend(contract.pk, day, day + dt.timedelta(days=arg - 1), me)
                elif op == "resume":
                    active = contract.suspensions.filter(status="active").first()
                    if active:
                        lifecycle.resume(contract.pk, active.pk, me)
                elif op == "promise":
                    lifecycle.take_promise(contract.pk, None, me)
                elif op == "correct" and arg:
                    post_correction(
                        contract.pk,
                        arg,
                        "fix",
                        Actor(user=manager, channel="admin"),
                        key=f"cor:{n}",
                    )
                elif op == "addon":
                    connected = contract.addons.filter(
                        addon=addons[arg], disconnected_on__isnull=True
                    ).exists()
                    lifecycle.set_addon(contract.pk, addons[arg].pk, not connected, me)
            except DomainError:
                pass  # refused by a rule: must leave no trace, which the checks below verify
            _check(contract)


def _check(contract):
    account = Account.objects.get(pk=contract.account.pk)
    entries = LedgerEntry.objects.filter(account=account)
    assert account.balance == (entries.aggregate(s=Sum("amount"))["s"] or 0)
    keys = list(entries.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    # The tariff is charged at most once per day (daily mode) and per month (monthly mode).
    periods = [k.rsplit(":", 1)[1] for k in keys if k.startswith("sub:")]
    assert len(periods) == len(set(periods))
