"""A stand-in router for local runs: a few demo subscribers connect through the real
FreeRADIUS (started with the configuration `radius_config` writes), send interim
updates with growing counters and hang up, so the traffic pages show live data."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pyrad import packet
from pyrad.client import Client, Timeout

from abonent.network.models import Credential, Nas

STATUS = {"Start": 1, "Stop": 2, "Interim-Update": 3}


class Command(BaseCommand):
    help = (
        "Simulate a NAS: PPPoE logins and accounting for a few demo subscribers through FreeRADIUS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--server", default="127.0.0.1")
        parser.add_argument("--auth-port", type=int, default=1812)
        parser.add_argument("--acct-port", type=int, default=1813)
        parser.add_argument("--subscribers", type=int, default=3)
        parser.add_argument("--interims", type=int, default=3)
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args: Any, **options: Any) -> None:
        nas = Nas.objects.filter(active=True).first()
        if nas is None:
            nas = Nas.objects.create(name="simulator", ip="127.0.0.1", secret=secrets.token_hex(12))
            self.stdout.write(
                "Registered NAS 127.0.0.1; regenerate the FreeRADIUS config and restart it."
            )
        client = Client(
            server=options["server"],
            authport=options["auth_port"],
            acctport=options["acct_port"],
            secret=nas.secret.encode(),
            dict=_dictionary(),
        )
        client.timeout, client.retries = 2, 1
        credentials = list(
            Credential.objects.select_related("contract").order_by("contract_id")[
                : options["subscribers"]
            ]
        )
        if not credentials:
            raise CommandError("No subscribers with network credentials: run seed_demo first.")
        sessions = []
        for credential in credentials:
            request = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=credential.login)
            request["User-Password"] = request.PwCrypt(credential.password)
            request["NAS-IP-Address"] = nas.ip
            try:
                reply = client.SendPacket(request)
            except Timeout:
                raise CommandError(
                    "FreeRADIUS does not answer: is it running with the generated config?"
                ) from None
            verdict = "accept" if reply.code == packet.AccessAccept else "reject"
            self.stdout.write(f"{credential.login}: {verdict}")
            if verdict == "accept":
                sessions.append((credential, secrets.token_hex(6)))
        for step in range(options["interims"] + 2):
            kind = (
                "Start"
                if step == 0
                else ("Stop" if step == options["interims"] + 1 else "Interim-Update")
            )
            for n, (credential, session_id) in enumerate(sessions, start=1):
                request = client.CreateAcctPacket(User_Name=credential.login)
                request["NAS-IP-Address"] = nas.ip
                request["Acct-Status-Type"] = STATUS[kind]
                request["Acct-Session-Id"] = session_id
                request["Acct-Input-Octets"] = step * n * 3_000_000
                request["Acct-Output-Octets"] = step * n * 40_000_000
                request["Acct-Session-Time"] = int(step * options["interval"])
                if kind == "Stop":
                    request["Acct-Terminate-Cause"] = 1  # User-Request
                client.SendPacket(request)
            self.stdout.write(f"{kind} sent for {len(sessions)} session(s)")
            if kind != "Stop":
                time.sleep(options["interval"])


def _dictionary() -> Any:
    """What a NAS sends in Access- and Accounting-Requests (pyrad reads single files)."""
    from pathlib import Path

    from pyrad.dictionary import Dictionary

    return Dictionary(str(Path(__file__).resolve().parent / "nas_dictionary"))
