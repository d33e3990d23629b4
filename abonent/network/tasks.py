import datetime as dt
from pathlib import Path

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from abonent.core import clock

from . import coa
from .detail import ingest_directory
from .models import Session

STALE_AFTER = dt.timedelta(minutes=30)


@db_task(retries=3, retry_delay=10)
def push_access(contract_ids: list[int], reason: str) -> None:
    coa.push(contract_ids, reason)


@db_periodic_task(crontab(minute="*/10"))
def close_stale_sessions() -> None:
    """A session that stopped sending Interim-Updates (a NAS reboot, a lost Stop) is
    closed so "online now" and the session list stay true."""
    now = clock.now()
    Session.objects.filter(stopped_at__isnull=True, updated_at__lt=now - STALE_AFTER).update(
        stopped_at=now, terminate_cause="Stale"
    )


@db_periodic_task(crontab(minute="*"))
def ingest_buffered_accounting() -> None:
    """Every minute, when FreeRADIUS buffers accounting in detail files."""
    if settings.RADIUS_DETAIL_DIR:
        ingest_directory(Path(settings.RADIUS_DETAIL_DIR))
