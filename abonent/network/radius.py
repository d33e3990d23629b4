"""What FreeRADIUS asks (rlm_rest, JSON): may this login connect and with what, and
here is accounting. Decisions come from the contract: status, tariff speed, add-ons."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from abonent.core import clock
from abonent.core.observability import metrics
from abonent.subscribers.models import Contract

from .models import Credential, Nas, Session, TrafficDaily

logger = logging.getLogger("abonent.radius")
GIGAWORD = 2**32
# A single accounting update claiming more than this is not believed (10 TB).
MAX_BYTES = 10 * 1024**4
BLOCKED_RATE_KBPS = 512
WALLED_GARDEN_LIST = "abonent-blocked"
STATIC_IP_ADDON = "static-ip"
# Set by the job that closes sessions gone silent; the real Stop may still come.
STALE_CAUSE = "Stale"


@dataclass
class Decision:
    """An rlm_rest answer: HTTP status and the attributes to return."""

    status: int  # 200 accept (attributes), 401 reject, 404 unknown login
    attributes: dict[str, Any] = field(default_factory=dict)


def value(packet: dict[str, Any], name: str) -> Any:
    """rlm_rest sends each attribute as {"type": ..., "value": [...]}."""
    item = packet.get(name)
    if isinstance(item, dict):
        values = item.get("value") or []
        return values[0] if values else None
    return item


def address(packet: dict[str, Any], name: str) -> str | None:
    """An IP attribute, normalised; anything that is not an address is None (it goes
    into an inet column, where garbage would fail the whole write)."""
    try:
        return str(ipaddress.ip_address(str(value(packet, name) or "")))
    except ValueError:
        return None


def vendor_of(nas: Nas | None) -> str:
    """A login from a NAS not in the registry is answered as for MikroTik."""
    return nas.vendor if nas is not None else Nas.Vendor.MIKROTIK


def _rate(vendor: str, down_kbps: int, up_kbps: int) -> dict[str, Any]:
    if vendor == Nas.Vendor.ACCEL:
        return {"reply:Filter-Id": f"{down_kbps}/{up_kbps}"}
    # MikroTik: rx/tx from the router's side: rx = what the subscriber uploads.
    return {"reply:Mikrotik-Rate-Limit": f"{up_kbps}k/{down_kbps}k"}


def reply_for(
    contract: Contract, credential: Credential, vendor: str, static_ip_on: bool | None = None
) -> Decision:
    """The one answer for a login: what authorize returns, what a CoA pushes and what
    the decision table (`grants`) holds. `static_ip_on` spares a query in bulk."""
    if contract.status in (Contract.Status.TERMINATED, Contract.Status.SUSPENDED):
        return Decision(401)
    attrs: dict[str, Any] = {
        "control:Cleartext-Password": {
            "value": [credential.password],
            "op": ":=",
            "do_xlat": False,
        },
    }
    if contract.status == Contract.Status.BLOCKED_DEBT:
        # Not a silent reject: a walled garden where the cabinet and payment still work.
        attrs.update(_rate(vendor, BLOCKED_RATE_KBPS, BLOCKED_RATE_KBPS))
        attrs["reply:Mikrotik-Address-List"] = WALLED_GARDEN_LIST
        return Decision(200, attrs)
    tariff = contract.tariff
    attrs.update(_rate(vendor, tariff.speed_in_mbps * 1000, tariff.speed_out_mbps * 1000))
    if static_ip_on is None:
        static_ip_on = contract.addons.filter(
            addon__code=STATIC_IP_ADDON, disconnected_on__isnull=True
        ).exists()
    if credential.static_ip and static_ip_on:
        attrs["reply:Framed-IP-Address"] = credential.static_ip
    return Decision(200, attrs)


def nas_for(packet: dict[str, Any]) -> Nas | None:
    ip = address(packet, "NAS-IP-Address")
    return Nas.objects.filter(ip=ip, active=True).first() if ip else None


def authorize(packet: dict[str, Any]) -> Decision:
    login = str(value(packet, "User-Name") or "")[:64]
    credential = (
        Credential.objects.select_related("contract__tariff").filter(login=login).first()
        if login
        else None
    )
    if credential is None:
        return Decision(404)
    return reply_for(credential.contract, credential, vendor_of(nas_for(packet)))


def counter(packet: dict[str, Any], octets: str, gigawords: str) -> int | None:
    try:
        low = int(value(packet, octets) or 0)
        high = int(value(packet, gigawords) or 0)
    except (TypeError, ValueError):
        return None
    if not 0 <= low < GIGAWORD or not 0 <= high < GIGAWORD:
        return None
    total = high * GIGAWORD + low
    return total if total <= MAX_BYTES else None


def accounting(packet: dict[str, Any]) -> str:
    """Apply one accounting packet; duplicates, reordering and Stop-without-Start are
    fine. Returns what happened (for the log and the tests)."""
    metrics.RADIUS_RECORDS.labels("rest").inc()
    kind = str(value(packet, "Acct-Status-Type") or "")
    session_id = str(value(packet, "Acct-Session-Id") or "")[:64]
    nas = nas_for(packet)
    if nas is None:
        logger.warning(
            "accounting from a NAS not in the registry: %r", value(packet, "NAS-IP-Address")
        )
        return "unknown_nas"
    if kind not in ("Start", "Interim-Update", "Stop") or not session_id:
        return "ignored"
    bytes_in = counter(packet, "Acct-Input-Octets", "Acct-Input-Gigawords")
    bytes_out = counter(packet, "Acct-Output-Octets", "Acct-Output-Gigawords")
    if bytes_in is None or bytes_out is None:
        logger.warning("accounting with absurd counters ignored: %s/%s", nas.ip, session_id)
        return "bad_counters"
    login = str(value(packet, "User-Name") or "")[:64]
    now = clock.now()
    try:
        seconds = max(0, min(int(value(packet, "Acct-Session-Time") or 0), 10 * 365 * 86400))
    except (TypeError, ValueError):
        seconds = 0
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(nas=nas, session_id=session_id).first()
        if session is None:
            contract_id = (
                Credential.objects.filter(login=login).values_list("contract_id", flat=True).first()
            )
            try:
                with transaction.atomic():
                    session = Session.objects.create(
                        nas=nas,
                        session_id=session_id,
                        contract_id=contract_id,
                        login=login,
                        framed_ip=address(packet, "Framed-IP-Address"),
                        started_at=now - dt.timedelta(seconds=seconds),
                        updated_at=now,
                    )
            except IntegrityError:  # a twin packet created it just now
                session = Session.objects.select_for_update().get(nas=nas, session_id=session_id)
        if session.stopped_at is not None and kind != "Stop":
            return "after_stop"
        if session.terminate_cause == STALE_CAUSE and kind == "Stop":
            session.stopped_at = None  # the real end replaces the stale job's guess
        delta_in = max(0, bytes_in - session.bytes_in)
        delta_out = max(0, bytes_out - session.bytes_out)
        session.bytes_in = max(session.bytes_in, bytes_in)
        session.bytes_out = max(session.bytes_out, bytes_out)
        session.updated_at = now
        if kind == "Stop" and session.stopped_at is None:
            session.stopped_at = now
            session.terminate_cause = str(value(packet, "Acct-Terminate-Cause") or "")[:40]
        session.save()
        if session.contract_id and (delta_in or delta_out):
            _add_traffic(session.contract_id, clock.today(), delta_in, delta_out)
    return kind.lower()


def _add_traffic(contract_id: int, day: dt.date, bytes_in: int, bytes_out: int) -> None:
    updated = TrafficDaily.objects.filter(contract_id=contract_id, day=day).update(
        bytes_in=F("bytes_in") + bytes_in, bytes_out=F("bytes_out") + bytes_out
    )
    if not updated:
        try:
            with transaction.atomic():
                TrafficDaily.objects.create(
                    contract_id=contract_id, day=day, bytes_in=bytes_in, bytes_out=bytes_out
                )
        except IntegrityError:
            TrafficDaily.objects.filter(contract_id=contract_id, day=day).update(
                bytes_in=F("bytes_in") + bytes_in, bytes_out=F("bytes_out") + bytes_out
            )
