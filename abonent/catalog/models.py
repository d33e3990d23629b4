from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.core.money import Money


class ChargingMode(models.TextChoices):
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly, in advance")


class ChangeRule(models.TextChoices):
    AUTO = "auto", _("Upgrades now, downgrades from the next period")
    IMMEDIATE = "immediate", _("Immediately")
    NEXT_PERIOD = "next_period", _("From the next period")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Subscribers choose it themselves")
    STAFF = "staff", _("Only staff can assign it")


class Tariff(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    monthly_price = models.BigIntegerField(_("monthly price, kopecks"))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    charging_mode = models.CharField(
        _("charging mode"), max_length=16, choices=ChargingMode.choices, default=ChargingMode.DAILY
    )
    speed_in_mbps = models.PositiveIntegerField(_("download speed, Mbit/s"))
    speed_out_mbps = models.PositiveIntegerField(_("upload speed, Mbit/s"))
    is_archived = models.BooleanField(
        _("archived"),
        default=False,
        help_text=_("Existing subscribers keep it; nobody new can pick it."),
    )
    audience = models.CharField(
        _("who may pick it"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE
    )
    change_rule = models.CharField(
        _("when a change to it takes effect"),
        max_length=16,
        choices=ChangeRule.choices,
        default=ChangeRule.AUTO,
    )
    change_fee = models.BigIntegerField(_("fee for changing to it, kopecks"), default=0)
    grace_days = models.PositiveSmallIntegerField(
        _("grace days before blocking"),
        default=0,
        help_text=_("Days in debt before access is blocked."),
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["sort_order", "monthly_price"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_price__gte=0), name="tariff_price_gte_0"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price(self) -> Money:
        return Money(self.monthly_price, self.currency)


class AddOn(models.Model):
    class Billing(models.TextChoices):
        RECURRING = "recurring", _("Monthly")
        ONE_OFF = "one_off", _("One-off")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    price = models.BigIntegerField(_("price, kopecks"))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    billing = models.CharField(
        _("billing"), max_length=16, choices=Billing.choices, default=Billing.RECURRING
    )
    charges_while_suspended = models.BooleanField(
        _("keeps charging while suspended"), default=False
    )
    suspended_price = models.BigIntegerField(
        _("price while suspended, kopecks"),
        null=True,
        blank=True,
        help_text=_(
            "If it keeps charging while suspended: the monthly price then (empty = the full price)."
        ),
    )
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("add-on service")
        verbose_name_plural = _("add-on services")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="addon_price_gte_0")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def money(self) -> Money:
        return Money(self.price, self.currency)


class TariffPrice(models.Model):
    """Price history: the price in force on a day is the latest row with valid_from on
    or before it. Future rows schedule a price change (subscribers are told in advance)."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="prices")
    monthly_price = models.BigIntegerField(_("monthly price, kopecks"))
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("tariff price")
        verbose_name_plural = _("tariff price history")
        ordering = ["tariff", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "valid_from"], name="one_price_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.tariff_id}: {self.monthly_price} from {self.valid_from}"


class BillingPolicy(models.Model):
    """The provider-wide rules of billing.md, editable by staff; one row."""

    suspension_min_days = models.PositiveSmallIntegerField(_("suspension: minimum days"), default=7)
    suspension_max_days = models.PositiveSmallIntegerField(
        _("suspension: maximum days at a time"), default=90
    )
    suspension_days_per_year = models.PositiveSmallIntegerField(
        _("suspension: days per calendar year"), default=90
    )
    suspension_fee = models.BigIntegerField(_("suspension: fee per activation, kopecks"), default=0)
    suspension_fee_per_day = models.BigIntegerField(
        _("suspension: fee per day, kopecks"), default=0
    )
    promised_days = models.PositiveSmallIntegerField(_("promised payment: days"), default=3)
    promised_interval_days = models.PositiveSmallIntegerField(
        _("promised payment: at most once per days"), default=30
    )
    promised_max_debt_age_days = models.PositiveSmallIntegerField(
        _("promised payment: not when in debt longer than days"), default=30
    )
    promised_fee = models.BigIntegerField(_("promised payment: fee, kopecks"), default=0)
    tariff_change_interval_days = models.PositiveSmallIntegerField(
        _("tariff change: at most once per days"), default=30
    )
    reminder_days = models.CharField(
        _("reminders: days before the money runs out"), max_length=30, default="3,1"
    )

    class Meta:
        verbose_name = _("billing policy")
        verbose_name_plural = _("billing policy")

    def __str__(self) -> str:
        return str(_("Billing policy"))

    @classmethod
    def current(cls) -> BillingPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    @property
    def reminder_day_list(self) -> list[int]:
        return sorted(
            {int(d) for d in self.reminder_days.split(",") if d.strip().isdigit()}, reverse=True
        )
