"""Which notices the subscriber wants by which channel (the cabinet's profile form)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from abonent.notifications import preferences, push

from .schemas import StrictIn
from .security import me

router = Router(tags=["profile"])


class PreferencesIO(StrictIn):
    """`{"<event>:<channel>": true|false}`, e.g. `{"support_reply:sms": false}`."""

    choices: dict[str, bool]


@router.get("/notification-preferences", response=PreferencesIO, url_name="preferences")
def get_preferences(request: HttpRequest) -> PreferencesIO:
    return PreferencesIO(choices=preferences.current(me(request)))


@router.put("/notification-preferences", response=PreferencesIO, url_name="preferences_put")
def put_preferences(request: HttpRequest, payload: PreferencesIO) -> PreferencesIO:
    """Unknown events or channels are ignored; anything not sent stays as it was."""
    preferences.save(me(request), payload.choices)
    return PreferencesIO(choices=preferences.current(me(request)))


class PushKeys(StrictIn):
    p256dh: str
    auth: str


class PushSubscriptionIn(StrictIn):
    """What `PushManager.subscribe()` returns (`subscription.toJSON()`)."""

    endpoint: str
    keys: PushKeys
    expirationTime: int | None = None


class PushKeyOut(Schema):
    public_key: str = ""


@router.get("/push-subscriptions/key", response=PushKeyOut, url_name="push_key")
def push_key(request: HttpRequest) -> PushKeyOut:
    """The VAPID public key to subscribe with (empty: push is not configured)."""
    from django.conf import settings

    return PushKeyOut(public_key=settings.VAPID_PUBLIC_KEY)


@router.post("/push-subscriptions", response={204: None}, url_name="push_subscribe")
def push_subscribe(request: HttpRequest, payload: PushSubscriptionIn) -> Status:
    push.subscribe(
        me(request),
        payload.endpoint,
        payload.keys.p256dh,
        payload.keys.auth,
        request.META.get("HTTP_USER_AGENT", ""),
    )
    return Status(204, None)


class PushEndpointIn(StrictIn):
    endpoint: str


@router.delete("/push-subscriptions", response={204: None}, url_name="push_unsubscribe")
def push_unsubscribe(request: HttpRequest, payload: PushEndpointIn) -> Status:
    push.unsubscribe(me(request), payload.endpoint)
    return Status(204, None)
