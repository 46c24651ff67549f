"""Fixtures of the webhooks tests: real receivers on 127.0.0.1, subscriptions pointing at them, and the
engine's fake ERP so that cancellations reach every state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from countermand.integration.models import JobDefinition
from countermand.webhooks.models import WebhookSubscription
from countermand.webhooks.services import delivery_definition, subscription_save
from countermand.webhooks.signing import secret_generate
from tests.integration.conftest import erp_shop, fake_erp, pgbouncer, route, workers  # noqa: F401
from tests.webhooks.receiver import WebhookReceiver

ALL_EVENTS = [
    "cancellation.requested",
    "cancellation.sent",
    "cancellation.confirmed",
    "cancellation.denied",
    "cancellation.failed",
    "cancellation.local_only",
    "order.drift_found",
]


@pytest.fixture
def receivers() -> Iterator[list[WebhookReceiver]]:
    """Start receivers with `receivers.append(WebhookReceiver(secret).start())`; all stop after the test."""
    started: list[WebhookReceiver] = []
    yield started
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(receivers) -> WebhookReceiver:
    started = WebhookReceiver(secret_generate()).start()
    receivers.append(started)
    return started


def subscribe(receiver: WebhookReceiver, *, event_types=None, **fields) -> WebhookSubscription:
    """A subscription sending to `receiver`, signed with its secret; deliveries retried at once."""
    definition = delivery_definition()
    JobDefinition.objects.filter(pk=definition.pk).update(retry_backoff_seconds=0)
    return subscription_save(
        subscription=WebhookSubscription(url=receiver.url, event_types=event_types or ALL_EVENTS, **fields),
        secret=receiver.secret,
    )
