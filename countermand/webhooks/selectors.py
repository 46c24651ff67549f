"""Reads of webhooks, each in a constant number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from countermand.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription


def subscriptions_all() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.select_related("website", "connection").order_by("id")


def deliveries_with_attempts() -> QuerySet[WebhookDelivery]:
    """Deliveries with their order and attempts (oldest attempt first)."""
    return WebhookDelivery.objects.select_related("order", "subscription").prefetch_related(
        Prefetch("attempts", queryset=WebhookDeliveryAttempt.objects.order_by("id"))
    )


def subscriptions_auto_disabled() -> QuerySet[WebhookSubscription]:
    """Subscriptions the failure streak disabled, with only what the console's banner shows. Lazy: the
    banner runs it once (one small query) on the pages that render it, and not at all elsewhere."""
    return (
        WebhookSubscription.objects.filter(is_active=False, disabled_at__isnull=False)
        .only("id", "url", "description", "disabled_reason")
        .order_by("id")
    )
