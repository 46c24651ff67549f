"""Runs one claimed attempt of a job: preprocessor → integration processor → post processor.

Each step logs to the job's log (`Debug` only with the definition's debugging on). The run is outside
any database transaction; what it decides is written by `queue.attempt_finish`, fenced by the attempt.

How a step's end maps to the attempt's outcome:
- returns normally → the next step; after the last one, SUCCESS (SuccessWithWarnings when a step
  logged a warning or an error);
- logs `Fatal` → FAILED (the remaining steps do not run);
- raises `ErpRejected` → REJECTED (the ERP's message is kept; the post processor does not run);
- raises `TransientError` → TRANSIENT; overruns the definition's timeout → TIMEOUT;
- raises `ConfigurationError` → CONFIGURATION (not retried; the connection is marked, and its next jobs end
  CONFIGURATION at once, without running the processors, until it is edited);
- raises anything else → FAILED, with the traceback in the log.
"""

from __future__ import annotations

import datetime
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection as db_connection
from django.utils import timezone

from countermand.core.errors import DomainError
from countermand.integration import queue
from countermand.integration.db import write_transaction
from countermand.integration.handlers import JobRef, handler_get
from countermand.integration.http import connection_info, connection_redactor
from countermand.integration.joblog import JobLogBuffer, LogLine, job_log_write
from countermand.integration.metrics import JOB_ATTEMPTS, JOB_DURATION
from countermand.integration.models import (
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobParameter,
    JobDefinition,
    JobDefinitionParameter,
)
from countermand.integration.plugin import (
    ConfigurationError,
    ErpRejected,
    JobView,
    OrderView,
    ProcessorContext,
    ProcessorKind,
    ProcessorResult,
    TransientError,
)
from countermand.integration.registry import NONE, registry
from countermand.integration.services import parameter_value_parse

STEPS = (
    (ProcessorKind.PREPROCESSOR, "preprocessor", "Preprocessor"),
    (ProcessorKind.INTEGRATION, "integration_processor", "Integration processor"),
    (ProcessorKind.POSTPROCESSOR, "post_processor", "Post processor"),
)


class AttemptControl:
    """What the worker tells a running attempt: stop (cancel requested) or the job was lost."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.lost = threading.Event()


ParameterRow = tuple[str, str, JobDefinitionParameter | None]  # name, value as stored, its declaration


@dataclass(frozen=True)
class LoadedJob:
    """A claimed job as an attempt needs it: the row, with its definition (and connection) loaded, and
    its parameter values with their declarations."""

    job: IntegrationJob
    parameters: list[ParameterRow]


def parameters_typed(rows: list[ParameterRow]) -> dict[str, Any]:
    """Parameter values as their declared types (str, Decimal, bool, date); a value whose parameter has
    since been deleted stays a string. Raises JobParameterError for a value its type does not take."""
    return {name: value if spec is None else parameter_value_parse(spec, value) for name, value, spec in rows}


def typed_parameters(job: IntegrationJob) -> dict[str, Any]:
    """The job's parameter values as their declared types (str, Decimal, bool, date).

    A job holds a value for every parameter its definition declared when it was queued (defaults
    filled in); a value whose parameter has since been deleted stays a string.
    """
    rows = job.parameters.select_related("definition_parameter").order_by("id")
    return parameters_typed([(param.name, param.value, param.definition_parameter) for param in rows])


_JOB_FIELDS = ("id", "definition_id", "connection_id", "order_id", "max_attempts", "idempotency_key", "handler")


def jobs_load(job_ids: list[int]) -> dict[int, LoadedJob]:
    """The claimed jobs an attempt runs, read for a whole batch: two plain-SQL queries (the jobs' columns
    an attempt reads, their parameter values) and one ORM query per kind of row they point at
    (definitions; connections and parameter declarations when there are any). The job rows load only
    those columns: the others are deferred (read on access), and the ORM's cost per query is what the
    profile of a busy worker showed."""
    if not job_ids:
        return {}
    meta = IntegrationJob._meta
    marks = ", ".join(["%s"] * len(job_ids))
    columns = ", ".join(_JOB_FIELDS)  # each field's column is its attname
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {meta.db_table} WHERE id IN ({marks})", job_ids)
        jobs = [IntegrationJob.from_db(db_connection.alias, _JOB_FIELDS, row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT job_id, name, value, definition_parameter_id "
            f"FROM {IntegrationJobParameter._meta.db_table} WHERE job_id IN ({marks}) ORDER BY id",
            job_ids,
        )
        parameter_rows = cursor.fetchall()
    definitions = JobDefinition.objects.in_bulk({job.definition_id for job in jobs})
    connection_ids = {job.connection_id for job in jobs if job.connection_id}
    connections = IntegrationConnection.objects.in_bulk(connection_ids) if connection_ids else {}
    declared_ids = {row[3] for row in parameter_rows if row[3]}
    declarations = JobDefinitionParameter.objects.in_bulk(declared_ids) if declared_ids else {}
    parameters: dict[int, list[ParameterRow]] = {job.pk: [] for job in jobs}
    for job_id, name, value, declared_id in parameter_rows:
        parameters[job_id].append((name, value, declarations.get(declared_id)))
    loaded = {}
    for job in jobs:
        job.definition = definitions[job.definition_id]
        if job.connection_id:
            job.connection = connections[job.connection_id]
        loaded[job.pk] = LoadedJob(job=job, parameters=parameters[job.pk])
    return loaded


def job_view(job: IntegrationJob, *, attempt: int) -> JobView:
    """The read-only view of the job that processors get."""
    return JobView(
        id=job.pk,
        definition_id=job.definition_id,
        definition_name=job.definition.name,
        idempotency_key=job.idempotency_key,
        attempt=attempt,
        max_attempts=job.max_attempts,
    )


def order_view(job: IntegrationJob) -> OrderView | None:
    """The read-only view of the job's order that processors get, or None."""
    if not job.order_id:
        return None
    orders = IntegrationJob._meta.get_field("order").related_model._default_manager
    order = orders.select_related("customer", "website").prefetch_related("lines").get(pk=job.order_id)
    return OrderView.from_order(order)


