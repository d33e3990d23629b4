"""Production: every secret from the environment, HTTPS only, behind the reverse proxy
in deploy/nginx/abonent.conf (docs/deploy.md). `manage.py check --deploy` passes with
these settings and nothing silenced (tests/test_deploy.py)."""

import os
from pathlib import Path

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, DEFAULT_FROM_EMAIL, HUEY, REDIS_URL, env_bool

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of 50+ characters.")

# nginx terminates TLS and says so in X-Forwarded-Proto; it also overwrites X-Real-IP with
# the client's address, which the login throttles, the audit log, the YooKassa allowlist
# and /metrics read (abonent.core.context.client_ip). gunicorn must therefore be
# reachable only from the proxies (bind 127.0.0.1 or a private address behind a firewall).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUST_X_REAL_IP = env_bool("TRUST_X_REAL_IP", True)

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and the Prometheus scraper talk plain HTTP to each web server directly.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 86400)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The `preload` token only consents to the browsers' preload list; nothing is listed
# until someone submits the domain at hstspreload.org. SECURE_HSTS_PRELOAD=0 drops it
# (and `check --deploy` then says security.W021, which is the truth).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# collectstatic writes here at deploy time; whitenoise (or nginx) serves it read-only.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Without Redis (one server only) the queue is a SQLite file in var/, the one directory
# the services may write (ReadWritePaths in deploy/abonent-*.service).
if not REDIS_URL:
    _huey_file = Path(os.environ.get("HUEY_SQLITE_PATH", str(BASE_DIR / "var" / "huey.sqlite3")))
    _huey_file.parent.mkdir(parents=True, exist_ok=True)  # huey opens it on import
    HUEY = {**HUEY, "connection": {"filename": str(_huey_file)}}

if PAYMENT_PROVIDER == "sandbox" and not env_bool("ALLOW_SANDBOX_PAYMENTS", False):  # noqa: F405
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER is the sandbox: set a real provider (or ALLOW_SANDBOX_PAYMENTS=1)."
    )

# E-mail (support replies, staff notices) goes out by SMTP; the console backend would
# print subscribers' messages into the logs.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)


# Two more things `manage.py check --deploy` must catch before the first subscriber.
@register(Tags.security, deploy=True)
def _production_secrets(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    from django.conf import settings

    problems: list[CheckMessage] = []
    key = settings.RADIUS_API_KEY
    if key == "local-radius-key" or len(key) < 32:
        problems.append(
            Error(
                "RADIUS_API_KEY is the development key or shorter than 32 characters: anyone"
                " who reaches /radius/ could read PPPoE passwords.",
                hint="Set RADIUS_API_KEY to a random string (openssl rand -hex 32).",
                id="abonent.E001",
            )
        )
    if settings.SMS_GATEWAY == "console":
        problems.append(
            Warning(
                "SMS_GATEWAY is console: one-time codes would be written to the log, not sent.",
                hint="Set SMS_GATEWAY=smsc or smsru and its credentials.",
                id="abonent.W001",
            )
        )
    return problems
