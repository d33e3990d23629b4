"""Buffered accounting: FreeRADIUS appends every accounting packet to a `detail` file
(one file a minute) and answers the NAS at once; this reader loads closed files into
the database in bulk. Bursts and database outages are absorbed by the files — nothing
is lost while the product is down — and a batch costs one statement, not one per packet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from abonent.core import clock
from abonent.core.observability import metrics

from . import radius
from .models import Credential, Nas

logger = logging.getLogger("abonent.radius")
BATCH = 5000
ADVISORY_LOCK = 0x4143_4354  # "ACCT"


def parse(text: str) -> list[dict[str, str]]:
    """Records of a detail file: a header line, then `\\tName = value` lines, then a
    blank line. Quoted values are unquoted."""
    records: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                records.append(current)
            current = None
            continue
        if not line.startswith(("\t", " ")):
            current = {}
            continue
        if current is None or "=" not in line:
            continue
        name, _sep, raw = line.strip().partition(" = ")
        value = raw.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        current[name.strip()] = value
    if current:
        records.append(current)
    return records


def _total(record: dict[str, str], octets: str, gigawords: str) -> int | None:
    return radius.counter(
        {octets: record.get(octets, "0"), gigawords: record.get(gigawords, "0")}, octets, gigawords
    )


def _day(record: dict[str, str], today: dt.date) -> dt.date:
    """The day the traffic belongs to: when FreeRADIUS received the packet (the detail
    record's Timestamp), not when the file is loaded, so the last minute before midnight
    stays on its day. A missing or implausible stamp means today."""
    try:
        stamp = dt.datetime.fromtimestamp(int(record.get("Timestamp", "")), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return today
    day = timezone.localdate(stamp)
    return day if today - dt.timedelta(days=31) <= day <= today else today


def ingest(records: Iterable[dict[str, str]]) -> dict[str, int]:
    """Load accounting records; returns counts. Per session only the highest counters
    matter (counters only grow), so a batch collapses to one row per session first."""
    stats = {"records": 0, "sessions": 0, "ignored": 0}
    nas_ids = {n.ip: n.pk for n in Nas.objects.filter(active=True)}
    today = clock.today()
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for record in records:
        stats["records"] += 1
        nas_id = nas_ids.get(radius.address(record, "NAS-IP-Address") or "")
        kind = record.get("Acct-Status-Type", "")
        session_id = record.get("Acct-Session-Id", "")[:64]
        bytes_in = _total(record, "Acct-Input-Octets", "Acct-Input-Gigawords")
        bytes_out = _total(record, "Acct-Output-Octets", "Acct-Output-Gigawords")
        if (
            nas_id is None
            or kind not in ("Start", "Interim-Update", "Stop")
            or not session_id
            or bytes_in is None
            or bytes_out is None
        ):
            stats["ignored"] += 1
            continue
        key = (nas_id, session_id)
        row = latest.setdefault(
            key,
            {
                "login": record.get("User-Name", "")[:64],
                "bytes_in": 0,
                "bytes_out": 0,
                "stop": False,
                "cause": "",
                "ip": radius.address(record, "Framed-IP-Address"),
                "seconds": 0,
                "day": dt.date.min,
            },
        )
        row["day"] = max(row["day"], _day(record, today))  # where the highest counters fall
        row["bytes_in"] = max(row["bytes_in"], bytes_in)
        row["bytes_out"] = max(row["bytes_out"], bytes_out)
        with contextlib.suppress(ValueError):
            row["seconds"] = max(
                row["seconds"], min(int(record.get("Acct-Session-Time", "0")), 315_360_000)
            )
        if kind == "Stop":
            row["stop"], row["cause"] = True, record.get("Acct-Terminate-Cause", "")[:40]
    metrics.RADIUS_RECORDS.labels("detail").inc(stats["records"])
    if not latest:
        return stats
    logins = {row["login"] for row in latest.values()}
    contracts = dict(
        Credential.objects.filter(login__in=logins).values_list("login", "contract_id")
    )
    items = list(latest.items())
    for start in range(0, len(items), BATCH):
        _store(items[start : start + BATCH], contracts)
    stats["sessions"] = len(latest)
    return stats


# Rows already stored are locked by a statement of their own first: a locking read in
# the same statement as the upsert would skip rows that statement updates (PostgreSQL
# hides a row changed by the current command from FOR UPDATE), so `old` would come back
# empty and a replayed file would count its traffic twice. Once locked, the upsert's
# fresh snapshot reads counters nobody else can move until commit.
_LOCK_SQL = """
SELECT 1 FROM network_session s
JOIN unnest(%(nas)s::bigint[], %(session)s::text[]) AS i (nas_id, session_id)
  ON i.nas_id = s.nas_id AND i.session_id = s.session_id
ORDER BY s.id FOR UPDATE OF s
"""

_STORE_SQL = """
WITH incoming (nas_id, session_id, contract_id, login, framed_ip, started_at, bytes_in, bytes_out, stopped_at,
               terminate_cause, day) AS (
    SELECT * FROM unnest(%(nas)s::bigint[], %(session)s::text[], %(contract)s::bigint[], %(login)s::text[],
                         %(ip)s::text[], %(started)s::timestamptz[], %(bytes_in)s::bigint[],
                         %(bytes_out)s::bigint[], %(stopped)s::timestamptz[], %(cause)s::text[], %(day)s::date[])
),
old AS (
    SELECT s.nas_id, s.session_id, s.bytes_in, s.bytes_out
    FROM network_session s JOIN incoming i ON i.nas_id = s.nas_id AND i.session_id = s.session_id
), up AS (
    INSERT INTO network_session AS s (nas_id, session_id, contract_id, login, framed_ip, started_at, updated_at,
                                      stopped_at, bytes_in, bytes_out, terminate_cause)
    SELECT nas_id, session_id, contract_id, login, framed_ip::inet, started_at, %(now)s, stopped_at, bytes_in,
           bytes_out, terminate_cause
    FROM incoming
    ON CONFLICT (nas_id, session_id) DO UPDATE SET
        bytes_in = GREATEST(s.bytes_in, EXCLUDED.bytes_in),
        bytes_out = GREATEST(s.bytes_out, EXCLUDED.bytes_out),
        updated_at = EXCLUDED.updated_at,
        stopped_at = EXCLUDED.stopped_at,
        terminate_cause = EXCLUDED.terminate_cause
    -- an open session; or the real Stop of one the stale job closed (its traffic counts)
    WHERE s.stopped_at IS NULL OR (s.terminate_cause = %(stale)s AND EXCLUDED.stopped_at IS NOT NULL)
    RETURNING s.nas_id, s.session_id, s.contract_id, s.bytes_in, s.bytes_out
), delta AS (
    SELECT up.contract_id, i.day, SUM(up.bytes_in - COALESCE(old.bytes_in, 0)) AS din,
           SUM(up.bytes_out - COALESCE(old.bytes_out, 0)) AS dout
    FROM up
    JOIN incoming i ON i.nas_id = up.nas_id AND i.session_id = up.session_id
    LEFT JOIN old ON old.nas_id = up.nas_id AND old.session_id = up.session_id
    WHERE up.contract_id IS NOT NULL
    GROUP BY up.contract_id, i.day
)
INSERT INTO network_trafficdaily AS t (contract_id, day, bytes_in, bytes_out)
SELECT contract_id, day, din, dout FROM delta WHERE din > 0 OR dout > 0
ON CONFLICT (contract_id, day) DO UPDATE SET
    bytes_in = t.bytes_in + EXCLUDED.bytes_in, bytes_out = t.bytes_out + EXCLUDED.bytes_out
"""


def _store(items: list[tuple[tuple[int, str], dict[str, Any]]], contracts: dict[str, int]) -> None:
    now = clock.now()
    if connection.vendor != "postgresql":
        for (nas_id, session_id), row in items:  # SQLite: the per-packet path, same rules
            nas = Nas.objects.get(pk=nas_id)
            packet = {
                "Acct-Status-Type": "Stop" if row["stop"] else "Interim-Update",
                "Acct-Session-Id": session_id,
                "NAS-IP-Address": nas.ip,
                "User-Name": row["login"],
                "Acct-Input-Octets": row["bytes_in"] % 2**32,
                "Acct-Input-Gigawords": row["bytes_in"] // 2**32,
                "Acct-Output-Octets": row["bytes_out"] % 2**32,
                "Acct-Output-Gigawords": row["bytes_out"] // 2**32,
                "Acct-Session-Time": row["seconds"],
                "Acct-Terminate-Cause": row["cause"],
                "Framed-IP-Address": row["ip"],
            }
            radius.accounting({k: {"value": [v]} for k, v in packet.items()})
        return
    # One array per column: the statement stays small however big the batch is.
    rows = [row for _key, row in items]
    params: dict[str, Any] = {
        "now": now,
        "stale": radius.STALE_CAUSE,
        "day": [row["day"] for row in rows],
        "nas": [nas_id for (nas_id, _session), _row in items],
        "session": [session for (_nas, session), _row in items],
        "contract": [contracts.get(row["login"]) for row in rows],
        "login": [row["login"] for row in rows],
        "ip": [row["ip"] for row in rows],
        "started": [now - dt.timedelta(seconds=row["seconds"]) for row in rows],
        "bytes_in": [row["bytes_in"] for row in rows],
        "bytes_out": [row["bytes_out"] for row in rows],
        "stopped": [now if row["stop"] else None for row in rows],
        "cause": [row["cause"] for row in rows],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Ingesters queue behind each other: two batches inserting the same new session
        # at once would each count it from zero.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        cursor.execute(_LOCK_SQL, params)
        cursor.execute(_STORE_SQL, params)


def ingest_directory(
    directory: Path, *, settle_seconds: float = 2.0, include_open: bool = False
) -> dict[str, int]:
    """Load every detail file not written to for `settle_seconds` (FreeRADIUS starts a
    new file each minute), then rename it `*.done`. Safe to run again: a file is loaded
    in one go, and counters are maxima, so loading one twice changes nothing."""
    totals = {"files": 0, "records": 0, "sessions": 0, "ignored": 0}
    now = time.time()
    for path in sorted(directory.glob("detail-*")):
        if path.suffix == ".done" or (
            not include_open and now - path.stat().st_mtime < settle_seconds
        ):
            continue
        stats = ingest(parse(path.read_text(errors="replace")))
        path.rename(path.with_name(path.name + ".done"))
        totals["files"] += 1
        for key in ("records", "sessions", "ignored"):
            totals[key] += stats[key]
    if totals["ignored"]:
        logger.warning("accounting ingest ignored %d malformed record(s)", totals["ignored"])
    return totals
