"""The one source of "now" and "today", so tests can move time (time-machine) and
billing dates are always taken in the provider's zone."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    """Today's date in the provider's zone (settings.TIME_ZONE), not UTC."""
    return timezone.localdate(now())
