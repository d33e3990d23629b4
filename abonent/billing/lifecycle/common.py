"""Shared pieces of the lifecycle actions: domain errors, proration, loading."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.catalog.models import ChargingMode
from abonent.core.context import Actor
from abonent.core.errors import DomainError, NotFound
from abonent.subscribers.models import Contract

from ..models import LedgerEntry
from ..rules import charge_amount
from ..services import lock_account, post_entry

M = TypeVar("M", bound=models.Model)


class PolicyViolation(DomainError):
    code = "policy_violation"
    status = 409
    default_message = _("This is not allowed by the provider's rules.")


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 409
    default_message = _("There is not enough money on the balance. Please top up first.")


def rest_of_month(monthly_price: int, day: dt.date) -> int:
    """Prorated price for `day` through the month's end, rounded half up."""
    return charge_amount(monthly_price, day, ChargingMode.MONTHLY)


def load_contract(contract_id: int) -> Contract:
    contract = (
        Contract.objects.select_related("tariff", "account")
        .prefetch_related("addons__addon")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def require_in_service(contract: Contract) -> None:
    if contract.status == Contract.Status.TERMINATED:
        raise PolicyViolation(_("The contract is terminated."))


def contract_account(contract_id: int) -> int:
    return Contract.objects.values_list("account__id", flat=True).get(pk=contract_id)


def charge_fee(account_id: int, fee: int, key: str, description: str, actor: Actor) -> None:
    """The fee of a tariff change, suspension or promised payment, if the policy has one."""
    if fee:
        post_entry(
            account_id,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-fee,
            idempotency_key=key,
            description=description,
            actor=actor,
        )


def refund_fee(contract_id: int, fee: int, key: str, description: str, actor: Actor) -> None:
    """Give back the fee of something cancelled before it took effect."""
    if fee:
        post_entry(
            contract_account(contract_id),
            kind=LedgerEntry.Kind.REFUND,
            amount=fee,
            idempotency_key=key,
            description=description,
            actor=actor,
        )


def locked_own(model: type[M], contract_id: int, pk: int) -> M:
    """Lock the contract's account, then load one of its own records: another
    contract's id is NotFound, as if it did not exist."""
    lock_account(contract_id)
    manager: Any = model._default_manager
    item = manager.filter(pk=pk, contract_id=contract_id).first()
    if item is None:
        raise NotFound()
    return item
