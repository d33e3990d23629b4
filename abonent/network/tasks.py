import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from abonent.core import clock
from abonent.subscribers.models import Contract

from . import coa, grants, radius, retention
from .detail import ingest_directory
from .models import PendingPush, Session

logger = logging.getLogger("abonent.network")
STALE_AFTER = dt.timedelta(minutes=30)


RETRY_DELAYS = (30, 120, 600)  # seconds before the 2nd, 3rd and 4th push


@db_task(retries=2, retry_delay=30)  # a crash in the push itself (the database)
def push_access(
    contract_ids: list[int],
    reason: str,
    relogin: str = "",
    push: int = 1,
    pending: int | None = None,
) -> None:
    """Tell the routers; the contracts whose NAS did not answer are pushed again later
    (only those: the others already have the change). `pending`: the outbox row of the
    change (`PendingPush`), done once this push has run."""
    if pending is not None and not _claim(pending):
        return  # pushed, or being pushed, by the sweep
    try:
        changes = coa.push(contract_ids, reason, relogin)
    except Exception:
        if pending is not None:  # free for this job's retry or the sweep
            PendingPush.objects.filter(pk=pending).update(claimed_at=None)
        raise
    if pending is not None:
        PendingPush.objects.filter(pk=pending).delete()
    again = sorted({c.contract_id for c in changes if c.result in coa.UNANSWERED})
    if again and push <= len(RETRY_DELAYS):
        push_access.schedule(args=(again, reason, relogin, push + 1), delay=RETRY_DELAYS[push - 1])


# Longer than a push takes (a silent NAS costs seconds): a younger row may be in hand.
PUSH_OVERDUE_AFTER = dt.timedelta(minutes=2)
# A claim older than this was a push that died: the row is taken again.
CLAIM_LAPSES_AFTER = dt.timedelta(minutes=10)


def _unclaimed(now: dt.datetime) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LAPSES_AFTER)


def _claim(pending: int) -> bool:
    """Take the outbox row for this push; False if it is gone (pushed) or another push
    has it."""
    now = clock.now()
    return bool(PendingPush.objects.filter(_unclaimed(now), pk=pending).update(claimed_at=now))


@db_periodic_task(crontab(minute="*/2"))
@lock_task("retry-access-pushes")
def retry_access_pushes() -> None:
    """Access changes whose push job never ran (the queue was down when they committed,
    or the job died) are pushed now, oldest first."""
    now = clock.now()
    overdue = PendingPush.objects.filter(_unclaimed(now), created_at__lt=now - PUSH_OVERDUE_AFTER)
    for row in overdue.order_by("pk"):
        try:  # the job queued with the change, if it comes later, finds the row taken
            push_access.call_local(row.contract_ids, row.reason, row.relogin, pending=row.pk)
        except Exception:  # one bad row must not starve the others
            logger.exception("access push %s failed; it stays pending", row.pk)


@db_periodic_task(crontab(minute="*/10"))
def close_stale_sessions() -> None:
    """A session that stopped sending Interim-Updates (a NAS reboot, a lost Stop) is
    closed so "online now" and the session list stay true."""
    now = clock.now()
    Session.objects.filter(stopped_at__isnull=True, updated_at__lt=now - STALE_AFTER).update(
        stopped_at=now, terminate_cause=radius.STALE_CAUSE
    )


@db_periodic_task(crontab(minute="*"))
def ingest_buffered_accounting() -> None:
    """Every minute, when FreeRADIUS buffers accounting in detail files."""
    if settings.RADIUS_DETAIL_DIR:
        ingest_directory(Path(settings.RADIUS_DETAIL_DIR))


@db_periodic_task(crontab(minute="7,37"))
def reconcile_radius_decisions() -> None:
    """Repairs the decision table if anything changed a contract around the services
    (a raw UPDATE, a restored backup); logs what it had to fix. Sessions still open on
    contracts that may not connect (the NAS missed every Disconnect) are ended again."""
    grants.reconcile()
    ended = Session.objects.filter(
        stopped_at__isnull=True,
        contract__status__in=[Contract.Status.TERMINATED, Contract.Status.SUSPENDED],
    ).values_list("contract_id", flat=True)
    ids = sorted({i for i in ended if i is not None})
    if ids:
        push_access.call_local(ids, "reconcile: access has ended")


@db_periodic_task(crontab(hour="1", minute="20"))
def apply_accounting_retention() -> None:
    """Nightly (04:20 Moscow; huey's crontab is UTC): old days of traffic into months,
    sessions past the legal period and old loaded detail files deleted (decision 0014).
    Safe to run twice or after a crash."""
    retention.run()
