"""Passwords that staff print or read out: random, from an alphabet without look-alikes
(no 0/O, 1/l/I), long enough (security.md: >= 10 characters)."""

import secrets

UNAMBIGUOUS_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ISSUED_PASSWORD_LENGTH = 10


def generate(length: int = ISSUED_PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))
