"""The demo's CustomerRefresh job against the Sandbox ERP served by a real live server."""

from __future__ import annotations

import pytest

from countermand.customers.models import Customer
from countermand.demo import demo_load
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.services import job_enqueue
from tests.integration.conftest import drain


@pytest.mark.django_db(transaction=True)
def test_the_demos_customer_refresh_brings_the_sandbox_customers_addresses_in(live_server):
    demo_load(sandbox_url=f"{live_server.url}/sandbox-erp")

    job = job_enqueue(definition=JobDefinition.objects.get(name="CustomerRefresh"))
    drain()
    job.refresh_from_db()

    assert job.status == IntegrationJob.Status.SUCCESS, job.error
    assert (job.result["created"], job.result["updated"], job.result["deactivated"]) == (0, 2, 0)
    assert Customer.objects.get(customer_number="C1000").addresses[0]["city"] == "Berlin"
