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
from abonent.core.errors import InvalidCredentials, ValidationFailed

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


def authenticate_subscriber(contract_number: str | None, password: str | None) -> User:
    """Return the subscriber user for a contract number and password, or raise
    InvalidCredentials without saying which of the two was wrong."""
    data = clean_login_input(contract_number, password)
    user = (
        User.objects.filter(username=data.contract_number, kind=User.Kind.SUBSCRIBER)
        .only("id", "password", "is_active", "username", "password_change_required")
        .first()
    )
    if len(data.password) > MAX_PASSWORD_LENGTH:
        # Cannot be right (we never store longer ones); don't spend a hash on it.
        raise InvalidCredentials()
    if user is None:
        make_password(data.password)  # same work as a real check: no timing hint
        raise InvalidCredentials()
    if not user.check_password(data.password) or not user.is_active:
        raise InvalidCredentials()
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
    keep_api_token_id: int | None = None,
) -> None:
    """Change one's own password. Every other session ends: web sessions because the
    session auth hash changes with the password, app sessions by revoking their tokens
    (except the one making the request, when it comes through the API)."""
    from .tokens import revoke_all

    locked = User.objects.select_for_update().get(pk=user.pk)
    if not old_password or not locked.check_password(old_password):
        raise ValidationFailed(fields={"old_password": [_("The current password is incorrect.")]})
    if old_password == new_password:
        raise ValidationFailed(
            fields={"new_password": [_("The new password must differ from the current one.")]}
        )
    validate_new_password(locked, new_password)
    locked.set_password(new_password)
    locked.password_change_required = False
    locked.password_changed_at = clock.now()
    locked.save(update_fields=["password", "password_change_required", "password_changed_at"])
    revoke_all(locked, except_token_id=keep_api_token_id)
    audit.record(
        actor,
        "auth.password_changed",
        locked,
        after={"password_change_required": False},
    )
    # The caller's in-memory user must carry the new hash, or Django would log the
    # current web session out too when it recomputes the session hash.
    user.password = locked.password
    user.password_change_required = False


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
