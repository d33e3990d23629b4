"""Mass operations: a tariff's price change with the notices the law asks for, and a
message to a segment of contracts. Each is a MassOperation row started by a service
(role checked there), then worked through by a job in chunks of contracts, with the
progress on the row. Every message carries the key `mass:<op>:<contract>:<channel>`, so
a job that is run again, or dies and is resumed, sends nothing twice."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import translation
from django.utils.translation import gettext, ngettext

from abonent.accounts.permissions import require_action
from abonent.catalog import services as catalog
from abonent.catalog.models import Tariff, TariffPrice
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.money import Money
from abonent.subscribers.models import Contract

from . import preferences
from . import services as notifications
from .gateways import get_gateway
from .models import MassOperation, Message, Preference

ROLES = ("manager", "admin")
CHUNK = 1000
SAMPLES = 5
CHANNELS = ("sms", "email")
SMS_MAX_CHARS = 335  # five parts of a Cyrillic SMS (67 characters each)
EMAIL_MAX_CHARS = 5000
SUBJECT_MAX_CHARS = 150
PLACEHOLDERS = ("{number}", "{balance}")
# The longest a placeholder can become, for the length check before any contract is
# looked at: a contract number has at most 12 digits; a balance in the millions.
_WIDEST = {"{number}": "9" * 12, "{balance}": Money(-9_999_999_99).format()}
_PLACEHOLDER_RE = re.compile(r"\{[^{}\s]*\}")
EVENT = Preference.Event.SERVICE_NOTICE


# --- segments ---------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Which contracts: every filter that is set must hold. No statuses means every
    status but terminated."""

    tariff_id: int | None = None
    statuses: tuple[str, ...] = ()
    street: str = ""
    house: str = ""
    balance_below: int | None = None  # kopecks

    def params(self) -> dict[str, Any]:
        return {**asdict(self), "statuses": list(self.statuses)}

    @classmethod
    def from_params(cls, data: dict[str, Any]) -> Segment:
        return cls(
            tariff_id=data.get("tariff_id"),
            statuses=tuple(data.get("statuses") or ()),
            street=data.get("street") or "",
            house=data.get("house") or "",
            balance_below=data.get("balance_below"),
        )


def contracts(segment: Segment) -> QuerySet[Contract]:
    rows = Contract.objects.all()
    if segment.statuses:
        rows = rows.filter(status__in=segment.statuses)
    else:
        rows = rows.exclude(status=Contract.Status.TERMINATED)
    if segment.tariff_id is not None:
        rows = rows.filter(tariff_id=segment.tariff_id)
    if segment.street:
        rows = rows.filter(address__street__icontains=segment.street)
    if segment.house:
        rows = rows.filter(address__house__iexact=segment.house)
    if segment.balance_below is not None:
        rows = rows.filter(account__balance__lt=segment.balance_below)
    return rows


def _check_segment(segment: Segment) -> None:
    errors: dict[str, list[Any]] = {}
    unknown = set(segment.statuses) - set(Contract.Status.values)
    if unknown:
        errors["statuses"] = [gettext("Unknown status: %(s)s.") % {"s": ", ".join(unknown)}]
    if segment.house and not segment.street:
        errors["house"] = [gettext("A house needs its street.")]
    if segment.tariff_id is not None and not Tariff.objects.filter(pk=segment.tariff_id).exists():
        errors["tariff"] = [gettext("No such tariff.")]
    if errors:
        raise ValidationFailed(fields=errors)


# --- texts ------------------------------------------------------------------------


def render(template: str, contract: Contract) -> str:
    """Fill {number} and {balance} (the balance as the subscriber reads it, in roubles)."""
    balance = Money(contract.account.balance, contract.account.currency).format()
    return template.replace("{number}", contract.number).replace("{balance}", balance)


def _check_text(text: str, subject: str, channels: Sequence[str]) -> None:
    errors: dict[str, list[Any]] = {}
    unknown = set(_PLACEHOLDER_RE.findall(text)) - set(PLACEHOLDERS)
    if not channels:
        errors["channels"] = [gettext("Choose at least one channel: SMS or e-mail.")]
    elif set(channels) - set(CHANNELS):
        errors["channels"] = [gettext("Unknown channel.")]
    if not text:
        errors["text"] = [gettext("Write the text of the message.")]
    elif unknown:
        errors["text"] = [
            gettext("Unknown placeholder %(found)s: only %(known)s can be used.")
            % {"found": ", ".join(sorted(unknown)), "known": ", ".join(PLACEHOLDERS)}
        ]
    else:
        widest = text
        for placeholder, value in _WIDEST.items():
            widest = widest.replace(placeholder, value)
        limits = [
            (channel, limit)
            for channel, limit in (("sms", SMS_MAX_CHARS), ("email", EMAIL_MAX_CHARS))
            if channel in channels
        ]
        for channel, limit in limits:
            if len(widest) > limit:
                errors["text"] = [
                    gettext(
                        "The text is too long for %(channel)s: %(length)d characters with the "
                        "placeholders filled in, at most %(limit)d."
                    )
                    % {
                        "channel": gettext("SMS") if channel == "sms" else gettext("e-mail"),
                        "length": len(widest),
                        "limit": limit,
                    }
                ]
                break
    if len(subject) > SUBJECT_MAX_CHARS:
        errors["subject"] = [
            ngettext(
                "The subject can have at most %(limit)d character.",
                "The subject can have at most %(limit)d characters.",
                SUBJECT_MAX_CHARS,
            )
            % {"limit": SUBJECT_MAX_CHARS}
        ]
    if errors:
        raise ValidationFailed(fields=errors)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _default_subject() -> str:
    return gettext("Message from %(provider)s") % {"provider": settings.PROVIDER_NAME}


