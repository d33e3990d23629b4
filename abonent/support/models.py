"""Tickets, their conversation and attachments, canned answers, SLA targets and
outages. Timers are kept on the ticket so SLA reports never recompute history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    NO_CONNECTION = "no_connection", _("No connection")
    SLOW_SPEED = "slow_speed", _("Slow speed")
    BILLING = "billing", _("Payments and balance")
    TARIFF = "tariff", _("Tariff and services")
    EQUIPMENT = "equipment", _("Equipment")
    OTHER = "other", _("Other")


class SlaTarget(models.Model):
    """How fast support answers and solves a category (calendar minutes; the clock
    stops while the ticket waits for the subscriber)."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(_("first response, minutes"))
    resolution_minutes = models.PositiveIntegerField(_("resolution, minutes"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")

    def __str__(self) -> str:
        return str(self.get_category_display())


class Outage(models.Model):
    """A known problem in an area: subscribers there see it before they write."""

    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("what subscribers are told"))
    starts_at = models.DateTimeField(_("starts"))
    expected_end_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class OutageArea(models.Model):
    """A street, or one house on it (house left empty: the whole street)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="areas")
    street = models.CharField(_("street"), max_length=200)
    house = models.CharField(_("house"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("outage area")
        verbose_name_plural = _("outage areas")

    def __str__(self) -> str:
        return f"{self.street} {self.house}".strip()


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for your answer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Origin(models.TextChoices):
        SUBSCRIBER = "subscriber", _("Subscriber")
        STAFF = "staff", _("Staff")
        LINE = "line", _("Quality control: line drops")
        BUILDING = "building", _("Quality control: building")

    OPEN = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)

    # A building ticket (several subscribers dropped at once) has no contract.
    contract = models.ForeignKey(
        "subscribers.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    house = models.CharField(_("house"), max_length=20, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    subject = models.CharField(_("subject"), max_length=150)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    origin = models.CharField(
        _("origin"), max_length=12, choices=Origin.choices, default=Origin.SUBSCRIBER
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    created_at = models.DateTimeField(_("opened"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    # SLA: targets copied at opening; pauses summed while waiting for the subscriber.
    first_response_target = models.PositiveIntegerField(default=0)  # minutes
    resolution_target = models.PositiveIntegerField(default=0)  # minutes
    paused_seconds = models.PositiveIntegerField(default=0)
    paused_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    reopened = models.PositiveSmallIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=1000, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # Proactive tickets: one per flapping line / building event.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contract", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_staff = models.BooleanField(default=False)
    internal = models.BooleanField(default=False)  # a staff note the subscriber never sees
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.text[:40]}"


def private_storage() -> Storage:
    """Attachments live outside the web root and are served only through a view that
    checks who asks."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT)


def _stored_name(_instance: Attachment, _filename: str) -> str:
    # Never the uploaded name on disk: it is only shown, never used as a path.
    return f"tickets/{uuid.uuid4().hex}"


class Attachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to=_stored_name, max_length=200)
    name = models.CharField(max_length=100)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CannedAnswer(models.Model):
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned answer")
        verbose_name_plural = _("canned answers")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
