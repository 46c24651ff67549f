from django.apps import AppConfig


class SettingsConfig(AppConfig):
    name = "countermand.settings"
    label = "settings"
    verbose_name = "Settings"
