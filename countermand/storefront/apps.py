from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "countermand.storefront"
    label = "storefront"
