"""Production settings (config/settings/production.py): cookies and transport (security.md,
"Sessions and tokens"), the reverse proxy, the queue, and the extra deploy checks."""

import importlib
import os
import sys
import tempfile

import pytest
from django.core.exceptions import ImproperlyConfigured


def load(monkeypatch, secret, sandbox_ok=True):
    monkeypatch.setenv("SECRET_KEY", secret)
    if sandbox_ok:
        monkeypatch.setenv("ALLOW_SANDBOX_PAYMENTS", "1")
    else:
        monkeypatch.delenv("ALLOW_SANDBOX_PAYMENTS", raising=False)
    # Without REDIS_URL the settings make the queue's directory: not in the checkout.
    if "HUEY_SQLITE_PATH" not in os.environ:
        queue = os.path.join(tempfile.gettempdir(), "abonent-settings-test", "huey.sqlite3")
        monkeypatch.setenv("HUEY_SQLITE_PATH", queue)
    # Both read the environment on import; monkeypatch puts the originals back afterwards.
    for name in ("config.settings.base", "config.settings.production"):
        monkeypatch.delitem(sys.modules, name, raising=False)
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


# --- behind the proxy (deploy/nginx/abonent.conf) -----------------------------------------


def test_production_trusts_the_proxy_for_scheme_and_client_address(monkeypatch):
    prod = load(monkeypatch, "x" * 60)
    assert prod.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert prod.SECURE_SSL_REDIRECT is True
    # nginx overwrites X-Real-IP; throttles, the audit log and /metrics read it.
    assert prod.TRUST_X_REAL_IP is True
    monkeypatch.setenv("TRUST_X_REAL_IP", "0")
    assert load(monkeypatch, "x" * 60).TRUST_X_REAL_IP is False


def test_only_the_probes_and_the_scraper_skip_the_https_redirect(monkeypatch):
    """Load balancers and Prometheus talk plain HTTP to each web server; nothing else may."""
    import re

    prod = load(monkeypatch, "x" * 60)

    def exempt(path: str) -> bool:
        return any(re.search(pattern, path.lstrip("/")) for pattern in prod.SECURE_REDIRECT_EXEMPT)

    assert exempt("/healthz")
    assert exempt("/readyz")
    assert exempt("/metrics")
    for path in ("/", "/login/", "/metrics/../login/", "/healthz/x", "/staff/", "/api/v1/me"):
        assert not exempt(path), path


def test_production_sends_mail_by_smtp_and_preloads_hsts(monkeypatch):
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    prod = load(monkeypatch, "x" * 60)
    assert prod.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert prod.SECURE_HSTS_PRELOAD is True
    assert prod.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert prod.STORAGES["staticfiles"]["BACKEND"].startswith("whitenoise.")


def test_without_redis_the_queue_file_lives_in_a_writable_directory(monkeypatch, tmp_path):
    """ProtectSystem=strict leaves only var/ writable; huey opens its file on import."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("HUEY_SQLITE_PATH", str(tmp_path / "queue" / "huey.sqlite3"))
    prod = load(monkeypatch, "x" * 60)
    assert prod.HUEY["huey_class"] == "huey.SqliteHuey"
    assert prod.HUEY["connection"] == {"filename": str(tmp_path / "queue" / "huey.sqlite3")}
    assert (tmp_path / "queue").is_dir()
    assert prod.HUEY["immediate"] is False  # a worker runs the jobs


def test_with_redis_the_queue_is_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.5:6379/0")
    prod = load(monkeypatch, "x" * 60)
    assert prod.HUEY["huey_class"] == "huey.RedisHuey"
    assert prod.HUEY["connection"] == {"url": "redis://10.0.0.5:6379/0"}


def test_check_deploy_refuses_the_development_radius_key_and_console_sms(monkeypatch, settings):
    """Registered by production.py (the test settings never load it into checks by
    themselves): a default RADIUS key is an error, SMS codes in the log a warning."""
    from django.core import checks

    prod = load(monkeypatch, "x" * 60)
    check = prod._production_secrets
    assert check in checks.registry.registry.get_checks(include_deployment_checks=True)
    assert check not in checks.registry.registry.get_checks(include_deployment_checks=False)

    settings.RADIUS_API_KEY = "local-radius-key"
    settings.SMS_GATEWAY = "console"
    assert sorted(message.id for message in check(None)) == ["abonent.E001", "abonent.W001"]
    settings.RADIUS_API_KEY = "short-but-random"
    assert [message.id for message in check(None)] == ["abonent.E001", "abonent.W001"]
    settings.RADIUS_API_KEY = "a" * 16 + "9f" * 16
    settings.SMS_GATEWAY = "smsc"
    assert check(None) == []


@pytest.mark.parametrize("value", ["often", "-1", "5.5"])
def test_a_prepare_threshold_that_is_not_a_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("DB_PREPARE_THRESHOLD", value)
    with pytest.raises(ImproperlyConfigured, match="DB_PREPARE_THRESHOLD"):
        load(monkeypatch, "x" * 60)


def test_prepared_statements_are_on_by_default_and_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://abonent@127.0.0.1:5432/abonent")
    monkeypatch.delenv("DB_PREPARE_THRESHOLD", raising=False)
    options = load(monkeypatch, "x" * 60).DATABASES["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    monkeypatch.setenv("DB_PREPARE_THRESHOLD", "off")
    assert "prepare_threshold" not in load(monkeypatch, "x" * 60).DATABASES["default"].get(
        "OPTIONS", {}
    )
