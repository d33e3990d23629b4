"""Quality control settings: the thresholds the dashboard compares figures with and the
detectors open proactive tickets at. One row, edited in the admin, read through
`selectors.thresholds()`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# RADIUS Acct-Terminate-Cause values that mean the line or the network failed, not the
# subscriber (User-Request, Idle-Timeout, Session-Timeout, Admin-Reset, "Stale", …).
DROP_CAUSES = (
    "Lost-Carrier",
    "Lost-Service",
    "NAS-Error",
    "NAS-Reboot",
    "Port-Error",
    "Service-Unavailable",
)

SINGLETON_PK = 1


class Thresholds(models.Model):
    line_drops_per_day = models.PositiveSmallIntegerField(
        _("line: drops a day before a proactive ticket"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A subscriber whose sessions end with a drop cause more times than this in a "
            "day gets a proactive ticket."
        ),
    )
    building_min_subscribers = models.PositiveSmallIntegerField(
        _("building: subscribers dropping at once"),
        default=3,
        validators=[MinValueValidator(2)],
        help_text=_(
            "This many different subscribers of one house dropping within the window "
            "open one building ticket."
        ),
    )
    building_window_minutes = models.PositiveSmallIntegerField(
        _("building: window, minutes"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    csat_target_percent = models.PositiveSmallIntegerField(
        _("CSAT target, %"),
        default=80,
        validators=[MaxValueValidator(100)],
        help_text=_("Share of ratings 4–5 among all ratings."),
    )
    first_response_breach_max_percent = models.PositiveSmallIntegerField(
        _("first response breaches, at most %"),
        default=10,
        validators=[MaxValueValidator(100)],
    )
    stability_target_percent = models.DecimalField(
        _("stability target, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("99"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Share of subscriber-days online without a drop."),
    )

    class Meta:
        verbose_name = _("quality thresholds")
        verbose_name_plural = _("quality thresholds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=SINGLETON_PK), name="quality_thresholds_singleton"
            )
        ]

    def __str__(self) -> str:
        return str(_("Quality thresholds"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = SINGLETON_PK
        super().save(*args, **kwargs)
