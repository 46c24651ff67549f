from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "countermand.cancellations"
    label = "cancellations"

    def ready(self) -> None:
        # An open cancellation holds the order's status against the ERP's word (orders knows no cancellations).
        from countermand.cancellations.services import cancellation_status_hold
        from countermand.orders.services import status_hold_register

        status_hold_register(cancellation_status_hold)
