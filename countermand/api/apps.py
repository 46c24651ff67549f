from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "countermand.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from countermand.api import schema  # noqa: F401  (registers the bearer-token OpenAPI scheme)
