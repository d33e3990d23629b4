"""Production cookie and transport settings (security.md, "Sessions and tokens")."""

import importlib
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured


def load(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
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
