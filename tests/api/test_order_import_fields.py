"""The admin order import and update are strict: an unknown field is 400 with the accepted names, and
nothing is saved (an ERP sending `subtotal`/`total` once got an order stored with total 0.00)."""

from __future__ import annotations

import json

import pytest

from countermand.orders.models import Order, OrderEvent

JSON = "application/json"
IMPORT = {"webOrderNumber": "WEB-9200", "customerNumber": "C1000", "orderDate": "2026-01-02", "status": "Submitted"}
ACCEPTED = (
    "Unknown field; the accepted fields are currencyCode, customerNumber, customerPO, erpOrderNumber, orderDate, "
    "orderLines, orderTotal, productTotal, shippingCharges, status, taxAmount, webOrderNumber, websiteId."
)


@pytest.fixture
def integration(world):
    return world.api("integration_admin")


def post(client, body):
    return client.post("/api/v1/admin/orders", json.dumps(body), content_type=JSON)


def test_an_import_with_unknown_fields_is_400_naming_them_with_the_accepted_names_and_saves_nothing(world, integration):
    answer = post(integration, {**IMPORT, "websiteId": world.store.pk, "subtotal": "90.00", "total": "100.00"})

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["fields"] == {"subtotal": [ACCEPTED], "total": [ACCEPTED]}
    assert not Order.objects.filter(web_order_number="WEB-9200").exists()


def test_an_unknown_line_field_is_400_naming_the_line_and_saves_nothing(world, integration):
    line = {"lineNumber": 1, "productErpNumber": "W", "qtyOrdered": 1, "unitPrice": "4.00"}

    answer = post(integration, {**IMPORT, "websiteId": world.store.pk, "orderLines": [line]})

    assert answer.status_code == 400
    message = answer.json()["message"]
    assert message.startswith("orderLines.0.unitPrice: Unknown field; the accepted fields are description, ")
    assert "unitNetPrice" in message
    assert not Order.objects.filter(web_order_number="WEB-9200").exists()


def test_an_import_with_the_tables_names_stores_the_totals(world, integration):
    body = {**IMPORT, "websiteId": world.store.pk, "productTotal": "90.00", "orderTotal": "100.00"}

    answer = post(integration, body)

    assert answer.status_code == 201, answer.content
    order = Order.objects.get(web_order_number="WEB-9200")
    assert (str(order.subtotal), str(order.total)) == ("90.00", "100.00")


def test_an_update_with_an_unknown_field_is_400_and_changes_nothing(world, integration):
    order = Order.objects.get(web_order_number="WEB-2001")
    events = OrderEvent.objects.filter(order=order).count()

    answer = integration.put(
        "/api/v1/admin/orders/WEB-2001", json.dumps({"status": "Shipped", "shipped": True}), content_type=JSON
    )

    assert answer.status_code == 400
    assert "shipped" in answer.json()["fields"]
    order.refresh_from_db()
    assert order.status == "Submitted"
    assert OrderEvent.objects.filter(order=order).count() == events
