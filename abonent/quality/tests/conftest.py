"""Accounting data written straight into the tables, with times and causes chosen so
every figure can be counted by hand (see `november`)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from abonent.network.models import Nas, Session
from abonent.subscribers.models import Address, Contract
from abonent.support.models import Ticket

MSK = ZoneInfo("Europe/Moscow")
_ids = itertools.count(1)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    """A Moscow wall-clock time in 2026."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)


@pytest.fixture
def nas(db):
    return Nas.objects.create(name="lab", ip="10.0.0.1", secret="s")


@pytest.fixture
def session(nas):
    def make(
        contract: Contract | None,
        started: dt.datetime,
        stopped: dt.datetime | None = None,
        cause: str = "",
        updated: dt.datetime | None = None,
    ) -> Session:
        return Session.objects.create(
            nas=nas,
            session_id=f"s{next(_ids)}",
            contract=contract,
            login=contract.number if contract else "unknown",
            started_at=started,
            updated_at=updated or stopped or started,
            stopped_at=stopped,
            terminate_cause=cause,
        )

    return make


@pytest.fixture
def subscriber_at(make_contract):
    """A contract at a given house (each contract gets its own address row)."""
    counter = itertools.count(1)

    def make(street: str = "ул. Садовая", house: str = "10") -> Contract:
        n = next(counter)
        contract = make_contract(
            last_name=f"Абонент{n}", phone=f"+7 900 000-00-{n:02d}", password=None
        ).contract
        Address.objects.filter(pk=contract.address_id).update(
            street=street, house=house, flat=str(n)
        )
        return Contract.objects.select_related("address").get(pk=contract.pk)

    return make


def ticket(
    created: dt.datetime,
    *,
    category: str = "no_connection",
    first_response: int | None = None,
    resolution: int | None = None,
    rating: int | None = None,
    fr_breached: bool = False,
    res_breached: bool = False,
    origin: str = Ticket.Origin.SUBSCRIBER,
    contract: Contract | None = None,
) -> Ticket:
    return Ticket.objects.create(
        contract=contract,
        category=category,
        subject="test",
        origin=origin,
        created_at=created,
        updated_at=created,
        first_response_seconds=first_response,
        resolution_seconds=resolution,
        rating=rating,
        first_response_breached=fr_breached,
        resolution_breached=res_breached,
        status=Ticket.Status.CLOSED if resolution is not None else Ticket.Status.NEW,
    )


@dataclass
class November:
    a: Contract
    b: Contract
    c: Contract
    d: Contract


@pytest.fixture
def november(subscriber_at, session) -> November:
    """Sessions and tickets around 1–4 November 2026 (Moscow time).

    A (Садовая 10): drops at 00:30, 12:00, 18:00 on the 1st (three), sessions started
       08:01, 12:01, 18:01 on the 1st (2 reconnects); online the 1st, 2nd (until 10:00)
       and the 3rd (an open session last updated 15:00).
    B (Садовая 10): a session from 25 Oct dropped (Lost-Service) 14:00 on the 2nd,
       another dropped (Port-Error) 14:30; a third started 14:35 runs to 4 Nov 01:00
       (Session-Timeout). Online 1st–4th; 2 drops and 1 reconnect on the 2nd.
    C (Невский пр. 1): an Idle-Timeout session on the 2nd, a "Stale" one and one that
       drops (Lost-Carrier) at 00:30 on the 4th, both started on the 3rd (1 reconnect).
    D (Садовая 10): an open session last updated 30 Oct — stale, never online in Nov.
    E (Садовая 10): terminated, not counted among the house's subscribers.
    And a Lost-Carrier of an unknown login on the 1st, which counts nowhere.

    Tickets opened 1–3 Nov: first responses 10, 20, 30, 50 min; resolutions 60, 120,
    240 min; ratings 5, 4, 2; two first-response breaches, one resolution breach; one
    unanswered, one proactive LINE ticket. One more ticket on 31 Oct (outside).
    """
    a, b, c, d = (subscriber_at() for _ in range(4))
    c_address = Address.objects.get(pk=c.address_id)
    c_address.street, c_address.house = "Невский пр.", "1"
    c_address.save()
    e = subscriber_at()
    Contract.objects.filter(pk=e.pk).update(status=Contract.Status.TERMINATED)

    session(a, at(31, 20, month=10), at(1, 0, 30), "Lost-Carrier")
    session(a, at(1, 8, 1), at(1, 12), "Lost-Carrier")
    session(a, at(1, 12, 1), at(1, 18), "NAS-Error")
    session(a, at(1, 18, 1), at(2, 10), "User-Request")
    session(a, at(3, 9), None, updated=at(3, 15))

    session(b, at(25, 10, month=10), at(2, 14), "Lost-Service")
    session(b, at(2, 14, 5), at(2, 14, 30), "Port-Error")
    session(b, at(2, 14, 35), at(4, 1), "Session-Timeout")

    session(c, at(2, 20), at(2, 21), "Idle-Timeout")
    session(c, at(3, 8), at(3, 9), "Stale")
    session(c, at(3, 23), at(4, 0, 30), "Lost-Carrier")

    session(d, at(29, 10, month=10), None, updated=at(30, 12, month=10))
    session(None, at(1, 1), at(1, 2), "Lost-Carrier")

    ticket(at(1, 9), first_response=600, resolution=3600, rating=5)
    ticket(at(1, 10), first_response=1200, resolution=7200, rating=4)
    ticket(at(2, 9), category="billing", first_response=1800, fr_breached=True)
    ticket(
        at(2, 11),
        category="billing",
        first_response=3000,
        resolution=14400,
        rating=2,
        fr_breached=True,
        res_breached=True,
    )
    ticket(at(3, 12), category="other")
    ticket(at(2, 15), origin=Ticket.Origin.LINE, contract=a)
    ticket(at(31, 23, 59, month=10), first_response=60, resolution=120, rating=1)
    return November(a, b, c, d)
