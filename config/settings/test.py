"""The test suite: PostgreSQL (DATABASE_URL, set by `make test`)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY") or "test-only-not-a-secret"
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No collected static files here: serve them from the app folders (whitenoise finders).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

HUEY = {**HUEY, "immediate": env_bool("HUEY_IMMEDIATE", True)}  # noqa: F405

# Attachments written by tests go to a throwaway directory, one per test process.
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="abonent-private-"))
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Web push against a local push service: a fresh VAPID pair per test run.
from abonent.notifications.management.commands.vapid_keys import new_pair  # noqa: E402

VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY = new_pair()
PUSH_ALLOW_HTTP = True

# The cache is this process's memory in tests (readiness checks it; nothing else uses it).
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # noqa: F405

# The reports' replica as Django sees it: a second connection to the test database
# (used by the routing test, which turns REPORTS_FROM_REPLICA on).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
