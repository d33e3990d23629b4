"""What the calendar changes before a day is billed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum

from abonent.core.context import Actor
from abonent.subscribers.models import Contract

from ..models import PromisedPayment, Suspension, TariffChange
from ..services import lock_account
from .promise import expire_promise
from .suspension import finish_suspension, start_suspension
from .tariffs import apply_change


def advance(day: dt.date, actor: Actor) -> None:
    """Everything that happens on `day` before it is charged. Each step is idempotent."""
    for change in TariffChange.objects.filter(
        status=TariffChange.Status.SCHEDULED, effective_date__lte=day
    ).select_related("to_tariff"):
        with transaction.atomic():
            lock_account(change.contract_id)
            change.refresh_from_db()
            if change.status == TariffChange.Status.SCHEDULED:
                apply_change(change, actor)
    for suspension in Suspension.objects.filter(status=Suspension.Status.ACTIVE, end_date__lt=day):
        with transaction.atomic():
            lock_account(suspension.contract_id)
            finish_suspension(suspension, suspension.end_date + dt.timedelta(days=1), actor)
    for suspension in Suspension.objects.filter(
        status=Suspension.Status.SCHEDULED, start_date__lte=day
    ):
        with transaction.atomic():
            lock_account(suspension.contract_id)
            start_suspension(suspension, actor)
    for promise in PromisedPayment.objects.filter(
        status=PromisedPayment.Status.ACTIVE, expires_on__lte=day
    ):
        with transaction.atomic():
            lock_account(promise.contract_id)
            promise.refresh_from_db()
            if promise.status == PromisedPayment.Status.ACTIVE:
                expire_promise(promise, actor)


def promise_outstanding(contract: Contract) -> int:
    return (
        PromisedPayment.objects.filter(
            contract=contract, status=PromisedPayment.Status.ACTIVE
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
