"""Which events a subscriber wants by which channel. Everything is on until switched off."""

from __future__ import annotations

from collections.abc import Iterable

from abonent.accounts.models import User

from .models import Preference

EVENTS = [
    Preference.Event.SUPPORT_REPLY,
    Preference.Event.PAYMENT_RECEIVED,
    Preference.Event.LOW_BALANCE,
    Preference.Event.OUTAGE,
    Preference.Event.SERVICE_NOTICE,
]
CHANNELS = ["sms", "email", "push"]


def wants(user: User, event: str, channel: str) -> bool:
    row = Preference.objects.filter(user=user, event=event, channel=channel).first()
    return True if row is None else row.enabled


def opted_out(user_ids: Iterable[int], event: str, channel: str) -> set[int]:
    """Of these users, who switched `event` by `channel` off (one query, for bulk sends)."""
    return set(
        Preference.objects.filter(
            user_id__in=list(user_ids), event=event, channel=channel, enabled=False
        ).values_list("user_id", flat=True)
    )


def current(user: User) -> dict[str, bool]:
    """{"<event>:<channel>": on?} for every event and channel."""
    stored = {f"{p.event}:{p.channel}": p.enabled for p in Preference.objects.filter(user=user)}
    return {f"{e}:{c}": stored.get(f"{e}:{c}", True) for e in EVENTS for c in CHANNELS}


def save(user: User, choices: dict[str, bool]) -> None:
    for key, enabled in choices.items():
        event, _sep, channel = key.partition(":")
        if event in EVENTS and channel in CHANNELS:
            Preference.objects.update_or_create(
                user=user, event=event, channel=channel, defaults={"enabled": bool(enabled)}
            )
