from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from abonent.accounts import second_factor
from abonent.accounts import services as accounts
from abonent.subscribers import services as subscribers
from abonent.subscribers.selectors import contract_for_user

from .schemas import (
    OptOutIn,
    PhoneChangeIn,
    PhoneConfirmIn,
    ProfileOut,
    ProfilePatchIn,
    RecoveryStarted,
    SecondFactorToggleIn,
)
from .security import api_actor, me

router = Router(tags=["profile"])


def _profile(request: HttpRequest) -> ProfileOut:
    user = me(request)
    contract = contract_for_user(user)
    return ProfileOut(
        contract_number=contract.number,
        full_name=contract.subscriber.full_name,
        phone=contract.subscriber.phone,
        email=contract.subscriber.email,
        login_sms_2fa=user.login_sms_2fa,
    )


@router.get("/profile", response=ProfileOut, url_name="profile")
def profile(request: HttpRequest) -> ProfileOut:
    return _profile(request)


@router.patch("/profile", response=ProfileOut, url_name="profile_patch")
def profile_patch(request: HttpRequest, payload: ProfilePatchIn) -> ProfileOut:
    if payload.email is not None:
        subscribers.change_email(me(request), payload.email, api_actor(request))
    return _profile(request)


@router.post("/profile/phone", response={202: RecoveryStarted}, url_name="profile_phone")
def phone_change(request: HttpRequest, payload: PhoneChangeIn) -> Status:
    issued = subscribers.start_phone_change(me(request), payload.phone, api_actor(request))
    return Status(
        202,
        RecoveryStarted(
            request_id=issued.request_id, resend_after=issued.resend_after, channel=issued.channel
        ),
    )


@router.post("/profile/phone/confirm", response=ProfileOut, url_name="profile_phone_confirm")
def phone_confirm(request: HttpRequest, payload: PhoneConfirmIn) -> ProfileOut:
    subscribers.confirm_phone_change(
        me(request), payload.request_id, payload.code, api_actor(request)
    )
    return _profile(request)


@router.post("/profile/second-factor", response=ProfileOut, url_name="profile_second_factor")
def second_factor_toggle(request: HttpRequest, payload: SecondFactorToggleIn) -> ProfileOut:
    second_factor.set_enabled(me(request), payload.enabled, payload.password, api_actor(request))
    return _profile(request)


@router.post("/cabinet/opt-out", response={204: None}, url_name="cabinet_opt_out")
def opt_out(request: HttpRequest, payload: OptOutIn) -> Status:
    """Switch off one's own cabinet access (all sessions end). Restored through
    recovery or by staff."""
    accounts.opt_out_of_cabinet(me(request), payload.password, api_actor(request))
    return Status(204, None)
