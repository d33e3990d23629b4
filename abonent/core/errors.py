"""Domain errors: a machine code for the API plus a translatable message for people.
Services raise them; the cabinet shows `message`, the API returns both as JSON."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "conflict"
    status = 409
    default_message: str | Promise = _("The request cannot be completed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        fields: dict[str, list[str | Promise]] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        super().__init__(str(self.message))


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = _("The contract number or password is incorrect.")


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    status = 403
    default_message = _("Please set a new password before continuing.")


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 400
    default_message = _("Please correct the errors below.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("You do not have permission to do this.")


class Throttled(DomainError):
    code = "throttled"
    status = 429
    default_message = _("Too many attempts. Please try again later.")

    def __init__(self, retry_after: int, message: str | Promise | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CabinetDisabled(DomainError):
    code = "cabinet_disabled"
    status = 403
    default_message = _(
        "Cabinet access for this contract is switched off at the subscriber's request. "
        "To switch it back on, use “Forgot password?” or call the hotline."
    )
