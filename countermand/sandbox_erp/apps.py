from django.apps import AppConfig


class SandboxErpConfig(AppConfig):
    """The Sandbox ERP: a pretend ERP served by Countermand itself, for the demo and for trying it out."""

    name = "countermand.sandbox_erp"
    label = "sandbox_erp"
    verbose_name = "Sandbox ERP"
