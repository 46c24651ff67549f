from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "countermand.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        """Plug webhooks into the domain's events (a delivery per subscription, in the event's transaction)
        and into the job engine (the delivery processor, the Webhook connection type, the delivery handler,
        the metrics)."""
        from countermand.core.events import domain_event_listener_register
        from countermand.integration.handlers import handler_register
        from countermand.integration.metrics import database_collector_register
        from countermand.integration.registry import app_plugins_register
        from countermand.webhooks.delivery import PLUGINS
        from countermand.webhooks.handler import WebhookDeliveryHandler
        from countermand.webhooks.metrics import WebhooksCollector
        from countermand.webhooks.models import WEBHOOK_DELIVERY_HANDLER
        from countermand.webhooks.services import webhook_event_publish

        domain_event_listener_register(webhook_event_publish)
        handler_register(WEBHOOK_DELIVERY_HANDLER, WebhookDeliveryHandler())
        app_plugins_register(PLUGINS, source="countermand.webhooks")
        database_collector_register(WebhooksCollector())
