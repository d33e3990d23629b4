"""Tariff changes, add-ons, suspension and promised payment: rules and bad input."""

import datetime as dt

import pytest
import time_machine

from abonent.accounts.models import User
from abonent.billing import lifecycle
from abonent.billing.models import LedgerEntry, PromisedPayment, Suspension, TariffChange
from abonent.billing.run import run_billing
from abonent.billing.services import post_entry, reverse_entry
from abonent.catalog.models import AddOn, Audience, BillingPolicy, ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.subscribers.models import Contract, ContractAddOn

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 10)
ME = Actor.system("web")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(
        dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC), tick=False
    ) as traveller:
        yield traveller


def pay(contract, amount, key="p"):
    post_entry(
        contract.account.pk,
        kind="payment",
        amount=amount,
        idempotency_key=key,
        description="t",
        actor=ME,
    )


def reload(contract):
    contract.refresh_from_db()
    contract.account.refresh_from_db()
    return contract


@pytest.fixture
def dearer(db):
    return Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )


@pytest.fixture
def cheaper(db):
    return Tariff.objects.create(
        code="start", name="Старт", monthly_price=300_00, speed_in_mbps=100, speed_out_mbps=100
    )


def test_upgrade_applies_now(contract, dearer):
    pay(contract, 1000_00)
    plan = lifecycle.plan_tariff_change(reload(contract), dearer.pk)
    assert plan.immediate
    assert plan.effective_date == TODAY
    assert plan.new_monthly_price == 900_00
    change = lifecycle.change_tariff(contract.pk, dearer.pk, ME, "k1")
    assert change.status == "applied"
    assert reload(contract).tariff == dearer


def test_downgrade_is_scheduled_and_can_be_cancelled(contract, cheaper):
    change = lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k1")
    assert (change.status, change.effective_date) == ("scheduled", dt.date(2026, 12, 1))
    assert reload(contract).tariff != cheaper
    lifecycle.cancel_tariff_change(contract.pk, change.pk, ME)
    change.refresh_from_db()
    assert change.status == "cancelled"


def test_joining_a_tariff_after_its_price_change_was_announced(
    contract, cheaper, django_capture_on_commit_callbacks
):
    """Its subscribers were told 30 days ahead; whoever switches to it later sees the
    coming price before confirming and gets the same notice, once."""
    from abonent.catalog.models import TariffPrice
    from abonent.notifications.models import Message

    announced = TariffPrice.objects.create(
        tariff=cheaper, monthly_price=350_00, valid_from=dt.date(2027, 1, 1)
    )
    plan = lifecycle.plan_tariff_change(reload(contract), cheaper.pk)
    assert plan.price_change == announced
    assert plan.new_monthly_price == 300_00  # December, when the change takes effect
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k1")
    notice = Message.objects.get(kind="price_change", contract_id=contract.pk)
    assert notice.to == contract.subscriber.phone
    for part in ("01.01.2027", "350,00", "300,00"):  # the date, the new and the old price
        assert part in notice.text
    from abonent.notifications.mass import tell_of_announced_price

    tell_of_announced_price(reload(contract), announced)  # once per contract and change
    assert Message.objects.filter(kind="price_change").count() == 1


def test_a_deferred_change_shows_the_price_of_the_month_it_starts(contract, cheaper):
    from abonent.catalog.models import TariffPrice

    TariffPrice.objects.create(
        tariff=cheaper, monthly_price=250_00, valid_from=dt.date(2026, 12, 1)
    )
    plan = lifecycle.plan_tariff_change(reload(contract), cheaper.pk)
    assert plan.effective_date == dt.date(2026, 12, 1)
    assert plan.new_monthly_price == 250_00
    assert plan.price_change is not None
    assert plan.price_change.valid_from == dt.date(2026, 12, 1)


def test_no_price_change_announced_no_notice(contract, cheaper):
    from abonent.notifications.models import Message

    assert lifecycle.plan_tariff_change(reload(contract), cheaper.pk).price_change is None
    lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k1")
    assert not Message.objects.filter(kind="price_change").exists()


