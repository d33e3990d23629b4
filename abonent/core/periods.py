"""Date ranges asked for by subscribers (statements, traffic): one set of checks."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from . import clock
from .errors import ValidationFailed

EARLIEST = dt.date(2000, 1, 1)  # before any contract; also keeps date arithmetic in range
MAX_DAYS = 3 * 366


def period(
    date_from: dt.date | None, date_to: dt.date | None, *, default_days: int
) -> tuple[dt.date, dt.date]:
    """The asked range, or the last `default_days` days up to the end (today by default)."""
    for field, day in (("from", date_from), ("to", date_to)):
        if day is not None and day < EARLIEST:
            # Django's own message, translated in its catalogue.
            raise ValidationFailed(fields={field: [_("Enter a valid date.")]})
    date_to = date_to or clock.today()
    date_from = date_from or date_to - dt.timedelta(days=default_days - 1)
    if date_from > date_to:
        raise ValidationFailed(fields={"from": [_("The start date is after the end date.")]})
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed(fields={"from": [_("A period can be at most three years long.")]})
    return date_from, date_to
