"""The outcome port: what a job means outside the job table, told by the app that queued it.

The engine runs jobs and knows nothing of cancellations, customers or any other domain. A job that a
domain must hear about names its handler (`IntegrationJob.handler`, set by `job_enqueue(handler=...)`);
the domain app registers a `JobHandler` under that name in its `AppConfig.ready()`:

    from countermand.integration.handlers import handler_register
    handler_register("OrderCancel", OrderCancelHandler())

The engine then calls it at five points:

| hook                       | when                                                  | transaction                     |
|----------------------------|-------------------------------------------------------|---------------------------------|
| `started(job)`             | an attempt starts, before the first processor         | its own; returns context data   |
| `finished(finished)`       | the job reached a final status (`JobOutcome`)         | the fenced finish's own         |
| `retried(job, ...)`        | an administrator retries a Failure/Cancelled job      | the retry's                     |
| `run_requested(name, ...)` | someone asks for a manual run of a job definition     | none yet (before anything)      |
| `purge_keeps()`            | the purge picks finished jobs to delete               | the purge's                     |

Beside the handlers, `retention_register(name, purge)` lets a domain's own expired rows go with the job
retention: the worker's retention task runs every registered `purge` after purging jobs.

`run_requested` is asked of every registered handler, whatever the definition: a handler whose domain
queues that definition's jobs itself (OrderCancel: the cancellation service, with its rules, its request
and its audit trail) refuses the run with `ManualRunRefused` naming the domain's own way to do it; a
manual run would change the ERP with no trace in the domain.

`finished` runs in the transaction that records the job's final status, so the job and the domain
never disagree; it must not call out (mail, HTTP) except through `transaction.on_commit`. A job whose
handler is not registered (an app removed) runs as a plain job: the engine logs that nobody heard it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import QuerySet

from countermand.core.errors import Conflict
from countermand.integration.joblog import LogLine

if TYPE_CHECKING:
    from countermand.integration.models import IntegrationJob


class JobOutcome(StrEnum):
    """How a job ended, as its handler hears it."""

    SUCCEEDED = "succeeded"  # the processors ran to the end (Success or SuccessWithWarnings)
    REJECTED = "rejected"  # the ERP understood and said no (ErpRejected): a delivered answer, not retried
    FAILED = "failed"  # retries exhausted or a final error: Failure
    CANCELLED = "cancelled"  # an administrator cancelled it: Cancelled


@dataclass(frozen=True)
class JobRef:
    """A job as a handler sees it: identity, the attempt in question, and what ties it to the domain."""

    job_id: int
    attempt: int
    handler: str
    order_id: int | None
    idempotency_key: str

    @classmethod
    def of(cls, job: IntegrationJob, *, attempt: int | None = None) -> JobRef:
        return cls(
            job_id=job.pk,
            attempt=job.attempt if attempt is None else attempt,
            handler=job.handler,
            order_id=job.order_id,
            idempotency_key=job.idempotency_key,
        )


@dataclass(frozen=True)
class JobFinished:
    """A job's final outcome. `result` is the job row's result (see `plugin.ProcessorResult.from_json`)."""

    job: JobRef
    outcome: JobOutcome
    status: str
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""


class JobHandler(Protocol):
    """What a domain app implements to hear about the jobs it queued under its handler name."""

    def started(self, job: JobRef) -> dict[str, Any]:
        """An attempt starts. Returns data the processors find in `context.data` (may be empty)."""
        ...

    def finished(self, finished: JobFinished) -> list[LogLine]:
        """The job reached a final status; apply it to the domain. Returns lines for the job's log."""
        ...

    def retried(self, job: JobRef, *, actor_id: int | None) -> int | None:
        """An administrator retries the finished job. Return the id of a job the handler queued itself
        (e.g. through its own service), or None to let the engine queue a copy. Raise a DomainError to
        refuse the retry."""
        ...

    def run_requested(self, definition_name: str, *, actor_id: int | None) -> None:
        """Someone (`actor_id`; None: the CLI or the system) asks for a manual run of the job definition
        `definition_name` (Admin Console *Run*, `POST jobdefinitions/{id}/run`, `countermand run-job`), or
        retries a job of it that no handler queued. A handler that owns that definition's jobs raises
        `ManualRunRefused` (or another DomainError) saying how to do it through its domain; any other
        definition: return None."""
        ...

    def purge_keeps(self) -> QuerySet[Any] | None:
        """Ids of finished jobs the purge must keep (a queryset of job ids), or None."""
        ...


class ManualRunRefused(Conflict):
    """A manual run of a job definition whose jobs a domain queues itself (409): the message says what to
    use instead."""

    code = "MANUAL_RUN_REFUSED"


_handlers: dict[str, JobHandler] = {}


def handler_register(name: str, handler: JobHandler) -> None:
    """Register `handler` for jobs queued with `handler=name`. Registering a name twice replaces it."""
    if not name:
        raise ValueError("A job handler needs a name.")
    _handlers[name] = handler


def handler_get(name: str) -> JobHandler | None:
    """The handler registered under `name` (None for "" or an unknown name)."""
    return _handlers.get(name) if name else None


def handlers_all() -> dict[str, JobHandler]:
    return dict(_handlers)


_retention: dict[str, Callable[[], int]] = {}


def retention_register(name: str, purge: Callable[[], int]) -> None:
    """Have the job retention (the worker's periodic purge of finished jobs) also run `purge`, which deletes
    a domain's own expired rows and returns how many (e.g. the API's stored Idempotency-Key answers).
    Registering a name twice replaces it."""
    _retention[name] = purge


def retention_purges() -> dict[str, Callable[[], int]]:
    """The registered retention purges, by name."""
    return dict(_retention)


def manual_run_check(definition_name: str, *, actor_id: int | None) -> None:
    """Ask every registered handler about a manual run of `definition_name`; raises the refusal of the
    first one that owns the definition (ManualRunRefused), else returns."""
    for handler in _handlers.values():
        handler.run_requested(definition_name, actor_id=actor_id)