def test_scheduled_change_takes_effect_with_the_run(contract, cheaper):
    lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k1")
    pay(contract, 1000_00)
    run_billing(dt.date(2026, 12, 1))
    assert reload(contract).tariff == cheaper
    charge = LedgerEntry.objects.get(kind="charge")
    assert charge.amount == -((300_00 * 2 + 31) // 62)  # December, the new price


def test_same_idempotency_key_changes_once(contract, dearer):
    first = lifecycle.change_tariff(contract.pk, dearer.pk, ME, "same")
    second = lifecycle.change_tariff(contract.pk, dearer.pk, ME, "same")
    assert first.pk == second.pk
    assert TariffChange.objects.count() == 1


def test_change_fee_and_monthly_proration(contract, dearer):
    contract.tariff.charging_mode = ChargingMode.MONTHLY
    contract.tariff.save()
    dearer.charging_mode = ChargingMode.MONTHLY
    dearer.change_fee = 50_00
    dearer.save()
    pay(contract, 2000_00)
    run_billing(TODAY)  # 21 days of November paid in advance: 420 ₽
    plan = lifecycle.plan_tariff_change(reload(contract), dearer.pk)
    assert plan.refund_today == 400_00  # 20 days from tomorrow at 600 ₽/month
    assert plan.charge_today == 600_00  # 20 days at 900 ₽/month
    assert plan.fee == 50_00
    lifecycle.change_tariff(contract.pk, dearer.pk, ME, "k")
    assert reload(contract).account.balance == 2000_00 - 420_00 + 400_00 - 600_00 - 50_00


@pytest.mark.parametrize("which", ["archived", "staff_only", "missing", "current"])
def test_tariff_not_open_to_the_subscriber(contract, dearer, which):
    tariff_id = dearer.pk
    if which == "archived":
        dearer.is_archived = True
        dearer.save()
    elif which == "staff_only":
        dearer.audience = Audience.STAFF
        dearer.save()
    elif which == "missing":
        tariff_id = 999_999
    else:
        tariff_id = contract.tariff_id
    with pytest.raises(ValidationFailed):
        lifecycle.change_tariff(contract.pk, tariff_id, ME, "k")
    assert not TariffChange.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_minimum_interval_between_changes(contract, dearer, cheaper, frozen):
    lifecycle.change_tariff(contract.pk, dearer.pk, ME, "k1")
    frozen.shift(dt.timedelta(days=10))
    with pytest.raises(lifecycle.PolicyViolation, match="30"):
        lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k2")
    frozen.shift(dt.timedelta(days=21))
    assert lifecycle.change_tariff(contract.pk, cheaper.pk, ME, "k3").status == "scheduled"


def test_addon_connect_and_disconnect(contract):
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    visit = AddOn.objects.create(
        code="visit", name="Выезд", price=500_00, billing=AddOn.Billing.ONE_OFF
    )
    pay(contract, 600_00)
    plan = lifecycle.set_addon(contract.pk, tv.pk, True, ME)
    assert plan.new_monthly_total == 900_00
    lifecycle.set_addon(contract.pk, visit.pk, True, ME)  # one-off: charged now
    assert reload(contract).account.balance == 100_00
    with pytest.raises(lifecycle.InsufficientFunds):
        lifecycle.set_addon(contract.pk, visit.pk, True, ME)
    with pytest.raises(ValidationFailed):
        lifecycle.set_addon(contract.pk, tv.pk, True, ME)  # already connected
    lifecycle.set_addon(contract.pk, tv.pk, False, ME)
    run_billing(TODAY + dt.timedelta(days=1))
    assert not LedgerEntry.objects.filter(description="TV").exists()


def test_reconnecting_a_monthly_addon_charges_again_before_it_refunds_again(contract):
    contract.tariff.charging_mode = ChargingMode.MONTHLY
    contract.tariff.save()
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    pay(contract, 1000_00)
    for _round in range(3):  # connect, disconnect: pays for today only, every time
        before = reload(contract).account.balance
        lifecycle.set_addon(contract.pk, tv.pk, True, ME)
        lifecycle.set_addon(contract.pk, tv.pk, False, ME)
        assert reload(contract).account.balance < before
    keys = list(
        LedgerEntry.objects.filter(description="TV", kind="charge").values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == 3
    assert len(set(keys)) == 3


def monthly_tv(contract):
    contract.tariff.charging_mode = ChargingMode.MONTHLY
    contract.tariff.save()
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    ContractAddOn.objects.create(contract=contract, addon=tv, connected_on=dt.date(2026, 10, 1))
    pay(contract, 1000_00)
    return tv


def test_disconnecting_refunds_the_paid_rest_of_the_month(contract):
    tv = monthly_tv(contract)
    run_billing(dt.date(2026, 11, 1))  # the month's charge for the add-on
    charged = reload(contract).account.balance
    plan = lifecycle.plan_addon(reload(contract), tv.pk, False)
    assert plan.refund_today == 200_00  # 11–30 November: 20 of 30 days
    lifecycle.set_addon(contract.pk, tv.pk, False, ME)
    assert reload(contract).account.balance == charged + 200_00


def test_disconnecting_refunds_nothing_for_a_month_that_was_not_charged(contract):
    # The month began with the contract suspended or blocked: no charge for the add-on,
    # so its disconnect has no paid days to give back.
    tv = monthly_tv(contract)
    before = reload(contract).account.balance
    assert lifecycle.plan_addon(reload(contract), tv.pk, False).refund_today == 0
    lifecycle.set_addon(contract.pk, tv.pk, False, ME)
    assert reload(contract).account.balance == before
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_a_reversed_addon_charge_is_not_refunded_again(contract):
    tv = monthly_tv(contract)
    run_billing(dt.date(2026, 11, 1))
    charge = LedgerEntry.objects.get(idempotency_key__startswith="addon:")
    manager = User.objects.create_user(
        "manager1", "x" * 12, kind=User.Kind.STAFF, role=User.Role.MANAGER, is_staff=True
    )
    reverse_entry(charge.pk, "charged in error", Actor(user=manager, channel="admin"))
    assert lifecycle.plan_addon(reload(contract), tv.pk, False).refund_today == 0


def test_suspension_stops_charges_and_ends_by_itself(contract):
    pay(contract, 1000_00)
    plan = lifecycle.plan_suspension(reload(contract), TODAY, TODAY + dt.timedelta(days=9))
    assert (plan.days, plan.fee, plan.days_left_this_year) == (10, 0, 80)
    lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), ME)
    assert reload(contract).status == "suspended"
    for i in range(1, 10):
        run_billing(TODAY + dt.timedelta(days=i))
    assert not LedgerEntry.objects.filter(kind="charge").exists()
    run_billing(TODAY + dt.timedelta(days=10))
    assert reload(contract).status == "active"
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_a_scheduled_suspension_does_not_start_on_a_blocked_contract(contract):
    policy = BillingPolicy.current()
    policy.suspension_fee = 50_00
    policy.save()
    pay(contract, 1000_00)
    booked = lifecycle.suspend(
        contract.pk, TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(days=9), ME
    )
    post_entry(  # a debt appears before the start date, and the contract is blocked
        contract.account.pk,
        kind="correction",
        amount=-2000_00,
        idempotency_key="debt",
        description="t",
        actor=ME,
    )
    Contract.objects.filter(pk=contract.pk).update(status="blocked_debt")
    for i in range(1, 12):
        run_billing(TODAY + dt.timedelta(days=i))
    assert reload(contract).status == "blocked_debt"  # not "active" after the end date
    booked.refresh_from_db()
    assert booked.status == "cancelled"
    assert booked.fee == 50_00
    assert LedgerEntry.objects.filter(idempotency_key=f"suspension:{booked.pk}:fee-refund").exists()


