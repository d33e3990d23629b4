from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PASSWORD_LENGTH = 128


class NotTheLoginValidator:
    """The contract number (the login) is printed on the contract: never a password."""

    def validate(self, password: str, user: Any = None) -> None:
        username = getattr(user, "username", "") or ""
        if username and username.strip() and username.strip() in password:
            raise ValidationError(
                _("The password must not contain your contract number."),
                code="password_contains_login",
            )

    def get_help_text(self) -> str:
        return _("The password must not contain your contract number.")


class MaximumLengthValidator:
    """Over-long passwords only cost hashing time; NIST allows a cap of 64+."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                _("The password must be at most %(max)d characters long.")
                % {"max": MAX_PASSWORD_LENGTH},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("The password must be at most %(max)d characters long.") % {
            "max": MAX_PASSWORD_LENGTH
        }
