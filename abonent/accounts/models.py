from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.update(kind=User.Kind.STAFF, role=User.Role.ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in. A subscriber user belongs to exactly one contract and
    logs in with its number; staff log in with a username on the staff login."""

    class Kind(models.TextChoices):
        SUBSCRIBER = "subscriber", _("Subscriber")
        STAFF = "staff", _("Staff")

    class Role(models.TextChoices):
        OPERATOR = "operator", _("Hotline operator")
        CASHIER = "cashier", _("Cashier")
        TECHNICIAN = "technician", _("Technician")
        MANAGER = "manager", _("Manager")
        ADMIN = "admin", _("Administrator")

    # For subscribers this is the contract number; staff names must contain a letter
    # (see services) so the two can never collide.
    username = models.CharField(_("login"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the back office"), default=False)
    password_change_required = models.BooleanField(_("must change password"), default=False)
    # A subscriber may switch their own cabinet off; nothing is deleted, and SMS
    # recovery or staff switch it back on.
    cabinet_enabled = models.BooleanField(_("cabinet access on"), default=True)
    # Optional second factor for subscribers: a code by SMS at each login.
    login_sms_2fa = models.BooleanField(_("code by SMS at login"), default=False)
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    date_joined = models.DateTimeField(_("created"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="staff") | models.Q(role=""),
                name="user_role_only_for_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_subscriber(self) -> bool:
        return self.kind == self.Kind.SUBSCRIBER


class ApiToken(models.Model):
    """One signed-in device of the app: a short-lived access token and a rotating
    refresh token, both stored only as SHA-256 hashes (they are 256-bit random, so a
    fast hash is enough and lookups stay a single index probe)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    device_name = models.CharField(_("device"), max_length=100, blank=True)
    access_hash = models.CharField(max_length=64, unique=True)
    refresh_hash = models.CharField(max_length=64, unique=True)
    # The refresh token this one replaced: seeing it again means it was stolen and
    # replayed, so the whole device session is revoked.
    previous_refresh_hash = models.CharField(max_length=64, blank=True, db_index=True)
    access_expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("app session")
        verbose_name_plural = _("app sessions")

    def __str__(self) -> str:
        return f"{self.user} — {self.device_name or '?'}"


class WebSession(models.Model):
    """A signed-in browser, so the subscriber can see it and end it. The session data
    itself stays in Django's session store; this row carries what people recognise."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="web_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("browser session")
        verbose_name_plural = _("browser sessions")

    def __str__(self) -> str:
        return f"{self.user} — {self.user_agent[:40]}"


class OneTimeCode(models.Model):
    """A code sent to a phone for one purpose. Stored as a keyed digest; valid 10
    minutes, single use, at most 5 wrong tries (security.md). `request_id` is the
    public handle the browser or app holds."""

    class Purpose(models.TextChoices):
        RECOVERY = "recovery", _("Password recovery")
        PHONE_CHANGE = "phone_change", _("Phone change")
        LOGIN = "login", _("Login confirmation")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        CALL = "call", _("Flash call")

    request_id = models.UUIDField(unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    phone = models.CharField(max_length=20, db_index=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_digest = models.CharField(max_length=64, blank=True)
    message = models.ForeignKey(
        "notifications.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # After a recovery code is verified: a short-lived token to set the new password.
    reset_digest = models.CharField(max_length=64, blank=True, db_index=True)
    reset_expires_at = models.DateTimeField(null=True, blank=True)
    reset_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["purpose", "phone", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.phone} {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """One failed login, counted per contract number and per client address."""

    contract_number = models.CharField(max_length=20, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.contract_number} from {self.ip}"


class LoginLock(models.Model):
    """A temporary lock after too many failures. Staff can see and lift it."""

    class Scope(models.TextChoices):
        CONTRACT = "contract", _("Contract number")
        IP = "ip", _("Client address")

    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("contract or address"), max_length=64)
    created_at = models.DateTimeField(_("locked at"))
    locked_until = models.DateTimeField(_("locked until"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    class Meta:
        verbose_name = _("login lock")
        verbose_name_plural = _("login locks")
        indexes = [models.Index(fields=["scope", "key", "locked_until"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} until {self.locked_until:%H:%M}"
