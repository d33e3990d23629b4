"""Management reports on a small ledger whose figures are counted by hand (November
2026, Moscow time). The page is in Russian: decimal commas, a no-break space before ₽."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from abonent.accounts.models import User
from abonent.billing.models import Account, PromisedPayment, Suspension, TariffChange
from abonent.billing.services import post_correction, post_entry, reverse_entry
from abonent.catalog.models import ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.payments import office
from abonent.payments import services as payment_services
from abonent.payments.models import AutopayRule, Payment, SandboxPayment
from abonent.reports import flows, selectors, tables
from abonent.reports.periods import MONTH, ReportPeriod
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.subscribers.models import Contract

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
SYSTEM = Actor.system()
NOV = ReportPeriod(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
TODAY = dt.date(2026, 12, 5)  # reports are looked at after the month
URL = "/staff/reports/"
NOV_QUERY = {"date_from": "2026-11-01", "date_to": "2026-11-30", "granularity": "day"}
NBSP = "\u00a0"
PAGE_QUERIES = 17  # the whole index page (the session included), whatever the number of subscribers


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def at(day: dt.date) -> Any:
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=MSK), tick=False)


def staff(username: str, role: str) -> Actor:
    user = User.objects.create_user(
        username, "staff-password-9", kind=User.Kind.STAFF, role=role, is_staff=True
    )
    return Actor(user=user, channel="admin")


def entry(contract: Contract, kind: str, kopecks: int, key: str, day: dt.date) -> Any:
    return post_entry(
        contract.account.pk,
        kind=kind,
        amount=kopecks,
        idempotency_key=key,
        description=key,
        actor=SYSTEM,
        effective_date=day,
    ).entry


def charge(contract: Contract, kopecks: int, key: str, day: dt.date) -> Any:
    return entry(contract, "charge", -kopecks, key, day)


def provider_payment(
    contract: Contract, kopecks: int, provider: str, pid: str, day: dt.date, rule=None
) -> Payment:
    """A payment a provider confirmed (a provider other than the sandbox cannot be
    reached from the tests, so its confirmation is written as the service writes it)."""
    posted = entry(contract, "payment", kopecks, f"payment:{provider}:{pid}", day)
    return Payment.objects.create(
        contract=contract,
        amount=kopecks,
        provider=provider,
        provider_payment_id=pid,
        status=Payment.Status.SUCCEEDED,
        idempotency_key=f"autopay:{rule.pk}:{day}" if rule else f"web:{pid}",
        autopay_rule=rule,
        entry=posted,
    )


def sandbox_payment(contract: Contract, rubles: str, key: str) -> None:
    """A card payment through the real flow and the sandbox provider."""
    payment = payment_services.start_payment(
        contract,
        rubles,
        idempotency_key=key,
        return_url="http://testserver/payments/{payment}/",
        actor=SYSTEM,
    )
    row = SandboxPayment.objects.get(provider_payment_id=payment.provider_payment_id)
    row.status, row.card_last4 = "succeeded", "1111"
    row.save()
    assert payment_services.refresh(payment, Actor.system("job")) == "credited"


@dataclass
class World:
    a: Contract
    b: Contract
    c: Contract
    d: Contract
    e: Contract
    f: Contract
    g: Contract
    h: Contract
    i: Contract
    j: Contract
    optimum: Tariff
    turbo: Tariff


@pytest.fixture
def world(make_contract, tariff) -> World:
    """Ten contracts on two tariffs, and November's money and lifecycle.

    Optimum: a, b, c, d active since 2025; f terminated 31.10; g connecting, signed
    15.11; h terminated 10.11. Turbo: e active, signed 20.11; i blocked; j suspended.
    """
    turbo = Tariff.objects.create(
        code="turbo",
        name="Турбо 500",
        monthly_price=900_00,
        charging_mode=ChargingMode.DAILY,
        speed_in_mbps=500,
        speed_out_mbps=500,
        sort_order=1,
    )
    c = {name: make_contract(last_name=f"Абонент-{name}").contract for name in "abcdefghij"}
    Contract.objects.filter(pk=c["e"].pk).update(tariff=turbo, signed_on=d(11, 20))
    Contract.objects.filter(pk=c["f"].pk).update(status="terminated", terminated_on=d(10, 31))
    Contract.objects.filter(pk=c["g"].pk).update(status="connecting", signed_on=d(11, 15))
    Contract.objects.filter(pk=c["h"].pk).update(status="terminated", terminated_on=d(11, 10))
    Contract.objects.filter(pk=c["i"].pk).update(tariff=turbo, status="blocked_debt")
    Contract.objects.filter(pk=c["j"].pk).update(tariff=turbo, status="suspended")
    a, b, cc, dd, e, f, j = (c[x] for x in "abcdefj")
    cashier = staff("cashier1", "cashier")
    manager = staff("manager1", "manager")

    # Charges (revenue), by day:
    # 01.11 tariff 20 + 20, add-on 150 · 02.11 tariff 20 (reversed on 05.11)
    # 03.11 suspension fee 50, tariff on a change 40, add-on refund 30
    # 04.11 other 10, promised payment fee 15 · outside: 31.10 and 01.12, 99 each
    charge(a, 20_00, f"sub:{a.number}:2026-11-01", d(11, 1))
    charge(a, 150_00, f"addon:{a.number}:static-ip:2026-11", d(11, 1))
    charge(b, 20_00, f"sub:{b.number}:2026-11-01", d(11, 1))
    wrong = charge(a, 20_00, f"sub:{a.number}:2026-11-02", d(11, 2))
    charge(b, 50_00, "suspension:1:fee", d(11, 3))
    charge(cc, 40_00, "change:5:charge", d(11, 3))
    entry(a, "refund", 30_00, "addon-refund:1", d(11, 3))
    charge(dd, 10_00, "demo:charge:1", d(11, 4))
    charge(dd, 15_00, "promised:3:fee", d(11, 4))
    charge(b, 99_00, f"sub:{b.number}:2026-10-31", d(10, 31))
    charge(b, 99_00, f"sub:{b.number}:2026-12-01", d(12, 1))
    # Not revenue: a promised credit, a pay-out, a correction that reverses nothing.
    entry(dd, "promised_credit", 600_00, "promised:3:credit", d(11, 4))
    entry(a, "refund", -5_00, f"termination:{a.pk}:payout", d(11, 5))

    # Payments: cash 1000 (02.11) and 200 (04.11); sandbox card 100 (02.11); YooKassa
    # card 500 and autopay 300 (03.11); other 50 (04.11). Outside: cash 70 on 31.10.
    with at(d(10, 31)):
        office.record_cash_payment(a.pk, 70_00, cashier, key="cash-0")
    with at(d(11, 2)):
        office.record_cash_payment(a.pk, 1000_00, cashier, key="cash-1")
        sandbox_payment(b, "100", "sandbox-1")
    provider_payment(cc, 500_00, "yookassa", "yk-1", d(11, 3))
    rule = AutopayRule.objects.create(contract=cc)
    provider_payment(cc, 300_00, "yookassa", "yk-2", d(11, 3), rule=rule)
    with at(d(11, 4)):
        office.record_cash_payment(b.pk, 200_00, cashier, key="cash-2")
    entry(dd, "payment", 50_00, "import:1", d(11, 4))
    Payment.objects.create(
        contract=dd, amount=777_00, provider="yookassa", status="canceled", idempotency_key="x"
    )
    with at(d(11, 5)):
        reverse_entry(wrong.pk, "Списано дважды", manager)
        post_correction(a.pk, 100_00, "Компенсация", manager, key="goodwill")

    # Tariff changes: optimum → turbo twice (one with a 50 ₽ fee), turbo → optimum once.
    def change(contract, old, new, day, status="applied", fee=0):
        TariffChange.objects.create(
            contract=contract,
            from_tariff=old,
            to_tariff=new,
            effective_date=day,
            status=status,
            fee=fee,
            idempotency_key=f"tc-{contract.pk}-{day}",
        )

    change(a, tariff, turbo, d(11, 5))
    change(b, tariff, turbo, d(11, 6), fee=50_00)
    change(cc, turbo, tariff, d(11, 7))
    change(dd, tariff, turbo, d(10, 20))  # before the period
    change(e, turbo, tariff, d(11, 8), status="scheduled")
    change(f, tariff, turbo, d(11, 9), status="cancelled")

    # Suspensions: 25.10–05.11 ended 06.11 (5 days in November); 10.11–19.11 resumed
    # on 15.11 (5 days); 25.11–10.12 still active (6 days to 30.11); one scheduled and
    # one cancelled that never started.
    def suspension(contract, start, end, status, ended_on=None):
        Suspension.objects.create(
            contract=contract, start_date=start, end_date=end, status=status, ended_on=ended_on
        )

    suspension(a, d(10, 25), d(11, 5), "finished", d(11, 6))
    suspension(b, d(11, 10), d(11, 19), "finished", d(11, 15))
    suspension(j, d(11, 25), d(12, 10), "active")
    suspension(dd, d(11, 20), d(11, 30), "scheduled")
    suspension(e, d(11, 12), d(11, 20), "cancelled")

    # Promised payments: a's (01.11) repaid by the cash of 02.11; e's (10.11) expired
    # unpaid; b's (28.11) still active; c's of October outside the period.
    def promise(contract, taken, days, status, amount, fee=0):
        PromisedPayment.objects.create(
            contract=contract,
            amount=amount,
            fee=fee,
            taken_on=taken,
            expires_on=taken + dt.timedelta(days=days),
            status=status,
        )

    promise(a, d(11, 1), 3, "expired", 600_00, fee=10_00)
    promise(e, d(11, 10), 3, "expired", 300_00)
    promise(b, d(11, 28), 3, "active", 200_00)
    promise(cc, d(10, 20), 3, "expired", 100_00)
    return World(**c, optimum=tariff, turbo=turbo)


# --------------------------------------------------------------------------- figures


def test_revenue_by_day(world):
    rows = {r.period: r for r in selectors.revenue(NOV)}
    assert len(rows) == 30  # every day, also the empty ones
    # (tariff, add-ons, fees, other, refunds, reversals) → net
    assert rows[d(11, 1)] == selectors.RevenueRow(d(11, 1), 40_00, 150_00, 0, 0, 0, 0)
    assert rows[d(11, 1)].net == 190_00
    assert rows[d(11, 2)].net == 20_00
    assert rows[d(11, 3)] == selectors.RevenueRow(d(11, 3), 40_00, 0, 50_00, 0, 30_00, 0)
    assert rows[d(11, 3)].charged == 90_00
    assert rows[d(11, 3)].net == 60_00
    assert rows[d(11, 4)] == selectors.RevenueRow(d(11, 4), 0, 0, 15_00, 10_00, 0, 0)
    assert rows[d(11, 5)] == selectors.RevenueRow(d(11, 5), 0, 0, 0, 0, 0, 20_00)
    assert rows[d(11, 5)].net == -20_00
    assert rows[d(11, 6)].net == 0
    total = selectors.revenue_total(list(rows.values()), NOV)
    assert (total.tariff, total.addons, total.fees, total.other) == (100_00, 150_00, 65_00, 10_00)
    assert (total.charged, total.refunds, total.reversals) == (325_00, 30_00, 20_00)
    assert total.net == 275_00


def test_revenue_by_month(world):
    period = ReportPeriod(d(10, 1), d(12, 31), MONTH)
    assert [(r.period, r.net) for r in selectors.revenue(period)] == [
        (d(10, 1), 99_00),
        (d(11, 1), 275_00),
        (d(12, 1), 99_00),
    ]


def test_payments_by_channel_and_provider(world):
    rows = selectors.payments(NOV)
    assert [
        (r.channel, r.provider, r.count, r.amount) for r in selectors.payments_by_channel(rows)
    ] == [
        ("card", "sandbox", 1, 100_00),
        ("card", "yookassa", 1, 500_00),
        ("autopay", "yookassa", 1, 300_00),
        ("cash", "", 2, 1200_00),
        ("other", "", 1, 50_00),
    ]
    steps = {step: (n, s) for step, n, s in selectors.payments_by_step(rows, NOV)}
    assert steps[d(11, 2)] == (2, 1100_00)
    assert steps[d(11, 3)] == (2, 800_00)
    assert steps[d(11, 4)] == (2, 250_00)
    assert steps[d(11, 1)] == (0, 0)
    assert sum(s for _n, s in steps.values()) == 2150_00
    by_month = selectors.payments(ReportPeriod(d(10, 1), d(11, 30), MONTH))
    assert [(r.period, r.channel, r.count, r.amount) for r in by_month if r.channel == "cash"] == [
        (d(10, 1), "cash", 1, 70_00),
        (d(11, 1), "cash", 2, 1200_00),
    ]


def test_arpu(world):
    rows = selectors.arpu(ReportPeriod(d(10, 15), d(12, 10), MONTH))
    # October: a b c d f h i j in service (e signed later, g connecting): 99 ₽ / 8.
    # November: a b c d e h i j (f gone on 31.10): 275 ₽ / 8 = 34.375 ₽.
    # December: a b c d e i j: 99 ₽ / 7 = 14.142… ₽.
    assert [(r.month, r.revenue, r.subscribers, r.arpu) for r in rows] == [
        (d(10, 1), 99_00, 8, 12_38),
        (d(11, 1), 275_00, 8, 34_38),
        (d(12, 1), 99_00, 7, 14_14),
    ]


def test_churn_by_tariff(world):
    rows = flows.churn(NOV)
    optimum, turbo = rows
    assert optimum.tariff == "Оптимум 300"
    assert optimum.by_status == {
        "connecting": 1,
        "active": 4,
        "blocked_debt": 0,
        "suspended": 0,
        "terminated": 2,
    }
    assert (optimum.total, optimum.at_start, optimum.new, optimum.terminated) == (7, 5, 1, 1)
    assert optimum.churn == 20.0
    assert turbo.by_status == {
        "connecting": 0,
        "active": 1,
        "blocked_debt": 1,
        "suspended": 1,
        "terminated": 0,
    }
    assert (turbo.total, turbo.at_start, turbo.new, turbo.terminated) == (3, 2, 1, 0)
    assert turbo.churn == 0.0
    total = flows.churn_total(rows)
    assert (total.total, total.at_start, total.new, total.terminated) == (10, 7, 2, 1)
    assert total.churn is not None
    assert round(total.churn, 2) == 14.29  # 1 of 7


def test_tariff_flows(world):
    assert flows.tariff_flows(NOV) == [
        flows.Flow("Оптимум 300", "Турбо 500", 2, 50_00),
        flows.Flow("Турбо 500", "Оптимум 300", 1, 0),
    ]


def test_suspensions(world):
    figures = flows.suspensions(NOV, TODAY)
    assert (figures.started, figures.ended, figures.days, figures.active_now) == (2, 2, 16, 1)
    steps = {step: (s, e) for step, s, e in figures.steps if s or e}
    assert steps == {d(11, 6): (0, 1), d(11, 10): (1, 0), d(11, 15): (0, 1), d(11, 25): (1, 0)}
    # Looked at on 27.11, the active one has been suspended for 3 days so far.
    assert flows.suspensions(NOV, d(11, 27)).days == 13


def test_promised_payments(world):
    rows = flows.promised(NOV)
    taken = {r.period: r for r in rows if r.taken}
    assert list(taken) == [d(11, 1), d(11, 10), d(11, 28)]
    assert taken[d(11, 1)] == flows.PromiseRow(d(11, 1), 1, 600_00, 10_00, 1, 0, 0)
    assert taken[d(11, 10)] == flows.PromiseRow(d(11, 10), 1, 300_00, 0, 0, 1, 0)
    assert taken[d(11, 28)] == flows.PromiseRow(d(11, 28), 1, 200_00, 0, 0, 0, 1)
    assert flows.promised_total(rows, NOV) == flows.PromiseRow(d(11, 1), 3, 1100_00, 10_00, 1, 1, 1)


@pytest.fixture
def debtors(make_contract) -> dict[str, Contract]:
    """Debts on 05.12.2026: 100 ₽ from today, 250.50 ₽ for 7 days, 300 ₽ for 8 days,
    1000 ₽ for 90 days, 50 ₽ for 91 days, 20 ₽ not dated yet; one account in credit."""
    plan = {
        "k1": (100_00, TODAY),
        "k2": (250_50, d(11, 28)),
        "k3": (300_00, d(11, 27)),
        "k4": (1000_00, d(9, 6)),
        "k5": (50_00, d(9, 5)),
        "k6": (20_00, None),
    }
    made = {}
    for name, (debt, since) in plan.items():
        contract = make_contract(last_name=f"Должник-{name}").contract
        charge(contract, debt, f"debt:{name}", d(6, 1, 2025))
        Account.objects.filter(contract=contract).update(debt_since=since)
        made[name] = contract
    payer = make_contract(last_name="Плательщик").contract
    entry(payer, "payment", 100_00, "paid", d(6, 1, 2025))
    return made


def test_debt_aging(debtors):
    assert [(r.key, r.accounts, r.debt) for r in selectors.debt_aging(TODAY)] == [
        ("0-7", 2, 350_50),
        ("8-30", 1, 300_00),
        ("31-90", 1, 1000_00),
        ("90+", 1, 50_00),
        ("not_dated", 1, 20_00),
    ]


def test_top_debtors(debtors):
    top = selectors.top_debtors(TODAY)
    assert [(t.number, t.debt, t.days) for t in top] == [
        (debtors["k4"].number, 1000_00, 90),
        (debtors["k3"].number, 300_00, 8),
        (debtors["k2"].number, 250_50, 7),
        (debtors["k1"].number, 100_00, 0),
        (debtors["k5"].number, 50_00, 91),
        (debtors["k6"].number, 20_00, None),
    ]
    assert top[0].name == "Должник-k4 Иван"
    assert top[0].since == d(9, 6)
    assert top[0].tariff == "Оптимум 300"
    assert selectors.top_debtors(TODAY, limit=2)[1].number == debtors["k3"].number


# --------------------------------------------------------------------------- the page


def client_as(user: User, role: str) -> Client:
    user.role = role
    user.save()
    client, _codes = enrol(user)
    return client


def cells(page: str, testid: str) -> list[str]:
    row = re.search(rf'<tr data-testid="{testid}">(.*?)</tr>', page, re.S)
    assert row, testid
    return re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)


def row_of(page: str, table: str, first_cell: str) -> list[str]:
    body = re.search(rf'data-testid="table-{table}">(.*?)</table>', page, re.S)
    assert body, table
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        if found and found[0] == first_cell:
            return found
    raise AssertionError(f"{first_cell} not in {table}")


def rub(text: str) -> str:
    return text.replace(" ", NBSP) + NBSP + "₽"


def test_the_page_shows_every_section(world, staff_user, django_assert_max_num_queries):
    with at(TODAY):
        client = client_as(staff_user, "manager")
        with django_assert_max_num_queries(PAGE_QUERIES):
            response = client.get(URL, NOV_QUERY)
    assert response.status_code == 200
    page = response.content.decode()
    with translation.override("ru"):
        total = translation.gettext("Total")
    for name in tables.SECTIONS:
        assert f'data-testid="section-{name}"' in page
        assert f'href="/staff/reports/{name}.csv?date_from=2026-11-01' in page
        assert f'href="/staff/reports/{name}.xlsx?date_from=2026-11-01' in page
    assert cells(page, "total-revenue") == [
        total,
        rub("100,00"),
        rub("150,00"),
        rub("65,00"),
        rub("10,00"),
        rub("325,00"),
        rub("30,00"),
        rub("20,00"),
        rub("275,00"),
    ]
    assert row_of(page, "revenue", "03.11.2026")[-1] == rub("60,00")
    assert row_of(page, "revenue", "05.11.2026")[-1] == rub("-20,00")
    assert cells(page, "total-payments-by-channel") == [
        total,
        "",
        "6",
        rub("2 150,00"),
        "100,0\xa0%",
    ]
    with translation.override("ru"):
        cash = translation.gettext("Cash at the office")
    assert row_of(page, "payments-by-channel", cash)[1:] == ["", "2", rub("1 200,00"), "55,8\xa0%"]
    assert row_of(page, "payments-by-period", "02.11.2026")[1:] == ["2", rub("1 100,00")]
    assert row_of(page, "arpu", "Ноябрь 2026 г.")[1:] == [rub("275,00"), "8", rub("34,38")]
    assert row_of(page, "churn", "Оптимум 300")[-5:] == ["7", "5", "1", "1", "20,0\xa0%"]
    assert cells(page, "total-churn")[-5:] == ["10", "7", "2", "1", "14,3\xa0%"]
    assert row_of(page, "tariff-changes", "Оптимум 300")[1:] == ["Турбо 500", "2", rub("50,00")]
    assert cells(page, "total-suspensions") == [total, "2", "2"]
    assert cells(page, "total-promised") == [
        total,
        "3",
        rub("1 100,00"),
        rub("10,00"),
        "1",
        "1",
        "1",
    ]
    assert 'href="/staff/quality/?month=2026-11" data-testid="quality-link"' in page
    with translation.override("ru"):
        opened = translation.gettext("Tickets opened")
    assert row_of(page, "support", opened) == [opened, "0"]  # quality.metrics.support
    # Charts: one bar per day; the 1st of November is revenue's peak (190 ₽), the 3rd
    # about a third of it (60 / 190), the 5th (negative) an empty bar.
    chart = re.search(r'data-testid="chart-revenue">(.*?)</div>\s*\n', page, re.S)
    assert chart
    heights = re.findall(r'<span class="h(\d+)">', chart.group(1))
    assert len(heights) == 30
    assert heights[:6] == ["100", "11", "32", "13", "0", "0"]
    assert "style=" not in page  # the CSP allows no inline styles…
    assert "<script>" not in page  # …and no inline scripts


def test_the_debtors_on_the_page_are_an_audited_read(debtors, staff_user):
    from abonent.core.models import AuditLog

    with at(TODAY):
        client = client_as(staff_user, "admin")
        page = client.get(URL).content.decode()
    with translation.override("ru"):
        active = str(Contract.Status.ACTIVE.label)
        fresh = translation.gettext("0–7 days")
    assert row_of(page, "top-debtors", debtors["k4"].number)[1:] == [
        "Должник-k4 Иван",
        "Оптимум 300",
        active,
        rub("1 000,00"),
        "06.09.2026",
        "90",
    ]
    assert row_of(page, "aging", fresh)[1:] == ["2", rub("350,50")]
    log = AuditLog.objects.get(action="reports.debtors_viewed")
    assert log.actor == staff_user
    assert log.after is not None
    assert log.after["contracts"][0] == debtors["k4"].number


def test_without_a_period_the_current_month_is_shown(staff_user):
    with at(TODAY):
        client = client_as(staff_user, "manager")
        page = client.get(URL).content.decode()
    assert "01.12.2026 – 05.12.2026" in page
    assert 'value="2026-12-01"' in page


def test_a_bad_period_is_an_error_on_the_form(staff_user):
    client = client_as(staff_user, "manager")
    with translation.override("ru"):
        _ = translation.gettext
        cases = {
            ("2026-12-01", "2026-11-01"): _("The start date is after the end date."),
            ("2020-01-01", "2026-01-01"): _("A period can be at most three years long."),
            ("garbage", "2026-11-30"): _("Enter a valid date."),
            ("2026-11-01", "2026-13-01"): _("Enter a valid date."),
            ("1900-01-01", "1900-02-01"): _("Enter a valid date."),
            ("2026-11-01", "9999-12-31"): _("Enter a valid date."),
        }
    assert cases[("garbage", "2026-11-30")] == "Введите правильную дату."
    for (first, last), message in cases.items():
        response = client.get(URL, {"date_from": first, "date_to": last})
        assert response.status_code == 200
        page = response.content.decode()
        assert message in page, (first, last)
        assert 'class="error" role="alert"' in page
        assert 'data-testid="section-revenue"' not in page
    response = client.get(URL, {"granularity": "week"})
    assert response.status_code == 200
    assert 'class="error" role="alert"' in response.content.decode()
    # A download with a bad period sends it back to the form.
    response = client.get(URL + "revenue.csv", {"date_from": "garbage"})
    assert response.status_code == 302
    assert response["Location"] == URL + "?date_from=garbage"


# --------------------------------------------------------------------------- downloads


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_csv_of_revenue(world, staff_user):
    with at(TODAY):
        client = client_as(staff_user, "manager")
        response = client.get(URL + "revenue.csv", NOV_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="revenue-2026-11-01-2026-11-30.csv"' in response["Content-Disposition"]
    rows = read_csv(response.content)
    values = {row[0]: row[1:] for row in rows if row}
    with translation.override("ru"):
        total = translation.gettext("Total")
        assert values[translation.gettext("Period")] == ["01.11.2026", "30.11.2026"]
    assert values["01.11.2026"] == [
        "40,00",
        "150,00",
        "0,00",
        "0,00",
        "190,00",
        "0,00",
        "0,00",
        "190,00",
    ]
    assert values["05.11.2026"][-1] == "-20,00"
    assert values[total] == [
        "100,00",
        "150,00",
        "65,00",
        "10,00",
        "325,00",
        "30,00",
        "20,00",
        "275,00",
    ]


def test_csv_of_payments_and_churn(world, staff_user):
    with at(TODAY):
        client = client_as(staff_user, "manager")
        payments = read_csv(client.get(URL + "payments.csv", NOV_QUERY).content)
        churn = read_csv(client.get(URL + "churn.csv", NOV_QUERY).content)
    by_provider = {
        (r[0], r[1]): r[2:] for r in payments if len(r) == 5 and r[1] in ("sandbox", "yookassa", "")
    }
    with translation.override("ru"):
        _ = translation.gettext
        assert by_provider[(_("Card"), "sandbox")] == ["1", "100,00", "4,7"]
        assert by_provider[(_("Autopay"), "yookassa")] == ["1", "300,00", "14,0"]
        assert by_provider[(_("Cash at the office"), "")] == ["2", "1200,00", "55,8"]
        assert by_provider[(_("Total"), "")] == ["6", "2150,00", "100,0"]
    optimum = next(r for r in churn if r and r[0] == "Оптимум 300")
    assert optimum[1:] == ["1", "4", "0", "0", "2", "7", "5", "1", "1", "20,0"]


def test_xlsx_has_the_same_numbers(world, staff_user):
    openpyxl: Any = importlib.import_module("openpyxl")
    with at(TODAY):
        client = client_as(staff_user, "manager")
        response = client.get(URL + "revenue.xlsx", NOV_QUERY)
        payments = client.get(URL + "payments.xlsx", NOV_QUERY)
        arpu = client.get(URL + "arpu.xlsx", NOV_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(rows) == 1 + 30 + 1  # header, days, total
    assert rows[1][0] == dt.datetime(2026, 11, 1)
    assert rows[1][1:] == [40, 150, 0, 0, 190, 0, 0, 190]
    assert rows[5][-1] == -20
    assert rows[-1][1:] == [100, 150, 65, 10, 325, 30, 20, 275]
    assert sheet["B2"].number_format == "#,##0.00"
    book = openpyxl.load_workbook(io.BytesIO(payments.content))
    assert len(book.worksheets) == 3
    channels = [[c.value for c in row] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert [r[1:4] for r in channels] == [
        ["sandbox", 1, 100],
        ["yookassa", 1, 500],
        ["yookassa", 1, 300],
        [None, 2, 1200],
        [None, 1, 50],
        [None, 6, 2150],
    ]
    months = [
        [c.value for c in row]
        for row in openpyxl.load_workbook(io.BytesIO(arpu.content))
        .worksheets[0]
        .iter_rows(min_row=2)
    ]
    assert months == [[dt.datetime(2026, 11, 1), 275, 8, 34.38]]


def test_text_is_never_a_formula(make_contract, staff_user):
    openpyxl: Any = importlib.import_module("openpyxl")
    contract = make_contract(last_name="=HYPERLINK(1)").contract
    charge(contract, 10_00, "debt:formula", d(6, 1, 2025))
    with at(TODAY):
        client = client_as(staff_user, "manager")
        rows = read_csv(client.get(URL + "debtors.csv").content)
        book = client.get(URL + "debtors.xlsx").content
    assert any(len(r) > 1 and r[1] == "'=HYPERLINK(1) Иван" for r in rows)
    sheet = openpyxl.load_workbook(io.BytesIO(book)).worksheets[1]
    assert sheet["B2"].value == "=HYPERLINK(1) Иван"
    assert sheet["B2"].data_type == "s"


def test_unknown_sections_and_formats_are_404(staff_user):
    client = client_as(staff_user, "manager")
    for path in ("nothing.csv", "revenue.pdf", "revenue.xls", "revenue"):
        assert client.get(URL + path, NOV_QUERY).status_code == 404, path


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("role", ["operator", "cashier", "technician"])
def test_other_staff_roles_are_refused(staff_user, role):
    client = client_as(staff_user, role)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "revenue.csv").status_code == 403


def test_anonymous_and_subscribers_go_to_the_staff_login(subscriber_client):
    for client in (Client(), subscriber_client):
        for path in ("", "revenue.csv", "debtors.xlsx"):
            response = client.get(URL + path)
            assert response.status_code == 302
            assert response["Location"].startswith("/staff/login/")


# --------------------------------------------------------------------------- query count


def _population(make_contract, start: int, count: int) -> None:
    """Contracts with a charge, a payment, a debt, a tariff change, a suspension and a
    promised payment each: every section has rows for every one of them."""
    for n in range(start, start + count):
        contract = make_contract(last_name=f"Абонент-{n}", password=None).contract
        charge(contract, 700_00, f"sub:{contract.number}:2026-11-01", d(11, 1))
        entry(contract, "payment", 100_00 + n, f"import:{n}", d(11, 2))
        Account.objects.filter(contract=contract).update(debt_since=d(11, 1 + n % 28))
        TariffChange.objects.create(
            contract=contract,
            from_tariff=contract.tariff,
            to_tariff=contract.tariff,
            effective_date=d(11, 3),
            status="applied",
            idempotency_key=f"tc-{n}",
        )
        Suspension.objects.create(
            contract=contract, start_date=d(11, 4), end_date=d(11, 8), status="active"
        )
        PromisedPayment.objects.create(
            contract=contract, amount=100_00, taken_on=d(11, 5), expires_on=d(11, 8)
        )


def test_the_page_costs_the_same_queries_for_5_or_50_contracts(
    make_contract, staff_user, django_assert_num_queries
):
    with at(TODAY):
        client = client_as(staff_user, "manager")
        _population(make_contract, 0, 5)
        with CaptureQueriesContext(connection) as five:
            assert client.get(URL, NOV_QUERY).status_code == 200
        _population(make_contract, 5, 45)
        with django_assert_num_queries(len(five.captured_queries)):
            page = client.get(URL, NOV_QUERY).content.decode()
    assert page.count("Абонент-") == 50  # all fifty debtors are listed
    # User, second factor (the session comes from the cache); 14 report queries; the
    # audit row of the debtors read.
    assert len(five.captured_queries) == PAGE_QUERIES
