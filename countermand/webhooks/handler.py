"""The WebhookDelivery job handler: what the engine's job outcomes mean to a webhook delivery.

| job outcome (`JobOutcome`)       | delivery  |
|----------------------------------|-----------|
| SUCCEEDED: a 2xx answer          | Delivered |
| FAILED: retries exhausted        | Failed    |
| CANCELLED: by an administrator   | Cancelled |

(REJECTED cannot happen — the processor never raises ErpRejected — and would mean Failed.) For an
ordered subscription the end of a delivery queues the next waiting one of the same order.

A manual run of the WebhookDelivery definition is refused (`run_requested`): a run has no delivery, no
body, no subscription; deliveries are queued by events, *Send test event* and *Redeliver* only. Retrying
a delivery's job redelivers it (same `webhook-id`, fresh attempts).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from countermand.integration.handlers import JobFinished, JobRef, ManualRunRefused
from countermand.integration.joblog import LogLine
from countermand.webhooks import services
from countermand.webhooks.models import WEBHOOK_DELIVERY_DEFINITION, WEBHOOK_DELIVERY_HANDLER, WebhookDelivery


class WebhookDeliveryHandler:
    """Applies delivery job outcomes to their WebhookDelivery (see the module's table)."""

    def started(self, job: JobRef) -> dict[str, Any]:
        """Nothing to note: each attempt records itself (the processor's `delivery_attempt_record`)."""
        return {}

    def finished(self, finished: JobFinished) -> list[LogLine]:
        delivery = services.delivery_finish(job_id=finished.job.job_id, outcome=finished.outcome)
        if delivery is None:
            return []
        return [
            LogLine(
                "Info",
                f"Webhook delivery {delivery.pk} ({delivery.event_type}, {delivery.message_id}) is {delivery.state}.",
                WEBHOOK_DELIVERY_HANDLER,
                finished.job.attempt,
            )
        ]

    def retried(self, job: JobRef, *, actor_id: int | None) -> int | None:
        """Redeliver the job's delivery (same webhook-id, a new job)."""
        delivery = WebhookDelivery.objects.filter(job_id=job.job_id).values_list("pk", flat=True).first()
        if delivery is None:
            return None
        redelivered = services.delivery_redeliver(delivery_id=delivery, actor_id=actor_id)
        return redelivered.job_id

    def run_requested(self, definition_name: str, *, actor_id: int | None) -> None:
        """Refuse a manual run of the WebhookDelivery definition, whoever asks."""
        if definition_name != WEBHOOK_DELIVERY_DEFINITION:
            return
        raise ManualRunRefused(
            f"Job definition {definition_name} delivers webhook events; its jobs are queued by events only. "
            "To send something to a subscriber use Send test event (Webhook Subscriptions; API: POST "
            "/api/v1/admin/webhooksubscriptions/{id}/test); to send a delivery again use Redeliver "
            "(Webhook Deliveries; API: POST /api/v1/admin/webhookdeliveries/{id}/redeliver).",
            definition=definition_name,
            handler=WEBHOOK_DELIVERY_HANDLER,
        )

    def purge_keeps(self) -> QuerySet[Any] | None:
        """Nothing kept: a delivery goes with its job when the job is purged (old deliveries purged like jobs)."""
        return None
