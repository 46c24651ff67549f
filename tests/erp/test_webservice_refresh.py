"""OrderHistoryRefresh for a `WebService` connection, against a real HTTP ERP on 127.0.0.1."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinitionParameter
from countermand.integration.processors.base import TransientError
from countermand.integration.processors.builtin.order_history_refresh import OrderHistoryRefresh
from countermand.integration.services import job_enqueue
from countermand.orders.models import Order, OrderDrift, OrderEvent
from tests.erp.conftest import JobLog, processor_context
from tests.factories import CustomerFactory, JobDefinitionFactory, MappingFactory, OrderFactory
from tests.integration.conftest import drain

pytestmark = pytest.mark.django_db
Status = IntegrationJob.Status


class OrdersErp:
    """GET /erp/orders as webservice_refresh describes it; orders kept with the time they last changed."""

    def __init__(self) -> None:
        self.orders: dict[str, tuple[datetime.datetime, dict[str, Any]]] = {}
        self.requests: list[dict[str, list[str]]] = []
        self.fail_status = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/erp"

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

    def answer(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(query)
            if self.fail_status:
                return self.fail_status, {"message": "down for maintenance"}
            rows = sorted(self.orders.values(), key=lambda row: row[1]["webOrderNumber"])
        if "orderNumbers" in query:
            wanted = set(query["orderNumbers"][0].split(","))
            return 200, {"orders": [o for _, o in rows if {o["webOrderNumber"], o["erpOrderNumber"]} & wanted]}
        if "modifiedSince" in query:
            since = datetime.datetime.fromisoformat(query["modifiedSince"][0])
            rows = [row for row in rows if row[0] >= since]
        size, page = int(query["pageSize"][0]), int(query["page"][0])
        return 200, {"orders": [o for _, o in rows[(page - 1) * size : page * size]]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                status, body = erp.answer(parse_qs(url.query)) if url.path == "/erp/orders" else (404, {})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def erp() -> Iterator[OrdersErp]:
    server = OrdersErp()
    yield server
    server.server.shutdown()
    server.server.server_close()


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


def refresh(definition, **parameters):
    context = processor_context(definition, parameters=parameters)
    OrderHistoryRefresh().execute(context)
    assert isinstance(context.logger, JobLog)
    return context


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
    assert [q["page"] for q in erp.requests if "page" in q] == [["1"], ["2"], ["3"]]
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

    erp.requests.clear()
    second = job_enqueue(definition=refresh_definition, parameters={"BatchSize": "2"})
    drain()
    second.refresh_from_db()
    assert second.status == Status.SUCCESS
    assert second.result["unchanged"] == 3
    assert "modifiedSince" in erp.requests[0]
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

    assert any("orderNumbers" in q for q in erp.requests)
    shipped.refresh_from_db()
    dropped.refresh_from_db()
    assert (shipped.status, dropped.status) == ("Shipped", "Cancelled")
    drift = OrderDrift.objects.get()
    assert (drift.order, drift.kind, drift.erp_status) == (
        dropped,
        OrderDrift.Kind.CANCELLED_THERE_NOT_HERE,
        "Cancelled",
    )
    assert context.result["status_changes"] == 2
    assert len(context.logger.messages("Warn")) == 1  # type: ignore[attr-defined]


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
    warnings = context.logger.messages("Warn")  # type: ignore[attr-defined]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"Skipped an order the ERP at {erp.url}/orders sent: missing customerNumber")
