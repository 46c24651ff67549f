"""Webhook subscriptions (who wants which events, where, signed with which secret), their deliveries (one per
event and subscription: the outbox row's domain side) and each delivery's attempts (the history)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from countermand.core.crypto import decrypt_secret, encrypt_secret

# The job handler (integration/handlers.py) and job definition of delivery jobs.
WEBHOOK_DELIVERY_HANDLER = "WebhookDelivery"
WEBHOOK_DELIVERY_DEFINITION = "WebhookDelivery"
# The event type of *Send test event*: sent to the subscription whatever event types it wants.
TEST_EVENT_TYPE = "webhook.test"


def new_message_id() -> str:
    """A Standard Webhooks message id (`webhook-id`): the same for every attempt and redelivery."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookSubscription(models.Model):
    """A receiver of events: its URL, the event types it wants, an optional website filter, the signing
    secret (encrypted at rest, never shown; the previous one still signs until `previous_secret_expires_at`).

    Each subscription owns an IntegrationConnection of type Webhook (`connection`): the engine's circuit
    breaker, concurrency limit and latency metric per target are that connection's. Written through
    `countermand.webhooks.services.subscription_save`."""

    url = models.CharField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types sent to this URL.")
    website = models.ForeignKey(
        "websites.Website",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only events of this website's orders (empty: every website).",
    )
    ordered = models.BooleanField(
        "ordered per order",
        default=False,
        help_text="Deliver the events of one order one at a time, in the order they happened.",
    )
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    connection = models.OneToOneField(
        "integration.IntegrationConnection", on_delete=models.PROTECT, related_name="webhook_subscription"
    )
    failure_streak = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        permissions = [
            ("test_webhooksubscription", "Can send a test event to a webhook subscription"),
        ]

    def __str__(self) -> str:
        return self.description or self.url

    def set_secret(self, plaintext: str) -> None:
        self.secret_encrypted = encrypt_secret(plaintext)

    def secrets(self, *, now: object) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one during its overlap."""
        found = [decrypt_secret(self.secret_encrypted)]
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted and expires is not None and expires > now:  # type: ignore[operator]
            found.append(decrypt_secret(self.previous_secret_encrypted))
        return found

    @property
    def auto_disabled(self) -> bool:
        return not self.is_active and self.disabled_at is not None


class WebhookDelivery(models.Model):
    """One event for one subscription: the signed body it carries and where its delivery stands.

    `message_id` is the `webhook-id` header (and the body's `id`): the same on every attempt and
    redelivery, so a receiver deduplicates on it. `event_id` is the event's, shared by the deliveries of
    that event to every subscription. The row goes when its job is purged (`job`, CASCADE): old
    deliveries are purged like jobs."""

    class State(models.TextChoices):
        PENDING = "Pending"  # its job is queued or running
        WAITING = "Waiting"  # ordered subscription: behind an earlier delivery of the same order
        HELD = "Held"  # the WebhookDelivery job definition is inactive: nothing queued (Redeliver sends it)
        DELIVERED = "Delivered"
        FAILED = "Failed"  # retries exhausted
        CANCELLED = "Cancelled"  # its job was cancelled

    OPEN_STATES = (State.PENDING, State.WAITING)

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=50, unique=True, default=new_message_id, editable=False)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(help_text="The body sent, as JSON.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    job = models.ForeignKey(
        "integration.IntegrationJob", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    attempt_count = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subscription", "order", "state"], name="webhook_delivery_order_idx"),
            models.Index(fields=["state"], name="webhook_delivery_state_idx"),
        ]
        constraints = [
            # A delivery job carries one delivery (the handler finds it by the job).
            models.UniqueConstraint(fields=["job"], condition=Q(job__isnull=False), name="one_delivery_per_job"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookDeliveryAttempt(models.Model):
    """One HTTP request of a delivery: when, what the receiver answered (code, an excerpt of the body),
    how long it took, or the error that stood for an answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    job_id = models.PositiveBigIntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery_id", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.attempt}: {self.status_code or self.error[:40]}"