def attempt_run(
    claim: queue.Claim, *, worker_id: str, control: AttemptControl | None = None, loaded: LoadedJob | None = None
) -> queue.AttemptOutcome:
    """Run the pipeline for `claim` and say how it ended. Never raises for a processor's fault.
    `loaded` is the claimed job as `jobs_load` read it (read here when not given)."""
    control = control or AttemptControl()
    if loaded is None:
        loaded = jobs_load([claim.job_id])[claim.job_id]
    job = loaded.job
    definition = job.definition  # connection and order are loaded below only when the job has them
    log = JobLogBuffer(job_id=job.pk, attempt=claim.attempt, debugging=definition.debugging_enabled)
    log.redactor = connection_redactor(job.connection if job.connection_id else None)  # secrets out of log/error
    log.module_name = "Countermand"
    # An ERP job's claim wrote these lines already (queue.claim_jobs): nothing to flush before its call.
    lines = (
        []
        if claim.start_logged
        else queue.attempt_start_lines(worker_id, claim.attempt, job.max_attempts, probe=claim.probe)
    )
    for line in lines:
        log.info(line.message)

    def ended(kind: queue.AttemptKind, error: str = "", result: dict[str, Any] | None = None) -> queue.AttemptOutcome:
        return queue.AttemptOutcome(
            kind=kind,
            result=log.redact_json(result if result is not None else {}),
            error=log.redact(error),
            warnings=log.counts["Warn"],
            errors=log.counts["Error"] + log.counts["Fatal"],
            lines=log.take(),
        )

    try:
        parameters = parameters_typed(loaded.parameters)
    except DomainError as exc:
        log.fatal(f"Bad parameter value: {exc.message}")
        return ended(queue.FAILED, exc.message)

    deadline = timezone.now() + datetime.timedelta(seconds=max(1, definition.timeout_seconds))
    connection_model = job.connection if job.connection_id else None
    if connection_model is not None and connection_model.configuration_error:
        # An earlier attempt met a configuration error (a refused log-on): calling the ERP again would be one
        # more refused log-in towards its lock-out. The job fails with the same message until the fix.
        met = connection_model.configuration_error_at
        log.error(
            f"Not sent to {connection_model.name}: {connection_model.configuration_error} "
            + (f"(met at {met:%Y-%m-%d %H:%M:%S} UTC; " if met else "(")
            + "editing the connection or a successful Test connection clears it)."
        )
        return ended(queue.CONFIGURATION, connection_model.configuration_error)
    data: dict[str, Any] = {}
    handler = handler_get(job.handler)
    if handler is not None:
        try:
            with write_transaction():
                data.update(handler.started(JobRef.of(job, attempt=claim.attempt)))
        except DomainError as exc:
            log.warn(f"The {job.handler} handler could not note the start: {exc.message}")
    context = ProcessorContext(
        job=job_view(job, attempt=claim.attempt),
        parameters=parameters,
        logger=log,
        deadline=deadline,
        connection=connection_info(connection_model) if connection_model is not None else None,
        order=order_view(job),
        data=data,
    )
    result = ProcessorResult()
    processors = registry().processors
    for kind, field_name, label in STEPS:
        name = getattr(definition, field_name) or NONE
        if name == NONE:
            continue
        if control.cancel.is_set():
            log.info(f"Cancel requested: stopping before the {label.lower()}.")
            return ended(queue.CANCELLED, "Cancelled on request.")
        if timezone.now() >= deadline:
            log.error(f"The job's timeout ({definition.timeout_seconds} s) passed before the {label.lower()}.")
            return ended(queue.TIMEOUT, f"timed out after {definition.timeout_seconds} s")
        processor_class = processors.get(name)
        if processor_class is None or processor_class.kind != kind:
            problem = "is not installed" if processor_class is None else f"is a {processor_class.kind}"
            log.fatal(f"{label} {name!r} {problem}; fix the job definition.")
            return ended(queue.FAILED, f"{label} {name!r} {problem}.")
        log.module_name = name
        if context.connection is not None and log.pending:
            log.flush()  # what led up to an ERP call is visible even if the call hangs or the worker dies
        started = time.perf_counter()
        try:
            returned = processor_class().execute(context)
            if returned is not None and not isinstance(returned, ProcessorResult):
                raise TypeError(f"execute() returned {type(returned).__name__}, not a ProcessorResult or None")
        except ErpRejected as exc:
            log.warn(f"The ERP refused: {exc.message}")
            refusal = ProcessorResult(
                erp_message=exc.message,
                erp_rejected=True,
                erp_reference=exc.erp_reference or None,
                erp_status=exc.erp_status or None,
            )
            log.module_name = "Countermand"
            return ended(queue.REJECTED, exc.message, result.merged(refusal).to_json())
        except ConfigurationError as exc:
            log.error(f"Configuration error of the connection: {exc}")
            log.module_name = "Countermand"
            return ended(queue.CONFIGURATION, str(exc))
        except TransientError as exc:
            log.warn(f"Transient failure: {exc}")
            log.module_name = "Countermand"
            kind_ = queue.TIMEOUT if timezone.now() >= deadline else queue.TRANSIENT
            return ended(kind_, str(exc))
        except Exception as exc:
            message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            log.error(f"{label} {name} failed: {message}\n{traceback.format_exc(limit=20)}")
            log.module_name = "Countermand"
            return ended(queue.FAILED, message)
        result = result.merged(returned)
        log.debug(f"{label} {name} took {time.perf_counter() - started:.3f} s.")
        if log.fatal_count:
            log.module_name = "Countermand"
            return ended(queue.FAILED, f"{label} {name} logged a Fatal error.")
    log.module_name = "Countermand"
    return ended(queue.SUCCESS, result=result.to_json())


