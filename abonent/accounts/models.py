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
