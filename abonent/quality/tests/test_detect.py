"""Proactive tickets: a flapping line gets exactly one, a house where three subscribers
drop within the window gets exactly one, two subscribers get none."""

import datetime as dt

import pytest
import time_machine

from abonent.core.context import Actor
from abonent.quality import services, tasks
from abonent.quality.tests.conftest import at
from abonent.support import services as support
from abonent.support.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def afternoon():
    """20 November 2026, 15:00 Moscow."""
    with time_machine.travel(at(20, 15), tick=False) as traveller:
        yield traveller


def drops(session, contract, day: int, count: int, *, hour: int = 8, cause="Lost-Carrier"):
    """`count` short sessions on `day`, each ending with `cause`, from `hour` on."""
    for i in range(count):
        start = at(day, hour) + dt.timedelta(minutes=3 * i)
        session(contract, start, start + dt.timedelta(minutes=2), cause)


def line_tickets(contract) -> list[Ticket]:
    return list(Ticket.objects.filter(origin=Ticket.Origin.LINE, contract=contract))


def test_a_flapping_line_gets_exactly_one_ticket(afternoon, subscriber_at, session, staff_user):
    line = subscriber_at()
    drops(session, line, 20, 8)  # 8 > 5 today

    opened = services.detect_line_trouble(TODAY)
    assert [t.contract_id for t in opened] == [line.pk]
    ticket = opened[0]
    assert (ticket.origin, ticket.category, ticket.status) == ("line", "no_connection", "new")
    assert ticket.dedupe_key == f"line:{line.pk}:2026-11-20"
    assert (ticket.street, ticket.house) == ("ул. Садовая", "10")
    note = TicketMessage.objects.get(ticket=ticket)
    assert note.internal
    assert "Lost-Carrier ×8" in note.text
    assert line.number in note.text

    drops(session, line, 20, 5, hour=11)  # 5 more the same day
    assert services.detect_line_trouble(TODAY) == []
    assert services.detect_line_trouble(TODAY) == []
    assert len(line_tickets(line)) == 1

    # The next day it flaps again while the first ticket is still open: no new one.
    afternoon.move_to(at(21, 15))
    drops(session, line, 21, 9)
    assert services.detect_line_trouble(TODAY + dt.timedelta(days=1)) == []
    assert len(line_tickets(line)) == 1

    # Once staff resolved it, the next bad day opens a new one.
    support.resolve(ticket.pk, Actor(user=staff_user, channel="admin"))
    reopened = services.detect_line_trouble(TODAY + dt.timedelta(days=1))
    assert [t.dedupe_key for t in reopened] == [f"line:{line.pk}:2026-11-21"]
    # …but never two for the same day, even when that one is resolved too.
    support.resolve(reopened[0].pk, Actor(user=staff_user, channel="admin"))
    assert services.detect_line_trouble(TODAY + dt.timedelta(days=1)) == []
    assert len(line_tickets(line)) == 2


def test_at_the_threshold_or_with_other_causes_no_ticket(afternoon, subscriber_at, session):
    five = subscriber_at()
    drops(session, five, 20, 5)  # exactly the threshold: not more than it
    polite = subscriber_at()
    drops(session, polite, 20, 10, cause="User-Request")
    yesterday = subscriber_at()
    drops(session, yesterday, 19, 10)  # yesterday's drops are not today's
    mixed = subscriber_at()
    drops(session, mixed, 20, 3, cause="NAS-Error")
    drops(session, mixed, 20, 3, hour=10, cause="Port-Error")  # 6 drops of two causes

    opened = services.detect_line_trouble(TODAY)
    assert [t.contract_id for t in opened] == [mixed.pk]
    text = TicketMessage.objects.get(ticket=opened[0]).text
    assert "NAS-Error ×3" in text
    assert "Port-Error ×3" in text


def test_the_threshold_is_read_from_the_settings(afternoon, subscriber_at, session):
    from abonent.quality.selectors import thresholds

    limits = thresholds()
    limits.line_drops_per_day = 2
    limits.save()
    line = subscriber_at()
    drops(session, line, 20, 3)
    assert len(services.detect_line_trouble(TODAY)) == 1


