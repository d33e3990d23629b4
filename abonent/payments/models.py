from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.core.money import Money


class Payment(models.Model):
    """A top-up through a payment provider. Card data never reaches us: the subscriber
    pays on the provider's page; we keep the provider's id and what it tells us."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        WAITING_FOR_CAPTURE = "waiting_for_capture", _("Being confirmed")
        SUCCEEDED = "succeeded", _("Paid")
        CANCELED = "canceled", _("Not paid")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.BigIntegerField(_("amount, kopecks"))
    currency = models.CharField(max_length=3, default="RUB")
    provider = models.CharField(_("provider"), max_length=20)
    provider_payment_id = models.CharField(
        _("provider's id"), max_length=100, blank=True, db_index=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    confirmation_url = models.URLField(max_length=500, blank=True)
    save_method = models.BooleanField(_("save the card for autopay"), default=False)
    cancellation_reason = models.CharField(_("why not paid"), max_length=60, blank=True)
    # The client's key: the same key twice is the same payment (and a different amount, a conflict).
    idempotency_key = models.CharField(max_length=150, unique=True)
    entry = models.OneToOneField(
        "billing.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
    )
    autopay_rule = models.ForeignKey(
        "AutopayRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    # The 54-FZ receipt data sent with the payment (the provider's cash register fiscalises it).
    receipt = models.JSONField(_("receipt"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=~models.Q(provider_payment_id=""),
                name="one_payment_per_provider_id",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_payment_id or self.public_id} {self.amount} {self.status}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class WebhookEvent(models.Model):
    """The inbox: every notification a provider sends, stored before it is acted on, with
    a unique key so a duplicate is recognised, and processed by a job."""

    provider = models.CharField(max_length=20)
    event_key = models.CharField(max_length=200)
    payload = models.JSONField()
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("provider notification")
        verbose_name_plural = _("provider notifications")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_key"], name="one_event_per_key")
        ]
        indexes = [
            # The periodic sweep of notifications whose job was lost reads only these.
            models.Index(
                fields=["received_at"],
                name="webhook_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_key}"


class ProviderCall(models.Model):
    """Every call to a provider and its answer, without secrets, for support and disputes."""

    provider = models.CharField(max_length=20)
    operation = models.CharField(max_length=40)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider}.{self.operation} {'ok' if self.ok else 'error'}"


class SandboxPayment(models.Model):
    """The sandbox provider's own side: what a real provider keeps on its servers. Only
    the sandbox provider reads or writes it."""

    provider_payment_id = models.CharField(max_length=100, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="RUB")
    description = models.CharField(max_length=300)
    return_url = models.URLField(max_length=500)
    status = models.CharField(max_length=20, default="pending")
    cancellation_reason = models.CharField(max_length=60, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sandbox {self.provider_payment_id} {self.status}"


class CashPayment(models.Model):
    """Money taken at the office cash desk; the printed receipt is made from this row."""

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="cash_payments"
    )
    amount = models.BigIntegerField(_("amount, kopecks"))
    cashier = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, related_name="cash_payment"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("cash payment")
        verbose_name_plural = _("cash payments")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="cash_amount_positive")
        ]

    def __str__(self) -> str:
        return f"cash {self.pk}: {self.amount}"

    @property
    def money(self) -> Money:
        return Money(self.amount)


class Refund(models.Model):
    """Money returned to the payer through the provider, by staff, with a reason. The
    balance is debited when the refund is booked (`entry`); the provider is asked after
    that, outside any transaction. Refused, the debit is reversed (`reversal`);
    unanswered, the refund stays pending and is asked again with the same key."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the payment service")
        DONE = "done", _("Refunded")
        REFUSED = "refused", _("Refused by the payment service")
        # No answer within the day the provider keeps a key: asking again could refund
        # twice, so staff check it in the provider's dashboard.
        UNCONFIRMED = "unconfirmed", _("Not confirmed: check in the provider's dashboard")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount, kopecks"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    provider_refund_id = models.CharField(max_length=100, blank=True)
    entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, related_name="refund_record"
    )
    reversal = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_reversed",
    )
    attempts = models.PositiveIntegerField(_("provider calls"), default=0)
    # The form's own key: a double submit or a resubmit books the refund once.
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id}"


class SavedMethod(models.Model):
    """A card the subscriber let the provider keep for autopay: we hold only the
    provider's token and a title like "Card *4444"."""

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="saved_methods"
    )
    provider = models.CharField(max_length=20)
    provider_method_id = models.CharField(max_length=100)
    title = models.CharField(_("card"), max_length=60)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=models.Q(active=True), name="one_active_method"
            )
        ]

    def __str__(self) -> str:
        return self.title


class AutopayRule(models.Model):
    """Top up automatically when the balance would not last `threshold_days` more days."""

    contract = models.OneToOneField(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="autopay"
    )
    enabled = models.BooleanField(_("on"), default=True)
    threshold_days = models.PositiveSmallIntegerField(_("when money is left for (days)"), default=3)
    amount = models.BigIntegerField(
        _("amount, kopecks"),
        null=True,
        blank=True,
        help_text=_("Empty: enough to cover the next month."),
    )
    monthly_cap = models.BigIntegerField(_("at most per month, kopecks"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    next_attempt_on = models.DateField(null=True, blank=True)
    paused_reason = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("autopay rule")
        verbose_name_plural = _("autopay rules")

    def __str__(self) -> str:
        return f"autopay {self.contract_id}"
