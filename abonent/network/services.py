"""The one door through which access changes reach the network. Billing, suspensions
and staff call `apply_access` after a contract's status, tariff or add-ons change; the
job sends CoA / Disconnect-Request to the routers of the contracts' open sessions."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from .models import PendingPush

logger = logging.getLogger("abonent.network")


class Relogin:
    """Changes a CoA cannot fully carry, so the session is also ended (the subscriber's
    router logs in again at once and gets the new answer)."""

    NONE = ""
    GARDEN = "garden"  # into or out of the walled garden
    ADDRESS = "address"  # a static IP given or taken


def apply_access(contract_ids: Iterable[int], reason: str, *, relogin: str = Relogin.NONE) -> None:
    """Call inside the transaction that changed the contracts: the decision table is
    rewritten in it (a blocked subscriber cannot log in on the old answer even for a
    moment), the routers are told once it commits. `relogin` (`coa.Relogin`): the
    change also needs a new login on some routers (walled garden, static IP)."""
    from . import grants

    ids = sorted(set(contract_ids))
    if not ids:
        return
    grants.sync(ids)
    pending = PendingPush.objects.create(contract_ids=ids, reason=reason[:100], relogin=relogin)

    def push() -> None:
        logger.info("access change for %d contract(s): %s", len(ids), reason)
        from .tasks import push_access

        push_access(ids, reason, relogin, pending=pending.pk)

    # robust: a queue (Redis) outage must not fail the committed change; the decision
    # table is current, and the pending row is pushed by `retry_access_pushes` once the
    # queue is back (a blocked subscriber's open session must not keep the internet, a
    # paying one's must not stay in the walled garden until the next login).
    transaction.on_commit(push, robust=True)


def issue_credential(contract_id: int, login: str) -> None:
    """PPPoE credentials for a new contract: the contract number as login and a random
    password (printed in the contract; staff can change it)."""
    from abonent.accounts import passwords

    from . import grants
    from .models import Credential

    Credential.objects.create(contract_id=contract_id, login=login, password=passwords.generate(8))
    grants.sync([contract_id])


def credentials_changed(contract_id: int) -> None:
    """After staff change a login, password or static IP: new decision, and the open
    session gets it (a CoA; a Disconnect if the NAS refuses)."""
    apply_access([contract_id], "credentials changed", relogin=Relogin.ADDRESS)
