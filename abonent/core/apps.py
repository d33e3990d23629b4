from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "abonent.core"
    label = "core"

    def ready(self) -> None:
        from . import psycopg_cache
        from .observability import jobs

        jobs.connect()
        psycopg_cache.raise_limits()
