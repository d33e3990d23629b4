"""The daily billing run: set-based, batched, resumable, and idempotent.

For a date D it first moves the contract lifecycle forward (scheduled tariff changes,
suspensions that start or end, promised payments that expire), then charges contracts
in batches of contract ids. Each batch is one transaction. On PostgreSQL a batch is one
statement per charge kind: `INSERT … SELECT … ON CONFLICT (idempotency_key) DO NOTHING
RETURNING` feeding an `UPDATE` of the balances, so only rows really inserted move a
balance (billing.md: a re-run must not charge twice, not even the cached balance). On
SQLite the same rows are computed in Python and written inside the database-wide lock.
Then it blocks accounts past their grace days and queues reminders.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import translation

from abonent.catalog.models import AddOn, BillingPolicy
from abonent.catalog.services import prices_on, sync_current_prices
from abonent.core import clock
from abonent.core.context import Actor
from abonent.subscribers.models import Contract, ContractAddOn

from . import keys, lifecycle, notices
from .models import Account, BillingRun, LedgerEntry
from .rules import charge_amount, days_in_month

logger = logging.getLogger("abonent.billing")
JOB = Actor.system("job")
DEFAULT_BATCH = 20_000


@dataclass
class BatchResult:
    charges: int = 0
    amount: int = 0  # kopecks charged (positive)
    blocked: int = 0
    reminders: int = 0


def _amount_sql(price: str) -> str:
    """charge_amount() in SQL; %(days)s, %(last)s and %(left)s are bound per run."""
    per_day = f"(({price}) * 2 + %(days)s) / (%(days)s * 2)"
    return (
        f"CASE WHEN t.charging_mode = 'daily' THEN "
        f"  CASE WHEN %(last)s THEN ({price}) - {per_day} * (%(days)s - 1) ELSE {per_day} END "
        f"ELSE (({price}) * %(left)s * 2 + %(days)s) / (%(days)s * 2) END"
    )


def _key_sql(prefix: str) -> str:
    return f"{prefix} || CASE WHEN t.charging_mode = 'daily' THEN %(daykey)s ELSE %(monthkey)s END"


_INSERT_AND_MOVE = """
, ins AS (
    INSERT INTO billing_ledgerentry
        (account_id, kind, amount, currency, idempotency_key, description, effective_date, created_at)
    SELECT account_id, 'charge', -amount, currency, key, description, %(day)s, %(now)s
    FROM cand WHERE amount > 0
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING account_id, amount
), agg AS (
    SELECT account_id, SUM(amount) AS total, COUNT(*) AS n FROM ins GROUP BY account_id
), upd AS (
    UPDATE billing_account a SET balance = a.balance + agg.total, updated_at = %(now)s
    FROM agg WHERE a.id = agg.account_id
    RETURNING agg.n, agg.total
)
SELECT COALESCE(SUM(n), 0), COALESCE(-SUM(total), 0) FROM upd
"""

# Only code-built fragments (fixed SQL and integer VALUES) are formatted in; every
# value from data is a bound parameter. Tariff and add-on charges of a batch are one
# candidate set, so each account's balance is updated once per batch.
_CHARGE_SQL = (
    """
