from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand
from py_vapid import Vapid01  # type: ignore[import-untyped]


def new_pair() -> tuple[str, str]:
    """(public key as the browser wants it: base64url of the raw point; private PEM)."""
    vapid = Vapid01()
    vapid.generate_keys()
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("="), vapid.private_pem().decode()


class Command(BaseCommand):
    help = "Print a new VAPID key pair for web push (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY)."

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = new_pair()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write("VAPID_PRIVATE_KEY=" + private.strip().replace("\n", "\\n"))
