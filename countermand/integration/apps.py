from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "countermand.integration"
    label = "integration"
    verbose_name = "Integration"
