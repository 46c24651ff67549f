"""State changes of the integration data: queueing jobs, saving connections and job definitions."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.core.errors import Conflict, NotFound, ValidationFailed
from countermand.integration.db import NOTIFY_CHANNEL, db_now
from countermand.integration.handlers import JobOutcome, JobRef, handler_get
from countermand.integration.joblog import LogLine, job_log_write
from countermand.integration.models import (
    OPEN_JOB_STATUSES,
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobLog,
    IntegrationJobParameter,
    JobDefinition,
    JobDefinitionParameter,
)
from countermand.integration.queue import job_finished_tell
from countermand.integration.registry import connection_type_get, definition_processor_problems


class JobParameterError(ValidationFailed):
    code = "INVALID_JOB_PARAMETER"


class DuplicateJob(Conflict):
    code = "DUPLICATE_JOB"


def parameter_value_parse(parameter: JobDefinitionParameter, raw: Any) -> Any:
    """A parameter value checked against its type: str, Decimal, bool or date. Raises JobParameterError."""
    text = "" if raw is None else str(raw).strip()
    kind = parameter.value_type
    try:
        if kind == JobDefinitionParameter.ValueType.NUMBER:
            return decimal.Decimal(text) if text else None
        if kind == JobDefinitionParameter.ValueType.BOOLEAN:
            if text.lower() in {"true", "1", "yes"}:
                return True
            if text.lower() in {"false", "0", "no", ""}:
                return False
            raise ValueError
        if kind == JobDefinitionParameter.ValueType.DATE:
            return datetime.date.fromisoformat(text) if text else None
    except (ValueError, decimal.InvalidOperation):
        raise JobParameterError(
            f"Parameter {parameter.name} takes a {kind.lower()} value"
            + (" (YYYY-MM-DD)" if kind == "Date" else "")
            + f", not {raw!r}.",
            parameter=parameter.name,
        ) from None
    return text


def job_parameters_clean(definition: JobDefinition, values: Mapping[str, Any]) -> dict[str, str]:
    """Check given values against the definition's parameters; fill defaults. Returns text values."""
    declared = {p.name: p for p in definition.parameters.all()}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise JobParameterError(
            f"Job {definition.name} has no parameter {', '.join(unknown)}; "
            f"its parameters are: {', '.join(declared) or 'none'}.",
            parameter=unknown[0],
        )
    cleaned: dict[str, str] = {}
    for name, param in declared.items():
        raw = values.get(name)
        if raw is None or str(raw).strip() == "":
            raw = param.default_value
        if param.is_required and (raw is None or str(raw).strip() == ""):
            raise JobParameterError(
                f"Job {definition.name} needs a value for {name}" + (f" ({param.prompt})." if param.prompt else "."),
                parameter=name,
            )
        parameter_value_parse(param, raw)
        cleaned[name] = "" if raw is None else str(raw).strip()
    return cleaned


def job_enqueue(
    *,
    definition: JobDefinition,
    parameters: Mapping[str, Any] | None = None,
    order: Any = None,
    dedupe_key: str | None = None,
    idempotency_key: str = "",
    handler: str = "",
    schedule_at: datetime.datetime | None = None,
    schedule_slot: str | None = None,
    requested_by: Any = None,
    requested_by_id: int | None = None,
    retry_of_id: int | None = None,
) -> IntegrationJob:
    """Queue a run of `definition`. Call it inside the business transaction: the row is the outbox.

    Without an `idempotency_key` the job gets a fresh one, kept by every attempt of the job, so an ERP
    that honours the `Idempotency-Key` header applies the job once however often it is delivered.
    `handler` names the registered JobHandler told of the job's final outcome (`handlers.py`).
    Raises JobParameterError for a bad parameter value (nothing is queued) and DuplicateJob when an
    open job with the same dedupe key (or a job for the same schedule slot) exists.
    """
    if not definition.is_active:
        raise ValidationFailed(f"Job definition {definition.name} is not active.", code="JOB_DEFINITION_INACTIVE")
    values = job_parameters_clean(definition, parameters or {})
    declared = {p.name: p for p in definition.parameters.all()}
    try:
        with transaction.atomic():
            job = IntegrationJob.objects.create(
                definition=definition,
                connection_id=definition.connection_id,
                order=order,
                schedule_at=schedule_at or db_now(),  # the clock claims compare with
                max_attempts=definition.max_retries + 1,
                dedupe_key=dedupe_key,
                idempotency_key=idempotency_key or f"job-{uuid.uuid4()}",
                handler=handler,
                schedule_slot=schedule_slot,
                requested_by_id=requested_by.pk if requested_by is not None else requested_by_id,
                retry_of_id=retry_of_id,
            )
            IntegrationJobParameter.objects.bulk_create(
                IntegrationJobParameter(job=job, definition_parameter=declared[name], name=name, value=value)
                for name, value in values.items()
            )
    except IntegrityError as exc:
        raise DuplicateJob(
            f"Job {definition.name} is already queued for {dedupe_key or schedule_slot}.",
            dedupe_key=dedupe_key,
        ) from exc
    transaction.on_commit(_notify_queue)
    return job


