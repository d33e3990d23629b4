"""The one door through which access changes reach the network. Billing, suspensions
and staff call `apply_access` after a contract's status, tariff or add-ons change; the
network issue (FreeRADIUS + CoA) fills in what it does. Until then it only records the
request in the log, so every caller is already wired."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

logger = logging.getLogger("abonent.network")


def apply_access(contract_ids: Iterable[int], reason: str) -> None:
    ids = sorted(set(contract_ids))
    if not ids:
        return

    def push() -> None:
        logger.info("access change for %d contract(s): %s", len(ids), reason)

    transaction.on_commit(push)
