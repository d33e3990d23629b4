"""Reads of the quality settings. The figures themselves are in `metrics`."""

from __future__ import annotations

from .models import SINGLETON_PK, Thresholds


def thresholds() -> Thresholds:
    """The one row of thresholds, created with the defaults on first use."""
    row, _created = Thresholds.objects.get_or_create(pk=SINGLETON_PK)
    return row
