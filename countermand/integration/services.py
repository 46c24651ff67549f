"""State changes of the integration data: queueing jobs, saving connections and job definitions."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.core.crypto import secret_reencrypt
from countermand.core.errors import Conflict, NotFound, ValidationFailed
from countermand.integration.db import db_now
from countermand.integration.handlers import JobOutcome, JobRef, handler_get, manual_run_check
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
from countermand.integration.registry import connection_type_get, job_definition_processor_problems
from countermand.integration.wakeup import workers_wake_on_commit
from countermand.settings.models import ConfigurationChange
from countermand.settings.services import (
    HIDDEN,
    configuration_change_record,
    configuration_changes,
    configuration_snapshot,
)


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
    connection_id: int | None = None,
) -> IntegrationJob:
    """Queue a run of `definition`. Call it inside the business transaction: the row is the outbox.

    Without an `idempotency_key` the job gets a fresh one, kept by every attempt of the job, so an ERP
    that honours the `Idempotency-Key` header applies the job once however often it is delivered.
    `handler` names the registered JobHandler told of the job's final outcome (`handlers.py`).
    `connection_id` sends this job to another connection than the definition's (one definition serving
    many targets, e.g. a webhook delivery per subscriber): that connection's breaker, concurrency limit and
    latency metric apply to it, and the processors get it as `context.connection`.
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
                connection_id=connection_id if connection_id is not None else definition.connection_id,
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
            workers_wake_on_commit()
    except IntegrityError as exc:
        raise DuplicateJob(
            f"Job {definition.name} is already queued for {dedupe_key or schedule_slot}.",
            dedupe_key=dedupe_key,
        ) from exc
    return job


def open_job_for(dedupe_key: str) -> IntegrationJob | None:
    return IntegrationJob.objects.filter(dedupe_key=dedupe_key, status__in=OPEN_JOB_STATUSES).first()


def connection_url_problem(url: str) -> str | None:
    """What is wrong with a connection's URL, or None: empty (a type that needs none), or an absolute
    http(s) URL with a host, no spaces and no control characters."""
    if not url:
        return None
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "it cannot contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — a port that is not a number raises ValueError
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must be an absolute http:// or https:// URL with a host, e.g. https://erp.example.com/api"
    return None


def connection_validate(connection: IntegrationConnection) -> None:
    """Check a connection's URL, type and options before it is saved. Raises ValidationFailed."""
    problem = connection_url_problem(connection.url or "")
    if problem:
        raise ValidationFailed(
            f"url {connection.url[:80]!r} is not a connection URL: {problem}.",
            code="INVALID_CONNECTION_URL",
            field="url",
        )
    ctype = connection_type_get(connection.type_name)
    connection.options = ctype.clean_options(connection.options or {})


