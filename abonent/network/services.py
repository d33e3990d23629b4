"""The one door through which access changes reach the network. Billing, suspensions
and staff call `apply_access` after a contract's status, tariff or add-ons change; the
job sends CoA / Disconnect-Request to the routers of the contracts' open sessions."""

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
        from .tasks import push_access

        push_access(ids, reason)

    transaction.on_commit(push)


def issue_credential(contract_id: int, login: str) -> None:
    """PPPoE credentials for a new contract: the contract number as login and a random
    password (printed in the contract; staff can change it)."""
    from abonent.accounts import passwords

    from .models import Credential

    Credential.objects.create(contract_id=contract_id, login=login, password=passwords.generate(8))
