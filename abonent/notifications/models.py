from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField


class Message(models.Model):
    """The outbox: every SMS, call and e-mail we send, with what the gateway said.
    `text` is what staff may read; a one-time code in it is masked for every gateway but
    the development console. The deliverable body is kept encrypted until it is sent,
    then wiped."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        CALL = "call", _("Flash call")
        EMAIL = "email", _("E-mail")
        PUSH = "push", _("Push notification")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254, db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    text = models.TextField(_("text"))
    body = EncryptedTextField(null=True, blank=True)
    contract_id = models.BigIntegerField(_("contract"), null=True, blank=True, db_index=True)
    gateway = models.CharField(_("gateway"), max_length=20)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(_("gateway id"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # A flash call's code comes from the gateway; only its keyed digest is kept.
    call_code_digest = models.CharField(max_length=64, blank=True)
    # Periodic notices (reminders, block notices) carry a key so a re-run sends nothing twice.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}: {self.text[:40]}"


class Preference(models.Model):
    """A subscriber's choice per event and channel; no row means the default (on)."""

    class Event(models.TextChoices):
        SUPPORT_REPLY = "support_reply", _("Replies from support")
        PAYMENT_RECEIVED = "payment_received", _("Payments received")
        LOW_BALANCE = "low_balance", _("The balance runs out soon")
        OUTAGE = "outage", _("Outages at my address")
        SERVICE_NOTICE = "service_notice", _("Service notices: prices, messages to subscribers")

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=30, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Message.Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "channel"], name="one_preference")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event} {self.channel}: {self.enabled}"


class MassOperation(models.Model):
    """A price change with its notices, or a message to a segment of contracts: a row
    with status and progress that a job works through in chunks (notifications.mass)."""

    class Kind(models.TextChoices):
        PRICE_CHANGE = "price_change", _("Price change")
        MESSAGE = "message", _("Message to subscribers")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    params = models.JSONField(_("parameters"), default=dict)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("contracts"), default=0)
    done = models.PositiveIntegerField(_("contracts done"), default=0)
    error = models.TextField(_("error"), blank=True)
    # The last contract id worked through: a job that died goes on after it.
    cursor = models.BigIntegerField(default=0)
    # The confirm form's one-time key: a double submit finds the operation it started.
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Written at the start and after every chunk: a RUNNING operation that has not been
    # heard of for a while lost its worker and is taken up again (tasks.py).
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("mass operation")
        verbose_name_plural = _("mass operations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}: {self.done}/{self.total} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class PushSubscription(models.Model):
    """A browser or installed app that accepts web push for this user (RFC 8030/8291):
    where to send, and the keys the message is encrypted to."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.endpoint[:40]}"
