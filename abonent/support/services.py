"""Every write on tickets and outages: web, API, back office and jobs call these.

SLA clock: calendar time from opening, stopped while the ticket waits for the
subscriber. The first public staff reply ends the first-response timer; resolving (or
the subscriber closing) ends the resolution timer. Breach flags are set when the
timer passes its target — by the write that ends it, or by the periodic check."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.models import User
from abonent.accounts.permissions import require_action
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError, ValidationFailed
from abonent.notifications import preferences, push
from abonent.notifications import services as notifications
from abonent.subscribers.models import Contract

from . import attachments
from .models import Attachment, Category, SlaTarget, Ticket, TicketMessage
from .selectors import outages_at

logger = logging.getLogger("abonent.support")
MAX_TEXT = 5000


class TicketPolicy(DomainError):
    code = "policy_violation"
    status = 409


def _text(value: Any, field: str = "text", limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationFailed(fields={field: [_("This field is required.")]})
    if len(text) > limit:
        raise ValidationFailed(
            fields={field: [_("At most %(max)s characters, please.") % {"max": limit}]}
        )
    return text


def elapsed(ticket: Ticket, until: dt.datetime) -> int:
    """SLA seconds from opening to `until`, without the time spent waiting for the
    subscriber."""
    paused = ticket.paused_seconds
    if ticket.paused_since is not None:
        paused += max(0, int((until - ticket.paused_since).total_seconds()))
    return max(0, int((until - ticket.created_at).total_seconds()) - paused)


def _resume(ticket: Ticket, now: dt.datetime) -> None:
    if ticket.paused_since is not None:
        ticket.paused_seconds += max(0, int((now - ticket.paused_since).total_seconds()))
        ticket.paused_since = None


def _save_files(message: TicketMessage, uploads: list[attachments.Upload]) -> None:
    for upload in uploads:
        row = Attachment(
            message=message, name=upload.name, content_type=upload.content_type, size=upload.size
        )
        row.file.save(upload.name, upload.file, save=False)
        row.save()


def _locked(ticket_id: int) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket_id)


@transaction.atomic
def open_ticket(
    contract: Contract,
    *,
    category: str,
    subject: str,
    text: str,
    files: list | None = None,
    actor: Actor,
    key: str | None = None,
) -> Ticket:
    """A subscriber's question. `key` (from the form or the API's Idempotency-Key) makes
    a double submit open one ticket."""
    errors: dict[str, list] = {}
    if category not in Category.values:
        errors["category"] = [_("Choose a topic.")]
    try:
        subject = _text(subject, "subject", 150)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        text = _text(text)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    uploads = attachments.check(list(files or []))
    # Hashed: a client's key may be long, and two that share a prefix are different keys.
    dedupe = f"open:{contract.pk}:{hashlib.sha256(key.encode()).hexdigest()[:48]}" if key else None
    if dedupe and (existing := Ticket.objects.filter(dedupe_key=dedupe).first()):
        return existing
    now = clock.now()
    target = SlaTarget.objects.filter(category=category).first()
    outage = outages_at(contract.address, now, current_only=True).first()
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                contract=contract,
                street=contract.address.street,
                house=contract.address.house,
                category=category,
                subject=subject,
                origin=Ticket.Origin.SUBSCRIBER,
                outage=outage,
                created_at=now,
                updated_at=now,
                first_response_target=target.first_response_minutes if target else 0,
                resolution_target=target.resolution_minutes if target else 0,
                dedupe_key=dedupe,
            )
    except IntegrityError:  # the twin request won
        return Ticket.objects.get(dedupe_key=dedupe)
    message = TicketMessage.objects.create(
        ticket=ticket, author=actor.user, text=text, created_at=now
    )
    _save_files(message, uploads)
    audit.record(
        actor, "ticket.opened", ticket, contract_id=contract.pk, after={"category": category}
    )
    _tell_staff(ticket, text)
    return ticket


def open_proactive(
    *,
    origin: str,
    category: str,
    subject: str,
    text: str,
    dedupe_key: str,
    contract: Contract | None = None,
    street: str = "",
    house: str = "",
) -> Ticket | None:
    """A ticket quality control opens itself (a flapping line, a building down). The
    key makes it once per event; returns None when it was already opened."""
    now = clock.now()
    target = SlaTarget.objects.filter(category=category).first()
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                contract=contract,
                street=street or (contract.address.street if contract else ""),
                house=house or (contract.address.house if contract else ""),
                category=category,
                subject=subject[:150],
                origin=origin,
                created_at=now,
                updated_at=now,
                first_response_target=target.first_response_minutes if target else 0,
                resolution_target=target.resolution_minutes if target else 0,
                dedupe_key=dedupe_key[:100],
            )
            TicketMessage.objects.create(
                ticket=ticket, from_staff=True, internal=True, text=text, created_at=now
            )
    except IntegrityError:
        return None
    _tell_staff(ticket, text)
    return ticket


def _tell_staff(ticket: Ticket, text: str) -> None:
    if settings.SUPPORT_NOTIFY_EMAIL:
        notifications.send_email(
            settings.SUPPORT_NOTIFY_EMAIL,
            gettext("New ticket #%(id)s: %(subject)s")
            % {"id": ticket.pk, "subject": ticket.subject},
            text[:2000],
            kind="ticket_new",
            contract_id=ticket.contract_id,
            dedupe_key=f"ticket:{ticket.pk}:new",
        )


def _tell_subscriber(ticket: Ticket, message: TicketMessage, text: str, key: str = "") -> None:
    """`key` names the notice (one per staff message by default)."""
    key = key or f"ticket:{ticket.pk}:msg:{message.pk}"
    contract = ticket.contract
    if contract is None or contract.user is None:
        return
    user = contract.user
    event = "support_reply"
    if preferences.wants(user, event, "sms") and contract.subscriber.phone:
        notifications.send_sms(
            contract.subscriber.phone,
            text,
            kind=event,
            contract_id=contract.pk,
            dedupe_key=f"{key}:sms",
        )
    push.queue(
        user,
        event,
        settings.PROVIDER_NAME,
        text,
        f"/support/{ticket.pk}/",
        contract_id=contract.pk,
        dedupe_key=key,
    )
    email = user.email or contract.subscriber.email
    if email and preferences.wants(user, event, "email"):
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("Support: ticket #%(id)s") % {"id": ticket.pk}
        notifications.send_email(
            email,
            subject,
            f"{text}\n\n{message.text}",
            kind=event,
            contract_id=contract.pk,
            dedupe_key=f"{key}:email",
        )


@transaction.atomic
def subscriber_reply(ticket_id: int, text: str, files: list | None, actor: Actor) -> TicketMessage:
    """The caller has checked the ticket is this subscriber's (selectors)."""
    text = _text(text)
    uploads = attachments.check(list(files or []))
    ticket = _locked(ticket_id)
    now = clock.now()
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        _reopen(ticket, now)
    elif ticket.status == Ticket.Status.WAITING:
        _resume(ticket, now)
        ticket.status = Ticket.Status.IN_PROGRESS
    ticket.updated_at = now
    ticket.save()
    message = TicketMessage.objects.create(
        ticket=ticket, author=actor.user, text=text, created_at=now
    )
    _save_files(message, uploads)
    return message