WITH prices(tariff_id, price) AS (VALUES {values}),
cand AS (
    SELECT a.id AS account_id, a.currency, t.name AS description,
           {tariff_amount} AS amount, {tariff_key} AS key
    FROM subscribers_contract c
    JOIN billing_account a ON a.contract_id = c.id
    JOIN catalog_tariff t ON t.id = c.tariff_id
    JOIN prices p ON p.tariff_id = c.tariff_id
    WHERE c.id >= %(lo)s AND c.id < %(hi)s AND c.status = 'active' AND c.signed_on <= %(day)s
      AND (a.billing_starts_on IS NULL OR a.billing_starts_on <= %(day)s)
  UNION ALL
    SELECT a.id, a.currency, ad.name, {addon_amount}, {addon_key}
    FROM subscribers_contractaddon ca
    JOIN subscribers_contract c ON c.id = ca.contract_id
    JOIN catalog_addon ad ON ad.id = ca.addon_id
    JOIN billing_account a ON a.contract_id = c.id
    JOIN catalog_tariff t ON t.id = c.tariff_id
    WHERE c.id >= %(lo)s AND c.id < %(hi)s AND ad.billing = 'recurring'
      AND ca.connected_on <= %(day)s AND (ca.disconnected_on IS NULL OR ca.disconnected_on > %(day)s)
      AND (a.billing_starts_on IS NULL OR a.billing_starts_on <= %(day)s)
      AND (c.status = 'active' OR (c.status = 'suspended' AND ad.charges_while_suspended))
)"""
    + _INSERT_AND_MOVE
)
_ADDON_PRICE = (
    "CASE WHEN c.status = 'suspended' THEN COALESCE(ad.suspended_price, ad.price) ELSE ad.price END"
)


def _params(day: dt.date, lo: int, hi: int) -> dict[str, Any]:
    days = days_in_month(day)
    return {
        "day": day,
        "days": days,
        "last": day.day == days,
        "left": days - day.day + 1,
        "daykey": f":{day:%Y-%m-%d}",
        "monthkey": f":{day:%Y-%m}",
        "lo": lo,
        "hi": hi,
        "now": clock.now(),
    }


def _charge_batch_postgres(day: dt.date, lo: int, hi: int, prices: dict[int, int]) -> BatchResult:
    if not prices:
        return BatchResult()
    sql = _CHARGE_SQL.format(
        values=", ".join(f"({int(t)}, {int(p)})" for t, p in prices.items()),
        tariff_amount=_amount_sql("p.price"),
        tariff_key=_key_sql("'sub:' || c.number"),
        addon_amount=_amount_sql(_ADDON_PRICE),
        addon_key=_key_sql("'addon:' || c.number || ':' || ad.code"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(day, lo, hi))
        n, total = cursor.fetchone()
    return BatchResult(charges=int(n), amount=int(total))


def _charge_batch_generic(day: dt.date, lo: int, hi: int, prices: dict[int, int]) -> BatchResult:
    """The same charges computed in Python (SQLite, where the run holds the database lock)."""
    rows: list[tuple[int, str, int, str, str]] = []  # account, currency, amount, key, description
    contracts = (
        Contract.objects.filter(id__gte=lo, id__lt=hi, signed_on__lte=day)
        .select_related("tariff", "account")
        .only(
            "id",
            "number",
            "status",
            "tariff__name",
            "tariff__charging_mode",
            "account__id",
            "account__currency",
        )
    )
    by_id: dict[int, Contract] = {}
    for c in contracts:
        by_id[c.pk] = c
        if c.status == Contract.Status.ACTIVE and c.tariff_id in prices:
            mode = c.tariff.charging_mode
            amount = charge_amount(prices[c.tariff_id], day, mode)
            rows.append(
                (
                    c.account.pk,
                    c.account.currency,
                    amount,
                    keys.subscription(c.number, day, mode),
                    c.tariff.name,
                )
            )
    links = ContractAddOn.objects.filter(
        contract_id__gte=lo,
        contract_id__lt=hi,
        connected_on__lte=day,
        addon__billing=AddOn.Billing.RECURRING,
    ).select_related("addon")
    for link in links:
        if link.disconnected_on is not None and link.disconnected_on <= day:
            continue
        owner = by_id.get(link.contract_id)
        if owner is None:
            continue
        c = owner
        addon = link.addon
        if c.status == Contract.Status.SUSPENDED and addon.charges_while_suspended:
            price = addon.suspended_price if addon.suspended_price is not None else addon.price
        elif c.status == Contract.Status.ACTIVE:
            price = addon.price
        else:
            continue
        mode = c.tariff.charging_mode
        rows.append(
            (
                c.account.pk,
                c.account.currency,
                charge_amount(price, day, mode),
                keys.addon(c.number, addon.code, day, mode),
                addon.name,
            )
        )
    rows = [r for r in rows if r[2] > 0]
    existing = set(
        LedgerEntry.objects.filter(idempotency_key__in=[r[3] for r in rows]).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [r for r in rows if r[3] not in existing]
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account_id=a,
                currency=cur,
                kind=LedgerEntry.Kind.CHARGE,
                amount=-amt,
                idempotency_key=key,
                description=desc,
                effective_date=day,
            )
            for a, cur, amt, key, desc in fresh
        ]
    )
    totals: dict[int, int] = {}
    for a, _cur, amt, _key, _desc in fresh:
        totals[a] = totals.get(a, 0) + amt
    for account_id, total in totals.items():
        Account.objects.filter(pk=account_id).update(balance=F("balance") - total)
    return BatchResult(charges=len(fresh), amount=sum(totals.values()))


def charge_batch(day: dt.date, lo: int, hi: int, prices: dict[int, int]) -> BatchResult:
    if connection.vendor == "postgresql":
        return _charge_batch_postgres(day, lo, hi, prices)
    return _charge_batch_generic(day, lo, hi, prices)


def run_billing(
    day: dt.date,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    stop_after_batches: int | None = None,
    pause: float = 0.0,
) -> BillingRun:
    """Bill `day`. Safe to run again, also after a crash halfway: every charge has its key.
    `stop_after_batches` exists for the crash tests."""
    run = BillingRun.objects.create(
        date=day, status=BillingRun.Status.RUNNING, started_at=clock.now()
    )
    try:
        with translation.override("ru"):
            _run(run, day, batch_size, progress, stop_after_batches, pause)
    except BaseException as exc:
        try:
            BillingRun.objects.filter(pk=run.pk).update(
                status=BillingRun.Status.FAILED, finished_at=clock.now(), error=repr(exc)[:2000]
            )
        except DatabaseError:
            # The database itself went away (a restart): the row stays "running", like
            # after a kill, and the caller sees the original error, not this one.
            logger.warning("billing %s: could not record the failure", day, exc_info=True)
        raise
    return run


def _run(
    run: BillingRun,
    day: dt.date,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    stop_after_batches: int | None,
    pause: float,
) -> None:
    sync_current_prices(day)
    lifecycle.advance(day, JOB)
    prices = prices_on(day)
    policy = BillingPolicy.current()
    bounds = Contract.objects.aggregate(lo=Min("id"), hi=Max("id"))
    run.contracts_total = Contract.objects.exclude(status=Contract.Status.TERMINATED).count()
    run.save(update_fields=["contracts_total"])
    if bounds["lo"] is None:
        _finish(run)
        return
    lo, hi = bounds["lo"], bounds["hi"] + 1
    for batches, start in enumerate(range(lo, hi, batch_size), start=1):
        end = min(start + batch_size, hi)
        with transaction.atomic():
            result = charge_batch(day, start, end, prices)
            result.blocked = notices.block_debtors(day, start, end, JOB)
            result.reminders = notices.queue_reminders(day, start, end, policy)
            done = (
                Contract.objects.filter(id__gte=start, id__lt=end)
                .exclude(status=Contract.Status.TERMINATED)
                .count()
            )
            BillingRun.objects.filter(pk=run.pk).update(
                contracts_done=F("contracts_done") + done,
                last_contract_id=end - 1,
                charges_created=F("charges_created") + result.charges,
                amount_charged=F("amount_charged") + result.amount,
                blocked=F("blocked") + result.blocked,
                reminders=F("reminders") + result.reminders,
            )
        if progress:
            progress(done, run.contracts_total)
        if stop_after_batches is not None and batches >= stop_after_batches:
            raise RuntimeError("stopped on request (crash test)")
        if pause:
            time.sleep(pause)  # leave the database room for live traffic
    _finish(run)


def _finish(run: BillingRun) -> None:
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DONE, finished_at=clock.now()
    )
    run.refresh_from_db()
    logger.info(
        "billing %s: %d charges, %d kopecks, %d blocked, %d reminders",
        run.date,
        run.charges_created,
        run.amount_charged,
        run.blocked,
        run.reminders,
    )
