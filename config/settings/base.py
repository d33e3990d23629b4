"""Settings shared by every environment. Values that differ per machine come from the
environment; see docs/configuration.md for the full list."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Field encryption (passport data and the like). Several comma-separated salts allow
# rotation: the first encrypts, all decrypt. See docs/decisions/0004-field-encryption.md.
SALT_KEY = env_list("FIELD_ENCRYPTION_SALTS", "abonent-field-encryption-v1")

INSTALLED_APPS = [
    "abonent.staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "ninja",
    "abonent.core",
    "abonent.accounts",
    "abonent.subscribers",
    "abonent.catalog",
    "abonent.billing",
    "abonent.cabinet",
    "abonent.api",
    "abonent.notifications",
    "abonent.network",
    "abonent.payments",
    "abonent.support",
    "abonent.quality",
    "abonent.applications",
    "abonent.reports",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "abonent.core.observability.requestid.RequestIdMiddleware",
    "abonent.core.observability.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "abonent.api.middleware.ApiErrorsAsJsonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "abonent.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "abonent.core.context_processors.provider",
                "abonent.staff.context_processors.staff_may",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Behind PgBouncer in transaction mode, server-side cursors (QuerySet.iterator) must be off.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS")
# Django's PostgreSQL backend with a health check that needs no round trip (decision 0016).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "abonent.core.postgresql"
# PostgreSQL plans a statement once per connection and reuses the plan (psycopg's
# automatic prepared statements after DB_PREPARE_THRESHOLD runs of the same SQL): the
# cabinet's joins cost more to plan than to run. Django leaves this off for the sake of
# poolers; PgBouncer >= 1.21 keeps prepared statements in transaction mode
# (max_prepared_statements), older ones need DB_PREPARE_THRESHOLD=off. See decision 0016.
_PREPARE_THRESHOLD = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
if not (_PREPARE_THRESHOLD in {"off", ""} or _PREPARE_THRESHOLD.isdigit()):
    raise ImproperlyConfigured(
        f"DB_PREPARE_THRESHOLD must be a whole number of runs or 'off', not {_PREPARE_THRESHOLD!r}"
    )
if DATABASES["default"]["ENGINE"] == "abonent.core.postgresql" and _PREPARE_THRESHOLD.isdigit():
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=int(_PREPARE_THRESHOLD)
    )

# Scale-out: reports read from a streaming replica when DATABASE_REPLICA_URL is set
# (abonent.core.replica); everything else, and every write, uses the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["ENGINE"] = DATABASES["default"]["ENGINE"]
REPORTS_FROM_REPLICA = "replica" in DATABASES
DATABASE_ROUTERS = ["abonent.core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache (Redis) when REDIS_URL is set, the same on every web server behind the
# load balancer; without Redis, this process's memory. Sessions and throttles live in
# PostgreSQL (decision 0016): today only the readiness check uses the cache.
CACHE_URL = os.environ.get("CACHE_URL", os.environ.get("REDIS_URL", ""))
CACHES = {
    "default": (
        {"BACKEND": "abonent.core.cache.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "abonent.accounts.backends.SubscriberBackend",
    "abonent.accounts.backends.StaffBackend",
]
LOGIN_URL = "cabinet:login"

# Argon2id with explicit, measured parameters first; the others remain only so that
# old hashes still verify and get upgraded at the next login (security.md).
PASSWORD_HASHERS = [
    "abonent.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "abonent.accounts.validators.NotTheLoginValidator"},
    {"NAME": "abonent.accounts.validators.MaximumLengthValidator"},
]

# Sessions: 30 minutes idle, 12 hours absolute (abonent.accounts.middleware).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
# Sessions live in the database (the list of signed-in devices, ending them) and are
# read together with their subscriber in one query (decision 0016).
SESSION_ENGINE = "abonent.accounts.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "abonent.cabinet.views.errors.csrf_failure"

# API tokens
API_ACCESS_TOKEN_SECONDS = int(os.environ.get("API_ACCESS_TOKEN_SECONDS", "900"))
API_REFRESH_TOKEN_SECONDS = int(os.environ.get("API_REFRESH_TOKEN_SECONDS", str(60 * 86400)))

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "abonent_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")

STATIC_URL = "/static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Ticket attachments: outside the web root, served only through a view that checks access.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_PER_MESSAGE = 5
TICKET_REOPEN_DAYS = 7  # a resolved or closed ticket can be reopened this long
TICKET_AUTOCLOSE_DAYS = 7  # a resolved ticket nobody answers closes itself
SUPPORT_NOTIFY_EMAIL = os.environ.get("SUPPORT_NOTIFY_EMAIL", "")  # staff told of new tickets

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# The provider's business settings.
PROVIDER_NAME = os.environ.get("PROVIDER_NAME", "SkyNet")
PROVIDER_HOTLINE = os.environ.get("PROVIDER_HOTLINE", "+7 812 000-00-00")
CURRENCY = "RUB"
# Contract numbers start here and only grow (never reused).
CONTRACT_NUMBER_START = int(os.environ.get("CONTRACT_NUMBER_START", "1000001"))

# Logs: one JSON object per line in production (LOG_FORMAT=json), with the request id
# that nginx put in X-Request-ID (or ours) on every line; plain text for a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "abonent.core.observability.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django adds its own console handler in DEBUG; one line per event is enough.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Monitoring: /metrics answers these networks (or a Bearer METRICS_TOKEN); /healthz and
# /readyz answer everyone. Errors go to a Sentry-compatible server when SENTRY_DSN is set.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from abonent.core.observability import sentry

    sentry.init(
        SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("RELEASE", ""),
        sample_rate=float(os.environ.get("SENTRY_SAMPLE_RATE", "1.0")),
    )

# SMS and flash calls (abonent.notifications.gateways): console | smsc | smsru.
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "console")
SMS_TIMEOUT = float(os.environ.get("SMS_TIMEOUT", "5"))
SMS_HTTP_RETRIES = int(os.environ.get("SMS_HTTP_RETRIES", "2"))
SMS_DELIVERY_ATTEMPTS = int(os.environ.get("SMS_DELIVERY_ATTEMPTS", "5"))
SMSC_URL = os.environ.get("SMSC_URL", "https://smsc.ru")
SMSC_LOGIN = os.environ.get("SMSC_LOGIN", "")
SMSC_PASSWORD = os.environ.get("SMSC_PASSWORD", "")
SMSC_SENDER = os.environ.get("SMSC_SENDER", "")
SMSRU_URL = os.environ.get("SMSRU_URL", "https://sms.ru")
SMSRU_API_ID = os.environ.get("SMSRU_API_ID", "")
SMSRU_SENDER = os.environ.get("SMSRU_SENDER", "")

# Background jobs (huey): Redis when REDIS_URL is set, else a SQLite file. Without a
# worker (local `make run`, tests) jobs run at once, in the process that enqueues them.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY = {
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "name": "abonent",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(BASE_DIR / "huey.sqlite3")},
    "consumer": {"workers": 2, "worker_type": "thread"},
}

# Login throttling (security.md): a growing delay after a few failures, a temporary lock
# after LOGIN_LOCK_FAILURES within LOGIN_WINDOW_SECONDS, per contract and per address.
LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", "3"))
LOGIN_LOCK_FAILURES = int(os.environ.get("LOGIN_LOCK_FAILURES", "10"))
LOGIN_IP_LOCK_FAILURES = int(os.environ.get("LOGIN_IP_LOCK_FAILURES", "50"))
LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", "900"))
LOGIN_LOCK_SECONDS = int(os.environ.get("LOGIN_LOCK_SECONDS", "900"))

# One-time codes (security.md).
OTP_TTL_SECONDS = 600
OTP_MAX_WRONG_PER_CODE = 5
OTP_MAX_WRONG_PER_PHONE_HOUR = 10
OTP_RESEND_SECONDS = int(os.environ.get("OTP_RESEND_SECONDS", "60"))
OTP_MAX_PER_HOUR = 5
PASSWORD_RESET_TTL_SECONDS = 900

OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "abonent")
# Nobody, not even an administrator, sees another person's TOTP secret or QR code in the
# admin (django-otp's config/qrcode pages); staff enrol themselves at the staff login.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Payments: sandbox (our hosted stand-in, the local default) or yookassa.
PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "sandbox")
PAYMENT_MIN_KOPECKS = int(os.environ.get("PAYMENT_MIN_KOPECKS", "1000"))  # 10 ₽
PAYMENT_MAX_KOPECKS = int(os.environ.get("PAYMENT_MAX_KOPECKS", "10000000"))  # 100 000 ₽
SANDBOX_WEBHOOK_SECRET = os.environ.get("SANDBOX_WEBHOOK_SECRET", "sandbox-webhook-secret")
YOOKASSA_SHOP_ID = os.environ.get("YOOKASSA_SHOP_ID", "")
YOOKASSA_SECRET_KEY = os.environ.get("YOOKASSA_SECRET_KEY", "")
YOOKASSA_API_URL = os.environ.get("YOOKASSA_API_URL", "https://api.yookassa.ru/v3")
YOOKASSA_TIMEOUT = float(os.environ.get("YOOKASSA_TIMEOUT", "10"))
# Published by YooKassa for its notifications.
YOOKASSA_WEBHOOK_NETWORKS = env_list(
    "YOOKASSA_WEBHOOK_NETWORKS",
    "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.156.11/32,77.75.156.35/32,77.75.154.128/25,2a02:5180::/32",
)
# 54-FZ receipts: VAT code of the service (1 = no VAT) and the tax system code.
RECEIPT_VAT_CODE = int(os.environ.get("RECEIPT_VAT_CODE", "1"))
RECEIPT_TAX_SYSTEM_CODE = int(os.environ.get("RECEIPT_TAX_SYSTEM_CODE", "1"))

# FreeRADIUS talks to /radius/ with this key (rlm_rest header); see `manage.py radius_config`.
RADIUS_API_KEY = os.environ.get("RADIUS_API_KEY", "local-radius-key")
# With `radius_config --accounting detail`: the radacct directory the worker loads every minute.
RADIUS_DETAIL_DIR = os.environ.get("RADIUS_DETAIL_DIR", "")

# E-mail (support replies, staff notices): console in development; set SMTP in production.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@abonent.local")
PRICE_NOTICE_DAYS = 10  # the law: subscribers hear of a price change this many days ahead

# Publishing the PWA to the store as a Trusted Web Activity (/.well-known/assetlinks.json).
TWA_PACKAGE_NAME = os.environ.get("TWA_PACKAGE_NAME", "")
TWA_SHA256_FINGERPRINTS = [
    f.strip() for f in os.environ.get("TWA_SHA256_FINGERPRINTS", "").split(",") if f.strip()
]

# FreeRADIUS's own PostgreSQL login for `radius_config --authorize sql` (read-only on
# network_radiusattribute in production); empty: the product's login (development).
RADIUS_DB_USER = os.environ.get("RADIUS_DB_USER", "")
RADIUS_DB_PASSWORD = os.environ.get("RADIUS_DB_PASSWORD", "")

# Web push (VAPID): `manage.py vapid_keys` prints a pair; the private key as PEM text.
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "").replace("\\n", "\n")
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:support@abonent.local")
PUSH_ALLOW_HTTP = False  # tests talk to a local push service over http

# Data retention (docs/decisions/0014-data-retention.md)
# Daily traffic older than this many whole months is kept by month only (at least 2).
RETENTION_ACCOUNTING_MONTHS = int(os.environ.get("RETENTION_ACCOUNTING_MONTHS", "6"))
# RADIUS sessions (login, IP, start, stop, octets) are deleted this long after they ended.
RETENTION_SESSION_YEARS = int(os.environ.get("RETENTION_SESSION_YEARS", "3"))
# A subscriber whose every contract ended this long ago, settled, is anonymised.
RETENTION_PERSONAL_DATA_YEARS = int(os.environ.get("RETENTION_PERSONAL_DATA_YEARS", "3"))
