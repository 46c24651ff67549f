from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in: login throttling and the REST API's bearer tokens."""

    name = "countermand.accounts"
    label = "accounts"
