"""The ledger idempotency keys that more than one module writes or looks up. The
billing run, tariff and add-on changes and the termination settlement must agree on
them to the character: a key spelled two ways is a charge taken twice or a refund of
days never paid. (The billing run builds the same keys in SQL, `run._key_sql`; its
tests check the two spellings against each other.)"""

from __future__ import annotations

import datetime as dt

from abonent.catalog.models import ChargingMode


def _period(day: dt.date, mode: str) -> str:
    return f"{day:%Y-%m-%d}" if mode == ChargingMode.DAILY else f"{day:%Y-%m}"


def subscription(number: str, day: dt.date, mode: str) -> str:
    """The tariff's charge for `day` (daily) or for its month (monthly)."""
    return f"sub:{number}:{_period(day, mode)}"


def addon(number: str, code: str, day: dt.date, mode: str) -> str:
    """A recurring add-on's charge for `day` (daily) or for its month (monthly)."""
    return f"addon:{number}:{code}:{_period(day, mode)}"


def addon_prefix(number: str, code: str) -> str:
    """What every charge of this add-on on this contract begins with."""
    return f"addon:{number}:{code}:"


def addon_link(number: str, code: str, link_id: int) -> str:
    """A connection's own charge: a one-off service, or a reconnection within a month
    whose month key is taken already."""
    return f"{addon_prefix(number, code)}link:{link_id}"


def addon_refund(link_id: int) -> str:
    """The refund of the unused rest of the month when a connection ends."""
    return f"addon-refund:{link_id}"


_CARD_REFUND = "refund:"


def card_refund(provider: str, provider_payment_id: str, number: int) -> str:
    """The debit of the `number`th refund of a card payment (also the provider's
    idempotency key for it)."""
    return f"{_CARD_REFUND}{provider}:{provider_payment_id}:{number}"


def is_card_refund(key: str) -> bool:
    """A card refund's debit is settled by the provider's answer, never reversed by
    hand (`services.reverse_entry`)."""
    return key.startswith(_CARD_REFUND)
