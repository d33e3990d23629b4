from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "abonent.core"
    label = "core"

    def ready(self) -> None:
        from .observability import jobs

        jobs.connect()
