"""Write operations on users: subscriber login, password change, staff accounts.
The web cabinet and the API call these same functions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import CabinetDisabled, InvalidCredentials, ValidationFailed

from .models import User
from .validators import MAX_PASSWORD_LENGTH

CONTRACT_NUMBER_MAX_DIGITS = 12
_DIGITS = re.compile(r"^[0-9]+$")
_STAFF_USERNAME = re.compile(r"^(?=.*[a-z])[a-z0-9._-]{3,150}$")


@dataclass(frozen=True)
class LoginInput:
    contract_number: str
    password: str


def clean_login_input(contract_number: str | None, password: str | None) -> LoginInput:
    """Validate the shape of what was typed. Says nothing about whether the contract
    exists: every such answer comes later, and only as "number or password is wrong"."""
    errors: dict[str, list] = {}
    # NFKC turns full-width digits ("１０００００１") into ASCII ones; spaces around
    # the number, and inside it ("1 000 001"), are how people copy it from paper.
    number = unicodedata.normalize("NFKC", contract_number or "")
    number = "".join(number.split())
    if not number:
        errors["contract_number"] = [_("Enter your contract number.")]
    elif len(number) > CONTRACT_NUMBER_MAX_DIGITS or not _DIGITS.match(number):
        errors["contract_number"] = [
            _("A contract number is up to %(max)d digits, as printed in your contract.")
            % {"max": CONTRACT_NUMBER_MAX_DIGITS}
        ]
    if not password:
        errors["password"] = [_("Enter your password.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return LoginInput(number, password or "")


def authenticate_subscriber(
    contract_number: str | None, password: str | None, actor: Actor | None = None
) -> User:
    """Return the subscriber user for a contract number and password, or raise
    InvalidCredentials without saying which of the two was wrong. Throttled per contract
    number and per client address (accounts.throttle)."""
    from . import throttle

    actor = actor or Actor.system()
    data = clean_login_input(contract_number, password)
    throttle.check(data.contract_number, actor.ip)
    user = (
        User.objects.filter(username=data.contract_number, kind=User.Kind.SUBSCRIBER)
        .only(
            "id",
            "password",
            "is_active",
            "username",
            "password_change_required",
            "cabinet_enabled",
            "login_sms_2fa",
        )
        .first()
    )
    if len(data.password) > MAX_PASSWORD_LENGTH:
        ok = False  # cannot be right (we never store longer ones); don't spend a hash
    elif user is None:
        make_password(data.password)  # same work as a real check: no timing hint
        ok = False
    else:
        ok = user.check_password(data.password) and user.is_active
    if not ok or user is None:
        throttle.record_failure(data.contract_number, actor)
        raise InvalidCredentials()
    throttle.record_success(data.contract_number)
    if not user.cabinet_enabled:
        # Said only after the password proved it is the subscriber asking.
        raise CabinetDisabled()
    return user


def record_login(user: User, actor: Actor) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(last_login=clock.now())
        audit.record(actor, "auth.login", user)


def validate_new_password(user: User, new_password: str) -> None:
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"new_password": list(exc.messages)}) from exc


@transaction.atomic
def change_password(
    user: User,
    old_password: str,
    new_password: str,
    actor: Actor,
    *,
    keep_session_key: str | None = None,
    keep_api_token_id: int | None = None,
) -> None:
    """Change one's own password. Every other session ends, browsers and app devices
    alike; the one making the request (web session or API token) stays signed in."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not old_password or not locked.check_password(old_password):
        raise ValidationFailed(fields={"old_password": [_("The current password is incorrect.")]})
    if old_password == new_password:
        raise ValidationFailed(
            fields={"new_password": [_("The new password must differ from the current one.")]}
        )
    validate_new_password(locked, new_password)
    set_new_password(
        locked,
        new_password,
        must_change=False,
        keep_session_key=keep_session_key,
        keep_token_id=keep_api_token_id,
    )
    audit.record(
        actor,
        "auth.password_changed",
        locked,
        contract_id=_contract_id(locked),
        after={"password_change_required": False},
    )
    # The caller's in-memory user must carry the new hash, or Django would log the
    # current web session out too when it recomputes the session hash.
    user.password = locked.password
    user.password_change_required = False


def _contract_id(user: User) -> int | None:
    from abonent.subscribers.models import Contract

    return Contract.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()


