"""Which notices the subscriber wants by which channel (the cabinet's profile form)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from abonent.notifications import preferences

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
