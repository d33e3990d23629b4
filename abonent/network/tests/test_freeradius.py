"""The product behind a real FreeRADIUS 3.2 (Debian's), started on free ports with the
configuration `radius_config` writes, driven with radclient; a pyrad server stands in
for the router's CoA port."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from pyrad import packet
from pyrad.server import RemoteHost, Server

from abonent.billing.lifecycle.suspension import suspend
from abonent.billing.services import post_entry
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.testing import free_port
from abonent.network import grants
from abonent.network.coa import dictionary
from abonent.network.management.commands.radius_config import write_config
from abonent.network.models import AccessChange, Credential, Nas, Session, TrafficDaily
from abonent.network.services import credentials_changed
from abonent.subscribers.models import Contract

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "lab-secret"


def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


class CoaServer(Server):
    """Stands in for the router: acknowledges CoA and Disconnect, remembers them."""

    def __init__(self, port: int) -> None:
        super().__init__(
            addresses=["127.0.0.1"],
            coaport=port,
            auth_enabled=False,
            acct_enabled=False,
            coa_enabled=True,
            dict=dictionary(),
            hosts={"127.0.0.1": RemoteHost("127.0.0.1", SECRET.encode(), "lab")},
        )
        self.received: list[tuple[str, dict]] = []

    def _answer(self, pkt: packet.Packet, kind: str, code: int) -> None:
        names = list(pkt.keys())  # pyrad's keys() gives the attribute names
        self.received.append((kind, {key: pkt[key][0] for key in names}))
        reply = self.CreateReplyPacket(pkt)
        reply.code = code
        self.SendReplyPacket(pkt.fd, reply)

    def HandleCoaPacket(self, pkt: packet.Packet) -> None:
        self._answer(pkt, "coa", packet.CoAACK)

    def HandleDisconnectPacket(self, pkt: packet.Packet) -> None:
        self._answer(pkt, "disconnect", packet.DisconnectACK)


def start_freeradius(directory: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["freeradius", "-X", "-d", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 15
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Ready to process requests" in line or process.poll() is not None:
            break
    assert any("Ready to process requests" in line for line in lines), "".join(lines[-30:])
    log = process.stdout
    threading.Thread(
        target=lambda: [None for _ in log], daemon=True
    ).start()  # keep draining the log
    return process


def radclient(port: int, kind: str, **attributes: str) -> str:
    body = ",".join(
        f"{k.replace('_', '-')}={v}"
        for k, v in {"NAS_IP_Address": "127.0.0.1", **attributes}.items()
    )
    result = subprocess.run(
        ["radclient", "-x", "-r", "1", "-t", "5", f"127.0.0.1:{port}", kind, SECRET],
        input=body + "\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    return result.stdout


@pytest.fixture
def authorize() -> str:
    """How FreeRADIUS decides (rlm_rest or the decision table); tests of decisions run
    with both by parametrizing this name."""
    return "rest"


@pytest.fixture
def nas_vendor() -> str:
    return Nas.Vendor.MIKROTIK


@pytest.fixture
def radius(live_server, tmp_path: Path, authorize: str, nas_vendor: str):
    if shutil.which("freeradius") is None:
        pytest.fail(
            "FreeRADIUS is not installed: run scripts/ensure-system-deps.sh (make test does)."
        )
    call_command("seed_demo", "--force", "--subscribers", "4", verbosity=0)
    coa_port = free_udp_port()
    Nas.objects.create(
        name="lab", ip="127.0.0.1", secret=SECRET, coa_port=coa_port, vendor=nas_vendor
    )
    for credential in Credential.objects.select_related("contract"):  # seed_demo issued them
        number = credential.contract.number
        credential.login, credential.password = f"p{number}", f"pw{number}"
        credential.save()
    Contract.objects.filter(number="1000004").update(status="terminated")
    grants.reconcile()  # the lab's raw writes above went around the services
    auth_port, acct_port = free_udp_port(), free_udp_port()
    directory = write_config(
        tmp_path / "raddb",
        api=live_server.url,
        listen="127.0.0.1",
        auth_port=auth_port,
        acct_port=acct_port,
        authorize=authorize,
    )
    process = start_freeradius(directory)
    coa = CoaServer(coa_port)
    threading.Thread(target=coa.Run, daemon=True).start()

    class Radius:
        auth, acct = auth_port, acct_port

        def send(self, kind: str, **attributes: str) -> str:
            return radclient(auth_port if kind == "auth" else acct_port, kind, **attributes)

    yield Radius(), coa
    process.terminate()
    process.wait(timeout=5)
    for server_socket in coa.coafds:
        server_socket.close()


BOTH = pytest.mark.parametrize("authorize", ["rest", "sql"])


@BOTH
def test_active_contract_gets_its_tariff_speed(radius):
    rad, _coa = radius
    out = rad.send("auth", User_Name="p1000001", User_Password="pw1000001")
    assert "Access-Accept" in out
    assert 'Mikrotik-Rate-Limit = "300000k/300000k"' in out


@BOTH
def test_debtor_gets_the_walled_garden_not_a_reject(radius):
    rad, _coa = radius
    out = rad.send("auth", User_Name="p1000002", User_Password="pw1000002")
    assert "Access-Accept" in out
    assert 'Mikrotik-Address-List = "abonent-blocked"' in out


@BOTH
@pytest.mark.parametrize(
    ("login", "password"),
    [("p1000001", "wrong"), ("p1000004", "pw1000004"), ("p1000003", "pw1000003"), ("nobody", "x")],
)
def test_rejects(radius, login, password):
    rad, _coa = radius
    out = rad.send("auth", User_Name=login, User_Password=password)
    assert "Access-Reject" in out
    assert "Mikrotik-Rate-Limit" not in out.split("Access-Reject", 1)[1]


@BOTH
@pytest.mark.parametrize("nas_vendor", [Nas.Vendor.ACCEL])
def test_an_accel_nas_gets_its_own_speed_attribute(radius):
    rad, _coa = radius
    out = rad.send("auth", User_Name="p1000001", User_Password="pw1000001")
    assert "Access-Accept" in out
    assert 'Filter-Id = "300000/300000"' in out
    assert "Mikrotik-Rate-Limit" not in out


@pytest.mark.parametrize("authorize", ["sql"])
def test_the_decision_table_changes_with_the_contract_at_once(radius):
    """No stale answer: a payment that unblocks, a suspension and a password change are
    what the very next Access-Request sees."""
    rad, _coa = radius
    debtor = Contract.objects.get(number="1000002")
    post_entry(
        debtor.account.pk,
        kind="payment",
        amount=1000_00,
        idempotency_key="unblock",
        description="p",
        actor=Actor.system(),
    )
    out = rad.send("auth", User_Name="p1000002", User_Password="pw1000002")
    assert 'Mikrotik-Rate-Limit = "300000k/300000k"' in out
    assert "Mikrotik-Address-List" not in out

    today = clock.today()
    suspend(debtor.pk, today, today + dt.timedelta(days=20), Actor.system())
    assert "Access-Reject" in rad.send("auth", User_Name="p1000002", User_Password="pw1000002")

    # A password rlm_sql would unquote or expand if it were stored as it is.
    tricky = "q\"u\\o'te`%{User-Name}"
    credential = Credential.objects.get(login="p1000001")
    credential.password = tricky
    credential.save()
    credentials_changed(credential.contract_id)
    quoted = tricky.replace("\\", "\\\\").replace('"', '\\"')
    assert "Access-Reject" in rad.send("auth", User_Name="p1000001", User_Password="pw1000001")
    out = rad.send("auth", User_Name="p1000001", User_Password=f'"{quoted}"')
    assert "Access-Accept" in out


def test_accounting_becomes_traffic(radius):
    rad, _coa = radius
    common = {"User_Name": "p1000001", "Acct_Session_Id": "S-1"}
    assert "Accounting-Response" in rad.send("acct", Acct_Status_Type="Start", **common)
    rad.send(
        "acct",
        Acct_Status_Type="Interim-Update",
        Acct_Input_Octets="1000",
        Acct_Output_Octets="7000",
        Acct_Output_Gigawords="1",
        **common,
    )
    rad.send(
        "acct",
        Acct_Status_Type="Interim-Update",
        Acct_Input_Octets="1000",
        Acct_Output_Octets="7000",
        Acct_Output_Gigawords="1",
        **common,
    )  # a duplicate
    rad.send(
        "acct",
        Acct_Status_Type="Stop",
        Acct_Input_Octets="3000",
        Acct_Output_Octets="9000",
        Acct_Output_Gigawords="1",
        Acct_Terminate_Cause="Lost-Carrier",
        **common,
    )
    traffic = TrafficDaily.objects.get(contract__number="1000001", day=clock.today())
    assert (traffic.bytes_in, traffic.bytes_out) == (3000, 2**32 + 9000)
    session = Session.objects.get(session_id="S-1")
    assert session.stopped_at is not None
    assert session.terminate_cause == "Lost-Carrier"


def test_a_payment_that_unblocks_sends_a_coa(radius):
    rad, coa = radius
    rad.send("acct", Acct_Status_Type="Start", User_Name="p1000002", Acct_Session_Id="S-2")
    debtor = Contract.objects.get(number="1000002")
    post_entry(
        debtor.account.pk,
        kind="payment",
        amount=1000_00,
        idempotency_key="unblock",
        description="p",
        actor=Actor.system(),
    )
    debtor.refresh_from_db()
    assert debtor.status == "active"
    deadline = time.monotonic() + 5
    while len(coa.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    kind, attributes = coa.received[0]
    assert kind == "coa"
    assert attributes["User-Name"] == "p1000002"
    assert attributes["Acct-Session-Id"] == "S-2"
    assert attributes["Mikrotik-Rate-Limit"] == "300000k/300000k"
    # MikroTik keeps the walled-garden address list until the next login: end the session.
    assert coa.received[1][0] == "disconnect"
    assert [(c.kind, c.result, c.attempts) for c in AccessChange.objects.order_by("pk")] == [
        ("coa", "ack", 1),
        ("disconnect", "ack", 1),
    ]


def test_the_local_nas_simulator_produces_traffic(radius):
    rad, _coa = radius
    TrafficDaily.objects.all().delete()  # forget seed_demo's history, count only the simulator
    call_command(
        "simulate_nas",
        "--auth-port",
        str(rad.auth),
        "--acct-port",
        str(rad.acct),
        "--subscribers",
        "2",
        "--interims",
        "1",
        "--interval",
        "0.05",
        verbosity=0,
    )
    assert TrafficDaily.objects.count() == 2
    assert (
        Session.objects.filter(stopped_at__isnull=False, terminate_cause="User-Request").count()
        == 2
    )


def test_buffered_accounting_survives_the_product_being_down_then_loads_in_bulk(tmp_path):
    """Accounting into detail files is answered while the API is unreachable; the bulk
    reader then loads it with the same rules (maxima, Stop, gigawords)."""
    from abonent.network.detail import ingest_directory

    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    Nas.objects.create(name="lab", ip="127.0.0.1", secret=SECRET)
    acct_port = free_udp_port()
    directory = write_config(
        tmp_path / "raddb",
        api="http://127.0.0.1:9",
        listen="127.0.0.1",
        auth_port=free_udp_port(),
        acct_port=acct_port,
        accounting="detail",
    )
    process = start_freeradius(directory)
    try:
        common = {"User_Name": "1000001", "Acct_Session_Id": "D-1"}
        assert "Accounting-Response" in radclient(
            acct_port, "acct", Acct_Status_Type="Start", **common
        )
        radclient(
            acct_port,
            "acct",
            Acct_Status_Type="Interim-Update",
            Acct_Input_Octets="700",
            Acct_Output_Octets="5",
            Acct_Output_Gigawords="2",
            **common,
        )
        radclient(
            acct_port,
            "acct",
            Acct_Status_Type="Interim-Update",
            Acct_Input_Octets="300",
            Acct_Output_Octets="1",
            Acct_Output_Gigawords="1",
            **common,
        )  # late, older
        radclient(
            acct_port,
            "acct",
            Acct_Status_Type="Stop",
            Acct_Input_Octets="900",
            Acct_Output_Octets="9",
            Acct_Output_Gigawords="2",
            Acct_Terminate_Cause="Lost-Carrier",
            **common,
        )
    finally:
        process.terminate()
        process.wait(timeout=5)
    assert not Session.objects.exists()  # nothing reached the database yet
    totals = ingest_directory(directory / "radacct", include_open=True)
    assert (totals["records"], totals["sessions"], totals["ignored"]) == (4, 1, 0)
    traffic = TrafficDaily.objects.get(contract__number="1000001", day=clock.today())
    assert (traffic.bytes_in, traffic.bytes_out) == (900, 2 * 2**32 + 9)
    session = Session.objects.get(session_id="D-1")
    assert session.terminate_cause == "Lost-Carrier"
    assert ingest_directory(directory / "radacct", include_open=True)["files"] == 0  # loaded once
