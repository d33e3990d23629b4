from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField


class Nas(models.Model):
    """A router (BRAS/NAS) that asks FreeRADIUS about subscribers."""

    class Vendor(models.TextChoices):
        MIKROTIK = "mikrotik", "MikroTik"
        ACCEL = "accel", "Accel-PPP"

    name = models.CharField(_("name"), max_length=100)
    ip = models.GenericIPAddressField(_("address"), unique=True)
    secret = EncryptedCharField(_("RADIUS secret"), max_length=100)
    vendor = models.CharField(
        _("vendor"), max_length=16, choices=Vendor.choices, default=Vendor.MIKROTIK
    )
    coa_port = models.PositiveIntegerField(_("CoA port"), default=3799)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("NAS")
        verbose_name_plural = _("NAS registry")

    def __str__(self) -> str:
        return f"{self.name} ({self.ip})"


class Credential(models.Model):
    """PPPoE login and password of a contract: separate from the cabinet password, so a
    stolen cabinet password gives no network access and the other way round. Kept
    encrypted (PAP and CHAP need the clear text at the RADIUS server)."""

    contract = models.OneToOneField(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="credential"
    )
    login = models.CharField(_("PPPoE login"), max_length=64, unique=True)
    password = EncryptedCharField(_("PPPoE password"), max_length=64)
    static_ip = models.GenericIPAddressField(_("static IP"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("network credential")
        verbose_name_plural = _("network credentials")

    def __str__(self) -> str:
        return self.login


class Session(models.Model):
    """One PPPoE/IPoE session as accounting reports it. Counters are totals (octets +
    gigawords × 2³²); each update adds only its increase to the daily traffic."""

    nas = models.ForeignKey(Nas, on_delete=models.PROTECT, related_name="sessions")
    session_id = models.CharField(max_length=64)
    contract = models.ForeignKey(
        "subscribers.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="radius_sessions",
    )
    login = models.CharField(max_length=64)
    framed_ip = models.GenericIPAddressField(null=True, blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    bytes_in = models.BigIntegerField(default=0)  # from the subscriber (NAS input)
    bytes_out = models.BigIntegerField(default=0)  # to the subscriber
    terminate_cause = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.UniqueConstraint(fields=["nas", "session_id"], name="one_session_per_nas_id")
        ]
        indexes = [
            models.Index(fields=["contract", "started_at"]),
            models.Index(fields=["stopped_at", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.login}@{self.nas_id}:{self.session_id}"


class TrafficDaily(models.Model):
    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="traffic"
    )
    day = models.DateField()
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("daily traffic")
        verbose_name_plural = _("daily traffic")
        constraints = [
            models.UniqueConstraint(fields=["contract", "day"], name="one_traffic_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.day}"


class TrafficMonthly(models.Model):
    """Daily traffic older than `RETENTION_ACCOUNTING_MONTHS`, folded into its month
    (`network.retention`, decision 0014). A month is either here or still in
    `TrafficDaily`; readers add the two, so the totals never change."""

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="traffic_months"
    )
    month = models.DateField()  # its first day
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("monthly traffic")
        verbose_name_plural = _("monthly traffic")
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="one_traffic_row_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m}"


class AccessChange(models.Model):
    """A CoA or Disconnect sent to a NAS after a change, with its result (RFC 5176)."""

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.PROTECT, related_name="access_changes"
    )
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=12)  # coa | disconnect
    reason = models.CharField(max_length=100)
    result = models.CharField(max_length=12)  # ack | nak | timeout | error
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")

    def __str__(self) -> str:
        return f"{self.kind} {self.contract_id}: {self.result}"


class PendingPush(models.Model):
    """An access change the routers have not been told about yet: written in the
    transaction of the change, deleted once the push job has run. A row that outlives
    a few minutes means the job was never queued (Redis down at that moment) or died;
    `retry_access_pushes` sends it then (an outbox)."""

    contract_ids = models.JSONField()
    reason = models.CharField(max_length=100)
    relogin = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Taken by the job or the sweep that pushes it, so a slow queue does not get it
    # pushed twice (a second Disconnect would end the session the first one renewed).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("access change not yet pushed")
        verbose_name_plural = _("access changes not yet pushed")

    def __str__(self) -> str:
        return f"{self.reason}: {len(self.contract_ids)} contract(s)"


class RadiusAttribute(models.Model):
    """What FreeRADIUS reads per login when it authorises from the database
    (`radius_config --authorize sql`): the result of `radius.reply_for`, written by the
    product whenever it may change (decision 0010). A login with no rows is rejected.
    `value` is stored quoted for rlm_sql, which unquotes it (and would expand a
    back-quoted one)."""

    class Kind(models.TextChoices):
        CHECK = "check"
        REPLY = "reply"

    contract = models.ForeignKey(
        "subscribers.Contract", on_delete=models.CASCADE, related_name="radius_attributes"
    )
    login = models.CharField(max_length=64)
    vendor = models.CharField(max_length=16, blank=True)  # "" = every NAS
    kind = models.CharField(max_length=5, choices=Kind.choices)
    attribute = models.CharField(max_length=64)
    op = models.CharField(max_length=2)
    value = models.CharField(max_length=300)

    class Meta:
        verbose_name = _("RADIUS attribute")
        verbose_name_plural = _("RADIUS attributes")
        indexes = [models.Index(fields=["login", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["login", "vendor", "kind", "attribute"], name="one_radius_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.login} {self.kind} {self.attribute}"
