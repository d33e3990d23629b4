"""Local development: `make run`. Embedded SQLite unless DATABASE_URL says otherwise."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "local-development-only-not-a-secret"
# No collected static files here: serve them from the app folders (whitenoise finders).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# No worker locally: jobs run inline.
HUEY = {**HUEY, "immediate": env_bool("HUEY_IMMEDIATE", True)}  # noqa: F405
