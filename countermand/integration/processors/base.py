"""The processor API for integration developers.

A processor is a class with a `name`, a `kind` (preprocessor, integration processor or post processor),
the connection types it accepts, and `execute(context)`. The worker runs a job definition's three
processors in turn, giving each the same `ProcessorContext`. To tell the worker how a call went, raise:

- `TransientError` — try again later (ERP down, timeout, 5xx); retried with backoff.
- `ErpRejected` — the ERP understood and said no (order shipped…); not retried.
- anything else — the attempt failed (a bug, bad configuration); retried like a transient error
  until the definition's retries run out, with the traceback in the job log.

Processors are found among the built-ins and through the ``countermand.processors`` entry-point group.
"""

from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import httpx

    from countermand.integration.models import IntegrationConnection, IntegrationJob
    from countermand.orders.models import Order

PREPROCESSOR = "preprocessor"
INTEGRATION_PROCESSOR = "integration"
POST_PROCESSOR = "postprocessor"
KINDS = (PREPROCESSOR, INTEGRATION_PROCESSOR, POST_PROCESSOR)


class ProcessorError(Exception):
    """Base of the errors a processor raises on purpose."""


class TransientError(ProcessorError):
    """The ERP could not be reached or answered with a temporary failure: retry later."""


class ErpRejected(ProcessorError):
    """The ERP refused the request for a business reason; `message` is shown to the buyer."""

    def __init__(self, message: str, *, erp_reference: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.erp_reference = erp_reference


class JobLogger(Protocol):
    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...
    def fatal(self, message: str) -> None: ...


@dataclass
class ConnectionInfo:
    """A connection as processors see it: decrypted credentials and a ready HTTP client."""

    name: str
    type_name: str
    url: str
    log_on: str
    password: str
    timeout_seconds: float
    options: dict[str, Any]
    http: httpx.Client | None = None
    model: IntegrationConnection | None = None


@dataclass
class ProcessorContext:
    """What a processor gets: typed parameters, the connection, the job log, and the job's identity."""

    job: IntegrationJob
    parameters: dict[str, Any]
    logger: JobLogger
    idempotency_key: str
    attempt: int
    deadline: datetime.datetime
    connection: ConnectionInfo | None = None
    order: Order | None = None
    # Processors pass data along the pipeline here (preprocessor → integration processor → post processor).
    data: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)

    def seconds_left(self) -> float:
        from django.utils import timezone

        return max(0.0, (self.deadline - timezone.now()).total_seconds())


class Processor(abc.ABC):
    """Base class of every processor. Subclasses set the class attributes and implement `execute`."""

    name: ClassVar[str]
    kind: ClassVar[str] = INTEGRATION_PROCESSOR
    connection_types: ClassVar[tuple[str, ...]] = ()  # empty: any connection, or none
    description: ClassVar[str] = ""

    @abc.abstractmethod
    def execute(self, context: ProcessorContext) -> None:
        """Do the work. Put outcome facts in `context.result`; raise the errors above to fail or retry."""
