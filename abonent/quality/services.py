"""Quality control's writes: proactive tickets for a flapping line or a house where
several subscribers dropped at once. Both detectors are safe to run any number of times:
a dedupe key per event (database-unique on the ticket) and "not while one is open"."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db.models import Count, Exists, F, Max, Min, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext

from abonent.network.models import Session
from abonent.subscribers.models import Contract
from abonent.support import services as support
from abonent.support.models import Category, Ticket

from . import selectors
from .metrics import drops, midnight
from .models import DROP_CAUSES

logger = logging.getLogger("abonent.quality")


def _time(value: dt.datetime) -> str:
    return formats.time_format(timezone.localtime(value), "H:i")


def _causes(rows: list[dict]) -> str:
    return ", ".join(f"{r['terminate_cause']} ×{r['n']}" for r in rows)


def detect_line_trouble(day: dt.date) -> list[Ticket]:
    """One LINE ticket per subscriber whose drops on `day` exceed the threshold —
    unless that contract already has an open LINE ticket (a line that flaps all week
    gets one ticket) or one was opened for this day (key `line:<contract>:<day>`)."""
    limits = selectors.thresholds()
    start, end = midnight(day), midnight(day + dt.timedelta(days=1))
    open_line = Ticket.objects.filter(
        origin=Ticket.Origin.LINE, status__in=Ticket.OPEN, contract_id=OuterRef("contract_id")
    )
    rows = list(
        drops(start, end)
        .filter(~Exists(open_line))
        .values("contract_id")
        .annotate(n=Count("id"), last=Max("stopped_at"))
        .filter(n__gt=limits.line_drops_per_day)
        .order_by("contract_id")
    )
    if not rows:
        return []
    ids = [r["contract_id"] for r in rows]
    contracts = Contract.objects.select_related("address").in_bulk(ids)
    causes: dict[int, list[dict]] = {}
    for r in (
        drops(start, end)
        .filter(contract_id__in=ids)
        .values("contract_id", "terminate_cause")
        .annotate(n=Count("id"))
        .order_by("contract_id", "-n", "terminate_cause")
    ):
        causes.setdefault(r["contract_id"], []).append(r)
    opened = []
    shown_day = formats.date_format(day, "SHORT_DATE_FORMAT")
    for row in rows:
        contract = contracts[row["contract_id"]]
        text = gettext(
            "Contract %(number)s, %(address)s: %(drops)s drops on %(day)s (the threshold "
            "is %(limit)s a day), the last at %(last)s. Causes: %(causes)s."
        ) % {
            "number": contract.number,
            "address": contract.address,
            "drops": row["n"],
            "day": shown_day,
            "limit": limits.line_drops_per_day,
            "last": _time(row["last"]),
            "causes": _causes(causes.get(contract.pk, [])),
        }
        ticket = support.open_proactive(
            origin=Ticket.Origin.LINE,
            category=Category.NO_CONNECTION,
            subject=gettext("Unstable connection on %(day)s") % {"day": shown_day},
            text=text,
            dedupe_key=f"line:{contract.pk}:{day.isoformat()}",
            contract=contract,
        )
        if ticket is not None:
            logger.info("line ticket #%s for contract %s", ticket.pk, contract.number)
            opened.append(ticket)
    return opened


def building_key(street: str, house: str, bucket: int) -> str:
    digest = hashlib.sha256(f"{street}\n{house}".encode()).hexdigest()[:24]
    return f"building:{digest}:{bucket}"


def detect_building_trouble(now: dt.datetime) -> list[Ticket]:
    """A BUILDING ticket (no contract; street and house set) for every house where at
    least `building_min_subscribers` different contracts had a drop in the last
    `building_window_minutes` up to `now` — not while that house has an open BUILDING
    ticket, and once per house per window-long time bucket."""
    limits = selectors.thresholds()
    window = dt.timedelta(minutes=limits.building_window_minutes)
    recent = Session.objects.filter(
        contract__isnull=False,
        terminate_cause__in=DROP_CAUSES,
        stopped_at__gt=now - window,
        stopped_at__lte=now,
    )
    rows = list(
        recent.values(street=F("contract__address__street"), house=F("contract__address__house"))
        .annotate(
            subscribers=Count("contract_id", distinct=True),
            n=Count("id"),
            first=Min("stopped_at"),
            last=Max("stopped_at"),
        )
        .filter(subscribers__gte=limits.building_min_subscribers)
        .order_by("street", "house")
    )
    if not rows:
        return []
    busy = set(
        Ticket.objects.filter(
            origin=Ticket.Origin.BUILDING, status__in=Ticket.OPEN, contract__isnull=True
        ).values_list("street", "house")
    )
    bucket = int(now.timestamp()) // int(window.total_seconds())
    opened = []
    for row in rows:
        street, house = row["street"], row["house"]
        if (street, house) in busy:
            continue
        numbers = sorted(
            set(
                recent.filter(
                    contract__address__street=street, contract__address__house=house
                ).values_list("contract__number", flat=True)
            )
        )
        text = gettext(
            "%(subscribers)s subscribers at %(street)s, h. %(house)s dropped within "
            "%(minutes)s minutes (%(drops)s drops, %(first)s–%(last)s). Contracts: "
            "%(numbers)s."
        ) % {
            "subscribers": row["subscribers"],
            "street": street,
            "house": house,
            "minutes": limits.building_window_minutes,
            "drops": row["n"],
            "first": _time(row["first"]),
            "last": _time(row["last"]),
            "numbers": ", ".join(numbers),
        }
        ticket = support.open_proactive(
            origin=Ticket.Origin.BUILDING,
            category=Category.NO_CONNECTION,
            subject=gettext("Drops in the house %(street)s, %(house)s")
            % {"street": street, "house": house},
            text=text,
            dedupe_key=building_key(street, house, bucket),
            street=street,
            house=house,
        )
        if ticket is not None:
            logger.info("building ticket #%s for %s %s", ticket.pk, street, house)
            opened.append(ticket)
    return opened
