"""Helpers for the Acme processor's tests: build the worker's context, run due jobs as the worker does."""

from __future__ import annotations

import datetime

from django.utils import timezone

from countermand.integration import queue
from countermand.integration.http import connection_info
from countermand.integration.models import JobDefinition
from countermand.integration.processors.base import ProcessorContext
from countermand.integration.runner import attempt_execute
from countermand.integration.services import job_enqueue
from countermand.orders.models import Order
from countermand.orders.policies import Actor


def make_order(actor: Actor, erp_order_number: str) -> Order:
    return Order.objects.create(
        web_order_number=f"W-{erp_order_number}",
        erp_order_number=erp_order_number,
        website_id=next(iter(actor.website_ids)),
        customer_id=actor.customer_id,
        order_date=timezone.now().date(),
        status="Submitted",
    )


def context_for(definition: JobDefinition, order: Order | None = None, **parameters: str) -> ProcessorContext:
    """The context the worker gives the processor, for a job queued now (to call `execute` directly)."""
    job = job_enqueue(definition=definition, order=order, parameters=parameters)
    assert definition.connection is not None
    return ProcessorContext(
        job=job,
        parameters=parameters,
        logger=ListLogger(),
        idempotency_key=f"test-{job.pk}",
        attempt=1,
        deadline=timezone.now() + datetime.timedelta(seconds=30),
        connection=connection_info(definition.connection),
        order=order,
    )


def run_due_jobs() -> list[queue.Finish]:
    """Run every due job in this process the way `countermand worker --burst` does."""
    finished = []
    while claims := queue.claim_jobs(worker_id="tests", limit=10, lease_seconds=30):
        finished += [attempt_execute(claim, worker_id="tests") for claim in claims]
    return finished


class ListLogger:
    """A job logger that keeps its lines, for assertions."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("Debug", message))

    def info(self, message: str) -> None:
        self.lines.append(("Info", message))

    def warn(self, message: str) -> None:
        self.lines.append(("Warn", message))

    def error(self, message: str) -> None:
        self.lines.append(("Error", message))

    def fatal(self, message: str) -> None:
        self.lines.append(("Fatal", message))
