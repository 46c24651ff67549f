from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "countermand.cancellations"
    label = "cancellations"
