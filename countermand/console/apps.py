from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "countermand.console"
    label = "console"
