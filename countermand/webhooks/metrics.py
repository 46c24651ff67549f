"""Webhook metrics per target, shown on `/metrics` beside the engine's (whose
`countermand_erp_request_seconds{connection="Webhook <id>: <host>"}` and
`countermand_connection_breaker_open{connection=…}` already time and watch each target)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

WEBHOOK_ATTEMPTS = Counter(
    "countermand_webhook_attempts_total",
    "Webhook delivery attempts by subscription and result (2xx, 4xx, 5xx, error: no HTTP answer).",
    ["subscription", "result"],
)


class WebhooksCollector(Collector):
    """Deliveries by subscription and state, and which subscriptions are active, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from countermand.webhooks.models import WebhookDelivery, WebhookSubscription

        deliveries = GaugeMetricFamily(
            "countermand_webhook_deliveries",
            "Webhook deliveries by subscription and state.",
            labels=["subscription", "state"],
        )
        rows = WebhookDelivery.objects.values_list("subscription_id", "state").annotate(n=Count("id")).order_by()
        for subscription_id, state, n in rows:
            deliveries.add_metric([str(subscription_id), state], n)
        yield deliveries
        active = GaugeMetricFamily(
            "countermand_webhook_subscription_active",
            "1 for an active webhook subscription, 0 for a disabled one (automatically or by hand).",
            labels=["subscription"],
        )
        for subscription_id, is_active in WebhookSubscription.objects.values_list("id", "is_active"):
            active.add_metric([str(subscription_id)], 1 if is_active else 0)
        yield active
