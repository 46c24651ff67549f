"""What a finished job sends out beyond its row: the job definition's notify e-mail.

What a final outcome means to a domain (an OrderCancel job confirming a cancellation…) is the job's handler's
business: see `handlers.py`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from countermand.integration.models import IntegrationJob, JobDefinition

logger = logging.getLogger(__name__)
Status = IntegrationJob.Status
FINISHED_STATUSES = (Status.SUCCESS, Status.SUCCESS_WITH_WARNINGS, Status.FAILURE, Status.CANCELLED)
COMPLETION_STATUSES = (Status.SUCCESS, Status.SUCCESS_WITH_WARNINGS, Status.FAILURE)


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
