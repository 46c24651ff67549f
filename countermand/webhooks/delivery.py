"""The delivery processor and the Webhook connection type, registered on the engine by `WebhooksConfig.ready()`.

`WebhookDelivery` signs the delivery's body (Standard Webhooks) and POSTs it to the subscription's URL through
the subscription's connection (its pooled client, timeout and latency metric). A 2xx answer delivers it;
any other answer, a timeout or a connection error is a `TransientError`: retried with backoff, counted by
the connection's circuit breaker. Redirects are not followed (an answer, not a delivery). Each request is
recorded as an attempt (code, time, body excerpt) right after it is made, in its own transaction.
"""

from __future__ import annotations

import functools
import time

import httpx
from django.utils import timezone

from countermand.integration.plugin import (
    ConnectionType,
    Processor,
    ProcessorContext,
    ProcessorKind,
    ProcessorResult,
    TransientError,
)
from countermand.webhooks.models import WEBHOOK_DELIVERY_DEFINITION, WebhookDelivery
from countermand.webhooks.services import EXCERPT_CHARS, delivery_attempt_record
from countermand.webhooks.signing import body_bytes, signed_headers


class WebhookDeliveryProcessor(Processor):
    """POSTs one signed webhook delivery (the job's idempotency key is the delivery's `webhook-id`)."""

    name = WEBHOOK_DELIVERY_DEFINITION
    kind = ProcessorKind.INTEGRATION
    connection_types = ()
    description = "Delivers a signed webhook event to its subscription (queued by the webhooks app only)."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        delivery = (
            WebhookDelivery.objects.select_related("subscription").filter(message_id=context.idempotency_key).first()
        )
        if delivery is None:
            context.logger.warn("Its webhook delivery no longer exists (the subscription was deleted): nothing sent.")
            return ProcessorResult(erp_message="nothing to deliver")
        subscription = delivery.subscription
        now = timezone.now()
        body = body_bytes(delivery.payload)
        headers = signed_headers(
            message_id=delivery.message_id, body=body, secrets_=subscription.secrets(now=now), now=now
        )
        connection = context.connection
        # The subscription's connection (its pooled client); httpx.post only if that connection was deleted.
        post = connection.http.post if connection is not None and connection.http is not None else httpx.post
        timeout = max(0.5, min(connection.timeout_seconds if connection else 10.0, context.seconds_left()))
        started = time.perf_counter()
        record = functools.partial(
            delivery_attempt_record, message_id=delivery.message_id, job_id=context.job.id, attempt=context.attempt
        )
        try:
            answer = post(subscription.url, content=body, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            record(status_code=None, duration_ms=_ms(started), error=error)
            raise TransientError(f"POST {subscription.url} failed: {error}") from exc
        excerpt = answer.text[:EXCERPT_CHARS]
        record(status_code=answer.status_code, duration_ms=_ms(started), response_excerpt=excerpt)
        if not 200 <= answer.status_code < 300:
            raise TransientError(f"POST {subscription.url} answered HTTP {answer.status_code}: {excerpt[:200]}")
        context.logger.info(f"Delivered {delivery.event_type} {delivery.message_id}: HTTP {answer.status_code}.")
        return ProcessorResult(erp_message=f"HTTP {answer.status_code}")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


WEBHOOK_CONNECTION = ConnectionType(
    name="Webhook",
    description="A webhook receiver; created and kept in step by its webhook subscription "
    "(edit the subscription, not this connection).",
)

PLUGINS = [WebhookDeliveryProcessor, WEBHOOK_CONNECTION]
