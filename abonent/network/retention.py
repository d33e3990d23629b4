"""How long accounting is kept (decision 0014).

- Daily traffic (`TrafficDaily`, one row per contract per day) older than
  `RETENTION_ACCOUNTING_MONTHS` whole months is folded into `TrafficMonthly` and the daily
  rows are deleted. Each batch of contracts adds its days to the months and deletes
  exactly those days in one transaction, so a run that dies halfway is simply run again,
  and a second run finds nothing to do. Totals per contract per month never change.
- Loaded FreeRADIUS detail files (`*.done` in `RADIUS_DETAIL_DIR`: every raw
  Interim-Update) go after the same number of months.
- Sessions (login, NAS, IP, start, stop, octets: the connection records the law on
  communications asks an operator to keep for three years) are deleted
  `RETENTION_SESSION_YEARS` after they ended, in batches.

`run(dry_run=True)` counts what a run would do and changes nothing."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from abonent.core import clock

from .models import Session, TrafficDaily, TrafficMonthly

logger = logging.getLogger("abonent.retention")
CONTRACTS_PER_BATCH = 200
SESSIONS_PER_BATCH = 5000
# Accounting may still arrive for the last 31 days (`detail._day`): a month is folded
# only once nothing can be added to it any more.
MIN_MONTHS = 2


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    cutoff_day: dt.date  # daily rows before it are folded into months
    cutoff_session: dt.datetime  # sessions that ended before it are deleted
    contracts: int = 0
    days_folded: int = 0
    months_written: int = 0
    sessions_deleted: int = 0
    files_deleted: int = 0
    dry_run: bool = False


def months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def years_back(moment: dt.datetime, years: int) -> dt.datetime:
    """The same moment `years` years earlier (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def traffic_cutoff(today: dt.date | None = None) -> dt.date:
    """Days before this one are kept by month only."""
    months = max(MIN_MONTHS, settings.RETENTION_ACCOUNTING_MONTHS)
    return months_back(today or clock.today(), months)


def session_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Sessions that ended before this moment are deleted."""
    return years_back(now or clock.now(), max(1, settings.RETENTION_SESSION_YEARS))


def _contracts_with_old_days(cutoff: dt.date, after: int) -> list[int]:
    return list(
        TrafficDaily.objects.filter(day__lt=cutoff, contract_id__gt=after)
        .order_by("contract_id")
        .values_list("contract_id", flat=True)
        .distinct()[:CONTRACTS_PER_BATCH]
    )


@transaction.atomic
def fold_days(contract_ids: list[int], cutoff: dt.date) -> tuple[int, int]:
    """Add these contracts' days before `cutoff` to their months and delete the days,
    in one transaction. The rows are locked and summed in Python, and exactly the rows
    summed are deleted: a concurrent run waits, then finds them gone. Returns (days
    folded, months written)."""
    days = list(
        TrafficDaily.objects.select_for_update()
        .filter(contract_id__in=contract_ids, day__lt=cutoff)
        .order_by("id")
        .values_list("id", "contract_id", "day", "bytes_in", "bytes_out")
    )
    if not days:
        return 0, 0
    sums: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for _pk, contract_id, day, bytes_in, bytes_out in days:
        total = sums[(contract_id, day.replace(day=1))]
        total[0] += bytes_in
        total[1] += bytes_out
    existing = {
        (row.contract_id, row.month): row
        for row in TrafficMonthly.objects.select_for_update().filter(
            contract_id__in={c for c, _m in sums}, month__in={m for _c, m in sums}
        )
    }
    new, changed = [], []
    for (contract_id, month), (bytes_in, bytes_out) in sums.items():
        row = existing.get((contract_id, month))
        if row is None:
            new.append(
                TrafficMonthly(
                    contract_id=contract_id, month=month, bytes_in=bytes_in, bytes_out=bytes_out
                )
            )
        else:
            row.bytes_in += bytes_in
            row.bytes_out += bytes_out
            changed.append(row)
    TrafficMonthly.objects.bulk_create(new)
    TrafficMonthly.objects.bulk_update(changed, ["bytes_in", "bytes_out"])
    TrafficDaily.objects.filter(pk__in=[row[0] for row in days]).delete()
    return len(days), len(sums)


def aggregate_traffic(report: Report) -> None:
    """Fold every contract's old days, a batch of contracts at a time."""
    after = 0
    while ids := _contracts_with_old_days(report.cutoff_day, after):
        after = ids[-1]
        report.contracts += len(ids)
        if report.dry_run:
            report.days_folded += TrafficDaily.objects.filter(
                contract_id__in=ids, day__lt=report.cutoff_day
            ).count()
            continue
        folded, months = fold_days(ids, report.cutoff_day)
        report.days_folded += folded
        report.months_written += months


def purge_sessions(report: Report) -> None:
    """Delete sessions that ended before the cutoff, oldest first, in batches (an open
    session is never deleted). The CoA log keeps its rows, without the session link."""
    old = Session.objects.filter(stopped_at__lt=report.cutoff_session)
    if report.dry_run:
        report.sessions_deleted = old.count()
        return
    while ids := list(old.order_by("id").values_list("id", flat=True)[:SESSIONS_PER_BATCH]):
        with transaction.atomic():
            deleted, _by_model = Session.objects.filter(
                pk__in=ids, stopped_at__lt=report.cutoff_session
            ).delete()
        report.sessions_deleted += deleted


def purge_detail_files(report: Report, directory: Path | None = None) -> None:
    """Loaded detail files (`*.done`) last changed before the traffic cutoff. Files not
    loaded yet are never touched."""
    folder = directory or (Path(settings.RADIUS_DETAIL_DIR) if settings.RADIUS_DETAIL_DIR else None)
    if folder is None or not folder.is_dir():
        return
    cutoff = dt.datetime.combine(report.cutoff_day, dt.time(), tzinfo=dt.UTC).timestamp()
    for path in sorted(folder.glob("detail-*.done")):
        if path.stat().st_mtime >= cutoff:
            continue
        report.files_deleted += 1
        if not report.dry_run:
            path.unlink(missing_ok=True)


def run(*, dry_run: bool = False) -> Report:
    """The nightly job and `manage.py retention`: safe to run twice, or again after a
    crash."""
    started = time.monotonic()
    report = Report(cutoff_day=traffic_cutoff(), cutoff_session=session_cutoff(), dry_run=dry_run)
    aggregate_traffic(report)
    purge_sessions(report)
    purge_detail_files(report)
    logger.info(
        "accounting retention%s: %d day row(s) of %d contract(s) into %d month(s) before %s, "
        "%d session(s) ended before %s, %d detail file(s), %.1f s",
        " (dry run)" if dry_run else "",
        report.days_folded,
        report.contracts,
        report.months_written,
        report.cutoff_day,
        report.sessions_deleted,
        report.cutoff_session,
        report.files_deleted,
        time.monotonic() - started,
    )
    return report