def test_resume_early_and_cancel_scheduled(contract):
    pay(contract, 1000_00)
    active = lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), ME)
    lifecycle.resume(contract.pk, active.pk, ME)
    assert reload(contract).status == "active"
    scheduled = lifecycle.suspend(
        contract.pk, TODAY + dt.timedelta(days=20), TODAY + dt.timedelta(days=30), ME
    )
    lifecycle.cancel_suspension(contract.pk, scheduled.pk, ME)
    scheduled.refresh_from_db()
    assert scheduled.status == "cancelled"


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (TODAY + dt.timedelta(days=5), TODAY, ValidationFailed),  # reversed
        (
            TODAY - dt.timedelta(days=1),
            TODAY + dt.timedelta(days=9),
            ValidationFailed,
        ),  # in the past
        (TODAY, TODAY + dt.timedelta(days=2), ValidationFailed),  # too short
        (TODAY, TODAY + dt.timedelta(days=100), ValidationFailed),  # too long
    ],
)
def test_bad_suspension_dates(contract, start, end, error):
    pay(contract, 100_00)
    with pytest.raises(error):
        lifecycle.suspend(contract.pk, start, end, ME)
    assert not Suspension.objects.exists()


def test_suspension_days_per_year_and_balance(contract):
    policy = BillingPolicy.current()
    policy.suspension_days_per_year = 15
    policy.save()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-1,
        idempotency_key="d",
        description="d",
        actor=ME,
    )
    with pytest.raises(lifecycle.InsufficientFunds):
        lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), ME)
    pay(contract, 100_00)
    lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), ME)
    with pytest.raises(lifecycle.PolicyViolation, match="5"):
        lifecycle.plan_suspension(
            reload(contract), TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=38)
        )


def test_promised_payment_lifts_the_block_and_expires(contract):
    contract.status = "blocked_debt"
    contract.save()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-100_00,
        idempotency_key="d",
        description="d",
        actor=ME,
    )
    promise = lifecycle.take_promise(contract.pk, None, ME)
    assert promise.amount == 600_00
    assert reload(contract).status == "active"
    with pytest.raises(lifecycle.PolicyViolation):
        lifecycle.take_promise(contract.pk, None, ME)  # twice
    for i in range(3):
        run_billing(TODAY + dt.timedelta(days=i + 1))
    promise.refresh_from_db()
    assert promise.status == "expired"
    assert reload(contract).status == "blocked_debt"  # the credit went back; still in debt


def test_promised_payment_not_when_money_is_there(contract):
    pay(contract, 1000_00)
    with pytest.raises(lifecycle.PolicyViolation):
        lifecycle.take_promise(contract.pk, None, ME)
    assert not PromisedPayment.objects.exists()


def test_promised_payment_amount_limits(contract):
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-100_00,
        idempotency_key="d",
        description="d",
        actor=ME,
    )
    for amount in (0, -5, 600_01):
        with pytest.raises(ValidationFailed):
            lifecycle.take_promise(contract.pk, amount, ME)
    assert not PromisedPayment.objects.exists()
