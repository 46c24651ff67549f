"""State changes of the integration data: queueing jobs, saving connections and job definitions."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.core.errors import Conflict, ValidationFailed
from countermand.integration.models import (
    OPEN_JOB_STATUSES,
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobParameter,
    JobDefinition,
    JobDefinitionParameter,
)
from countermand.integration.processors.registry import connection_type_get, definition_processor_problems


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
    schedule_at: datetime.datetime | None = None,
    schedule_slot: str | None = None,
    requested_by: Any = None,
) -> IntegrationJob:
    """Queue a run of `definition`. Call it inside the business transaction: the row is the outbox.

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
                schedule_at=schedule_at or timezone.now(),
                max_attempts=definition.max_retries + 1,
                dedupe_key=dedupe_key,
                idempotency_key=idempotency_key,
                schedule_slot=schedule_slot,
                requested_by=requested_by,
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
            cursor.execute("NOTIFY countermand_jobs")


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
    )
    if definition.recurring_cron:
        from croniter import croniter

        if not croniter.is_valid(definition.recurring_cron):
            problems.append(f"Recurrence {definition.recurring_cron!r} is not a valid cron expression.")
    if definition.recurring_cron and definition.recurring_interval_seconds:
        problems.append("Give either a recurrence interval or a cron expression, not both.")
    if problems:
        raise ValidationFailed(" ".join(problems), code="INVALID_JOB_DEFINITION", problems=problems)
