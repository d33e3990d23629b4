from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.core.money import Money


class ChargingMode(models.TextChoices):
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly, in advance")


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
