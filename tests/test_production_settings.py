"""Production cookie and transport settings (security.md, "Sessions and tokens")."""

import importlib
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured


def load(monkeypatch, secret, sandbox_ok=True):
    monkeypatch.setenv("SECRET_KEY", secret)
    if sandbox_ok:
        monkeypatch.setenv("ALLOW_SANDBOX_PAYMENTS", "1")
    else:
        monkeypatch.delenv("ALLOW_SANDBOX_PAYMENTS", raising=False)
    sys.modules.pop("config.settings.production", None)
    return importlib.import_module("config.settings.production")


def test_production_cookies_are_secure(monkeypatch):
    prod = load(monkeypatch, "x" * 60)
    assert prod.SESSION_COOKIE_SECURE is True
    assert prod.CSRF_COOKIE_SECURE is True
    assert prod.SESSION_COOKIE_HTTPONLY is True
    assert prod.SESSION_COOKIE_SAMESITE == "Lax"
    assert prod.SECURE_HSTS_SECONDS >= 31536000
    assert prod.DEBUG is False


def test_production_refuses_a_missing_or_short_secret(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        load(monkeypatch, "short")


def test_production_refuses_the_sandbox_payment_provider_by_default(monkeypatch):
    monkeypatch.delenv("PAYMENT_PROVIDER", raising=False)
    with pytest.raises(ImproperlyConfigured, match="sandbox"):
        load(monkeypatch, "x" * 60, sandbox_ok=False)
