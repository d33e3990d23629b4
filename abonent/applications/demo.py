"""Demo coverage for `seed_demo`: the demo streets with houses 1–120 connected (ports
free), a street where construction is planned and one with no network; installation
slots for the next week. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from abonent.accounts.models import User
from abonent.core import clock
from abonent.subscribers.demo import STREETS

from .models import Building, InstallSlot
from .services import street_for

PLANNED_STREET = "ул. Типанова"
UNCOVERED_STREET = "ул. Дыбенко"


def ensure_coverage() -> int:
    if Building.objects.exists():
        return 0
    rows = []
    for name in STREETS:
        street = street_for(name)
        rows += [
            Building(
                street=street,
                house=str(n),
                house_key=str(n),
                entrances=4,
                flats=120,
                network=Building.Network.CONNECTED,
                free_ports=24,
            )
            for n in range(1, 121)
        ]
    planned = street_for(PLANNED_STREET)
    rows += [
        Building(
            street=planned,
            house=str(n),
            house_key=str(n),
            network=Building.Network.PLANNED,
            planned_on=clock.today() + dt.timedelta(days=90),
        )
        for n in range(1, 21)
    ]
    none = street_for(UNCOVERED_STREET)
    rows += [Building(street=none, house=str(n), house_key=str(n)) for n in range(1, 21)]
    Building.objects.bulk_create(rows)
    return len(rows)


def ensure_slots(days: int = 7) -> int:
    """Two visits a day (10:00 and 14:00) for the demo technician."""
    technician, _created = User.objects.get_or_create(
        username="technician",
        defaults={
            "kind": User.Kind.STAFF,
            "role": User.Role.TECHNICIAN,
            "is_staff": True,
            "full_name": "Technician",
        },
    )
    if _created:
        technician.set_password("technician-demo")
        technician.save()
    made = 0
    today = clock.today()
    for offset in range(1, days + 1):
        day = today + dt.timedelta(days=offset)
        for hour in (10, 14):
            start = timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))
            _slot, new = InstallSlot.objects.get_or_create(
                technician=technician,
                starts_at=start,
                defaults={"ends_at": start + dt.timedelta(hours=3)},
            )
            made += new
    return made
