"""Fixtures that run a real Tryton 8.2 server (see ``countermand.devtools.tryton_server``), and a shop that uses it.

* ``tryton_template`` (session): the Tryton database, built once per test
  session (``trytond-admin -u sale`` plus the sale set-up, ~20-30 s).
* ``tryton_amendment_template`` (session): that database with the
  ``sale_amendment`` module activated too, made on first use (~7 s).
* ``tryton_server`` (function): a started ``trytond`` on a private copy of that
  database; stopped at teardown.  Fails, never skips, when Tryton cannot run.

* ``tryton_shop`` (function): Countermand set up as the guide says, with a
  ``Tryton`` connection to ``tryton_server``, an ``OrderCancel`` job
  (TrytonOrderCancel) and an ``OrderHistoryRefresh`` job.

Other test packages can use them with
``from tests.erp.conftest import tryton_server, tryton_template  # noqa: F401``
in their own ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from countermand.connectors.tryton_rpc import clear_session_cache
from countermand.customers.models import BuyerAccount, Customer
from countermand.devtools.tryton_server import (
    CUSTOMER_CODE,
    TrytonServer,
    TrytonTemplate,
    build_template,
    running_server,
    template_with_modules,
)
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.integration.plugin import ProcessorContext, ProcessorResult
from countermand.integration.services import connection_validate
from countermand.integration.testing import ListLogger
from countermand.orders.models import Order
from countermand.orders.policies import BUYER, Actor
from countermand.settings.services import setting_set
from countermand.websites.models import Website
from tests.factories import (
    BuyerAccountFactory,
    CustomerFactory,
    JobDefinitionFactory,
    MappingFactory,
    OrderFactory,
    WebsiteFactory,
)
from tests.integration.conftest import WorkerProcesses
from tests.waiting import wait_until


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> TrytonTemplate:
    """Build the Tryton database once per test session."""
    return build_template(tmp_path_factory.mktemp("tryton-template"))


@pytest.fixture(scope="session")
def tryton_amendment_template(
    tryton_template: TrytonTemplate, tmp_path_factory: pytest.TempPathFactory
) -> TrytonTemplate:
    """The template with Tryton's sale_amendment module activated too (built on first use, ~7 s)."""
    return template_with_modules(tryton_template, tmp_path_factory.mktemp("tryton-amendment"), ["sale_amendment"])


@pytest.fixture
def tryton_server(tryton_template: TrytonTemplate, tmp_path: Path) -> Iterator[TrytonServer]:
    """A running ``trytond`` on a copy of the template database."""
    clear_session_cache()
    with running_server(tryton_template, tmp_path / "tryton") as server:
        yield server
    clear_session_cache()


# --------------------------------------------------------------------------
# Countermand set up against the Tryton server
# --------------------------------------------------------------------------

TRYTON_STATUSES = ("draft", "quotation", "confirmed", "processing", "done")


@dataclass
class TrytonShop:
    """A website set up as the guide says, whose ERP is the test's Tryton server.

    Statuses are Tryton's sale states (`draft`, `quotation` may be cancelled; a cancelled sale shows the
    CancelledStatus `Cancelled`); the OrderCancel job runs TrytonOrderCancel, the OrderHistoryRefresh job
    (Refresh, every 5 minutes) runs OrderHistoryRefresh, both on the `Tryton` connection.
    """

    server: TrytonServer
    website: Website
    buyer_account: BuyerAccount
    connection: IntegrationConnection
    cancel_definition: JobDefinition
    refresh_definition: JobDefinition

    @property
    def customer(self) -> Customer:
        return self.buyer_account.customer

    @property
    def buyer(self) -> Any:
        return self.buyer_account.user

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=BUYER,
            user_id=self.buyer.pk,
            customer_id=self.customer.pk,
            website_ids=frozenset({self.website.pk}),
        )

    def set_options(self, **options: Any) -> None:
        """Change the Tryton connection's options (validated as the Admin Console would)."""
        self.connection.options = {**self.connection.options, **options}
        connection_validate(self.connection)
        self.connection.save()

    def order_for(self, sale: dict[str, Any], **fields: Any) -> Order:
        """Our order of a Tryton sale: web order number = reference, ERP order number = number."""
        values = {
            "web_order_number": sale["reference"],
            "erp_order_number": sale["number"],
            "website": self.website,
            "customer": self.customer,
            "placed_by": self.buyer,
            "status": sale["state"],
            **fields,
        }
        return OrderFactory(**values)


@pytest.fixture
def tryton_shop(db: None, tryton_server: TrytonServer) -> TrytonShop:
    website = WebsiteFactory(name="Tryton Store")
    setting_set(name="OrderCancelStatuses", value=["draft", "quotation"])
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    setting_set(name="CancellableOrderStatuses", value=["draft", "quotation"], website=website)
    for status in TRYTON_STATUSES:
        MappingFactory(
            erp_order_status=status,
            display_name=status.capitalize(),
            allow_cancellation=status in ("draft", "quotation"),
        )
    MappingFactory(erp_order_status="Cancelled", allow_cancellation=False)
    MappingFactory(
        erp_order_status="CancellationRequested", display_name="Cancellation requested", allow_cancellation=False
    )
    account = BuyerAccountFactory(customer=CustomerFactory(customer_number=CUSTOMER_CODE), websites=[website])

    connection = IntegrationConnection(
        name="Tryton",
        type_name="Tryton",
        url=tryton_server.url,
        log_on=tryton_server.login,
        timeout_seconds=10,
        options={"database": tryton_server.database, "website": website.name},
    )
    connection.set_password(tryton_server.password)
    connection_validate(connection)
    connection.save()
    cancel_definition = JobDefinitionFactory(
        name="OrderCancel",
        connection=connection,
        integration_processor="TrytonOrderCancel",
        max_retries=3,
        retry_backoff_seconds=0,
    )
    refresh_definition = JobDefinitionFactory(
        name="OrderHistoryRefresh",
        job_type=JobDefinition.JobType.REFRESH,
        connection=connection,
        integration_processor="OrderHistoryRefresh",
        recurring_interval_seconds=300,
        max_retries=0,
        order_number_parameter=False,
    )
    for sequence, (name, value_type) in enumerate((("FullRefresh", "Boolean"), ("LookBackDays", "Number")), 1):
        JobDefinitionParameter.objects.create(
            job_definition=refresh_definition, sequence=sequence, name=name, value_type=value_type
        )
    return TrytonShop(
        server=tryton_server,
        website=website,
        buyer_account=account,
        connection=connection,
        cancel_definition=cancel_definition,
        refresh_definition=refresh_definition,
    )


@dataclass
class Ran:
    """A processor run outside the worker: its context (log, pipeline data) and what it returned."""

    context: ProcessorContext
    result: ProcessorResult

    @property
    def logger(self) -> ListLogger:
        assert isinstance(self.context.logger, ListLogger)
        return self.context.logger

    @property
    def data(self) -> dict[str, Any]:
        return self.context.data


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[WorkerProcesses]:
    """Real `countermand worker` processes on the test database (short leases, fast polling)."""
    (tmp_path / "workers").mkdir()
    procs = WorkerProcesses(tmp_path / "workers")
    yield procs
    procs.stop_all()


def wait_for(predicate: Callable[[], bool], timeout: float, workers: WorkerProcesses | None = None) -> float:
    """Poll `predicate` until true; returns the seconds it took. Fails after `timeout` with the workers' logs."""
    return wait_until(
        predicate, timeout=timeout, message=lambda: f"worker logs:\n{workers.logs()[-4000:]}" if workers else ""
    )