def _notify_queue() -> None:
    """Wake sleeping workers (PostgreSQL NOTIFY); SQLite workers poll."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def open_job_for(dedupe_key: str) -> IntegrationJob | None:
    return IntegrationJob.objects.filter(dedupe_key=dedupe_key, status__in=OPEN_JOB_STATUSES).first()


def connection_validate(connection: IntegrationConnection) -> None:
    """Check a connection's type and options before it is saved. Raises ValidationFailed."""
    ctype = connection_type_get(connection.type_name)
    connection.options = ctype.clean_options(connection.options or {})


def job_definition_validate(definition: JobDefinition) -> None:
    """Check that a definition's processors are installed and fit its connection. Raises ValidationFailed."""
    problems = definition_processor_problems(
        preprocessor=definition.preprocessor,
        integration_processor=definition.integration_processor,
        post_processor=definition.post_processor,
        connection_type=definition.connection.type_name if definition.connection_id and definition.connection else None,
        # Parameters are saved after their definition: a new one's are checked by its next save.
        parameters={p.name: p.value_type for p in definition.parameters.all()} if definition.pk else None,
    )
    if definition.recurring_cron:
        from croniter import croniter

        if not croniter.is_valid(definition.recurring_cron):
            problems.append(f"Recurrence {definition.recurring_cron!r} is not a valid cron expression.")
    if definition.recurring_cron and definition.recurring_interval_seconds:
        problems.append("Give either a recurrence interval or a cron expression, not both.")
    if problems:
        raise ValidationFailed(" ".join(problems), code="INVALID_JOB_DEFINITION", problems=problems)


class JobNotFound(NotFound):
    code = "JOB_NOT_FOUND"


class JobNotRetryable(Conflict):
    code = "JOB_NOT_RETRYABLE"


class JobFinished(Conflict):
    code = "JOB_FINISHED"


def _actor_name(actor_id: int | None) -> str:
    if actor_id is None:
        return "the system"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=actor_id).first()
    return user.get_username() if user else f"user {actor_id}"


def job_run(*, definition_id: int, parameters: Mapping[str, str], actor_id: int | None) -> IntegrationJob:
    """Queue a manual run of a job definition (Admin Console *Run*, `jobdefinitions/{id}/run`, `run-job`).

    The values are checked against the definition's parameters (types, required, defaults); a bad value
    raises JobParameterError and queues nothing. The run gets its own idempotency key.
    """
    definition = JobDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"There is no job definition {definition_id}.", code="JOB_DEFINITION_NOT_FOUND")
    with transaction.atomic():
        job = job_enqueue(definition=definition, parameters=dict(parameters), requested_by_id=actor_id)
        job_log_write(
            job_id=job.pk,
            lines=[LogLine(IntegrationJobLog.Level.INFO, f"Queued by {_actor_name(actor_id)}.", "Countermand", 0)],
        )
    return job


