from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "countermand.orders"
    label = "orders"