def _finish_now(job_id: int, attempt: int, outcome: queue.AttemptOutcome) -> queue.Finish:
    return queue.attempt_finish(job_id=job_id, attempt=attempt, outcome=outcome)


def attempt_execute(
    claim: queue.Claim,
    *,
    worker_id: str,
    control: AttemptControl | None = None,
    definition_name: str = "",
    loaded: LoadedJob | None = None,
    finish: Callable[[int, int, queue.AttemptOutcome], queue.Finish] = _finish_now,
) -> queue.Finish:
    """Run a claimed attempt and record its outcome with `finish` (default: at once, in its own
    transaction; the worker passes its batcher); returns what was recorded."""
    started = time.perf_counter()
    try:
        outcome = attempt_run(claim, worker_id=worker_id, control=control, loaded=loaded)
    except Exception as exc:  # the runner itself failed (database trouble…): the attempt failed
        outcome = queue.AttemptOutcome(kind=queue.FAILED, error=f"{type(exc).__name__}: {exc}")
        outcome.lines.append(
            LogLine(
                "Error",
                f"The worker could not run this attempt: {traceback.format_exc(limit=20)}",
                "Countermand",
                claim.attempt,
            )
        )
    recorded = finish(claim.job_id, claim.attempt, outcome)
    if not recorded.applied:
        # Someone else owns the job now (the lease expired, or the attempt timed out): keep what this
        # attempt saw in the log, but its outcome is not recorded.
        job_log_write(
            job_id=claim.job_id,
            lines=[
                *outcome.lines,
                LogLine(
                    "Warn",
                    f"Attempt {claim.attempt} ended ({outcome.kind}) after it had lost the job; "
                    "its outcome was discarded.",
                    "Countermand",
                    claim.attempt,
                ),
            ],
        )
    label = definition_name or str(claim.definition_id)
    JOB_DURATION.labels(label, outcome.kind).observe(time.perf_counter() - started)
    JOB_ATTEMPTS.labels(label, outcome.kind if recorded.applied else "lost").inc()
    return recorded
