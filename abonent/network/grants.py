"""The decision table FreeRADIUS reads with rlm_sql (`radius_config --authorize sql`):
for every login that may connect, the check and reply attributes `radius.reply_for`
gives, per NAS vendor. Not a cache with an expiry: it is rewritten in the same
transaction as the change that alters a decision (`services.apply_access`, credential
changes), and `reconcile` compares it with `reply_for` for every contract to repair
anything written around the services (decision 0010)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from abonent.subscribers.models import Contract

from .models import Credential, Nas, RadiusAttribute
from .radius import STATIC_IP_ADDON, reply_for

logger = logging.getLogger("abonent.radius")
# (login, vendor, kind, attribute, op, value): one row of the table, value quoted.
Row = tuple[str, str, str, str, str, str]
CHUNK = 2000
ADVISORY_NAMESPACE = 0x4752  # "GR": the locks of this module
LOCK_BUCKETS = 256


def quote(value: str) -> str:
    """rlm_sql unquotes a value wrapped in quotes and expands a back-quoted one; a
    double-quoted value with its quotes and backslashes escaped arrives verbatim."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rows_for(contract: Contract, credential: Credential, static_ip_on: bool) -> set[Row]:
    per_vendor: dict[str, set[tuple[str, str, str, str]]] = {}
    for vendor in Nas.Vendor.values:
        decision = reply_for(contract, credential, vendor, static_ip_on)
        if decision.status != 200:
            return set()
        items = set()
        for name, item in decision.attributes.items():
            list_name, attribute = name.split(":", 1)
            if list_name == "control":
                items.add(("check", attribute, item["op"], quote(str(item["value"][0]))))
            else:
                items.add(("reply", attribute, ":=", quote(str(item))))
        per_vendor[vendor] = items
    common = set.intersection(*per_vendor.values())
    rows = {(credential.login, "", *item) for item in common}
    for vendor, items in per_vendor.items():
        rows |= {(credential.login, vendor, *item) for item in items - common}
    return rows


@dataclass
class Changes:
    added: int = 0
    removed: int = 0

    def __iadd__(self, other: Changes) -> Changes:
        self.added += other.added
        self.removed += other.removed
        return self


def _lock(contract_ids: list[int]) -> None:
    """Serialise writers of the same contracts' rows, in a fixed order (no deadlock).
    The lock is taken before the contracts are read, so a concurrent change commits
    first and is seen, or waits for this transaction and then writes its own decision.
    Contracts share LOCK_BUCKETS locks: a bulk load inside one transaction (seed,
    import) holds at most that many, not one per contract (PostgreSQL's lock table
    would run out)."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writer at a time anyway
    buckets = sorted({contract_id % LOCK_BUCKETS for contract_id in contract_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, b))"
            " FROM (SELECT unnest(%s::int[]) AS b ORDER BY 1) AS buckets",
            [ADVISORY_NAMESPACE, buckets],
        )


def _sync_chunk(contract_ids: list[int]) -> Changes:
    _lock(contract_ids)
    contracts = Contract.objects.filter(pk__in=contract_ids).select_related("tariff")
    credentials = {
        c.contract_id: c for c in Credential.objects.filter(contract_id__in=contract_ids)
    }
    static_on = set(
        Contract.objects.filter(
            pk__in=contract_ids,
            addons__addon__code=STATIC_IP_ADDON,
            addons__disconnected_on__isnull=True,
        ).values_list("pk", flat=True)
    )
    wanted: dict[Row, int] = {}
    for contract in contracts:
        credential = credentials.get(contract.pk)
        if credential is not None:
            for row in rows_for(contract, credential, contract.pk in static_on):
                wanted[row] = contract.pk
    stored: dict[Row, int] = {}
    for pk, *cols in RadiusAttribute.objects.filter(contract_id__in=contract_ids).values_list(
        "pk", "login", "vendor", "kind", "attribute", "op", "value"
    ):
        stored[(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])] = pk
    stale = [pk for row, pk in stored.items() if row not in wanted]
    if stale:
        RadiusAttribute.objects.filter(pk__in=stale).delete()
    new = [
        RadiusAttribute(
            contract_id=contract_id,
            login=row[0],
            vendor=row[1],
            kind=row[2],
            attribute=row[3],
            op=row[4],
            value=row[5],
        )
        for row, contract_id in wanted.items()
        if row not in stored
    ]
    RadiusAttribute.objects.bulk_create(new, batch_size=CHUNK)
    return Changes(added=len(new), removed=len(stale))


def sync(contract_ids: Iterable[int]) -> Changes:
    """Rewrite these contracts' rows from `reply_for`. Call it inside the transaction
    that changes a contract's status, tariff, add-ons or credentials."""
    ids = sorted(set(contract_ids))
    changes = Changes()
    for chunk in _chunks(ids):
        with transaction.atomic():
            changes += _sync_chunk(chunk)
    return changes


def reconcile() -> Changes:
    """Compare the whole table with `reply_for` and repair it; nothing changes when
    every write went through the services. Also fills the table after a migration."""
    ids = list(Contract.objects.order_by("pk").values_list("pk", flat=True))
    changes = sync(ids)
    if changes.added or changes.removed:
        logger.warning(
            "RADIUS decision table repaired: %d row(s) added, %d removed",
            changes.added,
            changes.removed,
        )
    return changes


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
