"""OrderHistoryRefresh for a `WebService` connection, against a real HTTP ERP on 127.0.0.1."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinitionParameter
from countermand.integration.plugin import TransientError
from countermand.integration.services import job_enqueue
from countermand.integration.testing import FakeHttpErp, FakeRequest, processor_context
from countermand.orders.models import Order, OrderDrift, OrderEvent
from countermand.orders.refresh import OrderHistoryRefresh
from tests.erp.conftest import Ran
from tests.factories import CustomerFactory, JobDefinitionFactory, MappingFactory, OrderFactory
from tests.integration.conftest import drain

pytestmark = pytest.mark.django_db
Status = IntegrationJob.Status


class OrdersErp(FakeHttpErp):
    """GET /erp/orders as webservice_refresh describes it; orders kept with the time they last changed."""

    prefix = "/erp"

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, tuple[datetime.datetime, dict[str, Any]]] = {}
        self.queries: list[dict[str, str]] = []
        self.fail_status = 0

    def put(self, number: str, customer: str = "C1000", status: str = "Submitted", **fields: Any) -> None:
        order = {
            "webOrderNumber": number,
            "erpOrderNumber": f"E-{number}",
            "customerNumber": customer,
            "orderDate": "2025-03-01",
            "status": status,
            "currency": "EUR",
            "subtotal": "18.00",
            "taxAmount": "2.00",
            "total": "20.00",
            "orderLines": [
                {
                    "lineNumber": 1,
                    "productNumber": "BOLT",
                    "description": "Bolt",
                    "quantityOrdered": 2,
                    "quantityShipped": 0,
                    "unitPrice": "9.00",
                    "lineTotal": "18.00",
                    "status": "",
                }
            ],
            **fields,
        }
        with self.lock:
            self.orders[number] = (timezone.now(), order)

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        if request.method != "GET" or request.path != "/erp/orders":
            return 404, {}
        query = request.query
        with self.lock:
            self.queries.append(query)
            if self.fail_status:
                return self.fail_status, {"message": "down for maintenance"}
            rows = sorted(self.orders.values(), key=lambda row: row[1]["webOrderNumber"])
        if "orderNumbers" in query:
            wanted = set(query["orderNumbers"].split(","))
            return 200, {"orders": [o for _, o in rows if {o["webOrderNumber"], o["erpOrderNumber"]} & wanted]}
        if "modifiedSince" in query:
            since = datetime.datetime.fromisoformat(query["modifiedSince"])
            rows = [row for row in rows if row[0] >= since]
        size, page = int(query["pageSize"]), int(query["page"])
        return 200, {"orders": [o for _, o in rows[(page - 1) * size : page * size]]}


@pytest.fixture
def erp() -> Iterator[OrdersErp]:
    with OrdersErp() as server:
        yield server


@pytest.fixture
def refresh_definition(shop, erp):
    connection = IntegrationConnection.objects.create(
        name="Web ERP", type_name="WebService", url=erp.url, timeout_seconds=5
    )
    definition = JobDefinitionFactory(
        name="OrderHistoryRefresh",
        job_type="Refresh",
        connection=connection,
        integration_processor="OrderHistoryRefresh",
        max_retries=0,
        order_number_parameter=False,
    )
    JobDefinitionParameter.objects.create(job_definition=definition, name="BatchSize", value_type="Number")
    return definition


def refresh(definition, **parameters) -> Ran:
    context = processor_context(definition, parameters=parameters)
    return Ran(context, OrderHistoryRefresh().execute(context))


def test_orders_of_known_customers_come_in_page_by_page_and_an_unchanged_second_run_writes_nothing(
    shop, erp, refresh_definition
):
    for number in ("W1", "W2", "W3"):
        erp.put(number)
    erp.put("W4", customer="C2000")  # not a customer of ours

    job = job_enqueue(definition=refresh_definition, parameters={"BatchSize": "2"})
    drain()
    job.refresh_from_db()

    assert job.status == Status.SUCCESS, job.error
    assert (job.result["imported"], job.result["unknown_customer"]) == (3, 1)
    assert [q["page"] for q in erp.queries if "page" in q] == ["1", "2", "3"]
    order = Order.objects.get(web_order_number="W2")
    assert (order.erp_order_number, order.status, order.currency, str(order.total), order.website) == (
        "E-W2",
        "Submitted",
        "EUR",
        "20.00",
        shop.website,
    )
    assert order.order_date == datetime.date(2025, 3, 1)
    assert [(line.product_number, line.quantity_ordered, line.status) for line in order.lines.all()] == [
        ("BOLT", 2, "")
    ]
    events = OrderEvent.objects.count()

    erp.queries.clear()
    second = job_enqueue(definition=refresh_definition, parameters={"BatchSize": "2"})
    drain()
    second.refresh_from_db()
    assert second.status == Status.SUCCESS
    assert second.result["unchanged"] == 3
    assert "modifiedSince" in erp.queries[0]
    assert OrderEvent.objects.count() == events


def test_statuses_are_applied_and_a_cancellation_in_the_erp_is_reported_as_drift(shop, erp, refresh_definition):
    shipped = OrderFactory(web_order_number="W1", erp_order_number="E-W1", website=shop.website, customer=shop.customer)
    dropped = OrderFactory(web_order_number="W2", erp_order_number="E-W2", website=shop.website, customer=shop.customer)
    MappingFactory(erp_order_status="Cancelled", allow_cancellation=False)
    erp.put("W1", status="Shipped")
    erp.put("W2", status="CANCELLED")
    # A previous run after every change: only the sweep (orderNumbers=…) can see them.
    job = job_enqueue(definition=refresh_definition)
    later = timezone.now() + datetime.timedelta(hours=1)
    IntegrationJob.objects.filter(pk=job.pk).update(
        status=Status.SUCCESS, finished_at=timezone.now(), result={"watermark": later.isoformat()}
    )

    context = refresh(refresh_definition)

    assert any("orderNumbers" in q for q in erp.queries)
    shipped.refresh_from_db()
    dropped.refresh_from_db()
    assert (shipped.status, dropped.status) == ("Shipped", "Cancelled")
    drift = OrderDrift.objects.get()
    assert (drift.order, drift.kind, drift.erp_status) == (
        dropped,
        OrderDrift.Kind.CANCELLED_THERE_NOT_HERE,
        "Cancelled",
    )
    assert context.result.data["status_changes"] == 2
    assert len(context.logger.messages("Warn")) == 1


def test_an_erp_that_answers_503_is_transient_and_a_malformed_order_is_skipped_with_a_warning(
    shop, erp, refresh_definition
):
    erp.fail_status = 503
    with pytest.raises(TransientError, match="answered HTTP 503"):
        refresh(refresh_definition)

    erp.fail_status = 0
    erp.put("W1")
    erp.put("W2", customerNumber=None)
    erp.put("W3", total="a lot")
    CustomerFactory(customer_number="C1000")
    context = refresh(refresh_definition)

    assert list(Order.objects.values_list("web_order_number", flat=True)) == ["W1"]
    warnings = context.logger.messages("Warn")
    assert len(warnings) == 2
    assert warnings[0].startswith(f"Skipped an order the ERP at {erp.url}/orders sent: missing customerNumber")


def test_orders_in_the_field_tables_names_come_in_and_an_unknown_field_is_warned_about_once(
    shop, erp, refresh_definition
):
    line = {"lineNumber": 1, "productErpNumber": "NUT", "qtyOrdered": 3, "unitNetPrice": "2.00", "lineTotal": "6"}
    table_names = {
        "currencyCode": "USD",
        "productTotal": "6.00",
        "shippingCharges": "1.00",
        "orderTotal": "7.00",
        "orderLines": [line],
        "grandTotal": "7.00",  # not an order field
    }
    erp.put("W1", **table_names)
    erp.put("W2", **table_names)
    for name in ("currency", "subtotal", "total"):
        for number in ("W1", "W2"):
            del erp.orders[number][1][name]

    context = refresh(refresh_definition)

    order = Order.objects.prefetch_related("lines").get(web_order_number="W1")
    assert (order.currency, str(order.subtotal), str(order.shipping_amount), str(order.total)) == (
        "USD",
        "6.00",
        "1.00",
        "7.00",
    )
    assert [(ln.product_number, ln.quantity_ordered, str(ln.unit_price)) for ln in order.lines.all()] == [
        ("NUT", 3, "2.0000")
    ]
    (warning,) = context.logger.messages("Warn")
    assert warning.startswith(f"the ERP at {erp.url}/orders sent field(s) grandTotal that are not order fields")
    assert "productTotal" in warning
