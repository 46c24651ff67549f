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


def subscriptions_auto_disabled() -> list[WebhookSubscription]:
    """Subscriptions the failure streak disabled (the console's banner)."""
    return list(WebhookSubscription.objects.filter(is_active=False, disabled_at__isnull=False).order_by("id"))
