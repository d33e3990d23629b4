from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.core.money import Money


class Account(models.Model):
    """One per contract. `balance` is a cache of the sum of its ledger entries, changed
    only by billing.services in the same transaction as the entry; `check_balances`
    proves the two agree."""

    contract = models.OneToOneField(
        "subscribers.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="account",
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    balance = models.BigIntegerField(_("balance, kopecks"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.money}"

    @property
    def money(self) -> Money:
        return Money(self.balance, self.currency)


class LedgerEntry(models.Model):
    """Immutable. Never updated or deleted (a PostgreSQL trigger refuses both); a
    correction is a new entry that references the one it reverses."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")
        CORRECTION = "correction", _("Correction")
        PROMISED_CREDIT = "promised_credit", _("Promised payment")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount, kopecks"))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    # charge:<contract>:<date>, the provider's payment id, a webhook event id...
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=300)
    effective_date = models.DateField(_("date"))
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        indexes = [models.Index(fields=["account", "effective_date", "id"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_nonzero")
        ]

    def __str__(self) -> str:
        return f"{self.effective_date} {self.kind} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Ledger entries are immutable; post a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Ledger entries are immutable; post a correction instead.")

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)