# --- previews ---------------------------------------------------------------------


@dataclass(frozen=True)
class MessagePlan:
    segment: Segment
    text: str
    subject: str
    channels: tuple[str, ...]
    total: int
    by_status: dict[str, int]
    samples: list[str]  # a few contract numbers
    rendered: str  # the text as the first of them reads it


def plan_message(
    segment: Segment, text: str, channels: Sequence[str], subject: str = ""
) -> MessagePlan:
    """The preview of a message to a segment; raises what `start_message` would raise."""
    text, subject, channels = _clean(text), subject.strip(), tuple(dict.fromkeys(channels))
    _check_segment(segment)
    _check_text(text, subject, channels)
    rows = contracts(segment)
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(by_status.values())
    if not total:
        raise ValidationFailed(
            gettext("No contract matches the segment: nobody would get the message.")
        )
    first = list(rows.select_related("account").order_by("id")[:SAMPLES])
    with translation.override(settings.LANGUAGE_CODE):
        rendered = render(text, first[0])
        default_subject = _default_subject()
    return MessagePlan(
        segment=segment,
        text=text,
        subject=subject or default_subject,
        channels=channels,
        total=total,
        by_status=by_status,
        samples=[c.number for c in first],
        rendered=rendered,
    )


# --- starting ---------------------------------------------------------------------


def _start(
    kind: str, params: dict[str, Any], total: int, actor: Actor, key: str | None
) -> MassOperation:
    """Inside the caller's transaction: the row, the audit entry, the job after commit."""
    op = MassOperation.objects.create(
        kind=kind, params=params, created_by=actor.user, total=total, key=key or None
    )
    audit.record(actor, f"mass.{kind}.started", op, after={**params, "total": total})
    from .tasks import run_mass_operation

    # robust: with the queue down, `resume_mass_operations` starts it later.
    transaction.on_commit(lambda: run_mass_operation(op.pk), robust=True)
    return op


def _once(key: str | None, start: Callable[[], MassOperation]) -> MassOperation:
    """Run `start` in a transaction; a twin submit racing on the same key loses cleanly
    and gets the operation the first one started."""
    try:
        with transaction.atomic():
            return start()
    except IntegrityError:
        existing = MassOperation.objects.filter(key=key).first() if key else None
        if existing is None:
            raise
        return existing


def tell_of_announced_price(contract: Contract, upcoming: TariffPrice) -> None:
    """A subscriber who joins a tariff after its price change was announced gets the
    notice its subscribers had (once per contract and change)."""
    tariff = upcoming.tariff
    before = catalog.price_on(tariff, upcoming.valid_from - dt.timedelta(days=1))
    notifications.send_sms(
        contract.subscriber.phone,
        catalog.price_notice(tariff, before, upcoming.monthly_price, upcoming.valid_from),
        kind="price_change",
        contract_id=contract.pk,
        dedupe_key=f"price-notice:{contract.pk}:{upcoming.pk}",
    )


def start_price_change(
    tariff_id: int,
    monthly_price: int,
    valid_from: dt.date,
    actor: Actor,
    *,
    key: str | None = None,
) -> MassOperation:
    """Record the new price from `valid_from` and tell every non-terminated contract on
    the tariff: an SMS to each (the law's notice, so regardless of their choices) and an
    e-mail to those who have one and did not switch service notices by e-mail off."""
    require_action(actor, "mass_operations")

    def start() -> MassOperation:
        if key and (existing := MassOperation.objects.filter(key=key).first()):
            return existing
        tariff = Tariff.objects.select_for_update().filter(pk=tariff_id).first()
        if tariff is None:
            raise NotFound()
        plan = catalog.plan_price_change(tariff, monthly_price, valid_from)
        catalog.set_price(tariff, monthly_price, valid_from, actor)
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("Tariff price change")
        params = {
            "tariff_id": tariff.pk,
            "tariff": tariff.name,
            "old_price": plan.old_price,
            "new_price": plan.new_price,
            "valid_from": valid_from.isoformat(),
            "segment": Segment(tariff_id=tariff.pk).params(),
            "channels": list(CHANNELS),
            "sms_required": True,
            "subject": subject,
            "text": plan.notice,
        }
        return _start(MassOperation.Kind.PRICE_CHANGE, params, plan.total, actor, key)

    return _once(key, start)


