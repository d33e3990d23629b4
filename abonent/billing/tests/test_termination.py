"""Termination at the subscriber's request: only with zero debt; the settlement (charges
to the date, unused prepaid days, promised credit, payout) brings the balance to exactly
0; afterwards nothing is charged, the network rejects the login and the cabinet only
shows the history."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import Client
from django.utils import formats, translation
from django.utils.translation import gettext

from abonent.accounts.models import User
from abonent.billing import lifecycle
from abonent.billing.lifecycle.common import load_contract
from abonent.billing.models import LedgerEntry, PromisedPayment, Suspension, TariffChange
from abonent.billing.run import run_billing
from abonent.billing.selectors import account_overview
from abonent.billing.services import post_entry
from abonent.catalog.models import AddOn, BillingPolicy, ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.core.errors import Forbidden, ValidationFailed
from abonent.core.models import AuditLog
from abonent.core.money import Money
from abonent.network import radius
from abonent.network.models import Credential, RadiusAttribute
from abonent.notifications.models import Message
from abonent.subscribers.models import Contract, ContractAddOn

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 10)  # November: 30 days, 20 ₽ a day at 600 ₽
SYSTEM = Actor.system("web")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(
        dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC), tick=False
    ) as traveller:
        yield traveller


@pytest.fixture
def staff(staff_user) -> Actor:
    return Actor(user=staff_user, channel="admin")


def move(contract, amount, key, kind=None):
    post_entry(
        contract.account.pk,
        kind=kind or ("payment" if amount > 0 else "correction"),
        amount=amount,
        idempotency_key=key,
        description="t",
        actor=SYSTEM,
    )


def reload(contract):
    contract.refresh_from_db()
    contract.account.refresh_from_db()
    return contract


def plan(contract, on=None):
    return lifecycle.plan_termination(load_contract(contract.pk), on)


def entries(contract):
    return LedgerEntry.objects.filter(account=contract.account)


def ru(text: str) -> str:
    with translation.override("ru"):
        return gettext(text)


def rub(kopecks: int) -> str:
    with translation.override("ru"):
        return Money(kopecks).format()


def in_debt(contract) -> None:
    """Today is charged (20 ₽), then a correction leaves exactly 1 234,56 ₽ owed."""
    move(contract, 20_00, "p0")
    run_billing(TODAY)
    move(contract, -1234_56, "debt")
    assert reload(contract).account.balance == -1234_56


def test_a_debt_refuses_and_changes_nothing(contract, staff):
    in_debt(contract)
    status = reload(contract).status
    before = set(entries(contract).values_list("idempotency_key", flat=True))
    with translation.override("ru"), pytest.raises(lifecycle.TerminationDebt) as refused:
        lifecycle.terminate(contract.pk, None, staff, "k1")
    assert (refused.value.code, refused.value.status) == ("debt", 409)
    assert refused.value.amount == 1234_56
    assert rub(1234_56) in str(refused.value.message)
    assert rub(1234_56).startswith("1\xa0234,56")
    contract = reload(contract)
    assert contract.status == status
    assert contract.terminated_on is None
    assert set(entries(contract).values_list("idempotency_key", flat=True)) == before
    assert not AuditLog.objects.filter(action="contract.terminated").exists()


def test_once_paid_it_terminates_to_exactly_zero_and_only_once(contract, staff):
    in_debt(contract)
    move(contract, 1500_00, "p1")  # 265,44 ₽ more than the debt
    preview = plan(reload(contract))
    assert (preview.charges_due, preview.refunds, preview.promised) == (0, 0, 0)
    assert preview.to_refund == 265_44
    result = lifecycle.terminate(contract.pk, None, staff, "k1", reason="переезд")
    assert result.created
    assert result.paid_out == 265_44
    contract = reload(contract)
    assert contract.status == Contract.Status.TERMINATED
    assert contract.terminated_on == TODAY
    assert contract.account.balance == 0
    assert sum(entries(contract).values_list("amount", flat=True)) == 0
    payout = entries(contract).get(idempotency_key=f"termination:{contract.pk}:payout")
    assert (payout.kind, payout.amount) == ("refund", -265_44)
    keys = list(entries(contract).values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    audit = AuditLog.objects.get(action="contract.terminated")
    assert (audit.after or {})["reason"] == "переезд"
    assert audit.actor == staff.user

    count = entries(contract).count()
    again = lifecycle.terminate(contract.pk, TODAY + dt.timedelta(days=3), staff, "k2")
    assert not again.created
    assert again.paid_out == 265_44
    assert entries(contract).count() == count
    assert AuditLog.objects.filter(action="contract.terminated").count() == 1
    assert reload(contract).terminated_on == TODAY


def test_the_role_is_checked_in_the_service(contract, staff_user):
    move(contract, 100_00, "p")
    cashier = User.objects.create_user("cashier1", "x", kind="staff", role="cashier")
    for actor in (Actor(user=cashier, channel="admin"), SYSTEM, Actor(contract.user, "web")):
        with pytest.raises(Forbidden):
            lifecycle.terminate(contract.pk, None, actor, "k")
    assert reload(contract).status == Contract.Status.ACTIVE


def test_monthly_tariff_mid_month_refunds_the_unused_days(contract, staff):
    tariff = contract.tariff
    tariff.charging_mode, tariff.monthly_price = ChargingMode.MONTHLY, 700_00
    tariff.save()
    move(contract, 1000_00, "p")
    run_billing(TODAY)  # 10–30 November in advance: 700 × 21/30 = 490 ₽
    assert reload(contract).account.balance == 510_00
    preview = plan(contract)
    # 11–30 November unused: 700 ₽ × 20/30 = 466,666… → 466,67 ₽
    assert (preview.charges_due, preview.refunds) == (0, 466_67)
    assert preview.to_refund == 510_00 + 466_67
    result = lifecycle.terminate(contract.pk, None, staff, "k")
    assert result.paid_out == 976_67
    refund = entries(contract).get(idempotency_key=f"termination:{contract.pk}:refund:tariff")
    assert (refund.kind, refund.amount) == ("refund", 466_67)
    assert "11.11.2026–30.11.2026" in refund.description
    assert reload(contract).account.balance == 0

    count = entries(contract).count()
    for day in (TODAY, TODAY + dt.timedelta(days=1), dt.date(2026, 12, 1)):
        run_billing(day)
    assert entries(contract).count() == count
    assert reload(contract).account.balance == 0


def test_monthly_refund_is_what_the_month_took_not_todays_price(contract, staff):
    """Charged 420 ₽ for 10–30 November; the price is raised mid-month; terminated on
    the 20th: 10 of the 21 days paid come back, at what was paid (200 ₽), not at the
    new price (400 ₽), and never more than the month took."""
    from abonent.catalog.models import TariffPrice

    tariff = contract.tariff
    tariff.charging_mode = ChargingMode.MONTHLY
    tariff.save()
    move(contract, 1000_00, "p")
    run_billing(TODAY)  # 420 ₽ for 10–30 November
    on = dt.date(2026, 11, 20)
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=MSK), tick=False):
        TariffPrice.objects.create(
            tariff=tariff, monthly_price=1200_00, valid_from=dt.date(2026, 11, 15)
        )
        preview = plan(contract, on)
        assert preview.refunds == 200_00  # 420 × 10/21
        lifecycle.terminate(contract.pk, on, staff, "k")
    contract = reload(contract)
    assert (contract.account.balance, contract.terminated_on) == (0, on)


def test_a_later_date_is_refused(contract, staff):
    move(contract, 1000_00, "p")
    with pytest.raises(ValidationFailed):
        lifecycle.terminate(contract.pk, TODAY + dt.timedelta(days=5), staff, "k")
    assert reload(contract).status == Contract.Status.ACTIVE


def test_daily_tariff_charges_today(contract, staff):
    move(contract, 1000_00, "p")
    preview = plan(contract, TODAY)
    # Today is not billed yet: under the run's own key, so the run cannot charge it twice.
    assert [(line.key, line.amount) for line in preview.lines] == [
        (f"sub:{contract.number}:2026-11-10", -20_00),
    ]
    assert preview.to_refund == 980_00
    lifecycle.terminate(contract.pk, TODAY, staff, "k")
    run_billing(TODAY)  # the run finds today charged and the contract terminated
    assert entries(contract).filter(kind="charge").count() == 1
    assert reload(contract).account.balance == 0


def test_promised_credit_goes_back_before_the_rest_is_paid_out(contract, staff):
    Contract.objects.filter(pk=contract.pk).update(status="blocked_debt")
    move(contract, -100_00, "debt")
    promise = lifecycle.take_promise(contract.pk, None, SYSTEM)  # 600 ₽, active again
    assert reload(contract).account.balance == 500_00
    preview = plan(contract)
    assert (preview.promised, preview.charges_due, preview.to_pay) == (600_00, 20_00, 120_00)
    with translation.override("ru"), pytest.raises(lifecycle.TerminationDebt, match=rub(120_00)):
        lifecycle.terminate(contract.pk, None, staff, "k")
    move(contract, 200_00, "p")
    result = lifecycle.terminate(contract.pk, None, staff, "k")
    assert result.paid_out == 80_00
    promise.refresh_from_db()
    assert promise.status == PromisedPayment.Status.EXPIRED
    assert entries(contract).get(idempotency_key=f"promised:{promise.pk}:end").amount == -600_00
    assert reload(contract).account.balance == 0


def test_bookings_are_cancelled_and_add_ons_disconnected(contract, staff):
    contract.tariff.charging_mode = ChargingMode.MONTHLY
    contract.tariff.save()
    cheaper = Tariff.objects.create(
        code="start",
        name="Старт",
        monthly_price=300_00,
        speed_in_mbps=100,
        speed_out_mbps=100,
        charging_mode=ChargingMode.MONTHLY,
        change_fee=30_00,
    )
    policy = BillingPolicy.current()
    policy.suspension_fee = 50_00
    policy.save()
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    move(contract, 2000_00, "p")
    run_billing(TODAY)  # tariff: 420 ₽
    lifecycle.set_addon(contract.pk, tv.pk, True, SYSTEM)  # 300 × 21/30 = 210 ₽
    suspension = lifecycle.suspend(
        contract.pk, dt.date(2026, 12, 1), dt.date(2026, 12, 10), SYSTEM
    )  # fee 50 ₽
    change = lifecycle.change_tariff(contract.pk, cheaper.pk, SYSTEM, "c")  # fee 30 ₽
    assert change.status == TariffChange.Status.SCHEDULED
    assert reload(contract).account.balance == 2000_00 - 420_00 - 210_00 - 50_00 - 30_00
    preview = plan(contract)
    # Back: 20 unused days of the tariff (400 ₽) and of TV (200 ₽), and both fees.
    assert (preview.charges_due, preview.fees_returned, preview.refunds) == (0, 80_00, 680_00)
    assert preview.to_refund == 1970_00
    result = lifecycle.terminate(contract.pk, None, staff, "k")
    assert result.paid_out == 1970_00
    assert reload(contract).account.balance == 0
    suspension.refresh_from_db()
    change.refresh_from_db()
    assert (suspension.status, change.status) == ("cancelled", "cancelled")
    link = ContractAddOn.objects.get(contract=contract, addon=tv)
    assert link.disconnected_on == TODAY + dt.timedelta(days=1)
    assert entries(contract).get(idempotency_key=f"addon-refund:{link.pk}").amount == 200_00
    assert Contract.objects.get(pk=contract.pk).tariff_id != cheaper.pk


def test_an_active_suspension_ends_with_the_contract(contract, staff):
    move(contract, 1000_00, "p")
    run_billing(TODAY)
    suspension = lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), SYSTEM)
    assert reload(contract).status == "suspended"
    assert plan(contract, TODAY).charges_due == 0  # nothing accrues
    lifecycle.terminate(contract.pk, TODAY, staff, "k")
    suspension.refresh_from_db()
    assert (suspension.status, suspension.ended_on) == (Suspension.Status.FINISHED, TODAY)
    assert reload(contract).status == Contract.Status.TERMINATED


def test_bad_dates(contract, staff):
    move(contract, 100_00, "p")
    for on in (TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=60)):
        with pytest.raises(ValidationFailed):
            lifecycle.terminate(contract.pk, on, staff, "k")
    assert reload(contract).status == Contract.Status.ACTIVE


def test_network_access_is_removed(contract, staff):
    login = Credential.objects.get(contract=contract).login
    move(contract, 100_00, "p")
    assert RadiusAttribute.objects.filter(contract=contract).exists()
    assert radius.authorize({"User-Name": login}).status == 200
    lifecycle.terminate(contract.pk, None, staff, "k")
    assert not RadiusAttribute.objects.filter(contract=contract).exists()
    assert radius.authorize({"User-Name": login}).status == 401


def test_runs_neither_charge_nor_block_nor_remind_a_terminated_contract(contract, staff):
    move(contract, 100_00, "p")
    lifecycle.terminate(contract.pk, None, staff, "k")
    move(contract, 25_00, "late")  # lasts one day at 20 ₽: an active contract is reminded
    count = entries(contract).count()
    run_billing(TODAY + dt.timedelta(days=1))
    move(contract, -50_00, "later")  # below zero: an active contract would be blocked
    run_billing(TODAY + dt.timedelta(days=2))
    assert entries(contract).count() == count + 1
    assert reload(contract).status == Contract.Status.TERMINATED
    assert not Message.objects.filter(contract_id=contract.pk).exists()


def test_autopay_is_switched_off(contract, staff, saved_card):
    from abonent.payments import autopay
    from abonent.payments.models import AutopayRule

    saved_card()
    rule = AutopayRule.objects.get(contract=contract)
    assert rule.enabled
    lifecycle.terminate(contract.pk, None, staff, "k")
    rule.refresh_from_db()
    assert not rule.enabled
    assert autopay.charge_if_due(rule.pk, TODAY + dt.timedelta(days=1)) == "off"


def test_services_refuse_every_change(contract, staff):
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    dearer = Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    move(contract, 100_00, "p")
    lifecycle.terminate(contract.pk, None, staff, "k")
    count = entries(contract).count()
    attempts = [
        lambda: lifecycle.change_tariff(contract.pk, dearer.pk, SYSTEM, "c"),
        lambda: lifecycle.set_addon(contract.pk, tv.pk, True, SYSTEM),
        lambda: lifecycle.suspend(contract.pk, TODAY, TODAY + dt.timedelta(days=9), SYSTEM),
        lambda: lifecycle.take_promise(contract.pk, None, SYSTEM),
    ]
    for attempt in attempts:
        with pytest.raises(lifecycle.PolicyViolation, match=ru("The contract is terminated.")):
            attempt()
    assert entries(contract).count() == count
    assert reload(contract).status == Contract.Status.TERMINATED


def test_the_cabinet_shows_the_history_and_refuses_writes(contract, subscriber_client, staff):
    tv = AddOn.objects.create(code="tv", name="TV", price=300_00)
    dearer = Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    move(contract, 100_00, "p")
    lifecycle.terminate(contract.pk, None, staff, "k")
    refused = ru("The contract is terminated.")
    # Logging in again still works: the history stays available.
    fresh = Client()
    login = {"contract_number": contract.number, "password": "correct horse battery"}
    assert fresh.post("/login/", login).status_code == 302
    home = fresh.get("/").content.decode()
    with translation.override("ru"):
        notices = account_overview(reload(contract)).notices
    assert len(notices) == 1
    assert formats.date_format(TODAY) in notices[0]
    assert notices[0] in home
    for path in ("/payments/", "/traffic/", "/support/", "/services/"):
        assert fresh.get(path).status_code == 200, path
    posts = [
        (f"/services/tariff/{dearer.pk}/", {"key": "x"}),
        (f"/services/addons/{tv.pk}/connect/", {}),
        (
            "/services/suspension/",
            {"start_date": "2026-11-20", "end_date": "2026-11-30", "confirm": "1"},
        ),
        ("/payments/promised/", {}),
    ]
    for path, data in posts:
        page = subscriber_client.post(path, data, follow=True).content.decode()
        assert refused in page, path
    assert reload(contract).account.balance == 0
    assert not Suspension.objects.filter(contract=contract).exists()
    assert not ContractAddOn.objects.filter(contract=contract).exists()


def staff_page(client, contract, **params):
    return client.get(f"/staff/contracts/{contract.pk}/terminate/", params)


def test_staff_page_previews_refuses_with_the_amount_and_terminates_once(contract, staff_user):
    from abonent.staff.tests.test_staff_2fa import enrol

    client, _codes = enrol(staff_user)
    in_debt(contract)
    page = staff_page(client, contract).content.decode()
    assert 'data-testid="preview"' in page
    assert rub(-1234_56) in page  # the balance
    assert 'data-testid="to-pay"' in page
    assert rub(1234_56) in page
    assert 'data-testid="confirm-form"' not in page

    url = f"/staff/contracts/{contract.pk}/terminate/"
    form = {"on": "2026-11-10", "reason": "переезд", "key": "once"}
    refused = client.post(url, form).content.decode()
    assert rub(1234_56) in refused
    assert 'role="alert"' in refused
    assert reload(contract).status != Contract.Status.TERMINATED

    move(contract, 1500_00, "p1")
    page = staff_page(client, contract, on="2026-11-10").content.decode()
    # Today is charged by the run already; 265,44 ₽ to pay out.
    assert rub(265_44) in page
    assert 'data-testid="confirm-form"' in page
    later = staff_page(client, contract, on="2026-11-12").content.decode()
    assert 'data-testid="confirm-form"' not in later  # a later date: refused
    first = client.post(url, form)
    second = client.post(url, form)
    assert first.status_code == second.status_code == 302
    contract = reload(contract)
    assert (contract.status, contract.terminated_on) == ("terminated", dt.date(2026, 11, 10))
    assert contract.account.balance == 0
    assert AuditLog.objects.filter(action="contract.terminated").count() == 1
    assert entries(contract).filter(idempotency_key__startswith="termination:").count() == 1
    done = client.get(url).content.decode()
    assert 'data-testid="terminated"' in done
    assert rub(265_44) in done


def test_staff_page_needs_a_role(contract, staff_user):
    from abonent.staff.tests.test_staff_2fa import enrol

    staff_user.role = User.Role.TECHNICIAN
    staff_user.save()
    client, _codes = enrol(staff_user)
    assert staff_page(client, contract).status_code == 403
    anonymous = Client().get(f"/staff/contracts/{contract.pk}/terminate/")
    assert anonymous.status_code == 302
