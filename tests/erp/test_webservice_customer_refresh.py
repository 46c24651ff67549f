"""CustomerRefresh for a `WebService` connection, against a real HTTP ERP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from countermand.core.errors import ValidationFailed
from countermand.customers.models import Customer
from countermand.customers.refresh import CustomerRefresh
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinitionParameter
from countermand.integration.plugin import ConfigurationError, TransientError
from countermand.integration.services import job_definition_save, job_enqueue
from countermand.integration.testing import FakeHttpErp, FakeRequest, processor_context
from tests.factories import CustomerFactory, JobDefinitionFactory, OrderFactory
from tests.integration.conftest import drain

pytestmark = pytest.mark.django_db
Status = IntegrationJob.Status


class CustomersErp(FakeHttpErp):
    """GET /erp/customers as webservice_customers describes it."""

    prefix = "/erp"

    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, dict[str, Any]] = {}
        self.fail_status = 0

    def put(self, number: str, name: str, **fields: Any) -> None:
        with self.lock:
            self.customers[number] = {"customerNumber": number, "name": name, **fields}

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        if request.method != "GET" or request.path != "/erp/customers":
            return 404, {}
        with self.lock:
            if self.fail_status:
                return self.fail_status, {"message": "down"}
            rows = [self.customers[n] for n in sorted(self.customers)]
        size, page = int(request.query["pageSize"]), int(request.query["page"])
        return 200, {"customers": rows[(page - 1) * size : page * size]}


@pytest.fixture
def erp() -> Iterator[CustomersErp]:
    with CustomersErp() as server:
        yield server


@pytest.fixture
def customer_refresh(db, erp):
    connection = IntegrationConnection.objects.create(
        name="Web ERP", type_name="WebService", url=erp.url, timeout_seconds=5
    )
    definition = JobDefinitionFactory(
        name="CustomerRefresh",
        job_type="Refresh",
        connection=connection,
        integration_processor="CustomerRefresh",
        max_retries=0,
        order_number_parameter=False,
    )
    JobDefinitionParameter.objects.create(job_definition=definition, name="BatchSize", value_type="Number")
    return definition


def run(definition, **parameters) -> IntegrationJob:
    job = job_enqueue(definition=definition, parameters=parameters)
    drain()
    job.refresh_from_db()
    return job


def test_customers_come_in_page_by_page_with_their_addresses_and_an_unchanged_second_run_writes_nothing(
    erp, customer_refresh
):
    address = {"street": "1 Main St", "postalCode": "12345", "city": "Springfield", "country": "US"}
    erp.put("C1000", "Acme", addresses=[address])
    erp.put("C2000", "Globex", isActive=False)
    erp.put("C3000", "Initech")

    job = run(customer_refresh, BatchSize="2")

    assert job.status == Status.SUCCESS, job.error
    assert (job.result["created"], job.result["updated"], job.result["deactivated"]) == (3, 0, 0)
    pages = [r.query["page"] for r in erp.requests]
    assert pages == ["1", "2"]
    acme = Customer.objects.get(customer_number="C1000")
    assert (acme.name, acme.is_active, acme.addresses) == ("Acme", True, [address])
    assert not Customer.objects.get(customer_number="C2000").is_active

    job = run(customer_refresh, BatchSize="2")

    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (0, 0, 3)


def test_a_renamed_customer_is_updated_and_one_the_erp_no_longer_lists_is_deactivated_not_deleted(
    erp, customer_refresh
):
    kept = CustomerFactory(customer_number="C1000", name="Old name")
    gone = CustomerFactory(customer_number="C9000", name="Gone")
    order = OrderFactory(customer=gone)
    erp.put("C1000", "New name")

    job = run(customer_refresh)

    assert job.status == Status.SUCCESS, job.error
    assert (job.result["updated"], job.result["deactivated"]) == (1, 1)
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert (kept.name, kept.is_active, gone.is_active) == ("New name", True, False)
    assert order.customer_id == gone.pk
    assert Customer.objects.filter(pk=gone.pk).exists()
    assert any("C9000" in m for m in job.logs.values_list("message", flat=True))


def test_an_erp_listing_no_customers_deactivates_none_and_warns(erp, customer_refresh):
    CustomerFactory(customer_number="C1000")

    job = run(customer_refresh)

    assert job.status == Status.SUCCESS_WITH_WARNINGS
    assert Customer.objects.get(customer_number="C1000").is_active
    assert any("listed no customers" in m for m in job.logs.values_list("message", flat=True))


def test_a_bad_record_is_skipped_with_a_warning_and_the_others_come_in(erp, customer_refresh):
    erp.put("C1000", "Acme")
    erp.put("C2000", "")  # no name
    erp.put("C3000", "Initech", isActive="yes")

    job = run(customer_refresh)

    assert job.status == Status.SUCCESS_WITH_WARNINGS
    assert list(Customer.objects.values_list("customer_number", flat=True)) == ["C1000"]
    warnings = list(job.logs.filter(level="Warn").values_list("message", flat=True))
    assert any("missing name" in m for m in warnings)
    assert any("isActive must be true or false" in m for m in warnings)


def test_an_erp_answering_503_is_a_transient_error(erp, customer_refresh):
    erp.fail_status = 503
    context = processor_context(customer_refresh)

    with pytest.raises(TransientError, match="HTTP 503"):
        CustomerRefresh().execute(context)


@pytest.mark.parametrize("status", [401, 403])
def test_an_erp_refusing_the_log_on_is_a_configuration_error_not_an_outage(erp, customer_refresh, status):
    erp.fail_status = status
    context = processor_context(customer_refresh)

    with pytest.raises(ConfigurationError, match="refused the log-on"):
        CustomerRefresh().execute(context)


def test_a_job_definition_without_a_connection_that_reads_customers_cannot_be_saved(db):
    definition = JobDefinitionFactory.build(
        name="CustomerRefresh", connection=None, integration_processor="CustomerRefresh"
    )

    with pytest.raises(ValidationFailed, match="reads customers from the ERP"):
        job_definition_save(definition=definition)
