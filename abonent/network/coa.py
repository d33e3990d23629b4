"""Tell the routers at once (RFC 5176): a CoA-Request with the new attributes after a
block, unblock, tariff or add-on change; a Disconnect-Request when access must end or
the NAS refuses the CoA. Every attempt is recorded."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

from abonent.subscribers.models import Contract

from .models import AccessChange, Credential, Session
from .radius import reply_for

logger = logging.getLogger("abonent.radius")
DICTIONARY = Path(__file__).resolve().parent / "dictionary"
TIMEOUT, RETRIES = 2, 2


@cache
def dictionary() -> Dictionary:
    return Dictionary(str(DICTIONARY))


def _client(session: Session) -> Client:
    nas = session.nas
    client = Client(
        server=nas.ip, secret=nas.secret.encode(), dict=dictionary(), coaport=nas.coa_port
    )
    client.timeout, client.retries = TIMEOUT, RETRIES
    return client


def _send(session: Session, code: int, attributes: dict[str, str]) -> str:
    client = _client(session)
    request = client.CreateCoAPacket(code=code)
    request["User-Name"] = session.login
    request["Acct-Session-Id"] = session.session_id
    for name, value in attributes.items():
        request[name] = value
    try:
        reply = client.SendPacket(request)
    except Timeout:
        return "timeout"
    except OSError as exc:
        logger.warning("CoA to %s failed: %s", session.nas.ip, type(exc).__name__)
        return "error"
    return "ack" if reply.code in (packet.CoAACK, packet.DisconnectACK) else "nak"


def _coa_attributes(contract: Contract, credential: Credential, session: Session) -> dict[str, str]:
    decision = reply_for(contract, credential, session.nas)
    return {k.split(":", 1)[1]: v for k, v in decision.attributes.items() if k.startswith("reply:")}


def push(contract_ids: list[int], reason: str) -> list[AccessChange]:
    """For every open session of these contracts: CoA with what authorize would now
    answer, or Disconnect when the answer is a reject (or the CoA is refused)."""
    changes = []
    sessions = Session.objects.filter(
        contract_id__in=contract_ids, stopped_at__isnull=True
    ).select_related("nas", "contract__tariff")
    for session in sessions:
        contract = session.contract
        credential = Credential.objects.filter(contract=contract).first()
        if contract is None or credential is None:
            continue
        disconnect = contract.status in (Contract.Status.TERMINATED, Contract.Status.SUSPENDED)
        kind, result = "disconnect", ""
        if not disconnect:
            kind = "coa"
            result = _send(
                session, packet.CoARequest, _coa_attributes(contract, credential, session)
            )
            if result == "nak":
                kind, disconnect = "disconnect", True
        if disconnect:
            result = _send(session, packet.DisconnectRequest, {})
        changes.append(
            AccessChange.objects.create(
                contract=contract,
                session=session,
                kind=kind,
                reason=reason[:100],
                result=result,
                attempts=1 + RETRIES,
            )
        )
    return changes
