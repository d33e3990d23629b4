"""Keyed digests for low-entropy secrets (6-digit codes): a plain hash of one of a
million codes is reversed instantly, an HMAC under the server key is not."""

import hashlib
import hmac

from django.conf import settings


def keyed_digest(value: str, purpose: str) -> str:
    key = f"abonent:{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
