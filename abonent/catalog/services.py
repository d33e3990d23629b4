"""Catalogue writes: prices change through a dated history, never in place."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed

from .models import Tariff, TariffPrice


def price_on(tariff: Tariff, day: dt.date) -> int:
    """The tariff's monthly price in force on `day`."""
    row = (
        TariffPrice.objects.filter(tariff=tariff, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("monthly_price", flat=True)
        .first()
    )
    return tariff.monthly_price if row is None else row


def prices_on(day: dt.date) -> dict[int, int]:
    """Every tariff's price on `day` in two queries (billing runs use it)."""
    prices = dict(Tariff.objects.values_list("id", "monthly_price"))
    for tariff_id, price in (
        TariffPrice.objects.filter(valid_from__lte=day)
        .order_by("tariff_id", "valid_from")
        .values_list("tariff_id", "monthly_price")
    ):
        prices[tariff_id] = price  # the latest valid_from wins
    return prices


@transaction.atomic
def set_price(tariff: Tariff, monthly_price: int, valid_from: dt.date, actor: Actor) -> TariffPrice:
    if monthly_price < 0:
        raise ValidationFailed(fields={"monthly_price": [_("The price cannot be negative.")]})
    row, _created = TariffPrice.objects.update_or_create(
        tariff=tariff,
        valid_from=valid_from,
        defaults={"monthly_price": monthly_price, "created_by": actor.user},
    )
    before = tariff.monthly_price
    sync_current_prices(clock.today())
    audit.record(
        actor,
        "catalog.price_set",
        tariff,
        before={"price": before},
        after={"price": monthly_price, "valid_from": valid_from.isoformat()},
    )
    return row


def sync_current_prices(day: dt.date) -> int:
    """Keep Tariff.monthly_price equal to the price in force today (shown in lists)."""
    changed = 0
    for tariff_id, price in prices_on(day).items():
        changed += (
            Tariff.objects.filter(pk=tariff_id)
            .exclude(monthly_price=price)
            .update(monthly_price=price)
        )
    return changed


def speed_changed(tariff: Tariff) -> None:
    """A tariff's speed was edited: every contract on it gets the new decision and a
    CoA. (Imported here: subscribers and network build on the catalogue.)"""
    from abonent.network.services import apply_access
    from abonent.subscribers.models import Contract

    ids = Contract.objects.filter(tariff=tariff).exclude(status=Contract.Status.TERMINATED)
    apply_access(ids.values_list("pk", flat=True), "tariff speed changed")