def start_message(
    segment: Segment,
    text: str,
    channels: Sequence[str],
    actor: Actor,
    *,
    subject: str = "",
    key: str | None = None,
) -> MassOperation:
    """Send `text` ({number}, {balance} filled per contract) to the segment by the chosen
    channels, to those who did not switch service notices off for that channel."""
    require_action(actor, "mass_operations")

    def start() -> MassOperation:
        if key and (existing := MassOperation.objects.filter(key=key).first()):
            return existing
        plan = plan_message(segment, text, channels, subject)
        params = {
            "segment": segment.params(),
            "channels": list(plan.channels),
            "sms_required": False,
            "subject": plan.subject,
            "text": plan.text,
        }
        return _start(MassOperation.Kind.MESSAGE, params, plan.total, actor, key)

    return _once(key, start)


# --- the job ----------------------------------------------------------------------


def run(operation_id: int) -> MassOperation:
    """Work the operation through, chunk by chunk; safe to run again at any point."""
    if not _begin(operation_id):
        return MassOperation.objects.get(pk=operation_id)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            while _chunk(operation_id):
                pass
    except Exception as exc:
        MassOperation.objects.filter(pk=operation_id).update(
            status=MassOperation.Status.FAILED, error=repr(exc)[:2000], finished_at=clock.now()
        )
        raise
    return MassOperation.objects.get(pk=operation_id)


def _begin(operation_id: int) -> bool:
    with transaction.atomic():
        op = MassOperation.objects.select_for_update().get(pk=operation_id)
        if op.status == MassOperation.Status.DONE:
            return False
        if "upto" not in op.params:
            # The contracts that exist now; any signed later were not in the preview.
            upto = Contract.objects.aggregate(m=Max("id"))["m"] or 0
            op.params = {**op.params, "upto": upto}
            op.total = _rows(op).count()
        op.status, op.error, op.heartbeat_at = MassOperation.Status.RUNNING, "", clock.now()
        op.save(update_fields=["params", "total", "status", "error", "heartbeat_at"])
    return True


def _rows(op: MassOperation) -> QuerySet[Contract]:
    segment = Segment.from_params(op.params["segment"])
    return contracts(segment).filter(id__lte=op.params["upto"])


def _chunk(operation_id: int) -> bool:
    """One chunk in one transaction; False when there is nothing left."""
    with transaction.atomic():
        op = MassOperation.objects.select_for_update().get(pk=operation_id)
        if op.status != MassOperation.Status.RUNNING:
            return False
        chunk = list(
            _rows(op)
            .filter(id__gt=op.cursor)
            .select_related("subscriber", "account", "user")
            .order_by("id")[:CHUNK]
        )
        if not chunk:
            # A balance or status may have moved while the job ran: the total is what
            # was really worked through.
            op.status, op.total, op.finished_at = MassOperation.Status.DONE, op.done, clock.now()
            op.save(update_fields=["status", "total", "finished_at"])
            return False
        _send(op, chunk)
        op.cursor = chunk[-1].pk
        op.done += len(chunk)
        op.heartbeat_at = clock.now()
        op.save(update_fields=["cursor", "done", "heartbeat_at"])
    return True


def _send(op: MassOperation, chunk: list[Contract]) -> None:
    params = op.params
    channels = params["channels"]
    kind = "price_change" if op.kind == MassOperation.Kind.PRICE_CHANGE else "mass_message"
    users = [c.user_id for c in chunk]
    no_sms = set() if params.get("sms_required") else preferences.opted_out(users, EVENT, "sms")
    no_email = preferences.opted_out(users, EVENT, "email")
    sms: list[tuple[str, str, str, int | None, str]] = []
    emails: list[tuple[str, str, str, int, str]] = []
    for contract in chunk:
        text = render(params["text"], contract)
        phone = contract.subscriber.phone
        if "sms" in channels and phone and contract.user_id not in no_sms:
            sms.append((phone, text, kind, contract.pk, f"mass:{op.pk}:{contract.pk}:sms"))
        email = contract.user.email or contract.subscriber.email
        if "email" in channels and email and contract.user_id not in no_email:
            emails.append(
                (
                    email,
                    f"{params['subject']}\n{text}",
                    kind,
                    contract.pk,
                    f"mass:{op.pk}:{contract.pk}:email",
                )
            )
    notifications.send_bulk_sms(sms)
    _queue_emails(emails)


def _queue_emails(items: list[tuple[str, str, str, int, str]]) -> int:
    """E-mails in bulk, like `services.send_bulk_sms`: (to, "subject\\ntext", kind,
    contract_id, dedupe_key) each; keys already used are skipped."""
    if not items:
        return 0
    gateway = get_gateway().name
    Message.objects.bulk_create(
        [
            Message(
                channel=Message.Channel.EMAIL,
                to=to,
                kind=kind,
                text=text,
                contract_id=contract_id,
                gateway=gateway,
                dedupe_key=key,
            )
            for to, text, kind, contract_id, key in items
        ],
        ignore_conflicts=True,
    )
    ids = list(
        Message.objects.filter(
            dedupe_key__in=[item[4] for item in items],
            status=Message.Status.QUEUED,
            attempts=0,
        ).values_list("pk", flat=True)
    )
    notifications.deliver_later(ids)
    return len(ids)