def test_the_periodic_job_looks_at_today(afternoon, subscriber_at, session):
    line = subscriber_at()
    drops(session, line, 20, 6)
    tasks.detect_line_trouble.call_local()
    tasks.detect_line_trouble.call_local()
    assert len(line_tickets(line)) == 1


def test_just_after_midnight_the_job_also_looks_at_yesterday(subscriber_at, session):
    line = subscriber_at()
    drops(session, line, 20, 6, hour=23)  # 23:00–23:17
    with time_machine.travel(at(21, 0, 10), tick=False):
        tasks.detect_line_trouble.call_local()
    assert [t.dedupe_key for t in line_tickets(line)] == [f"line:{line.pk}:2026-11-20"]


def building_tickets() -> list[Ticket]:
    return list(Ticket.objects.filter(origin=Ticket.Origin.BUILDING))


def test_three_subscribers_of_a_house_dropping_at_once_open_one_ticket(
    afternoon, subscriber_at, session, staff_user
):
    a, b, c = (subscriber_at() for _ in range(3))
    for contract, minute in ((a, 52), (b, 55), (c, 59)):
        session(contract, at(20, 9), at(20, 14, minute), "Lost-Carrier")

    opened = services.detect_building_trouble(at(20, 15))
    assert len(opened) == 1
    ticket = opened[0]
    assert ticket.contract_id is None
    assert (ticket.origin, ticket.category) == ("building", "no_connection")
    assert (ticket.street, ticket.house) == ("ул. Садовая", "10")
    text = TicketMessage.objects.get(ticket=ticket).text
    assert all(x.number in text for x in (a, b, c))

    # The job runs again, and again five minutes later: still one.
    assert services.detect_building_trouble(at(20, 15)) == []
    afternoon.move_to(at(20, 15, 5))
    assert services.detect_building_trouble(at(20, 15, 5)) == []
    tasks.detect_building_trouble.call_local()
    assert len(building_tickets()) == 1

    # Resolved, and later the house drops again: a new ticket.
    support.resolve(ticket.pk, Actor(user=staff_user, channel="admin"))
    for contract in (a, b, c):
        session(contract, at(20, 15), at(20, 16, 1), "NAS-Reboot")
    assert len(services.detect_building_trouble(at(20, 16, 5))) == 1
    assert len(building_tickets()) == 2


def test_two_subscribers_or_a_slow_trickle_open_none(afternoon, subscriber_at, session):
    pair = [subscriber_at("Невский пр.", "1") for _ in range(2)]
    for contract in pair:
        session(contract, at(20, 9), at(20, 14, 58), "Lost-Carrier")
    # Three on Лиговский, but one of them 15 minutes ago: outside the 10-minute window.
    for contract, minute in zip(
        [subscriber_at("Лиговский пр.", "5") for _ in range(3)], (45, 55, 58), strict=True
    ):
        session(contract, at(20, 9), at(20, 14, minute), "Lost-Carrier")
    # One subscriber of Литейный dropping three times is one subscriber.
    alone = subscriber_at("Литейный пр.", "3")
    drops(session, alone, 20, 3, hour=14)
    session(alone, at(20, 14, 51), at(20, 14, 56), "Lost-Carrier")
    # Three on Садовая that asked to go (User-Request) did not drop.
    for contract in [subscriber_at() for _ in range(3)]:
        session(contract, at(20, 9), at(20, 14, 57), "User-Request")

    assert services.detect_building_trouble(at(20, 15)) == []
    assert building_tickets() == []


def test_subscribers_in_different_houses_are_not_a_house(afternoon, subscriber_at, session):
    for house in ("10", "12", "14"):
        session(subscriber_at("ул. Садовая", house), at(20, 9), at(20, 14, 55), "Lost-Carrier")
    assert services.detect_building_trouble(at(20, 15)) == []
