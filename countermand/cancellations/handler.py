"""The OrderCancel job handler: what the engine's job outcomes mean to a cancellation request.

Every job queued for a CancellationRequest carries `handler="OrderCancel"` and the request's
idempotency key; the engine tells this handler (registered in `CancellationsConfig.ready()`) how the job
ended, inside the transaction that records the job's final status, so the job and the cancellation never
disagree:

| job outcome (`JobOutcome`)                   | job status            | cancellation          |
|----------------------------------------------|-----------------------|-----------------------|
| SUCCEEDED: the processors ran to the end     | Success (or …Warnings)| `cancellation_confirm`|
| REJECTED: the ERP refused (`ErpRejected`)    | SuccessWithWarnings   | `cancellation_deny`   |
| FAILED: retries exhausted / error at last    | Failure               | `cancellation_fail`   |
| CANCELLED: by an administrator               | Cancelled             | `cancellation_fail`   |

A partial cancellation's confirmation takes the lines the processor reported under
`plugin.CANCELLED_LINES_KEY` (what the ERP actually cancelled) over the asked ones.

A manual run of the OrderCancel definition (the one `OrderCancelJobName` names) is refused
(`run_requested`): it would have the ERP cancel an order with no CancellationRequest, no OrderEvent, no
role check (`orders.change_order`) and no eligibility rule — and the buyer could still "cancel" the order
afterwards. Cancelling goes through *Cancel Order* (the cancellation service, the caller as actor); a
failed delivery is sent again by retrying its job or *Resend*, both through the same service. Refusing is
simpler and safer than turning a run's free-form parameters (`OrderNumber`) into a cancellation: the run
form has no reason, note or force, which the cancellation's rules need.

A refusal is a *delivered* answer — the job did its work and the buyer is told — so the job is not a
Failure (no retry, no failure e-mail); the Warn line in its log carries the ERP's message.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from countermand.cancellations import services
from countermand.cancellations.metrics import CANCELLATION_OUTCOMES
from countermand.cancellations.models import ORDER_CANCEL_HANDLER, CancellationRequest
from countermand.core.errors import DomainError
from countermand.integration.handlers import JobFinished, JobOutcome, JobRef, ManualRunRefused
from countermand.integration.joblog import LogLine
from countermand.integration.plugin import ProcessorResult, cancelled_lines_reported
from countermand.orders.policies import ADMIN, SYSTEM, Actor
from countermand.settings.selectors import settings_for

HANDLER_NAME = ORDER_CANCEL_HANDLER
INFO, WARN = "Info", "Warn"


def request_for_job(job: JobRef) -> CancellationRequest | None:
    """The CancellationRequest a job delivers (matched by order and idempotency key), or None."""
    if not job.order_id or not job.idempotency_key:
        return None
    return CancellationRequest.objects.filter(idempotency_key=job.idempotency_key, order_id=job.order_id).first()


class OrderCancelHandler:
    """Applies OrderCancel job outcomes to their CancellationRequest (see the module's table)."""

    def started(self, job: JobRef) -> dict[str, Any]:
        """Mark the request Sent; the processors get the buyer's reason and note."""
        request = request_for_job(job)
        if request is None:
            return {}
        services.cancellation_mark_sent(request_id=request.pk)
        return {"reason": request.reason_code, "note": request.reason_text, "cancellation_request_id": request.pk}

    def finished(self, finished: JobFinished) -> list[LogLine]:
        """Confirm, deny or fail the request. A request that moved on meanwhile (an administrator
        resolved it) is left alone and reported as a warning."""
        request = request_for_job(finished.job)
        if request is None:
            return []

        def line(level: str, message: str) -> LogLine:
            return LogLine(level, message, HANDLER_NAME, finished.job.attempt)

        reported = ProcessorResult.from_json(finished.result)
        try:
            with transaction.atomic():
                if finished.outcome == JobOutcome.SUCCEEDED:
                    services.cancellation_confirm(
                        request_id=request.pk,
                        erp_status=reported.erp_status or "",
                        erp_reference=reported.erp_reference or "",
                        erp_message=reported.erp_message or "",
                        cancelled_lines=cancelled_lines_reported(reported.data),
                    )
                    said, counted = f"Cancellation request {request.pk} confirmed.", "confirmed"
                elif finished.outcome == JobOutcome.REJECTED:
                    denied = services.cancellation_deny(
                        request_id=request.pk,
                        erp_message=reported.erp_message or "",
                        erp_reference=reported.erp_reference or "",
                        erp_status=reported.erp_status or "",
                    )
                    said = f"Cancellation request {request.pk} denied; the order is back to {denied.order.status}."
                    counted = "denied"
                else:
                    error = finished.error
                    if finished.outcome == JobOutcome.CANCELLED:
                        error = (
                            f"Its delivery job #{finished.job.job_id} ended Cancelled: {error} "
                            "Resend the cancellation when ready."
                        )
                    services.cancellation_fail(request_id=request.pk, error=error)
                    said = (
                        f"Cancellation request {request.pk} marked Failed (needs attention; resend it from the "
                        "Admin Console once the problem is fixed)."
                    )
                    counted = "failed"
        except DomainError as exc:
            return [line(WARN, f"Cancellation request {request.pk} not updated: {exc.message}")]
        transaction.on_commit(lambda: CANCELLATION_OUTCOMES.labels(counted).inc())
        return [line(INFO, said)]

    def retried(self, job: JobRef, *, actor_id: int | None) -> int | None:
        """Resend the request through `cancellation_resend` (same idempotency key); only a Failed or
        LocalOnly request is sent again — one the ERP answered (Confirmed, Denied) is not."""
        from countermand.integration.services import JobNotRetryable

        request = request_for_job(job)
        if request is None:
            return None
        if not request.needs_attention:
            raise JobNotRetryable(
                f"Job #{job.job_id} carried cancellation request {request.pk}, which is {request.state}; "
                "only failed or local-only cancellations are sent again."
            )
        actor = Actor(kind=ADMIN if actor_id is not None else SYSTEM, user_id=actor_id)
        resent = services.cancellation_resend(request_id=request.pk, actor=actor)
        return resent.job_id

    def run_requested(self, definition_name: str, *, actor_id: int | None) -> None:
        """Refuse a manual run of the OrderCancel definition (see the module's docstring), whoever asks."""
        if definition_name != settings_for().order_cancel_job_name:
            return
        raise ManualRunRefused(
            f"Job definition {definition_name} delivers cancellations to the ERP; its jobs are queued by the "
            "cancellation service only, with the cancellation's rules, request and audit trail. To cancel an "
            "order use Cancel Order (Admin Console: Sales › Orders; API: POST /api/v1/admin/orders/"
            "{orderNumber}/cancel); to send a failed cancellation again, retry its job or resend it "
            "(Cancellations).",
            definition=definition_name,
            handler=HANDLER_NAME,
        )

    def purge_keeps(self) -> QuerySet[Any]:
        """The jobs of open requests stay; a resolved request keeps its history in OrderEvents."""
        return CancellationRequest.objects.filter(state__in=CancellationRequest.OPEN_STATES, job__isnull=False).values(
            "job_id"
        )
