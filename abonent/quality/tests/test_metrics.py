"""The figures equal what one counts by hand from the sessions and tickets of the
`november` fixture (its docstring tells the story)."""

import datetime as dt
from decimal import Decimal

import pytest

from abonent.quality import metrics, selectors
from abonent.quality.metrics import Period, SubscriberDay
from abonent.quality.models import Thresholds

pytestmark = pytest.mark.django_db

FIRST_THREE = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 3))
NOVEMBER = Period.month(dt.date(2026, 11, 17))


def rounded(value: float | None, digits: int) -> float:
    assert value is not None
    return round(value, digits)


def test_thresholds_are_one_row_with_the_defaults():
    limits = selectors.thresholds()
    assert limits.pk == 1
    assert (
        limits.line_drops_per_day,
        limits.building_min_subscribers,
        limits.building_window_minutes,
        limits.csat_target_percent,
        limits.first_response_breach_max_percent,
        limits.stability_target_percent,
    ) == (5, 3, 10, 80, 10, Decimal("99"))
    Thresholds(line_drops_per_day=7).save()  # a second "row" overwrites the first
    assert Thresholds.objects.count() == 1
    assert selectors.thresholds().line_drops_per_day == 7


def test_period_of_a_month():
    assert Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == NOVEMBER
    assert Period.month(dt.date(2026, 12, 31)).last == dt.date(2026, 12, 31)
    assert Period.month(dt.date(2027, 2, 5)).last == dt.date(2027, 2, 28)
    assert len(NOVEMBER.days) == 30


def test_per_subscriber_per_day(november):
    a, b, c = november.a.pk, november.b.pk, november.c.pk
    assert metrics.subscriber_days(FIRST_THREE) == [
        # A on the 1st: drops at 00:30 (Moscow; 21:30 UTC the day before), 12:00, 18:00;
        # starts 08:01, 12:01, 18:01 → 3 drops, 2 reconnects. On the 3rd: 1 start, 0.
        SubscriberDay(a, dt.date(2026, 11, 1), 3, 2),
        # B on the 2nd: Lost-Service 14:00 and Port-Error 14:30; starts 14:05, 14:35.
        SubscriberDay(b, dt.date(2026, 11, 2), 2, 1),
        # C on the 3rd: starts 08:00 and 23:00; its drop is on the 4th, outside.
        SubscriberDay(c, dt.date(2026, 11, 3), 0, 1),
    ]
    assert metrics.subscriber_days(FIRST_THREE, [b]) == [
        SubscriberDay(b, dt.date(2026, 11, 2), 2, 1)
    ]


def test_daily_series_and_stability(november):
    days = metrics.daily(FIRST_THREE)
    assert [(d.day.day, d.drops, d.dropped_subscribers, d.reconnects) for d in days] == [
        (1, 3, 1, 2),
        (2, 2, 1, 1),
        (3, 0, 0, 1),
    ]
    # Online: the 1st A, B (D's session went stale in October); the 2nd A (until
    # 10:00), B, C; the 3rd A (open, updated 15:00), B, C.
    assert [d.online_subscribers for d in days] == [2, 3, 3]
    assert [rounded(d.stability, 1) for d in days] == [50.0, 66.7, 100.0]

    summary = metrics.network_summary(FIRST_THREE, days, selectors.thresholds())
    assert summary.drops == 5
    assert summary.subscribers_with_drops == 2
    assert summary.reconnects == 4
    # 8 subscriber-days online, 2 of them with drops: stability 6/8 = 75 %.
    assert (summary.online_days, summary.drop_days) == (8, 2)
    assert summary.stability == 75.0
    assert summary.lines_over_threshold == 0  # nobody had more than 5 drops a day
    assert summary.buildings_with_drops == 1  # Садовая 10 only


def test_line_threshold_counts_subscriber_days_over_it(november):
    limits = selectors.thresholds()
    limits.line_drops_per_day = 2
    limits.save()
    days = metrics.daily(FIRST_THREE)
    # A had 3 on the 1st (over 2); B had 2 on the 2nd (not over).
    assert metrics.network_summary(FIRST_THREE, days, limits).lines_over_threshold == 1


def test_whole_month(november):
    days = metrics.daily(NOVEMBER)
    assert len(days) == 30
    # The 4th: C's Lost-Carrier at 00:30; B online until 01:00, C until 00:30.
    fourth = days[3]
    assert (fourth.drops, fourth.dropped_subscribers, fourth.online_subscribers) == (1, 1, 2)
    assert all(d.online_subscribers == 0 and d.drops == 0 for d in days[4:])
    summary = metrics.network_summary(NOVEMBER, days, selectors.thresholds())
    # 10 subscriber-days online, 3 with drops: 7/10 = 70 %.
    assert (summary.drops, summary.online_days, summary.drop_days) == (6, 10, 3)
    assert summary.stability == 70.0
    assert summary.subscribers_with_drops == 3