@transaction.atomic
def staff_reply(
    ticket_id: int,
    text: str,
    files: list | None,
    actor: Actor,
    *,
    internal: bool = False,
    wait_for_subscriber: bool = False,
) -> TicketMessage:
    """A reply the subscriber sees (and is told of), or an internal note."""
    staff = require_action(actor, "tickets")
    text = _text(text)
    uploads = attachments.check(list(files or []))
    ticket = _locked(ticket_id)
    if ticket.status == Ticket.Status.CLOSED and not internal:
        raise TicketPolicy(_("The ticket is closed: reopen it to answer."))
    now = clock.now()
    message = TicketMessage.objects.create(
        ticket=ticket, author=staff, from_staff=True, internal=internal, text=text, created_at=now
    )
    _save_files(message, uploads)
    if not internal:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            ticket.first_response_seconds = elapsed(ticket, now)
            if ticket.first_response_target:
                over = ticket.first_response_seconds > ticket.first_response_target * 60
                ticket.first_response_breached = ticket.first_response_breached or over
        if ticket.status in (Ticket.Status.NEW, Ticket.Status.WAITING):
            _resume(ticket, now)
            ticket.status = Ticket.Status.IN_PROGRESS
        if wait_for_subscriber and ticket.status == Ticket.Status.IN_PROGRESS:
            ticket.status = Ticket.Status.WAITING
            ticket.paused_since = now
        if ticket.assignee_id is None:
            ticket.assignee = staff
        with translation.override(settings.LANGUAGE_CODE):  # the subscriber's, not staff's
            text = gettext(
                "Support answered in ticket #%(id)s. Read it in your personal cabinet."
            ) % {"id": ticket.pk}
        _tell_subscriber(ticket, message, text)
    ticket.updated_at = now
    ticket.save()
    audit.record(
        actor,
        "ticket.note" if internal else "ticket.replied",
        ticket,
        contract_id=ticket.contract_id,
    )
    return message


