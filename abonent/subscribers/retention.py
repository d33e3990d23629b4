"""Personal data of subscribers who have left (decision 0014, 152-FZ art. 5 p. 7 and
art. 21 p. 4): once every contract of a person has been terminated for
`RETENTION_PERSONAL_DATA_YEARS`, with nothing owed either way, the person is
anonymised — the rows stay, the data that identifies them goes:

- the subscriber: name → a placeholder, phones, e-mail, passport (the encrypted fields
  and the keyed search digest), date of birth cleared;
- the service address: the flat goes, street and house stay (statistics per building:
  quality, churn, coverage);
- the cabinet login: no password, inactive, every session and device gone;
- the application that led to each contract: name, phone, flat, comment, address of
  the request, the staff notes on it;
- the outbox: the recipient (phone, e-mail) and the text of every message about the
  contracts;
- tickets of the contracts: subject, every message and rating comment replaced,
  attachments deleted from disk;
- payments: the customer contact in the 54-FZ receipt data and the saved card token;
- the audit log of the contracts: phones, e-mails and search queries in before/after
  (the rows themselves — who did what when — stay).

Kept: the contract and its number, the ledger (immutable; balances and reports still
sum), tariff history, sessions and traffic (their own retention, `network.retention`).
A person with any contract not terminated, terminated more recently, or with a balance
other than zero is left alone. One audit row per contract, written by the system.
Safe to run twice: an anonymised person is skipped."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy

from abonent.core import audit, clock
from abonent.core.context import Actor

from .models import Address, Contract, Subscriber

logger = logging.getLogger("abonent.retention")
BATCH = 100
# What an anonymised name, ticket or message reads, in the provider's language.
PLACEHOLDER = gettext_lazy("Anonymised")
# Audit before/after keys that carry personal data (phone and e-mail changes, staff
# search queries).
AUDIT_KEYS = ("phone", "email", "query")


@dataclass
class Report:
    cutoff: dt.date  # every contract terminated before this day
    dry_run: bool = False
    subscribers: list[int] = field(default_factory=list)  # anonymised (or due, when dry)
    contracts: int = 0
    attachments: int = 0


def years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def cutoff(today: dt.date | None = None) -> dt.date:
    """A person whose last contract was terminated before this day is due."""
    years = max(1, settings.RETENTION_PERSONAL_DATA_YEARS)  # 0 would be a typo, not a policy
    return years_back(today or clock.today(), years)


def due(before: dt.date) -> QuerySet[Subscriber]:
    """People not yet anonymised whose every contract was terminated before `before`
    with a zero balance."""
    terminated = Contract.Status.TERMINATED
    return (
        Subscriber.objects.filter(anonymised_at__isnull=True)
        .annotate(
            contracts_total=Count("contracts", distinct=True),
            open_or_undated=Count(
                "contracts",
                filter=~Q(contracts__status=terminated) | Q(contracts__terminated_on__isnull=True),
                distinct=True,
            ),
            unsettled=Count(
                "contracts",
                filter=~Q(contracts__account__balance=0),
                distinct=True,
            ),
            last_terminated=Max("contracts__terminated_on"),
        )
        .filter(contracts_total__gt=0, open_or_undated=0, unsettled=0, last_terminated__lt=before)
        .order_by("pk")
    )


def _settled(contract: Contract) -> bool:
    """Under the account's lock: the balance and the sum of the ledger are both zero."""
    from abonent.billing.models import LedgerEntry
    from abonent.billing.services import lock_account

    account = lock_account(contract.pk)
    total = LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
    return account.balance == 0 and (total or 0) == 0


def _redact(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: ("" if k in AUDIT_KEYS else v) for k, v in data.items()}
    return data


def _forget_login(contract: Contract) -> None:
    from abonent.accounts import devices
    from abonent.accounts.models import ApiToken, LoginFailure, OneTimeCode, User, WebSession
    from abonent.notifications.models import PushSubscription

    user = User.objects.select_for_update().get(pk=contract.user_id)
    devices.end_all(user)
    user.set_unusable_password()
    user.is_active = False
    user.cabinet_enabled = False
    user.login_sms_2fa = False
    user.password_change_required = False
    user.full_name = ""
    user.email = ""
    user.save()
    WebSession.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    PushSubscription.objects.filter(user=user).delete()
    OneTimeCode.objects.filter(user=user).delete()
    LoginFailure.objects.filter(contract_number=contract.number).delete()


def _forget_application(contract: Contract, placeholder: str) -> None:
    from abonent.applications.models import Application, ApplicationEvent

    Application.objects.filter(contract=contract).update(
        full_name=placeholder,
        phone="",
        flat="",
        comment="",
        source_ip=None,
        rejection_reason="",
    )
    ApplicationEvent.objects.filter(application__contract=contract).update(note="")


