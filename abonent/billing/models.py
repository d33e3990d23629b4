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
    # The day the balance went below zero (for grace days); cleared when it recovers.
    debt_since = models.DateField(_("in debt since"), null=True, blank=True)
    # Charging starts on this day (an imported contract: the previous billing system
    # already charged the current period, and its opening balance says so).
    billing_starts_on = models.DateField(_("charged from"), null=True, blank=True)
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

    # No single-column index: (account, effective_date, id) below serves every lookup by
    # account, and each index is paid for on every one of the millions of inserts.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
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
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        indexes = [
            models.Index(fields=["account", "effective_date", "id"]),
            # Reports read the whole ledger by date (revenue, payments by day).
            models.Index(fields=["effective_date", "kind"]),
        ]
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


class BillingRun(models.Model):
    """One execution of the daily billing for a date: a row with status and counters,
    like a job in NetBox. Re-running a date is safe: every charge has its key."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    date = models.DateField(_("billing date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    contracts_total = models.PositiveIntegerField(_("contracts"), default=0)
    contracts_done = models.PositiveIntegerField(_("contracts processed"), default=0)
    last_contract_id = models.BigIntegerField(_("processed up to contract id"), default=0)
    charges_created = models.PositiveIntegerField(_("charges created"), default=0)
    amount_charged = models.BigIntegerField(_("amount charged, kopecks"), default=0)
    blocked = models.PositiveIntegerField(_("blocked for debt"), default=0)
    reminders = models.PositiveIntegerField(_("reminders queued"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.status}"


class TariffChange(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        APPLIED = "applied", _("Applied")
        CANCELLED = "cancelled", _("Cancelled")

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="tariff_changes"
    )
    from_tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    to_tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    effective_date = models.DateField(_("takes effect"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    fee = models.BigIntegerField(_("fee, kopecks"), default=0)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("tariff change")
        verbose_name_plural = _("tariff changes")
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(status="scheduled"),
                name="one_scheduled_change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.from_tariff_id} → {self.to_tariff_id} on {self.effective_date}"


class Suspension(models.Model):
    """Voluntary suspension (freeze): [start_date, end_date] inclusive."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("Active")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="suspensions"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    fee = models.BigIntegerField(_("fee, kopecks"), default=0)
    ended_on = models.DateField(_("actually ended"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)

    class Meta:
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="suspension_dates"
            ),
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(status__in=["scheduled", "active"]),
                name="one_open_suspension",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.start_date}–{self.end_date} {self.status}"

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class PromisedPayment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="promised_payments"
    )
    amount = models.BigIntegerField(_("amount, kopecks"))
    fee = models.BigIntegerField(_("fee, kopecks"), default=0)
    taken_on = models.DateField(_("taken on"))
    expires_on = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("promised payment")
        verbose_name_plural = _("promised payments")
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=models.Q(status="active"), name="one_active_promise"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.amount} until {self.expires_on}"
