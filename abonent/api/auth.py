from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from abonent.accounts import services as accounts
from abonent.accounts import tokens
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed

from .schemas import LoginIn, PasswordChangeIn, RefreshIn, TokensOut

router = Router(tags=["auth"])


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, channel="api")


def _clean_device_name(name: str) -> str:
    if any(ord(ch) < 32 for ch in name):
        raise ValidationFailed(fields={"device_name": [_("Control characters are not allowed.")]})
    return name.strip()


@router.post("/login", auth=None, response=TokensOut, url_name="auth_login")
def login(request: HttpRequest, payload: LoginIn) -> TokensOut:
    device = _clean_device_name(payload.device_name)
    user = accounts.authenticate_subscriber(payload.contract_number, payload.password)
    anonymous = _actor(request)
    actor = Actor(user=user, channel="api", ip=anonymous.ip, user_agent=anonymous.user_agent)
    accounts.record_login(user, actor)
    pair = tokens.issue(user, actor, device_name=device)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        password_change_required=user.password_change_required,
    )


@router.post("/refresh", auth=None, response=TokensOut, url_name="auth_refresh")
def refresh(request: HttpRequest, payload: RefreshIn) -> TokensOut:
    pair = tokens.refresh(payload.refresh_token, _actor(request))
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        password_change_required=pair.token.user.password_change_required,
    )


@router.post("/logout", response={204: None}, url_name="auth_logout")
def logout(request: HttpRequest) -> Status:
    tokens.revoke(request.auth, _actor(request))  # type: ignore[attr-defined]
    return Status(204, None)


@router.post("/password", response={204: None}, url_name="auth_password")
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> Status:
    accounts.change_password(
        request.auth.user,  # type: ignore[attr-defined]
        payload.old_password,
        payload.new_password,
        _actor(request),
        keep_api_token_id=request.auth.pk,  # type: ignore[attr-defined]
    )
    return Status(204, None)
