from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "countermand.api"
    label = "api"
