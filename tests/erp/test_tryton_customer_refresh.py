"""CustomerRefresh against a real trytond 8.2 server: parties become customers, then their sales come in."""

from __future__ import annotations

import pytest

from countermand.customers.models import Customer
from countermand.devtools.tryton_server import TrytonServer
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import connection_validate, job_enqueue
from countermand.orders.models import Order
from tests.factories import JobDefinitionFactory, MappingFactory, OrderFactory, WebsiteFactory
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db]
Status = IntegrationJob.Status


@pytest.fixture
def tryton_connection(db: None, tryton_server: TrytonServer) -> IntegrationConnection:
    website = WebsiteFactory(name="Tryton Store")
    for state in ("draft", "quotation", "confirmed"):
        MappingFactory(erp_order_status=state)
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
    return connection


def definition(connection: IntegrationConnection, name: str, processor: str) -> JobDefinition:
    return JobDefinitionFactory(
        name=name,
        job_type=JobDefinition.JobType.REFRESH,
        connection=connection,
        integration_processor=processor,
        recurring_interval_seconds=300,
        max_retries=0,
        order_number_parameter=False,
    )


def run(job_definition: JobDefinition) -> IntegrationJob:
    job = job_enqueue(definition=job_definition)
    drain()
    job.refresh_from_db()
    logs = "\n".join(f"{log.level}: {log.message}" for log in job.logs.all())
    assert job.status == Status.SUCCESS, logs
    return job


def party(server: TrytonServer, code: str) -> dict:
    (found,) = server.admin.call("model.party.party.search_read", [["code", "=", code]], 0, 1, None, ["id", "name"])
    return found


def test_parties_become_customers_a_renamed_party_updates_its_customer_and_then_their_sales_come_in(
    tryton_server, tryton_connection
):
    server = tryton_server
    c2000_sale = server.create_sale("quotation", party_code="C2000")  # creates the party C2000 and its address
    c1000_sale = server.create_sale("confirmed")  # the template's party C1000
    customers = definition(tryton_connection, "CustomerRefresh", "CustomerRefresh")
    orders = definition(tryton_connection, "OrderHistoryRefresh", "OrderHistoryRefresh")

    job = run(customers)

    found = {c.customer_number: c for c in Customer.objects.all()}
    assert {"C1000", "C2000"} <= set(found)
    assert job.result["created"] == len(found)
    assert (found["C1000"].name, found["C1000"].is_active) == ("Customer One", True)
    assert found["C2000"].name == "Customer C2000"
    assert found["C2000"].addresses[0]["street"] == "2 Side St"
    messages = list(job.logs.values_list("message", flat=True))
    assert any(m.startswith("Customer refresh done: ") and f"{len(found)} created" in m for m in messages)

    server.admin.call("model.party.party.write", [party(server, "C2000")["id"]], {"name": "Globex Renamed"})
    job = run(customers)

    assert Customer.objects.get(customer_number="C2000").name == "Globex Renamed"
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (0, 1, len(found) - 1)

    job = run(orders)

    assert job.result["imported"] == 2
    imported = {o.web_order_number: o.customer.customer_number for o in Order.objects.select_related("customer")}
    assert imported == {c2000_sale["reference"]: "C2000", c1000_sale["reference"]: "C1000"}


def test_a_party_deactivated_or_gone_in_tryton_deactivates_its_customer_and_keeps_its_orders(
    tryton_server, tryton_connection
):
    server = tryton_server
    server.create_sale("draft", party_code="C2000")
    customers = definition(tryton_connection, "CustomerRefresh", "CustomerRefresh")
    run(customers)
    ours_only = Customer.objects.create(customer_number="C9999", name="Not in Tryton")
    order = OrderFactory(customer=ours_only)
    server.admin.call("model.party.party.write", [party(server, "C2000")["id"]], {"active": False})

    job = run(customers)

    assert job.result["deactivated"] == 1  # C9999; C2000 is updated (Tryton lists it, inactive)
    assert set(Customer.objects.filter(is_active=False).values_list("customer_number", flat=True)) == {
        "C2000",
        "C9999",
    }
    assert Order.objects.get(pk=order.pk).customer_id == ours_only.pk
    assert any("C9999" in m for m in job.logs.values_list("message", flat=True))
