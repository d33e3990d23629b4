from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "abonent.core"
    label = "core"
