"""Money movements. Every one is a ledger entry with a unique idempotency key, and the
cached balance moves in the same transaction, under the account's row lock."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from abonent.core import audit, clock
from abonent.core.context import Actor

from .models import Account, LedgerEntry


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool


def open_account(contract_id: int, currency: str = "RUB") -> Account:
    return Account.objects.create(contract_id=contract_id, currency=currency)


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
) -> Posted:
    """Post one entry. A second call with the same key changes nothing and returns
    the first entry, whoever makes it and however concurrently."""
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
                description=description,
                effective_date=clock.today(),
                reverses=reverses,
                created_by=actor.user,
            )
    except IntegrityError:
        return Posted(LedgerEntry.objects.get(idempotency_key=idempotency_key), created=False)
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    audit.record(
        actor,
        f"ledger.{kind}",
        entry,
        contract_id=account.contract_id,
        before={"balance": account.balance},
        after={"balance": account.balance + amount, "amount": amount, "key": idempotency_key},
    )
    return Posted(entry, created=True)
