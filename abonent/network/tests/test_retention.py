"""Accounting retention (decision 0014): old days of traffic become months with exactly
the same totals, readers see the same numbers, a second run or a run after a crash
changes nothing more; sessions are kept three years after they ended."""

import datetime as dt
import os
import random
from collections import Counter
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from abonent.network import retention, selectors
from abonent.network.models import AccessChange, Nas, Session, TrafficDaily, TrafficMonthly
from abonent.network.tasks import apply_accounting_retention

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
TODAY = dt.date(2026, 11, 27)
FIRST_DAY = dt.date(2025, 1, 1)
CUTOFF = dt.date(2026, 5, 1)  # 6 whole months back from November 2026


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contracts(make_contract):
    return [
        make_contract(last_name=f"Сидоров{n}", phone=f"+7 900 200-00-0{n}").contract
        for n in range(3)
    ]


@pytest.fixture
def history(contracts):
    """Two years of days, some missing, with counters well past 2³²."""
    rng = random.Random(12)
    rows = []
    for contract in contracts:
        day = FIRST_DAY
        while day <= TODAY:
            if rng.random() > 0.1:
                rows.append(
                    TrafficDaily(
                        contract=contract,
                        day=day,
                        bytes_in=rng.randrange(0, 50 * 2**32),
                        bytes_out=rng.randrange(0, 200 * 2**32),
                    )
                )
            day += dt.timedelta(days=1)
    TrafficDaily.objects.bulk_create(rows)
    return contracts


def by_month() -> Counter:
    """Bytes per (contract, month, direction), from both tables."""
    totals: Counter = Counter()
    for row in TrafficDaily.objects.all():
        key = (row.contract_id, row.day.replace(day=1))
        totals[(*key, "in")] += row.bytes_in
        totals[(*key, "out")] += row.bytes_out
    for month in TrafficMonthly.objects.all():
        totals[(month.contract_id, month.month, "in")] += month.bytes_in
        totals[(month.contract_id, month.month, "out")] += month.bytes_out
    return totals


def recent_days() -> set[tuple]:
    return set(
        TrafficDaily.objects.filter(day__gte=CUTOFF).values_list(
            "contract_id", "day", "bytes_in", "bytes_out"
        )
    )


def state() -> tuple:
    return (
        sorted(TrafficDaily.objects.values_list("contract_id", "day", "bytes_in", "bytes_out")),
        sorted(TrafficMonthly.objects.values_list("contract_id", "month", "bytes_in", "bytes_out")),
        sorted(Session.objects.values_list("pk", flat=True)),
    )


def test_cutoffs():
    assert retention.months_back(dt.date(2026, 11, 27), 6) == CUTOFF
    assert retention.months_back(dt.date(2026, 3, 31), 3) == dt.date(2025, 12, 1)
    assert retention.months_back(dt.date(2026, 1, 15), 1) == dt.date(2025, 12, 1)
    assert retention.traffic_cutoff() == CUTOFF
    leap = dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    assert retention.years_back(leap, 3) == dt.datetime(2025, 2, 28, 12, tzinfo=dt.UTC)
    assert retention.session_cutoff() == dt.datetime(2023, 11, 27, 9, tzinfo=dt.UTC)


def test_cutoffs_have_a_floor(settings):
    settings.RETENTION_ACCOUNTING_MONTHS = 0  # never days accounting may still add to
    assert retention.traffic_cutoff() == dt.date(2026, 9, 1)
    settings.RETENTION_SESSION_YEARS = 0
    assert retention.session_cutoff() == dt.datetime(2025, 11, 27, 9, tzinfo=dt.UTC)


def test_old_days_become_months_with_exactly_the_same_totals(history):
    before_months, before_recent = by_month(), recent_days()
    grand = TrafficDaily.objects.values_list("bytes_in", "bytes_out")
    grand_before = (sum(r[0] for r in grand), sum(r[1] for r in grand))

    report = retention.run()

    assert report.contracts == 3
    assert report.months_written == 3 * 16  # January 2025 … April 2026
    assert report.days_folded > 3 * 400
    assert not TrafficDaily.objects.filter(day__lt=CUTOFF).exists()
    assert set(TrafficMonthly.objects.values_list("month", flat=True)) == {
        retention.months_back(CUTOFF, n) for n in range(1, 17)
    }
    assert by_month() == before_months  # per contract, per month, both directions
    assert recent_days() == before_recent  # the days still kept are untouched
    months = TrafficMonthly.objects.values_list("bytes_in", "bytes_out")
    days = TrafficDaily.objects.values_list("bytes_in", "bytes_out")
    assert (
        sum(r[0] for r in months) + sum(r[0] for r in days),
        sum(r[1] for r in months) + sum(r[1] for r in days),
    ) == grand_before


