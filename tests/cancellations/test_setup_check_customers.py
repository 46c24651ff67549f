"""`countermand check` warns when the order history refresh has no customers to import orders for."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from countermand.cancellations.setup_check import customer_sync_check
from countermand.customers.models import Customer
from countermand.demo import demo_load
from countermand.integration.models import IntegrationConnection, JobDefinition
from tests.factories import JobDefinitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_refresh(db) -> JobDefinition:
    connection = IntegrationConnection.objects.create(name="ERP", type_name="WebService", url="http://127.0.0.1:9")
    return JobDefinitionFactory(
        name="OrderHistoryRefresh",
        job_type="Refresh",
        connection=connection,
        integration_processor="OrderHistoryRefresh",
    )


def test_check_warns_when_orders_are_refreshed_but_no_customer_is_known_or_synced(order_refresh):
    out = io.StringIO()
    with pytest.raises(CommandError):  # exit status 1 for the guide's missing steps (not for this warning)
        call_command("setup_check", stdout=out, stderr=out)

    item = customer_sync_check()
    assert item is not None
    assert item.state == "warning"
    assert "OrderHistoryRefresh imports the orders of known customers only" in item.detail
    assert "[WARNING] The order history refresh has customers to import orders for" in out.getvalue()


def test_no_warning_once_a_customer_is_known(order_refresh):
    Customer.objects.create(customer_number="C1000", name="Acme")

    assert customer_sync_check() is None


def test_no_warning_with_an_active_customer_refresh(order_refresh):
    JobDefinitionFactory(
        name="CustomerRefresh",
        job_type="Refresh",
        connection=order_refresh.connection,
        integration_processor="CustomerRefresh",
    )

    assert customer_sync_check() is None


def test_no_warning_without_an_order_history_refresh(db):
    assert customer_sync_check() is None


def test_the_demo_has_an_hourly_customer_refresh_on_the_sandbox_erp(db):
    demo_load()

    definition = JobDefinition.objects.get(name="CustomerRefresh")
    assert (definition.job_type, definition.integration_processor, definition.recurring_interval_seconds) == (
        "Refresh",
        "CustomerRefresh",
        3600,
    )
    assert definition.connection.name == "Sandbox ERP"
