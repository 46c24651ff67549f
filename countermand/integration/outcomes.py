"""What a finished job means outside the job table: the OrderCancel wiring and the notify e-mail.

An OrderCancel job is recognised by its data, not its name: a job whose `order` is set and whose
`idempotency_key` is that of a CancellationRequest of the same order carries that request. Its outcome
is applied in the same transaction as the job's fenced completion, so the job status and the
cancellation state never disagree:

| job outcome                                  | job status            | cancellation          |
|----------------------------------------------|-----------------------|-----------------------|
| processors succeeded                         | Success (or …Warnings)| `cancellation_confirm`|
| the ERP refused (`ErpRejected`)              | SuccessWithWarnings   | `cancellation_deny`   |
| retries exhausted / unhandled error at last  | Failure               | `cancellation_fail`   |
| cancelled by an administrator                | Cancelled             | `cancellation_fail`   |

A refusal is a *delivered* answer — the job did its work and the buyer is told — so the job is not a
Failure (no retry, no failure e-mail); the Warn line in its log carries the ERP's message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from countermand.core.errors import DomainError
from countermand.integration.joblog import LogLine
from countermand.integration.models import IntegrationJob, IntegrationJobLog, JobDefinition
from countermand.integration.plugin import ProcessorResult

if TYPE_CHECKING:
    from countermand.cancellations.models import CancellationRequest

logger = logging.getLogger(__name__)
Status = IntegrationJob.Status
FINISHED_STATUSES = (Status.SUCCESS, Status.SUCCESS_WITH_WARNINGS, Status.FAILURE, Status.CANCELLED)
COMPLETION_STATUSES = (Status.SUCCESS, Status.SUCCESS_WITH_WARNINGS, Status.FAILURE)
CONFIRMED, DENIED, FAILED = "confirmed", "denied", "failed"


def cancellation_request_for_job(job: IntegrationJob) -> CancellationRequest | None:
    """The CancellationRequest a job delivers, or None for any other job."""
    if not job.order_id or not job.idempotency_key:
        return None
    from countermand.cancellations.models import CancellationRequest

    return CancellationRequest.objects.filter(idempotency_key=job.idempotency_key, order_id=job.order_id).first()


def cancellation_outcome_apply(
    *,
    job: IntegrationJob,
    outcome: str,
    attempt: int,
    result: dict[str, Any],
    error: str = "",
) -> list[LogLine]:
    """Apply a finished job's `outcome` (CONFIRMED, DENIED or FAILED) to the CancellationRequest it
    carries, inside the caller's transaction. Returns log lines saying what was done; a request that
    moved on meanwhile (an administrator resolved it) is left alone and reported as a warning."""
    request = cancellation_request_for_job(job)
    if request is None:
        return []
    from countermand.cancellations import services as cancellations

    def line(level: str, message: str) -> LogLine:
        return LogLine(level, message, "OrderCancel", attempt)

    reported = ProcessorResult.from_json(result)
    try:
        with transaction.atomic():
            if outcome == CONFIRMED:
                cancellations.cancellation_confirm(
                    request_id=request.pk,
                    erp_status=reported.erp_status or "",
                    erp_reference=reported.erp_reference or "",
                    erp_message=reported.erp_message or "",
                )
                return [line(IntegrationJobLog.Level.INFO, f"Cancellation request {request.pk} confirmed.")]
            if outcome == DENIED:
                cancellations.cancellation_deny(request_id=request.pk, erp_message=reported.erp_message or "")
                return [
                    line(
                        IntegrationJobLog.Level.INFO,
                        f"Cancellation request {request.pk} denied; the order is back to {request.previous_status}.",
                    )
                ]
            if outcome == FAILED:
                cancellations.cancellation_fail(request_id=request.pk, error=error)
                return [
                    line(
                        IntegrationJobLog.Level.INFO,
                        f"Cancellation request {request.pk} marked Failed (needs attention; resend it from the "
                        "Admin Console once the problem is fixed).",
                    )
                ]
    except DomainError as exc:
        return [line(IntegrationJobLog.Level.WARN, f"Cancellation request {request.pk} not updated: {exc.message}")]
    return []


def definition_notify(*, job_id: int) -> None:
    """Send the job definition's notify e-mail when its condition matches the job's final status.

    Called after commit; a mail server failure is logged and does not change the job.
    """
    job = IntegrationJob.objects.select_related("definition").filter(pk=job_id).first()
    if job is None:
        return
    definition = job.definition
    recipients = [a.strip() for a in definition.notify_email.split(",") if a.strip()]
    if not recipients:
        return
    condition = definition.notify_condition
    if condition == JobDefinition.NotifyCondition.FAILURE and job.status != Status.FAILURE:
        return
    if condition == JobDefinition.NotifyCondition.COMPLETION and job.status not in COMPLETION_STATUSES:
        return
    if condition not in (JobDefinition.NotifyCondition.FAILURE, JobDefinition.NotifyCondition.COMPLETION):
        return
    params = ", ".join(f"{p.name}={p.value}" for p in job.parameters.all())
    subject = f"Job {definition.name} #{job.pk}: {job.status}"
    lines = [
        f"Job {definition.name} #{job.pk} ended {job.status} after {job.attempt} attempt(s).",
        f"Parameters: {params or 'none'}",
    ]
    if job.error:
        lines.append(f"Error: {job.error}")
    if job.result:
        lines.append(f"Result: {job.result}")
    base = getattr(settings, "COUNTERMAND_BASE_URL", "")
    if base:
        lines.append(f"Job history: {base.rstrip('/')}/admin/integration/integrationjob/{job.pk}/change/")
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except Exception:  # the job's outcome stands; the mail server's trouble is logged
        logger.exception("cannot send the notify e-mail of job %s to %s", job.pk, recipients)