def test_a_second_run_changes_nothing(history):
    retention.run()
    after_first = state()
    again = retention.run()
    assert (again.contracts, again.days_folded, again.months_written) == (0, 0, 0)
    assert state() == after_first


def test_a_crash_halfway_then_a_rerun_gives_the_same_totals(history, monkeypatch):
    before = by_month()
    monkeypatch.setattr(retention, "CONTRACTS_PER_BATCH", 1)
    real = retention.fold_days.__wrapped__  # type: ignore[attr-defined]  # without its transaction
    calls = []

    def crashing(ids, cutoff):
        calls.append(ids)
        with transaction.atomic():
            real(ids, cutoff)
            if len(calls) == 2:  # everything written, then the process dies
                raise RuntimeError("killed")
        return 0, 0

    monkeypatch.setattr(retention, "fold_days", crashing)
    with pytest.raises(RuntimeError):
        retention.run()
    first, second = calls[0][0], calls[1][0]
    assert not TrafficDaily.objects.filter(contract_id=first, day__lt=CUTOFF).exists()
    assert TrafficDaily.objects.filter(contract_id=second, day__lt=CUTOFF).exists()
    assert not TrafficMonthly.objects.filter(contract_id=second).exists()  # rolled back
    assert by_month() == before

    monkeypatch.undo()
    retention.run()
    assert by_month() == before
    assert not TrafficDaily.objects.filter(day__lt=CUTOFF).exists()
    assert TrafficMonthly.objects.count() == 3 * 16


def test_a_late_day_in_a_folded_month_is_added_to_it(history):
    retention.run()
    contract = history[0]
    month = TrafficMonthly.objects.get(contract=contract, month=dt.date(2026, 4, 1))
    TrafficDaily.objects.filter(contract=contract, day=dt.date(2026, 4, 30)).delete()
    TrafficDaily.objects.create(
        contract=contract, day=dt.date(2026, 4, 30), bytes_in=7, bytes_out=9
    )
    shown = selectors.traffic(contract, dt.date(2026, 4, 1), dt.date(2026, 4, 30), "month")
    assert [(u.bytes_in, u.bytes_out) for u in shown] == [(month.bytes_in + 7, month.bytes_out + 9)]
    retention.run()
    month.refresh_from_db()
    assert (month.bytes_in, month.bytes_out) == (shown[0].bytes_in, shown[0].bytes_out)


def usage(contract, date_from=None, date_to=None, granularity="month"):
    return [
        (u.period, u.bytes_in, u.bytes_out)
        for u in selectors.traffic(contract, date_from, date_to, granularity)
    ]


