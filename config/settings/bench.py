"""The load benchmark's server (bench/web_load.py): the test settings, but sessions
read through Redis (CACHE_URL) as in production, not this process's memory."""

import os

from .test import *  # noqa: F403
from .test import CACHES

CACHES = {
    **CACHES,
    "default": {
        "BACKEND": "abonent.core.cache.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
    },
}
