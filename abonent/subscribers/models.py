from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField, EncryptedDateField

from abonent.core.secrets import keyed_digest


class Address(models.Model):
    city = models.CharField(_("city"), max_length=100, default="Санкт-Петербург")
    street = models.CharField(_("street"), max_length=200)
    house = models.CharField(_("house"), max_length=30)
    building = models.CharField(_("building (korpus)"), max_length=20, blank=True)
    flat = models.CharField(_("flat"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["street", "house"])]

    def __str__(self) -> str:
        parts = [self.city, self.street, gettext("h. %(house)s") % {"house": self.house}]
        if self.building:
            parts.append(gettext("bldg. %(building)s") % {"building": self.building})
        if self.flat:
            parts.append(gettext("apt. %(flat)s") % {"flat": self.flat})
        return ", ".join(parts)


def passport_digest(text: str) -> str:
    """ "45 06 123456", "4506 123456" and "4506123456" are one passport."""
    digits = re.sub(r"\D", "", text or "")
    return keyed_digest(digits, "passport") if len(digits) >= 6 else ""


class Subscriber(models.Model):
    """The person (party to one or more contracts)."""

    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("patronymic"), max_length=100, blank=True)
    # E.164 ("+79000000001"), normalised at the edge with phonenumbers.
    phone = models.CharField(_("phone"), max_length=16, db_index=True)
    phone_alt = models.CharField(_("second phone"), max_length=16, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Encrypted at rest (Fernet, key from SECRET_KEY + rotating salts); never in lists.
    passport_series = EncryptedCharField(_("passport series"), max_length=10, null=True, blank=True)
    passport_number = EncryptedCharField(_("passport number"), max_length=20, null=True, blank=True)
    passport_issued_by = EncryptedCharField(
        _("passport issued by"), max_length=300, null=True, blank=True
    )
    passport_issued_on = EncryptedDateField(_("passport issued on"), null=True, blank=True)
    # Keyed hash of series + number (digits only): the one way to find a subscriber by
    # passport without decrypting every row. Kept in step by save().
    passport_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    birth_date = EncryptedDateField(_("date of birth"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set when the retention period after the last contract ended (decision 0014).
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.passport_digest = passport_digest(
            f"{self.passport_series or ''}{self.passport_number or ''}"
        )
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "passport_digest"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def passport_masked(self) -> str:
        number = self.passport_number or ""
        return f"{'*' * max(len(number) - 2, 0)}{number[-2:]}" if number else ""


class Contract(models.Model):
    class Status(models.TextChoices):
        # Signed, cable not yet in: not charged; the installer may test the login.
        CONNECTING = "connecting", _("Connecting")
        ACTIVE = "active", _("Active")
        BLOCKED_DEBT = "blocked_debt", _("Blocked for debt")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    # The login. Digits only, sequential, unique, never reused (see ContractNumberCounter).
    number = models.CharField(_("contract number"), max_length=12, unique=True)
    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.PROTECT, related_name="contracts"
    )
    address = models.ForeignKey(
        Address, verbose_name=_("service address"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cabinet login"),
        on_delete=models.PROTECT,
        related_name="contract",
    )
    tariff = models.ForeignKey(
        "catalog.Tariff", verbose_name=_("tariff"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    signed_on = models.DateField(_("signed on"))
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(number__regex=r"^[0-9]+$"), name="contract_number_digits"
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.number

    def get_status_display(self) -> str:  # type: ignore[no-redef]  # replaces Django's
        # Django's generated method rebuilds a dict of every choice on each call; the
        # status is on every cabinet home page.
        try:
            return str(self.Status(self.status).label)
        except ValueError:
            return str(self.status)


class ContractNumberCounter(models.Model):
    """A single row holding the next contract number. Allocation locks it, so numbers
    are sequential without gaps from races; contracts are never deleted, so a number
    is never handed out twice."""

    next_number = models.BigIntegerField()

    class Meta:
        verbose_name = _("contract number counter")

    def __str__(self) -> str:
        return str(self.next_number)


class ContractAddOn(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="addons")
    addon = models.ForeignKey("catalog.AddOn", on_delete=models.PROTECT, related_name="+")
    connected_on = models.DateField(_("connected on"))
    disconnected_on = models.DateField(_("disconnected on"), null=True, blank=True)

    class Meta:
        verbose_name = _("connected add-on")
        verbose_name_plural = _("connected add-ons")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "addon"],
                condition=models.Q(disconnected_on__isnull=True),
                name="one_active_addon_per_contract",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} + {self.addon}"
