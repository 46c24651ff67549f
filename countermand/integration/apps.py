from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "countermand.integration"
    label = "integration"
    verbose_name = "Integration"

    def ready(self) -> None:
        from countermand.integration import checks  # noqa: F401  (registers the system checks)
