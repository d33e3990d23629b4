from __future__ import annotations

import uuid
from dataclasses import dataclass

from abonent.billing.selectors import monthly_total, unblock_threshold
from abonent.subscribers.models import Contract

from .models import Payment


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "unblock" | "month"
    amount: int


def suggestions(contract: Contract) -> list[Suggestion]:
    """The sum that lifts a block (rounded up to the ruble) and one month's charges."""
    out: list[Suggestion] = []
    balance = contract.account.balance
    if contract.status == Contract.Status.BLOCKED_DEBT:
        need = unblock_threshold(contract) - balance
        if need > 0:
            out.append(Suggestion("unblock", -(-need // 100) * 100))
    month = monthly_total(contract)
    if month > 0:
        out.append(Suggestion("month", month))
    return out


def payments_of(contract: Contract, limit: int = 50) -> list[Payment]:
    return list(Payment.objects.filter(contract=contract).order_by("-created_at")[:limit])


def payment_of(contract: Contract, public_id: str) -> Payment | None:
    """A payment only if it belongs to this contract (anything else is simply not found)."""
    try:
        uid = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return Payment.objects.filter(contract=contract, public_id=uid).first()