@transaction.atomic
def assign(ticket_id: int, assignee_id: int | None, actor: Actor) -> Ticket:
    require_action(actor, "tickets")
    ticket = _locked(ticket_id)
    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, kind=User.Kind.STAFF, is_active=True).first()
        if assignee is None:
            raise ValidationFailed(fields={"assignee": [_("Choose a staff member.")]})
    before = ticket.assignee_id
    ticket.assignee = assignee
    if ticket.status == Ticket.Status.NEW and assignee is not None:
        ticket.status = Ticket.Status.IN_PROGRESS
    ticket.updated_at = clock.now()
    ticket.save()
    audit.record(
        actor,
        "ticket.assigned",
        ticket,
        contract_id=ticket.contract_id,
        before={"assignee": before},
        after={"assignee": assignee_id},
    )
    return ticket


def _finish(ticket: Ticket, now: dt.datetime) -> None:
    _resume(ticket, now)
    if ticket.resolved_at is None:
        ticket.resolved_at = now
        ticket.resolution_seconds = elapsed(ticket, now)
        if ticket.resolution_target:
            over = ticket.resolution_seconds > ticket.resolution_target * 60
            ticket.resolution_breached = ticket.resolution_breached or over


@transaction.atomic
def resolve(ticket_id: int, actor: Actor) -> Ticket:
    require_action(actor, "tickets")
    ticket = _locked(ticket_id)
    if not ticket.is_open:
        raise TicketPolicy(_("The ticket is already resolved or closed."))
    now = clock.now()
    _finish(ticket, now)
    ticket.status = Ticket.Status.RESOLVED
    ticket.updated_at = now
    ticket.save()
    audit.record(actor, "ticket.resolved", ticket, contract_id=ticket.contract_id)
    if ticket.contract_id:
        notice = TicketMessage.objects.filter(ticket=ticket, internal=False).last()
        if notice is not None:
            with translation.override(settings.LANGUAGE_CODE):
                text = gettext(
                    "Ticket #%(id)s is resolved. Please rate the answer in your personal cabinet."
                ) % {"id": ticket.pk}
            _tell_subscriber(
                ticket, notice, text, key=f"ticket:{ticket.pk}:resolved:{ticket.reopened}"
            )
    return ticket


@transaction.atomic
def close(ticket_id: int, actor: Actor) -> Ticket:
    ticket = _locked(ticket_id)
    if ticket.status == Ticket.Status.CLOSED:
        return ticket
    now = clock.now()
    _finish(ticket, now)
    ticket.status = Ticket.Status.CLOSED
    ticket.closed_at = now
    ticket.updated_at = now
    ticket.save()
    audit.record(actor, "ticket.closed", ticket, contract_id=ticket.contract_id)
    return ticket


def _reopen(ticket: Ticket, now: dt.datetime) -> None:
    ended = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    # The time it sat resolved or closed is not support's time.
    stopped = ticket.resolved_at or ticket.closed_at
    if stopped is not None:
        ticket.paused_seconds += max(0, int((now - stopped).total_seconds()))
    if now - ended > dt.timedelta(days=settings.TICKET_REOPEN_DAYS):
        raise TicketPolicy(
            _("This ticket was closed more than %(days)s days ago: please open a new one.")
            % {"days": settings.TICKET_REOPEN_DAYS}
        )
    ticket.status = Ticket.Status.IN_PROGRESS
    ticket.reopened += 1
    ticket.resolved_at = ticket.closed_at = ticket.rated_at = None
    ticket.resolution_seconds = ticket.rating = None
    ticket.rating_comment = ""