def test_worst_lines(november):
    lines = metrics.worst_lines(NOVEMBER)
    assert [(x.number, x.drops, x.drop_days, x.reconnects) for x in lines] == [
        (november.a.number, 3, 1, 2),  # 4 starts on 2 days
        (november.b.number, 2, 1, 1),
        (november.c.number, 1, 1, 1),  # 3 starts on 2 days
    ]
    assert lines[0].street == "ул. Садовая"
    assert lines[0].last_drop_at == dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)
    assert [x.number for x in metrics.worst_lines(NOVEMBER, limit=1)] == [november.a.number]


def test_buildings(november):
    houses = metrics.buildings(NOVEMBER)
    assert [(h.street, h.house, h.drops, h.affected, h.subscribers) for h in houses] == [
        # A, B, D live there (E is terminated); A and B dropped, 5 times in all.
        ("ул. Садовая", "10", 5, 2, 3),
        ("Невский пр.", "1", 1, 1, 1),
    ]
    assert rounded(houses[0].affected_share, 1) == 66.7


def test_support(november):
    s = metrics.support(FIRST_THREE)
    assert s.opened == 6  # five from subscribers and one proactive; 31 Oct is outside
    assert (s.proactive_line, s.proactive_building) == (1, 0)
    # First responses 10, 20, 30, 50 min: median (20 + 30) / 2 = 25, average 27.5.
    assert s.answered == 4
    assert s.first_response_median == 25.0
    assert s.first_response_avg == 27.5
    # Resolutions 60, 120, 240 min: median 120, average 140.
    assert s.resolved == 3
    assert s.resolution_median == 120.0
    assert s.resolution_avg == 140.0
    # Breaches among the 6 opened: 2 first-response (33.3 %), 1 resolution (16.7 %).
    assert rounded(s.first_response_breach_pct, 1) == 33.3
    assert rounded(s.resolution_breach_pct, 1) == 16.7
    # Ratings 5, 4, 2: CSAT 2/3 = 66.7 %, average 3.67.
    assert (s.rated, s.satisfied) == (3, 2)
    assert rounded(s.csat, 1) == 66.7
    assert rounded(s.rating_avg, 2) == 3.67


def test_support_by_category(november):
    rows = {c.category: c for c in metrics.support_by_category(FIRST_THREE)}
    assert [c.category for c in metrics.support_by_category(FIRST_THREE)] == [
        "no_connection",
        "billing",
        "other",
    ]
    nc, billing, other = rows["no_connection"], rows["billing"], rows["other"]
    assert (nc.opened, nc.first_response_avg, nc.resolution_avg, nc.csat, nc.rating_avg) == (
        3,
        15.0,
        90.0,
        100.0,
        4.5,
    )
    assert nc.first_response_breach_pct == 0.0
    assert (billing.opened, billing.first_response_avg, billing.resolution_avg) == (2, 40.0, 240.0)
    assert (billing.first_response_breach_pct, billing.csat, billing.rating_avg) == (
        100.0,
        0.0,
        2.0,
    )
    assert (other.opened, other.first_response_avg, other.csat) == (1, None, None)


def test_median_of_an_odd_count_and_of_nothing(db):
    from abonent.quality.tests.conftest import at, ticket

    for minutes in (5, 40, 20):
        ticket(at(5, 10), first_response=minutes * 60)
    assert metrics.support(NOVEMBER).first_response_median == 20.0
    empty = metrics.support(Period.month(dt.date(2026, 12, 1)))
    assert (empty.opened, empty.first_response_median, empty.csat) == (0, None, None)


def test_report_compares_with_the_thresholds(november):
    report = metrics.report(NOVEMBER)
    assert report.stability_ok is False  # 70 % < 99 %
    assert report.csat_ok is False  # 66.7 % < 80 %
    assert report.first_response_ok is False  # 33.3 % > 10 %
    assert report.lines_ok is True
    assert report.installation_lead_time is None
    empty = metrics.report(Period.month(dt.date(2026, 12, 1)))
    assert (empty.stability_ok, empty.csat_ok, empty.first_response_ok) == (None, None, None)


def test_report_is_a_fixed_number_of_queries(november, django_assert_num_queries):
    selectors.thresholds()  # created on first use (3 more queries, once)
    with django_assert_num_queries(14):  # whatever the number of subscribers or sessions
        metrics.report(NOVEMBER)
