"""Optional second factor for subscribers: after the password, a code by SMS to the
contract's phone. Used by the web login and POST /api/v1/auth/login alike."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed

from . import otp
from .models import OneTimeCode, User


def contract_phone(user: User) -> tuple[str, int]:
    contract = user.contract
    return contract.subscriber.phone, contract.pk


def send_login_code(user: User, actor: Actor) -> otp.Issued:
    phone, contract_id = contract_phone(user)
    return otp.issue(
        OneTimeCode.Purpose.LOGIN,
        phone,
        ip=actor.ip,
        user=user,
        contract_id=contract_id,
        text=lambda code: (
            gettext("Login code for your personal cabinet: %(code)s. Do not tell it to anyone.")
            % {"code": code}
        ),
    )


def confirm_login_code(request_id: str, code: str, user_id: int | None = None) -> User:
    """The subscriber whose login code this is. The web passes the user its session
    holds from the password step; the API has no session, and the request id it
    answered the password with is that proof."""
    row = otp.verify(request_id, code, OneTimeCode.Purpose.LOGIN)
    if row.user is None or (user_id is not None and row.user_id != user_id):
        raise ValidationFailed(fields={"code": [otp.BAD_CODE]})
    return row.user


@transaction.atomic
def set_enabled(user: User, enabled: bool, password: str, actor: Actor) -> None:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not password or not locked.check_password(password):
        raise ValidationFailed(fields={"password": [_("The password is incorrect.")]})
    if locked.login_sms_2fa != enabled:
        locked.login_sms_2fa = enabled
        locked.save(update_fields=["login_sms_2fa"])
        audit.record(actor, "auth.sms_2fa_" + ("on" if enabled else "off"), locked)
    user.login_sms_2fa = enabled
