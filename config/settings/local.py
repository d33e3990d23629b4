"""Local development: `make run`. Embedded SQLite unless DATABASE_URL says otherwise."""

import os

from .base import *  # noqa: F403
from .base import VAPID_PRIVATE_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "local-development-only-not-a-secret"
# No collected static files here: serve them from the app folders (whitenoise finders).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# No worker locally: jobs run inline.
HUEY = {**HUEY, "immediate": env_bool("HUEY_IMMEDIATE", True)}  # noqa: F405


def _local_vapid_keys() -> tuple[str, str]:
    """Web push works locally too: a key pair made once and kept in var/ (browsers
    drop subscriptions when the key changes)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "var" / "vapid.json"
    if not path.exists():
        from abonent.notifications.management.commands.vapid_keys import new_pair

        path.parent.mkdir(parents=True, exist_ok=True)
        public, private = new_pair()
        path.write_text(json.dumps({"public": public, "private": private}))
        path.chmod(0o600)
    keys = json.loads(path.read_text())
    return keys["public"], keys["private"]


if not VAPID_PRIVATE_KEY:
    VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY = _local_vapid_keys()
