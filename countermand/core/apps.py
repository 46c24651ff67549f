from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "countermand.core"
    label = "core"
    verbose_name = "Countermand"
