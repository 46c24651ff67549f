from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "countermand.cancellations"
    label = "cancellations"

    def ready(self) -> None:
        """Plug the cancellation domain into the job engine (the OrderCancel handler and its metrics) and
        into orders (an open cancellation holds the order's status against the ERP's word)."""
        from countermand.cancellations.handler import HANDLER_NAME, OrderCancelHandler
        from countermand.cancellations.metrics import CancellationsCollector
        from countermand.cancellations.selectors import cancellation_orders_held
        from countermand.cancellations.services import cancellation_status_hold
        from countermand.integration.handlers import handler_register
        from countermand.integration.metrics import database_collector_register
        from countermand.orders.selectors import held_orders_register
        from countermand.orders.services import status_hold_register

        handler_register(HANDLER_NAME, OrderCancelHandler())
        database_collector_register(CancellationsCollector())
        status_hold_register(cancellation_status_hold)
        held_orders_register(cancellation_orders_held)
