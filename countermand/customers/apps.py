from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "countermand.customers"
    label = "customers"
