"""Fixtures for testing the Acme processor: a fake Acme ERP on 127.0.0.1 and a Countermand set up to use it.

The plugin's code uses only `countermand.integration.plugin`; its tests use
`countermand.integration.testing` to build contexts and run jobs, and Countermand's models and services to
set up the world around them (a website, a buyer, an order), so the same pattern works for any ERP plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from countermand_acme_erp.testing import FakeAcmeErp
from django.contrib.auth import get_user_model
from django.utils import timezone

from countermand.customers.models import BuyerAccount, Customer
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.integration.services import connection_validate
from countermand.orders.models import Order, OrderStatusMapping
from countermand.orders.policies import BUYER, Actor
from countermand.settings.services import setting_set
from countermand.websites.models import Website


@pytest.fixture
def acme() -> Iterator[FakeAcmeErp]:
    with FakeAcmeErp(api_key="test-api-key", company="ACME-US") as erp:
        yield erp


@pytest.fixture
def cancel_definition(db, acme: FakeAcmeErp) -> JobDefinition:
    """The guide's OrderCancel job, run by AcmeOrderCancel on an AcmeErp connection."""
    connection = IntegrationConnection(
        name="Acme", type_name="AcmeErp", url=acme.url, timeout_seconds=5, options={"company": "ACME-US"}
    )
    connection.set_password("test-api-key")
    connection_validate(connection)
    connection.save()
    definition = JobDefinition.objects.create(
        name="OrderCancel",
        job_type=JobDefinition.JobType.EXECUTION,
        connection=connection,
        integration_processor="AcmeOrderCancel",
        max_retries=2,
        retry_backoff_seconds=0,
    )
    JobDefinitionParameter.objects.create(job_definition=definition, name="OrderNumber", prompt="Order Number")
    return definition


@pytest.fixture
def make_order(buyer: Actor) -> Callable[[str], Order]:
    """Makes a Submitted order of the buyer with this ERP order number."""

    def make(erp_order_number: str) -> Order:
        return Order.objects.create(
            web_order_number=f"W-{erp_order_number}",
            erp_order_number=erp_order_number,
            website_id=next(iter(buyer.website_ids)),
            customer_id=buyer.customer_id,
            order_date=timezone.now().date(),
            status="Submitted",
        )

    return make


@pytest.fixture
def buyer(db) -> Actor:
    """A buyer of customer C1000 on a website set up for cancellations (status Submitted)."""
    website = Website.objects.create(name="Acme Store")
    setting_set(name="OrderCancelStatuses", value=["Submitted"])
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    OrderStatusMapping.objects.create(erp_order_status="Submitted", display_name="Submitted", allow_cancellation=True)
    user = get_user_model().objects.create_user("buyer@example.com", "buyer@example.com", "secret-pass-1")
    account = BuyerAccount.objects.create(user=user, customer=Customer.objects.create(customer_number="C1000"))
    account.websites.add(website)
    return Actor(kind=BUYER, user_id=user.pk, customer_id=account.customer_id, website_ids=frozenset({website.pk}))