def job_definition_validate(definition: JobDefinition) -> None:
    """Check that a definition's processors are installed and fit its connection. Raises ValidationFailed."""
    problems = job_definition_processor_problems(definition)
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

    A definition whose jobs a domain queues itself (the one named by `OrderCancelJobName`: the
    cancellation service's) is refused first, by its handler (`JobHandler.run_requested`: ManualRunRefused,
    409, naming the domain's way). The values are checked against the definition's parameters (types,
    required, defaults); a bad value raises JobParameterError and queues nothing. The run gets its own
    idempotency key.
    """
    definition = JobDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"There is no job definition {definition_id}.", code="JOB_DEFINITION_NOT_FOUND")
    manual_run_check(definition.name, actor_id=actor_id)
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
    if handler is None:
        manual_run_check(job.definition.name, actor_id=actor_id)
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


# ---------------------------------------------------------------- configuration: connections, job definitions
# One write path for the Admin Console and the API: validated here (not in Model.save()), audited as
# ConfigurationChange rows like settings are (countermand.settings.services).

CONNECTION_UNAUDITED = (
    "password_encrypted",
    "breaker_state",
    "breaker_failures",
    "breaker_open_until",
    "configuration_error",
    "configuration_error_at",
)
DEFINITION_UNAUDITED = ("last_run_at",)
PARAMETER_FIELDS = ("sequence", "value_type", "default_value", "prompt", "is_required")


@transaction.atomic
def connection_save(
    *,
    connection: IntegrationConnection,
    password: str | None = None,
    clear_password: bool = False,
    actor_id: int | None = None,
) -> IntegrationConnection:
    """Create or update `connection` (an instance carrying the new values, as a form or serializer builds it).

    Its type and options are checked (connection_validate; raises ValidationFailed). `password`, when not
    None, is stored encrypted; `clear_password` removes the stored one; else the stored password stays.
    The change is audited without the password (only that one was set or removed).
    """
    connection_validate(connection)
    stored = (
        IntegrationConnection.objects.select_for_update().filter(pk=connection.pk).first() if connection.pk else None
    )
    had_password = stored.has_password if stored is not None else False
    if password is not None:
        connection.set_password(password)
    elif clear_password:
        connection.password_encrypted = ""
    # An edit is the fix of a configuration error (a wrong password…): the next job tries the ERP again. Its
    # new `updated_at` also makes every process build a new pooled HTTP client (http.http_client), and a new
    # password a new ERP session (the Tryton client's sessions are keyed by the password).
    connection.configuration_error, connection.configuration_error_at = "", None
    connection.save()
    before = configuration_snapshot(stored, exclude=CONNECTION_UNAUDITED) if stored is not None else {}
    changes: dict[str, Any] = configuration_changes(
        before, configuration_snapshot(connection, exclude=CONNECTION_UNAUDITED)
    )
    if password is not None or (clear_password and had_password):
        changes["password"] = [HIDDEN if had_password else None, HIDDEN if connection.has_password else None]
    configuration_change_record(
        kind=ConfigurationChange.Kind.CONNECTION,
        object_id=connection.pk,
        object_name=connection.name,
        action=ConfigurationChange.Action.UPDATED if stored is not None else ConfigurationChange.Action.CREATED,
        changes=changes,
        actor_id=actor_id,
    )
    return connection


def connection_configuration_error_clear(*, connection_id: int) -> None:
    """*Test connection* got through: the connection's configuration error (if any) no longer holds its jobs."""
    IntegrationConnection.objects.filter(pk=connection_id).exclude(configuration_error="").update(
        configuration_error="", configuration_error_at=None
    )


def connection_passwords_reencrypt() -> tuple[int, list[str]]:
    """Encrypt every stored connection password again with the current COUNTERMAND_SECRET_KEY (after a key
    rotation, while the old key is in COUNTERMAND_SECRET_KEY_FALLBACKS). One short transaction per connection,
    its row locked; the passwords themselves do not change, so nothing is audited.

    Returns how many were re-encrypted and the names of the connections no key can read (their passwords
    must be entered again)."""
    done, unreadable = 0, []
    for connection_id in IntegrationConnection.objects.exclude(password_encrypted="").values_list("id", flat=True):
        with transaction.atomic():
            connection = IntegrationConnection.objects.select_for_update().filter(pk=connection_id).first()
            if connection is None or not connection.password_encrypted:
                continue
            try:
                token = secret_reencrypt(connection.password_encrypted)
            except ValueError:
                unreadable.append(connection.name)
                continue
            # update(), not save(): the connection is not edited (updated_at, and the pooled clients keyed by
            # it, stay), only its stored secret's envelope changes.
            IntegrationConnection.objects.filter(pk=connection_id).update(password_encrypted=token)
            done += 1
    return done, unreadable


@transaction.atomic
def connection_delete(*, connection_id: int, actor_id: int | None = None) -> None:
    """Delete a connection no job definition uses (raises ProtectedError otherwise), audited."""
    connection = IntegrationConnection.objects.select_for_update().filter(pk=connection_id).first()
    if connection is None:
        raise NotFound(f"There is no connection {connection_id}.", code="CONNECTION_NOT_FOUND")
    before = configuration_snapshot(connection, exclude=CONNECTION_UNAUDITED)
    connection.delete()
    configuration_change_record(
        kind=ConfigurationChange.Kind.CONNECTION,
        object_id=connection_id,
        object_name=connection.name,
        action=ConfigurationChange.Action.DELETED,
        changes=configuration_changes(before, {}),
        actor_id=actor_id,
    )


def _parameters_snapshot(definition: JobDefinition) -> dict[str, Any]:
    return {
        f"parameters.{p.name}": {field: getattr(p, field) for field in PARAMETER_FIELDS}
        for p in JobDefinitionParameter.objects.filter(job_definition=definition)
    }


def _parameters_upsert(definition: JobDefinition, parameters: Sequence[Mapping[str, Any]]) -> None:
    """Make the definition's parameters these, matched by name: existing rows are updated in place (jobs
    already queued keep their link to them, so their typed values), new ones created, and only the
    parameters no longer named deleted."""
    names = [str(p.get("name") or "").strip() for p in parameters]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates or "" in names:
        message = (
            f"Parameter names must be distinct: {', '.join(duplicates)}."
            if duplicates
            else "Every parameter needs a name."
        )
        raise ValidationFailed(message, code="INVALID_JOB_DEFINITION", field="parameters")
    existing = {p.name: p for p in JobDefinitionParameter.objects.select_for_update().filter(job_definition=definition)}
    JobDefinitionParameter.objects.filter(pk__in=[p.pk for n, p in existing.items() if n not in names]).delete()
    for name, values in zip(names, parameters, strict=True):
        fields = {k: v for k, v in values.items() if k in PARAMETER_FIELDS}
        parameter = existing.get(name)
        if parameter is None:
            JobDefinitionParameter.objects.create(job_definition=definition, name=name, **fields)
            continue
        changed = [k for k, v in fields.items() if getattr(parameter, k) != v]
        for key in changed:
            setattr(parameter, key, fields[key])
        if changed:
            parameter.save(update_fields=changed)


@transaction.atomic
def job_definition_save(
    *,
    definition: JobDefinition,
    parameters: Sequence[Mapping[str, Any]] | None = None,
    actor_id: int | None = None,
) -> JobDefinition:
    """Create or update `definition` (an instance carrying the new values) and, when given, its parameters.

    The processors and recurrence are checked first, the parameters against what the processors declare
    once they are written (job_definition_validate; raises ValidationFailed, code INVALID_JOB_DEFINITION,
    and nothing is saved). `parameters` (dicts of name, sequence, value_type, default_value,
    prompt, is_required) become the definition's parameters, upserted by name; None leaves them alone.
    The change (fields and parameters) is audited.
    """
    job_definition_validate(definition)
    stored = JobDefinition.objects.select_for_update().filter(pk=definition.pk).first() if definition.pk else None
    before = (
        {**configuration_snapshot(stored, exclude=DEFINITION_UNAUDITED), **_parameters_snapshot(stored)}
        if stored is not None
        else {}
    )
    definition.save()
    if parameters is not None:
        _parameters_upsert(definition, parameters)
        job_definition_validate(definition)  # the parameters against what the processors declare
    after = {**configuration_snapshot(definition, exclude=DEFINITION_UNAUDITED), **_parameters_snapshot(definition)}
    configuration_change_record(
        kind=ConfigurationChange.Kind.JOB_DEFINITION,
        object_id=definition.pk,
        object_name=definition.name,
        action=ConfigurationChange.Action.UPDATED if stored is not None else ConfigurationChange.Action.CREATED,
        changes=configuration_changes(before, after),
        actor_id=actor_id,
    )
    return definition


@transaction.atomic
def job_definition_delete(*, definition_id: int, actor_id: int | None = None) -> None:
    """Delete a job definition that has no jobs (raises ProtectedError otherwise), audited."""
    definition = JobDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"There is no job definition {definition_id}.", code="JOB_DEFINITION_NOT_FOUND")
    before = {**configuration_snapshot(definition, exclude=DEFINITION_UNAUDITED), **_parameters_snapshot(definition)}
    definition.delete()
    configuration_change_record(
        kind=ConfigurationChange.Kind.JOB_DEFINITION,
        object_id=definition_id,
        object_name=definition.name,
        action=ConfigurationChange.Action.DELETED,
        changes=configuration_changes(before, {}),
        actor_id=actor_id,
    )
