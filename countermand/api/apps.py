from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "countermand.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from countermand.api import schema  # noqa: F401  (registers the bearer-token OpenAPI scheme)
        from countermand.api.idempotency import idempotency_keys_purge
        from countermand.integration.handlers import retention_register

        retention_register("api.idempotency_keys", idempotency_keys_purge)
