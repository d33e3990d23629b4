"""After charging a batch: block who is in debt past the grace days, and queue the
"money runs out in N days" reminders. Set-based filters; Python only for the few rows
that match."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, ngettext

from abonent.catalog.models import AddOn, BillingPolicy, ChargingMode, Tariff
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.models import AuditLog
from abonent.network.services import Relogin, apply_access
from abonent.notifications import services as notifications
from abonent.notifications.gateways import get_gateway
from abonent.subscribers.models import Contract

from .models import Account


def block_debtors(day: dt.date, lo: int, hi: int, actor: Actor) -> int:
    in_batch = {"contract_id__gte": lo, "contract_id__lt": hi}
    Account.objects.filter(**in_batch, balance__lt=0, debt_since__isnull=True).update(
        debt_since=day
    )
    Account.objects.filter(**in_batch, balance__gte=0, debt_since__isnull=False).update(
        debt_since=None
    )
    blocked: list[int] = []
    for grace in set(Tariff.objects.values_list("grace_days", flat=True)):
        ids = list(
            Contract.objects.filter(
                id__gte=lo,
                id__lt=hi,
                status=Contract.Status.ACTIVE,
                tariff__grace_days=grace,
                account__balance__lt=0,
                account__debt_since__lte=day - dt.timedelta(days=grace),
            ).values_list("id", flat=True)
        )
        if ids:
            # A payment may have landed since the read: block only who still owes.
            Contract.objects.filter(
                id__in=ids, status=Contract.Status.ACTIVE, account__balance__lt=0
            ).update(status=Contract.Status.BLOCKED_DEBT)
            blocked += Contract.objects.filter(
                id__in=ids, status=Contract.Status.BLOCKED_DEBT
            ).values_list("id", flat=True)
    if not blocked:
        return 0
    template = gettext(
        "Internet access for contract %(number)s is blocked for debt. "
        "Top up in the personal cabinet and access returns at once."
    )
    if connection.vendor == "postgresql":
        _record_blocks_postgres(blocked, day, actor, template)
    else:
        _record_blocks_generic(blocked, day, actor, template)
    apply_access(blocked, "blocked for debt", relogin=Relogin.GARDEN)
    return len(blocked)


def _record_blocks_postgres(ids: list[int], day: dt.date, actor: Actor, template: str) -> None:
    """Audit rows and SMS notices for thousands of blocks in two statements."""
    params: dict[str, Any] = {
        "ids": ids,
        "day": day.isoformat(),
        "now": clock.now(),
        "channel": actor.channel,
        "template": template,
        "gateway": get_gateway().name,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO core_auditlog (created_at, actor_id, channel, ip, user_agent, action, object_type,
                                         object_id, contract_id, before, after)
               SELECT %(now)s, NULL, %(channel)s, NULL, '', 'contract.blocked_for_debt', 'subscribers.contract',
                      c.id::text, c.id, '{"status": "active"}'::jsonb,
                      jsonb_build_object('status', 'blocked_debt', 'date', %(day)s::text)
               FROM subscribers_contract c WHERE c.id = ANY(%(ids)s)""",
            params,
        )
        cursor.execute(
            """INSERT INTO notifications_message (channel, "to", kind, text, body, contract_id, gateway, status,
                                                 attempts, provider_id, error, created_at, sent_at,
                                                 call_code_digest, dedupe_key)
               SELECT 'sms', s.phone, 'blocked', replace(%(template)s, '%%(number)s', c.number), NULL, c.id,
                      %(gateway)s, 'queued', 0, '', '', %(now)s, NULL, '', 'blocked:' || c.id || ':' || %(day)s
               FROM subscribers_contract c JOIN subscribers_subscriber s ON s.id = c.subscriber_id
               WHERE c.id = ANY(%(ids)s)
               ON CONFLICT (dedupe_key) DO NOTHING
               RETURNING id""",
            params,
        )
        message_ids = [row[0] for row in cursor.fetchall()]
    notifications.deliver_later(message_ids)