@transaction.atomic
def reopen(ticket_id: int, actor: Actor) -> Ticket:
    ticket = _locked(ticket_id)
    if ticket.is_open:
        return ticket
    now = clock.now()
    _reopen(ticket, now)
    ticket.updated_at = now
    ticket.save()
    audit.record(actor, "ticket.reopened", ticket, contract_id=ticket.contract_id)
    return ticket


@transaction.atomic
def rate(ticket_id: int, score: Any, comment: str, actor: Actor) -> Ticket:
    """1–5 after the answer; rating a resolved ticket also closes it."""
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if isinstance(score, bool) or not 1 <= value <= 5:
        raise ValidationFailed(fields={"score": [_("Choose a rating from 1 to 5.")]})
    comment = str(comment or "").strip()
    if len(comment) > 1000:
        raise ValidationFailed(
            fields={"comment": [_("At most %(max)s characters, please.") % {"max": 1000}]}
        )
    ticket = _locked(ticket_id)
    if ticket.is_open:
        raise TicketPolicy(_("A ticket can be rated once it is resolved."))
    if ticket.rating is not None:
        raise TicketPolicy(_("This ticket is already rated. Thank you!"))
    now = clock.now()
    ticket.rating, ticket.rating_comment, ticket.rated_at = value, comment, now
    if ticket.status == Ticket.Status.RESOLVED:
        ticket.status = Ticket.Status.CLOSED
        ticket.closed_at = now
    ticket.updated_at = now
    ticket.save()
    audit.record(
        actor, "ticket.rated", ticket, contract_id=ticket.contract_id, after={"score": value}
    )
    return ticket


def flag_breaches(now: dt.datetime | None = None) -> int:
    """Mark open tickets whose timers ran past their targets (the job, every few
    minutes); returns how many flags were raised."""
    now = now or clock.now()
    raised = 0
    candidates = Ticket.objects.filter(status__in=Ticket.OPEN).filter(
        Q(first_response_breached=False) | Q(resolution_breached=False)
    )
    for ticket in candidates:
        spent = elapsed(ticket, now)
        first = (
            ticket.first_response_at is None
            and ticket.first_response_target
            and spent > ticket.first_response_target * 60
            and not ticket.first_response_breached
        )
        resolution = (
            ticket.resolution_target
            and spent > ticket.resolution_target * 60
            and not ticket.resolution_breached
        )
        if first or resolution:
            Ticket.objects.filter(pk=ticket.pk).update(
                first_response_breached=ticket.first_response_breached or bool(first),
                resolution_breached=ticket.resolution_breached or bool(resolution),
            )
            raised += bool(first) + bool(resolution)
    return raised


def autoclose(now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    limit = now - dt.timedelta(days=settings.TICKET_AUTOCLOSE_DAYS)
    return Ticket.objects.filter(status=Ticket.Status.RESOLVED, resolved_at__lt=limit).update(
        status=Ticket.Status.CLOSED, closed_at=now, updated_at=now
    )


def announce_outage(outage_id: int) -> int:
    """Tell the subscribers at the outage's addresses by web push (where they turned it
    on); they also see it on Home and in Support. Returns how many devices were told."""
    from abonent.subscribers.models import Contract

    from .models import Outage

    outage = Outage.objects.prefetch_related("areas").get(pk=outage_id)
    place = Q(pk__in=[])
    for area in outage.areas.all():
        here = Q(address__street__iexact=area.street.strip())
        if area.house:
            here &= Q(address__house__iexact=area.house.strip())
        place |= here
    contracts = (
        Contract.objects.filter(place, user__push_subscriptions__isnull=False)
        .exclude(status=Contract.Status.TERMINATED)
        .select_related("user")
        .distinct()
    )
    sent = 0
    for contract in contracts:
        sent += push.queue(
            contract.user,
            "outage",
            outage.title,
            outage.text[:200],
            "/support/",
            contract_id=contract.pk,
            dedupe_key=f"outage:{outage.pk}:{contract.pk}",
        )
    return sent