def test_readers_show_the_same_monthly_totals_after_aggregation(
    history, contract, subscriber_client
):
    ranges = [
        (None, None),  # the default year, from the first of its month
        (dt.date(2025, 1, 1), dt.date(2026, 11, 27)),
        (dt.date(2025, 3, 15), dt.date(2026, 6, 10)),
    ]
    TrafficDaily.objects.bulk_create(  # the logged-in subscriber's own history
        TrafficDaily(
            contract=contract, day=r.day, bytes_in=r.bytes_in * 3, bytes_out=r.bytes_out + 1
        )
        for r in TrafficDaily.objects.filter(contract=history[1])
    )
    before = [usage(contract, a, b) for a, b in ranges]
    day_view_whole_months = usage(contract, dt.date(2025, 1, 1), dt.date(2026, 11, 27), "day")
    token = (
        Client()
        .post(
            "/api/v1/auth/login",
            {"contract_number": contract.number, "password": "correct horse battery"},
            content_type="application/json",
        )
        .json()["access_token"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    api = "/api/v1/traffic?granularity=month&from=2025-01-01&to=2026-11-27"
    api_before = Client().get(api, headers=auth).json()
    page = "/traffic/?granularity=month&date_from=2025-01-01&date_to=2026-11-27"
    page_before = subscriber_client.get(page)

    retention.run()

    assert [usage(contract, a, b) for a, b in ranges] == before
    assert len(before[0]) == 13  # November 2025 is whole, as before
    assert Client().get(api, headers=auth).json() == api_before
    page_after = subscriber_client.get(page)
    assert page_after.context["total_in"] == page_before.context["total_in"]
    assert page_after.context["total_out"] == page_before.context["total_out"]
    assert [(b[0].period, b[0].bytes_in, b[0].bytes_out) for b in page_after.context["bars"]] == [
        (b[0].period, b[0].bytes_in, b[0].bytes_out) for b in page_before.context["bars"]
    ]
    # By day, a folded month is one row on its first day; the sums stay the same.
    day_view = usage(contract, dt.date(2025, 1, 1), dt.date(2026, 11, 27), "day")
    assert sum(r[1] for r in day_view) == sum(r[1] for r in day_view_whole_months)
    assert sum(r[2] for r in day_view) == sum(r[2] for r in day_view_whole_months)
    assert [r for r in day_view if r[0] >= CUTOFF] == [
        r for r in day_view_whole_months if r[0] >= CUTOFF
    ]
    assert [r[0] for r in day_view if r[0] < CUTOFF] == [
        retention.months_back(CUTOFF, n) for n in range(16, 0, -1)
    ]
    # The staff card's last week is untouched.
    recent = usage(contract, TODAY - dt.timedelta(days=6), TODAY, "day")
    assert recent == [r for r in day_view_whole_months if r[0] >= TODAY - dt.timedelta(days=6)]


@pytest.fixture
def nas():
    return Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")


def session(nas, contract, name, stopped_at):
    started = (stopped_at or NOW) - dt.timedelta(hours=5)
    return Session.objects.create(
        nas=nas,
        session_id=name,
        contract=contract,
        login=contract.number,
        framed_ip="100.64.0.9",
        started_at=started,
        updated_at=stopped_at or NOW,
        stopped_at=stopped_at,
        bytes_in=10,
        bytes_out=20,
    )


def test_sessions_are_kept_three_years_after_they_ended(contracts, nas):
    contract = contracts[0]
    three_years = dt.datetime(2023, 11, 27, 9, 0, tzinfo=dt.UTC)
    old = session(nas, contract, "old", three_years - dt.timedelta(days=1))
    kept = session(nas, contract, "kept", three_years + dt.timedelta(days=1))
    # Started more than three years ago but ended since: still a record of the law's kind.
    long_one = session(nas, contract, "long", three_years + dt.timedelta(hours=1))
    Session.objects.filter(pk=long_one.pk).update(started_at=three_years - dt.timedelta(days=30))
    open_one = session(nas, contract, "open", None)
    change = AccessChange.objects.create(
        contract=contract, session=old, kind="coa", reason="t", result="ack"
    )

    assert retention.run(dry_run=True).sessions_deleted == 1
    assert Session.objects.count() == 4
    report = retention.run()

    assert report.sessions_deleted == 1
    assert set(Session.objects.values_list("session_id", flat=True)) == {"kept", "long", "open"}
    change.refresh_from_db()
    assert change.session is None  # the CoA log keeps its row
    assert kept.pk
    assert open_one.pk
    assert retention.run().sessions_deleted == 0


def test_old_loaded_detail_files_go_unloaded_ones_stay(tmp_path, settings):
    settings.RADIUS_DETAIL_DIR = str(tmp_path)
    long_ago = (NOW - dt.timedelta(days=250)).timestamp()
    names = {
        "detail-20260301.done": long_ago,
        "detail-20260302": long_ago,  # never loaded: not ours to delete
        "detail-20261120.done": (NOW - dt.timedelta(days=7)).timestamp(),
        "radius.log": long_ago,
    }
    for name, stamp in names.items():
        path = tmp_path / name
        path.write_text("x")
        os.utime(path, (stamp, stamp))
    assert retention.run(dry_run=True).files_deleted == 1
    assert len(list(tmp_path.iterdir())) == 4
    assert retention.run().files_deleted == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "detail-20260302",
        "detail-20261120.done",
        "radius.log",
    ]


def test_dry_run_and_the_command_and_the_job(history, nas):
    session(nas, history[0], "old", NOW - dt.timedelta(days=4 * 365))
    before = state()
    out = StringIO()
    call_command("retention", "--dry-run", "--only", "accounting", stdout=out)
    text = out.getvalue()
    assert "would be folded" in text
    assert "Sessions ended before 2023-11-27" in text
    assert "1 would be deleted" in text
    assert state() == before

    apply_accounting_retention.call_local()
    assert not TrafficDaily.objects.filter(day__lt=CUTOFF).exists()
    assert not Session.objects.exists()
    out = StringIO()
    call_command("retention", "--only", "accounting", stdout=out)
    assert "0 daily row(s) of 0 contract(s) folded" in out.getvalue()