def _record_blocks_generic(ids: list[int], day: dt.date, actor: Actor, template: str) -> None:
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=None,
            channel=actor.channel,
            action="contract.blocked_for_debt",
            object_type="subscribers.contract",
            object_id=str(cid),
            contract_id=cid,
            before={"status": "active"},
            after={"status": "blocked_debt", "date": day.isoformat()},
        )
        for cid in ids
    )
    notifications.send_bulk_sms(
        [
            (
                c.subscriber.phone,
                template % {"number": c.number},
                "blocked",
                c.pk,
                f"blocked:{c.pk}:{day:%Y-%m-%d}",
            )
            for c in Contract.objects.filter(id__in=ids).select_related("subscriber")
        ]
    )


def queue_reminders(day: dt.date, lo: int, hi: int, policy: BillingPolicy) -> int:
    """Daily-mode contracts whose balance lasts exactly one of the reminder days."""
    days = policy.reminder_day_list
    if not days:
        return 0
    # Set-based prefilter: a balance that lasts at most max(days) days is below
    # (max + 1) × the contract's own daily charge, itself at most monthly total / 28.
    recurring = Q(
        addons__disconnected_on__isnull=True, addons__addon__billing=AddOn.Billing.RECURRING
    )
    candidates = (
        Contract.objects.filter(
            id__gte=lo,
            id__lt=hi,
            status=Contract.Status.ACTIVE,
            tariff__charging_mode=ChargingMode.DAILY,
            account__balance__gte=0,
        )
        .alias(
            total=F("tariff__monthly_price")
            + Coalesce(Sum("addons__addon__price", filter=recurring), 0)
        )
        .filter(account__balance__lt=F("total") * (max(days) + 1) / 28)
        .select_related("tariff", "account", "subscriber")
        .prefetch_related("addons__addon")
    )
    items = []
    for contract in candidates:
        left = _days_left(contract, day)
        if left in days:
            items.append(
                (
                    contract.subscriber.phone,
                    ngettext(
                        "Contract %(number)s: the balance (%(balance)s) lasts %(days)d more day. "
                        "Top up in the personal cabinet to stay online.",
                        "Contract %(number)s: the balance (%(balance)s) lasts %(days)d more days. "
                        "Top up in the personal cabinet to stay online.",
                        left,
                    )
                    % {
                        "number": contract.number,
                        "balance": contract.account.money.format(),
                        "days": left,
                    },
                    "low_balance",
                    contract.pk,
                    f"reminder:{contract.pk}:{day:%Y-%m-%d}",
                )
            )
    push_low_balance(items)
    return notifications.send_bulk_sms(items)


def push_low_balance(items: list[tuple[str, str, str, int, str]]) -> int:
    """The same reminders by web push, to the devices of those who have any (one query
    for the whole batch; most subscribers have none)."""
    from django.conf import settings

    from abonent.accounts.models import User
    from abonent.notifications import push

    by_contract = {contract_id: (text, key) for _phone, text, _kind, contract_id, key in items}
    users = dict(
        Contract.objects.filter(
            pk__in=by_contract, user__push_subscriptions__isnull=False
        ).values_list("pk", "user")
    )
    sent = 0
    people = User.objects.in_bulk(set(users.values()))
    for contract_id, user_id in users.items():
        text, key = by_contract[contract_id]
        sent += push.queue(
            people[user_id],
            "low_balance",
            settings.PROVIDER_NAME,
            text,
            "/payments/",
            contract_id=contract_id,
            dedupe_key=key,
        )
    return sent


def _days_left(contract: Contract, day: dt.date) -> int:
    from .selectors import daily_days_left, monthly_total

    total = monthly_total(contract)
    if total <= 0:
        return 0
    return daily_days_left(total, contract.account.balance, day + dt.timedelta(days=1), 40)
