from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.template.loader import render_to_string

from abonent.network.models import Nas
from abonent.network.views import KEY_HEADER

SAFE = re.compile(r"^[A-Za-z0-9._-]{1,60}$")
PLAIN = re.compile(r"^[A-Za-z0-9._@:/+=-]{1,200}$")


def write_config(
    directory: Path,
    *,
    api: str,
    listen: str,
    auth_port: int,
    acct_port: int,
    extra_clients: list[dict[str, str]] | None = None,
    accounting: str = "rest",
    authorize: str = "rest",
) -> Path:
    """Render radiusd.conf and clients.conf into `directory` (files 0644: FreeRADIUS
    refuses world-writable configuration)."""
    directory = directory.resolve()
    if accounting not in ("rest", "detail"):
        raise CommandError("--accounting is rest or detail.")
    if authorize not in ("rest", "sql"):
        raise CommandError("--authorize is rest or sql.")
    db = conninfo() if authorize == "sql" else ""
    for sub in ("", "log", "run", "radacct"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    clients = [
        {"name": f"nas{n.pk}", "ip": n.ip, "secret": n.secret, "vendor": n.vendor}
        for n in Nas.objects.filter(active=True).order_by("pk")
    ] + [{"vendor": Nas.Vendor.MIKROTIK, **extra} for extra in extra_clients or []]
    for client in clients:
        if not SAFE.match(client["secret"]) or not SAFE.match(client["name"]):
            raise CommandError(
                f"NAS {client['name']}: use only letters, digits, '.', '_' and '-' in the secret."
            )
    context = {
        "dir": str(directory),
        "api": api.rstrip("/"),
        "listen": listen,
        "auth_port": auth_port,
        "acct_port": acct_port,
        "accounting": accounting,
        "authorize": authorize,
        "db": db,
        "key_header": KEY_HEADER,
        "key": settings.RADIUS_API_KEY,
        "clients": clients,
    }
    # Not world-readable: it holds the NAS secrets and, with rlm_sql, a database login.
    # FreeRADIUS refuses world-writable files; group-readable suits the freerad group.
    old = os.umask(0o027)
    try:
        (directory / "radiusd.conf").write_text(render_to_string("radius/radiusd.conf", context))
        (directory / "clients.conf").write_text(render_to_string("radius/clients.conf", context))
    finally:
        os.umask(old)
    return directory


def conninfo() -> str:
    """The product's PostgreSQL database as a libpq string for rlm_sql. Values go into
    FreeRADIUS's configuration, which expands `${...}`: only plain characters pass."""
    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        raise CommandError("--authorize sql reads the product's PostgreSQL database.")
    parts = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
        # A role that can only read the decision table (RADIUS_DB_USER/PASSWORD) in
        # production; the product's own login otherwise (development, tests).
        "user": settings.RADIUS_DB_USER or settings_dict.get("USER") or "",
        "password": settings.RADIUS_DB_PASSWORD
        if settings.RADIUS_DB_USER
        else settings_dict.get("PASSWORD") or "",
    }
    for name, value in parts.items():
        if value and not PLAIN.match(value):
            raise CommandError(
                f"The database {name} has characters FreeRADIUS would interpret;"
                " use letters, digits and . _ - @ : / + = only, or --authorize rest."
            )
    return " ".join(f"{name}={value}" for name, value in parts.items() if value)


class Command(BaseCommand):
    help = (
        "Write a FreeRADIUS 3.2 configuration for this product: authorisation over rlm_rest or"
        " from the decision table (rlm_sql), accounting over rlm_rest or buffered in files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", required=True)
        parser.add_argument("--api", default="http://127.0.0.1:8000")
        parser.add_argument("--listen", default="127.0.0.1")
        parser.add_argument("--auth-port", type=int, default=1812)
        parser.add_argument("--acct-port", type=int, default=1813)
        parser.add_argument(
            "--accounting",
            choices=["rest", "detail"],
            default="rest",
            help="detail: buffer accounting in files for `ingest_accounting` (high volume)",
        )
        parser.add_argument(
            "--authorize",
            choices=["rest", "sql"],
            default="rest",
            help="sql: read the decision table from PostgreSQL (fast; no web stack per login)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = write_config(
            Path(options["dir"]),
            api=options["api"],
            listen=options["listen"],
            auth_port=options["auth_port"],
            acct_port=options["acct_port"],
            accounting=options["accounting"],
            authorize=options["authorize"],
        )
        self.stdout.write(f"Configuration written to {path}. Start: freeradius -f -d {path}")
