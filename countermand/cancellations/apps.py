from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "countermand.cancellations"
    label = "cancellations"

    def ready(self) -> None:
        """Plug the cancellation domain into the job engine: the OrderCancel handler and its metrics."""
        from countermand.cancellations.handler import HANDLER_NAME, OrderCancelHandler
        from countermand.cancellations.metrics import CancellationsCollector
        from countermand.integration.handlers import handler_register
        from countermand.integration.metrics import database_collector_register

        handler_register(HANDLER_NAME, OrderCancelHandler())
        database_collector_register(CancellationsCollector())
