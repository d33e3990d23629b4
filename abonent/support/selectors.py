"""Reads: a subscriber's tickets (only theirs — anything else is a 404), the staff
queue with its filters, outages at an address."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Expression, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Trim, Upper
from django.http import Http404

from abonent.accounts.models import User
from abonent.billing import selectors as billing_selectors
from abonent.billing.selectors import Overview
from abonent.core import clock, jsonrows
from abonent.subscribers import selectors as subscriber_selectors
from abonent.subscribers.models import Address, Contract

from .models import Attachment, Outage, OutageArea, Ticket, TicketMessage

UPCOMING_DAYS = 7  # planned works are shown this far ahead


Text = str | Expression | OuterRef


def _covering(street: Text, house: Text, now: Any, horizon: Any) -> QuerySet[Outage]:
    """Outages going on at `now` or starting by `horizon` on this street (an area with no
    house covers the whole street), whatever the case staff typed it in. The street and
    house are strings or (for a subquery) expressions."""
    street_value = Value(street) if isinstance(street, str) else street
    house_value = Value(house) if isinstance(house, str) else house
    here = OutageArea.objects.annotate(s=Upper("street"), h=Upper("house")).filter(
        Q(s=Upper(street_value)) & (Q(house="") | Q(h=Upper(house_value)))
    )
    return (
        Outage.objects.filter(starts_at__lte=horizon, ended_at__isnull=True)
        .filter(Q(expected_end_at__isnull=True) | Q(expected_end_at__gte=now))
        .filter(pk__in=here.values("outage_id"))
        .order_by("starts_at")
    )


def outages_at(
    address: Address | None, now: dt.datetime, *, current_only: bool = False
) -> QuerySet[Outage]:
    """Outages covering this address: going on now, or (unless `current_only`) planned
    within a week."""
    if address is None:
        return Outage.objects.none()
    horizon = now if current_only else now + dt.timedelta(days=UPCOMING_DAYS)
    return _covering(address.street.strip(), address.house.strip(), now, horizon)


# The cabinet home asks this on every view: built once per process (core.jsonrows).
_HOME = jsonrows.Prepared(
    lambda user_id, now, horizon: subscriber_selectors.own_contract_row(
        user_id,
        *billing_selectors.overview_columns(),
        jsonrows.all_rows(
            # the address is two levels out: area -> outage -> contract
            _covering(
                Trim(OuterRef(OuterRef("address__street"))),
                Trim(OuterRef(OuterRef("address__house"))),
                now,
                horizon,
            )
        ),
    ),
    kinds=(int, dt.datetime, dt.datetime),
)


def home_for_user(user: User, now: dt.datetime) -> tuple[Overview, list[Outage]]:
    """The cabinet home in one round trip: the user's own contract and its overview
    (`billing.selectors.overview_for_user`) with the outages at its address (as
    `outages_at`)."""
    horizon = now + dt.timedelta(days=UPCOMING_DAYS)
    row = subscriber_selectors.own_row(_HOME, user, now, horizon)
    overview, (outages,) = billing_selectors.overview_from_row(row)
    return overview, jsonrows.instances(Outage, outages, order=lambda o: (o.starts_at, o.pk))


def tickets_for(contract: Contract) -> QuerySet[Ticket]:
    """A ticket quality control opened shows once staff have written to the subscriber."""
    return (
        Ticket.objects.filter(contract=contract)
        .annotate(public=Count("messages", filter=Q(messages__internal=False)))
        .filter(public__gt=0)
        .order_by("-created_at", "-id")
    )


def ticket_for(contract: Contract, ticket_id: int) -> Ticket:
    """The subscriber's own ticket with the messages they may see; another's is a 404."""
    visible = TicketMessage.objects.filter(internal=False).prefetch_related("attachments")
    ticket = (
        tickets_for(contract)
        .filter(pk=ticket_id)
        .prefetch_related(Prefetch("messages", queryset=visible, to_attr="visible_messages"))
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def attachment_for_subscriber(contract: Contract, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id, message__ticket__contract=contract, message__internal=False
        )
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment


@dataclass
class QueueFilter:
    status: str = ""  # "", "open", or a status
    category: str = ""
    assignee: str = ""  # "", "me", "none", or a user id
    breached: bool = False
    older_than_hours: int | None = None
    q: str = ""


def queue(f: QueueFilter, me_id: int) -> QuerySet[Ticket]:
    tickets = Ticket.objects.select_related("contract", "assignee", "outage")
    if f.status == "open" or not f.status:
        tickets = tickets.filter(status__in=Ticket.OPEN)
    elif f.status != "all":
        tickets = tickets.filter(status=f.status)
    if f.category:
        tickets = tickets.filter(category=f.category)
    if f.assignee == "me":
        tickets = tickets.filter(assignee_id=me_id)
    elif f.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif f.assignee.isdigit():
        tickets = tickets.filter(assignee_id=int(f.assignee))
    if f.breached:
        tickets = tickets.filter(Q(first_response_breached=True) | Q(resolution_breached=True))
    if f.older_than_hours:
        tickets = tickets.filter(
            created_at__lt=clock.now() - dt.timedelta(hours=f.older_than_hours)
        )
    if f.q:
        tickets = tickets.filter(
            Q(subject__icontains=f.q) | Q(contract__number=f.q.strip()) | Q(street__icontains=f.q)
        )
    return tickets.order_by("created_at")
