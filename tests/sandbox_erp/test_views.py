"""The Sandbox ERP: a pretend ERP that confirms, refuses, fails or dawdles on request."""

from __future__ import annotations

from decimal import Decimal

import pytest

from countermand.integration.models import IntegrationConnection
from countermand.orders.models import OrderLine
from countermand.sandbox_erp.models import SandboxErpCancellation
from tests.factories import ConnectionFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(db):
    return ConnectionFactory(name="Sandbox ERP", type_name="Sandbox", url="http://testserver/sandbox-erp")


def post_cancel(client, number, key="key-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/sandbox-erp/orders/{number}/cancel", data={}, content_type="application/json", headers=headers
    )


def test_the_sandbox_erp_confirms_a_cancellation_once_per_idempotency_key(client, sandbox):
    order = OrderFactory(erp_order_number="ERP-1")
    first = post_cancel(client, "ERP-1")
    again = post_cancel(client, "ERP-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "Cancelled"
    assert first.json()["reference"].startswith("SBX-")
    row = SandboxErpCancellation.objects.get()
    assert row.delivery_count == 2
    assert row.order_number == order.erp_order_number


def test_the_sandbox_erp_refuses_shipped_orders_with_a_message(client, sandbox):
    OrderFactory(erp_order_number="ERP-2", status="Shipped")
    response = post_cancel(client, "ERP-2")
    assert response.status_code == 409
    assert "already shipped" in response.json()["message"]


def test_the_sandbox_erp_refuses_orders_listed_as_shipped_in_its_options(client, sandbox):
    OrderFactory(erp_order_number="ERP-3")
    sandbox.options = {"sandboxShippedOrders": ["ERP-3"]}
    sandbox.save()
    assert post_cancel(client, "ERP-3").status_code == 409


def test_the_sandbox_erp_can_be_told_to_fail_and_then_has_no_effect(client, sandbox):
    OrderFactory(erp_order_number="ERP-4")
    sandbox.options = {"sandboxFailStatus": 503}
    sandbox.save()
    assert post_cancel(client, "ERP-4").status_code == 503
    assert not SandboxErpCancellation.objects.exists()


def test_the_sandbox_erp_can_be_told_to_be_slow(client, sandbox):
    import time

    OrderFactory(erp_order_number="ERP-5")
    sandbox.options = {"sandboxDelaySeconds": 0.3}
    sandbox.save()
    started = time.monotonic()
    assert post_cancel(client, "ERP-5").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_the_sandbox_erp_needs_an_idempotency_key(client, sandbox):
    OrderFactory(erp_order_number="ERP-6")
    assert post_cancel(client, "ERP-6", key="").status_code == 400


def test_the_sandbox_erp_does_nothing_without_an_active_sandbox_connection(client, sandbox):
    OrderFactory(erp_order_number="ERP-7")
    IntegrationConnection.objects.update(is_active=False)
    assert post_cancel(client, "ERP-7").status_code == 404
    assert not SandboxErpCancellation.objects.exists()


def test_the_sandbox_options_are_validated_by_the_connection_type():
    from countermand.core.errors import ValidationFailed
    from countermand.integration.registry import connection_type_get

    sandbox = connection_type_get("Sandbox")
    assert sandbox.clean_options({"sandboxFailStatus": 503, "sandboxDelaySeconds": 2})
    for bad in ({"sandboxFailStatus": 200}, {"sandboxDelaySeconds": -1}, {"sandboxShippedOrders": "ERP-1"}):
        with pytest.raises(ValidationFailed):
            sandbox.clean_options(bad)


def test_the_sandbox_erp_lists_the_demo_customers_a_page_at_a_time(client, sandbox):
    first = client.get("/sandbox-erp/customers?page=1&pageSize=1").json()["customers"]
    second = client.get("/sandbox-erp/customers?page=2&pageSize=1").json()["customers"]
    third = client.get("/sandbox-erp/customers?page=3&pageSize=1").json()["customers"]

    assert [c["customerNumber"] for c in first + second] == ["C1000", "C2000"]
    assert third == []
    assert first[0]["addresses"][0]["city"] == "Berlin"
    assert client.get("/sandbox-erp/customers?page=x").status_code == 400


def test_the_sandbox_erp_customer_list_is_off_without_an_active_sandbox_connection(client, db):
    assert client.get("/sandbox-erp/customers").status_code == 404


def post_partial(client, number, lines, key="key-p"):
    return client.post(
        f"/sandbox-erp/orders/{number}/cancel",
        data={"lines": lines},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def order_with_lines(number):
    order = OrderFactory(erp_order_number=number)
    OrderLineFactory(order=order, line_number=1, quantity_ordered=Decimal(4), quantity_shipped=Decimal(3))
    OrderLineFactory(order=order, line_number=2, quantity_ordered=Decimal(5))
    return order


def test_the_sandbox_erp_cancels_lines_and_answers_with_them(client, sandbox):
    order_with_lines("ERP-P1")
    response = post_partial(client, "ERP-P1", [{"lineNumber": 2, "quantity": "3"}])
    assert response.status_code == 200
    body = response.json()
    assert body["lines"] == [{"lineNumber": 2, "quantity": "3"}]
    assert "status" not in body  # the rest of the order goes on
    assert body["reference"].startswith("SBX-")


def test_the_sandbox_erp_refuses_to_cancel_shipped_quantities(client, sandbox):
    order_with_lines("ERP-P2")
    response = post_partial(client, "ERP-P2", [{"lineNumber": 1, "quantity": "2"}])
    assert response.status_code == 409
    assert response.json()["message"] == ("Order ERP-P2: line 1 has 3 of 4 shipped: only 1 can be cancelled.")


def test_the_sandbox_erp_says_cancelled_when_a_partial_cancel_leaves_nothing(client, sandbox):
    order_with_lines("ERP-P3")
    OrderLine.objects.filter(order__erp_order_number="ERP-P3", line_number=1).update(quantity_shipped=0)
    response = post_partial(client, "ERP-P3", [{"lineNumber": 1, "quantity": "4"}, {"lineNumber": 2, "quantity": "5"}])
    assert response.status_code == 200
    assert response.json()["status"] == "Cancelled"


def test_the_sandbox_erp_refuses_malformed_lines(client, sandbox):
    order_with_lines("ERP-P4")
    assert post_partial(client, "ERP-P4", [{"lineNumber": "x"}]).status_code == 400