def set_new_password(
    user: User,
    password: str,
    *,
    must_change: bool,
    keep_session_key: str | None = None,
    keep_token_id: int | None = None,
) -> None:
    """Every way a password changes (own change, recovery, hotline) ends up here: the
    cabinet is on (whoever may set the password may use it) and every other session ends."""
    from . import devices

    user.set_password(password)
    user.password_change_required = must_change
    user.cabinet_enabled = True
    user.password_changed_at = clock.now()
    user.save(
        update_fields=[
            "password",
            "password_change_required",
            "cabinet_enabled",
            "password_changed_at",
        ]
    )
    devices.end_all(user, keep_session_key=keep_session_key, keep_token_id=keep_token_id)


IDENTITY_CHECKS = {
    "contract_number": _("Contract number"),
    "full_name": _("Full name"),
    "passport": _("Passport data"),
    "address": _("Service address"),
    "birth_date": _("Date of birth"),
    "phone": _("Phone from the contract"),
}
MIN_IDENTITY_CHECKS = 2


@transaction.atomic
def issue_temporary_password(user: User, checks: list[str], actor: Actor) -> str:
    """Hotline reset: an operator who verified the caller issues a random temporary
    password (returned once, never stored in clear or logged). The subscriber must
    change it at the next login; all sessions end; cabinet access is switched back on."""
    from . import passwords, throttle
    from .permissions import require_action

    require_action(actor, "temporary_password")
    unknown = set(checks) - set(IDENTITY_CHECKS)
    if unknown or len(set(checks)) < MIN_IDENTITY_CHECKS:
        raise ValidationFailed(
            fields={"checks": [_("Mark at least two identity checks you have done.")]}
        )
    locked = User.objects.select_for_update().get(pk=user.pk, kind=User.Kind.SUBSCRIBER)
    temporary = passwords.generate()
    set_new_password(locked, temporary, must_change=True)
    throttle.lift_for_contract_after_recovery(locked.username, actor)
    audit.record(
        actor,
        "auth.temporary_password_issued",
        locked,
        contract_id=_contract_id(locked),
        after={"checks": sorted(set(checks))},
    )
    return temporary


@transaction.atomic
def opt_out_of_cabinet(user: User, password: str, actor: Actor) -> None:
    """The subscriber switches their own cabinet off. Nothing is deleted; every session
    ends; SMS recovery or staff switch it back on."""
    from . import devices

    locked = User.objects.select_for_update().get(pk=user.pk, kind=User.Kind.SUBSCRIBER)
    if not password or not locked.check_password(password):
        raise ValidationFailed(fields={"password": [_("The password is incorrect.")]})
    locked.cabinet_enabled = False
    locked.save(update_fields=["cabinet_enabled"])
    devices.end_all(locked)
    audit.record(
        actor,
        "cabinet.opted_out",
        locked,
        contract_id=_contract_id(locked),
        after={"cabinet_enabled": False},
    )


@transaction.atomic
def restore_cabinet(user: User, actor: Actor) -> None:
    from .permissions import require_action

    require_action(actor, "restore_cabinet")
    updated = User.objects.filter(
        pk=user.pk, kind=User.Kind.SUBSCRIBER, cabinet_enabled=False
    ).update(cabinet_enabled=True)
    if updated:
        audit.record(
            actor,
            "cabinet.restored",
            user,
            contract_id=_contract_id(user),
            after={"cabinet_enabled": True},
        )


def validate_staff_username(username: str) -> str:
    cleaned = username.strip().lower()
    if not _STAFF_USERNAME.match(cleaned):
        raise ValidationFailed(
            fields={
                "username": [
                    _(
                        "A staff login is 3–150 characters of Latin letters, digits, dots, "
                        "dashes or underscores, with at least one letter."
                    )
                ]
            }
        )
    return cleaned


@transaction.atomic
def create_staff_user(
    username: str, password: str, role: str, actor: Actor, *, full_name: str = ""
) -> User:
    cleaned = validate_staff_username(username)
    if role not in User.Role.values:
        raise ValidationFailed(fields={"role": [_("Unknown role.")]})
    if User.objects.filter(username=cleaned).exists():
        raise ValidationFailed(fields={"username": [_("This login is already taken.")]})
    user = User(
        username=cleaned,
        kind=User.Kind.STAFF,
        role=role,
        full_name=full_name,
        is_staff=True,
        is_superuser=role == User.Role.ADMIN,
    )
    validate_new_password(user, password)
    user.set_password(password)
    user.save()
    audit.record(actor, "staff.created", user, after={"username": cleaned, "role": role})
    return user
