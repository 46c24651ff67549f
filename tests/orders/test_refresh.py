"""OrderHistoryRefresh (registered by the orders app) reads any connection type that has an order source:
here a plugin's, in memory, through the same API the built-in connectors use."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest

from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.plugin import ConnectionInfo, ConnectionType, ErpOrder, ErpOrderLine, JobLogger, OrderKey
from countermand.integration.registry import registry
from countermand.integration.services import job_definition_save, job_enqueue
from countermand.integration.testing import ListLogger, run_due_jobs
from countermand.orders.models import Order
from countermand.orders.reconcile import OrderHistoryReconciler
from tests.factories import ConnectionFactory, JobDefinitionFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

LEDGER: dict[str, ErpOrder] = {}


class LedgerSource:
    """An ERP that is a dict of orders."""

    label = "the ledger"
    final_statuses = frozenset({"Closed"})

    def __init__(self, connection: ConnectionInfo, cancelled_status: str, logger: JobLogger) -> None:
        self.cancelled_statuses = frozenset({cancelled_status})

    def changed_orders(self, *, customer_numbers, since, created_after, batch_size) -> Iterator[list[ErpOrder]]:
        yield [o for o in LEDGER.values() if o.customer_number in customer_numbers]

    def orders_for(self, orders: Sequence[OrderKey]) -> list[ErpOrder]:
        return [LEDGER[o.web_order_number] for o in orders if o.web_order_number in LEDGER]


@pytest.fixture
def ledger_type() -> Iterator[ConnectionType]:
    ctype = ConnectionType(name="Ledger", description="Orders in a dict.", order_source=LedgerSource)
    registry().add(ctype, "test plugin")
    LEDGER.clear()
    yield ctype
    registry().connection_types.pop("Ledger")


def erp_order(number: str, status: str, **fields) -> ErpOrder:
    fields.setdefault("erp_order_number", f"L-{number}")
    return ErpOrder(
        web_order_number=number,
        customer_number="C1000",
        status=status,
        erp_state=status.lower(),
        cancelled=False,
        **fields,
    )


@pytest.mark.usefixtures("ledger_type")
def test_a_plugin_connection_types_order_source_feeds_the_refresh(shop):
    known = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W1", status="Submitted")
    LEDGER["W1"] = erp_order("W1", "Shipped")
    LEDGER["W2"] = erp_order(
        "W2",
        "Submitted",
        order_date=datetime.date(2025, 3, 1),
        total=Decimal("12.50"),
        lines=(ErpOrderLine(line_number=1, product_number="BOLT", quantity_ordered=Decimal(2)),),
    )
    connection = ConnectionFactory(name="Ledger", type_name="Ledger", url="")
    definition = JobDefinitionFactory(
        name="OrderHistoryRefresh",
        job_type="Refresh",
        connection=connection,
        integration_processor="OrderHistoryRefresh",
        max_retries=0,
        order_number_parameter=False,
    )

    job = job_enqueue(definition=definition)
    run_due_jobs()
    job.refresh_from_db()

    assert job.status == IntegrationJob.Status.SUCCESS, job.error
    assert (job.result["imported"], job.result["status_changes"], job.result["website"]) == (1, 1, "Main Store")
    known.refresh_from_db()
    assert (known.status, known.erp_order_number) == ("Shipped", "L-W1")
    imported = Order.objects.get(web_order_number="W2")
    assert (imported.total, imported.order_date) == (Decimal("12.50"), datetime.date(2025, 3, 1))
    assert [(line.product_number, line.quantity_ordered) for line in imported.lines.all()] == [("BOLT", Decimal(2))]


@pytest.mark.usefixtures("ledger_type")
def test_the_refresh_is_refused_for_a_connection_type_without_an_order_source(shop):
    sandbox = IntegrationConnection.objects.create(name="Sandbox ERP", type_name="Sandbox", url="http://127.0.0.1:9")
    with pytest.raises(ValidationFailed, match="reads orders from the ERP: it needs a connection of type Ledger or"):
        job_definition_save(
            definition=JobDefinition(name="Refresh", connection=sandbox, integration_processor="OrderHistoryRefresh")
        )


def ledger_refresh(shop) -> IntegrationJob:
    connection = ConnectionFactory(name="Ledger", type_name="Ledger", url="")
    definition = JobDefinitionFactory(
        name="OrderHistoryRefresh",
        job_type="Refresh",
        connection=connection,
        integration_processor="OrderHistoryRefresh",
        max_retries=0,
        order_number_parameter=False,
    )
    job = job_enqueue(definition=definition)
    run_due_jobs()
    job.refresh_from_db()
    assert job.status in (IntegrationJob.Status.SUCCESS, IntegrationJob.Status.SUCCESS_WITH_WARNINGS), job.error
    return job


@pytest.mark.usefixtures("ledger_type")
def test_a_batch_imports_each_new_order_once_and_rejects_only_the_bad_ones(shop):
    LEDGER["W1"] = erp_order("W1", "Submitted", order_date=datetime.date(2025, 3, 1))
    LEDGER["W2"] = erp_order("W2", "Submitted")  # no order date: cannot be imported
    LEDGER["W3"] = erp_order(
        "W3",
        "Submitted",
        order_date=datetime.date(2025, 3, 1),
        lines=(ErpOrderLine(line_number=1, product_number="A"), ErpOrderLine(line_number=1, product_number="B")),
    )
    LEDGER["W1 again"] = erp_order("W1", "Submitted", order_date=datetime.date(2025, 3, 1))  # the ERP sent it twice

    result = ledger_refresh(shop).result

    assert (result["imported"], result["rejected"]) == (1, 3)
    assert list(Order.objects.values_list("web_order_number", flat=True)) == ["W1"]


def test_an_erp_number_taken_by_another_order_fails_that_order_alone(shop):
    taken = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W1", erp_order_number="L-W1")
    second = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W2", erp_order_number="X-2")
    third = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W3", erp_order_number="L-W3")
    logger = ListLogger()
    reconciler = OrderHistoryReconciler(
        website=shop.website,
        customers={"C1000": shop.customer.pk},
        source=LedgerSource(None, "Cancelled", logger),  # type: ignore[arg-type]
        cancelled_statuses=frozenset({"Cancelled"}),
        logger=logger,
    )
    # As the status sweep asks: only our W2 and W3. The ERP gives W2 the number of our W1.
    reconciler.apply(
        [erp_order("W2", "Shipped", erp_order_number="L-W1"), erp_order("W3", "Shipped")],
        ours=list(Order.objects.filter(pk__in=[second.pk, third.pk]).prefetch_related("lines")),
    )

    for order in (taken, second, third):
        order.refresh_from_db()
    assert (second.status, second.erp_order_number, third.status, taken.status) == (
        "Submitted",
        "X-2",
        "Shipped",
        "Submitted",
    )
    counts = reconciler.counts
    assert (counts.updated, counts.status_changes, counts.rejected) == (1, 1, 1)
    assert logger.messages("Warn") == [
        "Cannot update order W2 from L-W1: Another order already has that ERP order number."
    ]


@pytest.mark.usefixtures("ledger_type")
def test_the_refresh_records_an_erp_cancellation_and_skips_an_order_number_it_may_not_store(shop):
    """The ERP's own cancellation is its word (DESIGN §4: the status is taken and a drift recorded); an
    order number holding a `/` is refused by the one order-number rule, logged, and the rest goes on."""
    known = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W1", status="Submitted")
    LEDGER["W1"] = erp_order("W1", "Cancelled")
    LEDGER["W/2"] = erp_order("W/2", "Submitted", order_date=datetime.date(2025, 3, 1))
    LEDGER["W3"] = erp_order("W3", "Cancelled", order_date=datetime.date(2025, 3, 1))

    job = ledger_refresh(shop)

    assert job.status == IntegrationJob.Status.SUCCESS_WITH_WARNINGS, job.error
    assert (job.result["imported"], job.result["rejected"]) == (1, 1)
    known.refresh_from_db()
    assert known.status == "Cancelled"
    assert Order.objects.get(web_order_number="W3").status == "Cancelled"
    assert not Order.objects.filter(web_order_number="W/2").exists()
    assert job.logs.filter(message__contains="cannot contain '/'").exists()


@pytest.mark.usefixtures("ledger_type")
def test_the_refresh_of_a_cancelled_order_keeps_the_lines_cancelled_quantities(shop):
    """A confirmed whole-order cancellation cancelled what each line had open; an ERP that keeps only net
    quantities reports the cancelled sale's lines unchanged, which are not "what is left" of them."""
    order = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W1", status="Cancelled")
    OrderLineFactory(
        order=order,
        line_number=1,
        quantity_ordered=Decimal(5),
        quantity_shipped=Decimal(1),
        quantity_cancelled=Decimal(4),
        line_total=Decimal("50.00"),
    )
    OrderLineFactory(
        order=order, line_number=2, quantity_ordered=Decimal(3), quantity_cancelled=Decimal(3), line_total=0
    )
    lines = (
        ErpOrderLine(line_number=1, product_number="WID-1", quantity_ordered=Decimal(5), quantity_shipped=Decimal(1)),
        ErpOrderLine(line_number=2, product_number="WID-1", quantity_ordered=Decimal(2)),  # reduced before
    )
    LEDGER["W1"] = dataclasses.replace(erp_order("W1", "Cancelled", lines=lines), cancelled=True)

    ledger_refresh(shop)

    quantities = {
        line.line_number: (line.quantity_ordered, line.quantity_cancelled, line.quantity_cancellable)
        for line in order.lines.all()
    }
    assert quantities == {1: (5, 4, 0), 2: (3, 3, 0)}
