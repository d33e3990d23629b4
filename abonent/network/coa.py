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

from .models import AccessChange, Credential, Nas, Session
from .radius import reply_for
from .services import Relogin

logger = logging.getLogger("abonent.radius")
DICTIONARY = Path(__file__).resolve().parent / "dictionary"
TIMEOUT, ATTEMPTS = 2, 3
# Results worth trying again later (the NAS did not answer, or could not be reached).
UNANSWERED = ("timeout", "error", "unreachable")


@cache
def dictionary() -> Dictionary:
    return Dictionary(str(DICTIONARY))


def _client(session: Session) -> Client:
    nas = session.nas
    client = Client(
        server=nas.ip, secret=nas.secret.encode(), dict=dictionary(), coaport=nas.coa_port
    )
    client.timeout, client.retries = TIMEOUT, 1  # retransmissions are counted below
    return client


def _send(session: Session, code: int, attributes: dict[str, str]) -> tuple[str, int]:
    """Send one request, retransmitting it (same identifier, as RFC 5176 wants) until
    answered; returns the result and how many times it went out."""
    client = _client(session)
    request = client.CreateCoAPacket(code=code)
    request["User-Name"] = session.login
    request["Acct-Session-Id"] = session.session_id
    for name, value in attributes.items():
        request[name] = value
    for attempt in range(1, ATTEMPTS + 1):
        try:
            reply = client.SendPacket(request)
        except Timeout:
            continue
        except OSError as exc:
            logger.warning("CoA to %s failed: %s", session.nas.ip, type(exc).__name__)
            return "error", attempt
        return ("ack" if reply.code in (packet.CoAACK, packet.DisconnectACK) else "nak"), attempt
    return "timeout", ATTEMPTS


def _coa_attributes(contract: Contract, credential: Credential, session: Session) -> dict[str, str]:
    decision = reply_for(contract, credential, session.nas.vendor)
    return {k.split(":", 1)[1]: v for k, v in decision.attributes.items() if k.startswith("reply:")}


def _then_disconnect(relogin: str, session: Session) -> bool:
    # MikroTik puts a login into an address list only when it logs in; Accel-PPP's
    # walled garden is the Filter-Id a CoA replaces.
    return relogin == Relogin.ADDRESS or (
        relogin == Relogin.GARDEN and session.nas.vendor == Nas.Vendor.MIKROTIK
    )


def push(contract_ids: list[int], reason: str, relogin: str = Relogin.NONE) -> list[AccessChange]:
    """For every open session of these contracts: CoA with what authorize would now
    answer; Disconnect when the answer is a reject, the NAS refuses the CoA, or the
    change needs a new login (`relogin`). A NAS that timed out is not waited for again
    in the same push. Every request sent is recorded."""
    changes = []
    unreachable: set[int] = set()
    sessions = Session.objects.filter(
        contract_id__in=contract_ids, stopped_at__isnull=True
    ).select_related("nas", "contract__tariff")
    for session in sessions:
        contract = session.contract
        credential = Credential.objects.filter(contract=contract).first()
        if contract is None or credential is None:
            continue
        requests = []
        if contract.status in (Contract.Status.TERMINATED, Contract.Status.SUSPENDED):
            requests.append("disconnect")
        else:
            if relogin != Relogin.ADDRESS:
                requests.append("coa")
            if _then_disconnect(relogin, session):
                requests.append("disconnect")
        for kind in requests:
            result, attempts = "unreachable", 0
            if session.nas_id not in unreachable:
                if kind == "coa":
                    attributes = _coa_attributes(contract, credential, session)
                    result, attempts = _send(session, packet.CoARequest, attributes)
                    if result == "nak" and "disconnect" not in requests:
                        requests.append("disconnect")  # refused: end it instead
                else:
                    result, attempts = _send(session, packet.DisconnectRequest, {})
                if result == "timeout":
                    unreachable.add(session.nas_id)
            changes.append(
                AccessChange.objects.create(
                    contract=contract,
                    session=session,
                    kind=kind,
                    reason=reason[:100],
                    result=result,
                    attempts=attempts,
                )
            )
    return changes