def job_retry(*, job_id: int, actor_id: int | None) -> IntegrationJob:
    """Run a Failure or Cancelled job again as a new job (`retry_of` points at the old one).

    The new job keeps the parameters, the order, the dedupe key, the idempotency key and the handler, so
    the ERP sees the same request. A job with a handler asks it first (`JobHandler.retried`): the handler
    may queue the new job through its own service (a cancellation is resent, with its rules) or refuse.
    Raises JobNotFound, JobNotRetryable, DuplicateJob (an open job for the same work exists), or the
    handler's DomainError.
    """
    job = IntegrationJob.objects.select_related("definition").filter(pk=job_id).first()
    if job is None:
        raise JobNotFound(f"There is no job {job_id}.")
    if job.status not in (IntegrationJob.Status.FAILURE, IntegrationJob.Status.CANCELLED):
        raise JobNotRetryable(f"Job #{job.pk} is {job.status}; only failed or cancelled jobs can be retried.")
    handler = handler_get(job.handler)
    with transaction.atomic():
        queued_id = handler.retried(JobRef.of(job), actor_id=actor_id) if handler is not None else None
        if queued_id is not None:
            new_job = IntegrationJob.objects.get(pk=queued_id)
            new_job.retry_of_id = job.pk
            new_job.save(update_fields=["retry_of"])
        else:
            new_job = job_enqueue(
                definition=job.definition,
                parameters={p.name: p.value for p in job.parameters.all()},
                order=job.order,
                dedupe_key=job.dedupe_key,
                idempotency_key=job.idempotency_key,
                handler=job.handler,
                requested_by_id=actor_id,
                retry_of_id=job.pk,
            )
        who = _actor_name(actor_id)
        job_log_write(
            job_id=job.pk,
            lines=[LogLine(IntegrationJobLog.Level.INFO, f"Retried by {who} as job #{new_job.pk}.", "Countermand", 0)],
        )
        job_log_write(
            job_id=new_job.pk,
            lines=[LogLine(IntegrationJobLog.Level.INFO, f"Retry of job #{job.pk}, by {who}.", "Countermand", 0)],
        )
    return new_job


def job_cancel(*, job_id: int, actor_id: int | None) -> IntegrationJob:
    """Cancel a job. Queued: it becomes Cancelled now. InProcess: cancellation is requested — the running
    attempt ends as Cancelled instead of being retried, unless the ERP answers first (an answer the ERP
    gave is never thrown away). The job's handler hears a Cancelled outcome (a cancelled OrderCancel job
    leaves its CancellationRequest Failed, needing attention, so it can be resent).
    Raises JobNotFound, JobFinished (code JOB_FINISHED).
    """
    who = _actor_name(actor_id)
    with transaction.atomic():
        job = IntegrationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise JobNotFound(f"There is no job {job_id}.")
        if job.status == IntegrationJob.Status.QUEUED:
            job.status = IntegrationJob.Status.CANCELLED
            job.finished_at = timezone.now()
            job.lease_owner = ""
            job.lease_expires_at = None
            job.error = f"Cancelled by {who}."
            job.save(update_fields=["status", "finished_at", "lease_owner", "lease_expires_at", "error"])
            lines = [LogLine(IntegrationJobLog.Level.INFO, f"Cancelled by {who}.", "Countermand", job.attempt)]
            lines += job_finished_tell(
                job=JobRef.of(job),
                outcome=JobOutcome.CANCELLED,
                status=job.status,
                result=job.result,
                error=job.error,
            )
            job_log_write(job_id=job.pk, lines=lines, locked=True)
        elif job.status == IntegrationJob.Status.IN_PROCESS:
            if not job.cancel_requested:
                job.cancel_requested = True
                job.save(update_fields=["cancel_requested"])
                job_log_write(
                    job_id=job.pk,
                    lines=[
                        LogLine(
                            IntegrationJobLog.Level.INFO,
                            f"Cancel requested by {who}: attempt {job.attempt} ends as Cancelled instead of being "
                            "retried, unless the ERP answers first.",
                            "Countermand",
                            job.attempt,
                        )
                    ],
                    locked=True,
                )
        else:
            raise JobFinished(f"Job #{job.pk} has already finished ({job.status}); it cannot be cancelled.")
    return job
