"""Catalogue writes: prices change through a dated history, never in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import require_action
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.core.money import Money

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


def next_price(tariff: Tariff, day: dt.date) -> TariffPrice | None:
    """The tariff's next scheduled price after `day`, if one is announced."""
    return (
        TariffPrice.objects.filter(tariff=tariff, valid_from__gt=day).order_by("valid_from").first()
    )


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


def _subscribed(tariff: Tariff) -> dict[str, int]:
    """{status: contracts} on the tariff, terminated ones left out. (Imported here:
    subscribers build on the catalogue.)"""
    from abonent.subscribers.models import Contract

    return dict(
        Contract.objects.filter(tariff=tariff)
        .exclude(status=Contract.Status.TERMINATED)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )


def earliest_price_date(
    tariff: Tariff, today: dt.date, *, subscribed: bool | None = None
) -> dt.date:
    """Subscribers must be told of a price change PRICE_NOTICE_DAYS ahead; a tariff
    nobody is on may change price from today."""
    if subscribed is None:
        subscribed = bool(_subscribed(tariff))
    return today + dt.timedelta(days=settings.PRICE_NOTICE_DAYS) if subscribed else today


def _check_price(
    tariff: Tariff, monthly_price: int, valid_from: dt.date, *, subscribed: bool | None = None
) -> None:
    if monthly_price < 0:
        raise ValidationFailed(fields={"monthly_price": [_("The price cannot be negative.")]})
    today = clock.today()
    if valid_from < today:
        raise ValidationFailed(fields={"valid_from": [_("The date cannot be in the past.")]})
    earliest = earliest_price_date(tariff, today, subscribed=subscribed)
    if valid_from < earliest:
        days = settings.PRICE_NOTICE_DAYS
        raise ValidationFailed(
            fields={
                "valid_from": [
                    ngettext(
                        "Subscribers must be told of a price change at least %(days)d day ahead: "
                        "the earliest date is %(date)s.",
                        "Subscribers must be told of a price change at least %(days)d days ahead: "
                        "the earliest date is %(date)s.",
                        days,
                    )
                    % {"days": days, "date": earliest.strftime("%d.%m.%Y")}
                ]
            }
        )


@dataclass(frozen=True)
class PriceChangePlan:
    """What a price change does, shown before it is confirmed and used to carry it out."""

    tariff: Tariff
    old_price: int
    new_price: int
    valid_from: dt.date
    by_status: dict[str, int]  # non-terminated contracts on the tariff, per status
    notice: str  # the SMS as the subscriber will read it

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def old(self) -> Money:
        return Money(self.old_price, self.tariff.currency)

    @property
    def new(self) -> Money:
        return Money(self.new_price, self.tariff.currency)


def price_notice(tariff: Tariff, old_price: int, new_price: int, valid_from: dt.date) -> str:
    """The notice in the subscribers' language (the site's first language), whoever asks."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(
            "From %(date)s the monthly price of the tariff “%(tariff)s” is %(price)s "
            "(now %(old)s). Details are in the personal cabinet."
        ) % {
            "date": valid_from.strftime("%d.%m.%Y"),
            "tariff": tariff.name,
            "price": Money(new_price, tariff.currency).format(),
            "old": Money(old_price, tariff.currency).format(),
        }


def plan_price_change(tariff: Tariff, monthly_price: int, valid_from: dt.date) -> PriceChangePlan:
    """The preview of a price change; raises what `set_price` would raise."""
    by_status = _subscribed(tariff)
    _check_price(tariff, monthly_price, valid_from, subscribed=bool(by_status))
    old_price = price_on(tariff, valid_from - dt.timedelta(days=1))
    if old_price == monthly_price:
        raise ValidationFailed(
            fields={
                "monthly_price": [
                    gettext("The price is already %(price)s on that date.")
                    % {"price": Money(old_price, tariff.currency).format()}
                ]
            }
        )
    return PriceChangePlan(
        tariff=tariff,
        old_price=old_price,
        new_price=monthly_price,
        valid_from=valid_from,
        by_status=by_status,
        notice=price_notice(tariff, old_price, monthly_price, valid_from),
    )


@transaction.atomic
def set_price(tariff: Tariff, monthly_price: int, valid_from: dt.date, actor: Actor) -> TariffPrice:
    """Record a dated price. Not in the past, and for a tariff anyone is on not before
    PRICE_NOTICE_DAYS from today (`notifications.mass.start_price_change` tells them)."""
    require_action(actor, "mass_operations")
    _check_price(tariff, monthly_price, valid_from)
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
