"""Money movements. Every one is a ledger entry with a unique idempotency key, and the
cached balance moves in the same transaction, under the account's row lock. A movement
that brings a blocked account back above its next charge unblocks it at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import require_action
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import NotFound, ValidationFailed
from abonent.network.services import Relogin, apply_access
from abonent.subscribers.models import Contract

from . import keys
from .models import Account, LedgerEntry


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool


def open_account(contract_id: int, currency: str = "RUB") -> Account:
    return Account.objects.create(contract_id=contract_id, currency=currency)


def lock_account(contract_id: int) -> Account:
    """Row-lock a contract's account for the rest of the transaction: every change of
    money or of a contract's billing state takes this lock first, so two of them on one
    account run one after the other (no lost update)."""
    return Account.objects.select_for_update().get(contract_id=contract_id)


@transaction.atomic
def post_entry(
    account_id: int,
    *,
    kind: str,
    amount: int,
    idempotency_key: str,
    description: str,
    actor: Actor,
    reverses: LedgerEntry | None = None,
    effective_date: dt.date | None = None,
) -> Posted:
    """Post one entry. A second call with the same key changes nothing and returns the
    first entry, whoever makes it and however concurrently."""
    if amount == 0:
        raise ValueError("a ledger entry moves money")
    account = Account.objects.select_for_update().get(pk=account_id)
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return Posted(existing, created=False)
    try:
        with transaction.atomic():  # savepoint: a racing twin loses cleanly
            entry = LedgerEntry.objects.create(
                account=account,
                kind=kind,
                amount=amount,
                currency=account.currency,
                idempotency_key=idempotency_key,
                description=description[:300],
                effective_date=effective_date or clock.today(),
                reverses=reverses,
                created_by=actor.user,
            )
    except IntegrityError:
        return Posted(LedgerEntry.objects.get(idempotency_key=idempotency_key), created=False)
    new_balance = account.balance + amount
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    audit.record(
        actor,
        f"ledger.{kind}",
        entry,
        contract_id=account.contract_id,
        before={"balance": account.balance},
        after={"balance": new_balance, "amount": amount, "key": idempotency_key},
    )
    if amount > 0:
        maybe_unblock(account.contract_id, new_balance, actor)
    return Posted(entry, created=True)


def maybe_unblock(contract_id: int, balance: int, actor: Actor) -> bool:
    """Unblock a contract blocked for debt once the balance covers the next day's charge
    (billing.md); the network is told at once."""
    from .selectors import unblock_threshold

    contract = (
        Contract.objects.select_for_update()
        .select_related("tariff")
        .prefetch_related("addons__addon")
        .get(pk=contract_id)
    )
    if contract.status != Contract.Status.BLOCKED_DEBT or balance < unblock_threshold(contract):
        if balance >= 0:
            Account.objects.filter(contract_id=contract_id).update(debt_since=None)
        return False
    contract.status = Contract.Status.ACTIVE
    contract.save(update_fields=["status"])
    Account.objects.filter(contract_id=contract_id).update(debt_since=None)
    audit.record(
        actor,
        "contract.unblocked",
        contract,
        contract_id=contract.pk,
        before={"status": "blocked_debt"},
        after={"status": "active", "balance": balance},
    )
    apply_access([contract.pk], "unblocked: debt covered", relogin=Relogin.GARDEN)
    return True


@transaction.atomic
def post_correction(
    contract_id: int, amount: int, reason: str, actor: Actor, *, key: str | None = None
) -> Posted:
    """A staff correction: a new entry with a reason, never an edit."""
    require_action(actor, "correction")
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for the correction.")]})
    if amount == 0:
        raise ValidationFailed(fields={"amount": [_("Enter a non-zero amount.")]})
    account = lock_account(contract_id)
    return post_entry(
        account.pk,
        kind=LedgerEntry.Kind.CORRECTION,
        amount=amount,
        idempotency_key=key or f"correction:{account.pk}:{clock.now().timestamp()}:{amount}",
        description=reason.strip(),
        actor=actor,
    )


@transaction.atomic
def reverse_entry(entry_id: int, reason: str, actor: Actor) -> Posted:
    """Cancel an entry by posting its opposite that points back at it (once)."""
    require_action(actor, "correction")
    if not reason.strip():
        raise ValidationFailed(fields={"reason": [_("Give the reason for the correction.")]})
    entry = LedgerEntry.objects.filter(pk=entry_id).select_related("account").first()
    if entry is None:
        raise NotFound()
    if keys.is_card_refund(entry.idempotency_key):
        # A card refund is settled by the payment service's answer (payments.office):
        # reversing its debit by hand would return the money twice.
        raise ValidationFailed(
            fields={
                "entry": [
                    _(
                        "A card refund is not reversed by hand: a refusal of the payment "
                        "service reverses it."
                    )
                ]
            }
        )
    lock_account(entry.account.contract_id)
    return post_entry(
        entry.account_id,
        kind=LedgerEntry.Kind.CORRECTION,
        amount=-entry.amount,
        idempotency_key=f"reverse:{entry.pk}",
        description=reason.strip(),
        actor=actor,
        reverses=entry,
    )
