from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from abonent.accounts import devices, recovery, second_factor, tokens
from abonent.accounts import services as accounts
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed

from .openapi import also
from .schemas import (
    DeviceOut,
    LoginIn,
    LoginVerifyIn,
    PasswordChangeIn,
    RecoveryCompleteIn,
    RecoveryDone,
    RecoveryStarted,
    RecoveryStartIn,
    RecoveryVerified,
    RecoveryVerifyIn,
    RefreshIn,
    SecondFactorOut,
    TokensOut,
)
from .security import api_actor, current_token, me

router = Router(tags=["auth"])


def _clean_device_name(name: str) -> str:
    if any(ord(ch) < 32 for ch in name):
        raise ValidationFailed(fields={"device_name": [_("Control characters are not allowed.")]})
    return name.strip()


def _signed_in(request: HttpRequest, user: User, device: str) -> TokensOut:
    anonymous = api_actor(request)
    actor = Actor(user=user, channel="api", ip=anonymous.ip, user_agent=anonymous.user_agent)
    accounts.record_login(user, actor)
    pair = tokens.issue(user, actor, device_name=device)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        password_change_required=user.password_change_required,
    )


@router.post(
    "/login",
    auth=None,
    response={200: TokensOut, 202: SecondFactorOut},
    url_name="auth_login",
    openapi_extra=also(401, 403),
)
def login(request: HttpRequest, payload: LoginIn) -> TokensOut | Status:
    """200 with tokens; or 202 when the subscriber has switched on the SMS second
    factor: a code is sent and `POST /auth/login/verify` finishes the login."""
    device = _clean_device_name(payload.device_name)
    user = accounts.authenticate_subscriber(
        payload.contract_number, payload.password, api_actor(request)
    )
    if user.login_sms_2fa:
        issued = second_factor.send_login_code(user, api_actor(request))
        return Status(
            202, SecondFactorOut(request_id=issued.request_id, resend_after=issued.resend_after)
        )
    return _signed_in(request, user, device)


@router.post("/login/verify", auth=None, response=TokensOut, url_name="auth_login_verify")
def login_verify(request: HttpRequest, payload: LoginVerifyIn) -> TokensOut:
    user = second_factor.confirm_login_code(payload.request_id, payload.code)
    return _signed_in(request, user, _clean_device_name(payload.device_name))


@router.post(
    "/refresh", auth=None, response=TokensOut, url_name="auth_refresh", openapi_extra=also(401)
)
def refresh(request: HttpRequest, payload: RefreshIn) -> TokensOut:
    pair = tokens.refresh(payload.refresh_token, api_actor(request))
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        password_change_required=pair.token.user.password_change_required,
    )


@router.post("/logout", response={204: None}, url_name="auth_logout")
def logout(request: HttpRequest) -> Status:
    tokens.revoke(current_token(request), api_actor(request))
    return Status(204, None)


@router.post("/password", response={204: None}, url_name="auth_password")
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> Status:
    accounts.change_password(
        me(request),
        payload.old_password,
        payload.new_password,
        api_actor(request),
        keep_api_token_id=current_token(request).pk,
    )
    return Status(204, None)


@router.post(
    "/recovery/start", auth=None, response={202: RecoveryStarted}, url_name="auth_recovery_start"
)
def recovery_start(request: HttpRequest, payload: RecoveryStartIn) -> Status:
    """Always 202 with the same shape, whether or not the phone is in a contract."""
    issued = recovery.start(payload.phone, payload.channel, api_actor(request))
    return Status(
        202,
        RecoveryStarted(
            request_id=issued.request_id, resend_after=issued.resend_after, channel=issued.channel
        ),
    )


@router.post(
    "/recovery/verify", auth=None, response=RecoveryVerified, url_name="auth_recovery_verify"
)
def recovery_verify(request: HttpRequest, payload: RecoveryVerifyIn) -> RecoveryVerified:
    token = recovery.verify(payload.request_id, payload.code)
    return RecoveryVerified(reset_token=token, contracts=recovery.contracts_for_token(token))


@router.post(
    "/recovery/complete", auth=None, response=RecoveryDone, url_name="auth_recovery_complete"
)
def recovery_complete(
    request: HttpRequest, payload: RecoveryCompleteIn
) -> RecoveryDone | JsonResponse:
    """When the phone is in several contracts and none is named: 409 with `contracts`
    to pick from; call again with `contract_number`."""
    done = recovery.complete(
        payload.reset_token,
        payload.new_password,
        api_actor(request),
        contract_number=payload.contract_number or None,
    )
    if done.user is None:
        return JsonResponse(
            {
                "error": {
                    "code": "conflict",
                    "message": str(_("This phone is in several contracts: choose one.")),
                    "fields": {"contract_number": [str(_("Choose one of your contracts."))]},
                },
                "contracts": done.contracts,
            },
            status=409,
        )
    tokens_out = _signed_in(request, done.user, _clean_device_name(payload.device_name))
    return RecoveryDone(contract_number=done.user.username, **tokens_out.dict())


@router.get("/devices", response=list[DeviceOut], url_name="auth_devices")
def device_list(request: HttpRequest) -> list[DeviceOut]:
    token = current_token(request)
    return [
        DeviceOut(**d.__dict__) for d in devices.list_devices(token.user, current_token_id=token.pk)
    ]


@router.delete("/devices/{device_id}", response={204: None}, url_name="auth_device_end")
def device_end(request: HttpRequest, device_id: str) -> Status:
    devices.end_device(me(request), device_id[:40], api_actor(request))
    return Status(204, None)
