"""The coverage register (streets, buildings, ports, planned construction) and the way
in: applications moving through the pipeline, installation slots, and people waiting
for their house to be connected."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Street(models.Model):
    name = models.CharField(_("street"), max_length=200)  # as shown: "Невский пр."
    key = models.CharField(max_length=200, unique=True)  # addresses.street_key: "невский|пр"
    name_key = models.CharField(max_length=200, db_index=True)  # without the type

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    class Network(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        PLANNED = "planned", _("Construction planned")
        NONE = "none", _("No network")

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="buildings")
    house = models.CharField(_("house"), max_length=30)  # as shown: "10 к2 лит А"
    house_key = models.CharField(max_length=30)  # addresses.house_key: "10 к2 лит а"
    entrances = models.PositiveSmallIntegerField(_("entrances"), default=1)
    flats = models.PositiveIntegerField(_("flats"), default=0)
    network = models.CharField(
        _("network"), max_length=10, choices=Network.choices, default=Network.NONE
    )
    free_ports = models.PositiveIntegerField(_("free ports"), default=0)
    planned_on = models.DateField(_("construction planned for"), null=True, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(fields=["street", "house_key"], name="one_building_per_house")
        ]

    def __str__(self) -> str:
        return f"{self.street.name}, {self.house}"


class Coverage(models.TextChoices):
    CONNECTABLE = "connectable", _("Connectable")
    NEEDS_SURVEY = "needs_survey", _("Needs a survey")
    NOT_COVERED = "not_covered", _("Not covered")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    FEASIBLE = "feasible", _("Feasibility confirmed")
    REJECTED = "rejected", _("Not feasible")
    CALLED = "called", _("Called back")
    SIGNED = "signed", _("Contract signed")
    SCHEDULED = "scheduled", _("Installation scheduled")
    INSTALLED = "installed", _("Installed")
    ACTIVE = "active", _("Service started")
    CANCELLED = "cancelled", _("Cancelled")


class Application(models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("Web site")
        API = "api", _("Mobile app")
        OFFICE = "office", _("Office")

    class CallTime(models.TextChoices):
        ANY = "any", _("Any time")
        MORNING = "morning", _("Morning, 9–12")
        DAY = "day", _("Afternoon, 12–17")
        EVENING = "evening", _("Evening, 17–21")

    CLOSED = (Stage.REJECTED, Stage.ACTIVE, Stage.CANCELLED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    street_text = models.CharField(_("street as written"), max_length=200)
    house_text = models.CharField(_("house as written"), max_length=30)
    flat = models.CharField(_("flat"), max_length=10, blank=True)
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    tariff = models.ForeignKey(
        "catalog.Tariff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    call_time = models.CharField(
        _("preferred call time"), max_length=10, choices=CallTime.choices, default=CallTime.ANY
    )
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    consent_at = models.DateTimeField(_("personal data consent given"))
    coverage = models.CharField(_("coverage"), max_length=12, choices=Coverage.choices)
    stage = models.CharField(
        _("stage"), max_length=10, choices=Stage.choices, default=Stage.NEW, db_index=True
    )
    rejection_reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    phone_confirmed_at = models.DateTimeField(null=True, blank=True)
    contract = models.OneToOneField(
        "subscribers.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
    )
    created_at = models.DateTimeField(_("received"), db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["building", "flat", "created_at"])]
        constraints = [
            # One open application per phone and flat: a double click makes one.
            models.UniqueConstraint(
                fields=["phone", "street_text", "house_text", "flat"],
                condition=~models.Q(stage__in=["rejected", "active", "cancelled"]),
                name="one_open_application_per_phone_flat",
            )
        ]

    def __str__(self) -> str:
        return f"№{self.pk} {self.full_name}"

    @property
    def address(self) -> str:
        where = str(self.building) if self.building else f"{self.street_text}, {self.house_text}"
        return f"{where}, {_('apt.')} {self.flat}" if self.flat else where

    @property
    def is_open(self) -> bool:
        return self.stage not in self.CLOSED


class ApplicationEvent(models.Model):
    """Who moved the application to which stage, when, and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} → {self.stage}"


class InstallSlot(models.Model):
    """A technician's visit window; taken by at most one application."""

    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="install_slots"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    application = models.OneToOneField(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="slot"
    )

    class Meta:
        verbose_name = _("installation slot")
        verbose_name_plural = _("installation slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["technician", "starts_at"], name="one_slot_per_start")
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.starts_at:%d.%m %H:%M}"


class CoverageWatch(models.Model):
    """ "Tell me when my house is connected": one SMS when the building is connectable."""

    phone = models.CharField(max_length=20)
    street = models.ForeignKey(Street, null=True, blank=True, on_delete=models.CASCADE)
    street_text = models.CharField(max_length=200)
    house_key = models.CharField(max_length=30)
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "street_text", "house_key"], name="one_watch_per_phone_house"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.street_text} {self.house_key}"