def _forget_tickets(contract: Contract, placeholder: str) -> list[str]:
    """Returns the stored names of the attachment files to delete."""
    from abonent.support.models import Attachment, Ticket, TicketMessage

    attachments = Attachment.objects.filter(message__ticket__contract=contract)
    files = [a.file.name for a in attachments if a.file.name]
    attachments.delete()
    TicketMessage.objects.filter(ticket__contract=contract).update(text=placeholder)
    Ticket.objects.filter(contract=contract).update(subject=placeholder, rating_comment="")
    return files


def _forget_payments(contract: Contract) -> None:
    from abonent.payments.models import Payment, SavedMethod

    for payment in Payment.objects.filter(contract=contract).exclude(receipt={}):
        receipt = dict(payment.receipt)
        if "customer" in receipt:
            receipt["customer"] = {}
            Payment.objects.filter(pk=payment.pk).update(receipt=receipt)
    SavedMethod.objects.filter(contract=contract).update(
        active=False, provider_method_id="", title=""
    )


def _forget_messages_and_audit(contract: Contract) -> None:
    from abonent.core.models import AuditLog
    from abonent.notifications.models import Message

    Message.objects.filter(contract_id=contract.pk).update(to="", text="", body=None)
    rows = AuditLog.objects.filter(contract_id=contract.pk).filter(
        Q(before__has_any_keys=AUDIT_KEYS) | Q(after__has_any_keys=AUDIT_KEYS)
    )
    for row in rows:
        AuditLog.objects.filter(pk=row.pk).update(
            before=_redact(row.before), after=_redact(row.after)
        )


def anonymise(subscriber_id: int, before: dt.date, actor: Actor | None = None) -> int | None:
    """Anonymise one person if still due (re-checked under locks), in one transaction;
    returns how many attachments were deleted, or None when the person was not due."""
    from abonent.support.models import private_storage

    actor = actor or Actor.system()
    with transaction.atomic():
        person = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if person is None or person.anonymised_at is not None:
            return None
        contracts = list(Contract.objects.filter(subscriber=person).order_by("pk"))
        if not contracts or any(
            c.status != Contract.Status.TERMINATED
            or c.terminated_on is None
            or c.terminated_on >= before
            or not _settled(c)
            for c in contracts
        ):
            return None
        with translation.override(settings.LANGUAGE_CODE):
            placeholder = str(PLACEHOLDER)
        person.last_name, person.first_name, person.middle_name = placeholder, "", ""
        person.phone = person.phone_alt = person.email = ""
        person.passport_series = person.passport_number = person.passport_issued_by = None
        person.passport_issued_on = person.birth_date = None
        person.anonymised_at = clock.now()
        person.save()  # the passport digest follows the (now empty) passport
        Address.objects.filter(pk__in=[c.address_id for c in contracts]).update(flat="")
        files: list[str] = []
        for contract in contracts:
            _forget_login(contract)
            _forget_application(contract, placeholder)
            deleted = _forget_tickets(contract, placeholder)
            files += deleted
            _forget_payments(contract)
            _forget_messages_and_audit(contract)
            audit.record(
                actor,
                "subscriber.anonymised",
                person,
                contract_id=contract.pk,
                after={
                    "terminated_on": contract.terminated_on.isoformat()
                    if contract.terminated_on
                    else None,
                    "retention_years": settings.RETENTION_PERSONAL_DATA_YEARS,
                    "attachments_deleted": len(deleted),
                },
            )
        # Inside the transaction: should the commit fail, the rows stay but the files
        # are gone, and the next run finishes the job (a missing file is no error).
        storage = private_storage()
        for name in files:
            storage.delete(name)
    return len(files)


def run(*, dry_run: bool = False, today: dt.date | None = None) -> Report:
    """The nightly job and `manage.py retention`: every due person, a batch at a time,
    one transaction each. Dry: lists who is due, changes nothing."""
    report = Report(cutoff=cutoff(today), dry_run=dry_run)
    after = 0
    while ids := list(due(report.cutoff).filter(pk__gt=after).values_list("pk", flat=True)[:BATCH]):
        after = ids[-1]
        for subscriber_id in ids:
            if dry_run:
                report.subscribers.append(subscriber_id)
                report.contracts += Contract.objects.filter(subscriber_id=subscriber_id).count()
                continue
            try:
                deleted = anonymise(subscriber_id, report.cutoff)
            except Exception:  # one person's problem must not stop the others
                logger.exception("anonymising subscriber %s failed", subscriber_id)
                continue
            if deleted is not None:
                report.subscribers.append(subscriber_id)
                report.contracts += Contract.objects.filter(subscriber_id=subscriber_id).count()
                report.attachments += deleted
    logger.info(
        "personal data retention%s: %d subscriber(s), %d contract(s) terminated before %s",
        " (dry run)" if dry_run else "",
        len(report.subscribers),
        report.contracts,
        report.cutoff,
    )
    return report
