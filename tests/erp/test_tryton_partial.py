"""Partial cancellation against a real Tryton 8.2 (issue 10): a buyer's request goes through the engine
(queue → TrytonOrderCancel with CancelLines → outcome), and the order history refresh brings the sale's
line quantities back. The processing-sale path without the sale_amendment module is pinned here; with it,
in test_tryton_amendment.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.integration.models import IntegrationJob, JobDefinitionParameter
from countermand.integration.services import job_enqueue
from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.settings.services import setting_set
from tests.erp.conftest import TrytonShop
from tests.factories import OrderLineFactory
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db]
State = CancellationRequest.State
QUANTITIES = (5, 4, 3)


def allow_partial(shop: TrytonShop) -> None:
    setting_set(name="AllowPartialCancellation", value=True, website=shop.website)
    setting_set(name="CancellableOrderStatuses", value=["draft", "quotation", "processing"], website=shop.website)
    JobDefinitionParameter.objects.get_or_create(
        job_definition=shop.cancel_definition, name="CancelLines", defaults={"sequence": 2}
    )


def three_line_sale(shop: TrytonShop, state: str) -> tuple[dict, Order]:
    """A Tryton sale of three WIDGET lines (5, 4, 3 at 10.00) and our order of it, with the same lines."""
    sale = shop.server.create_sale(
        state, lines=[{"product": "WIDGET", "quantity": q, "unit_price": Decimal(10)} for q in QUANTITIES]
    )
    order = shop.order_for(sale, subtotal=Decimal(120), total=Decimal(120))
    for number, quantity in enumerate(QUANTITIES, 1):
        OrderLineFactory(
            order=order,
            line_number=number,
            product_number="WIDGET",
            quantity_ordered=Decimal(quantity),
            unit_price=Decimal(10),
            line_total=Decimal(10 * quantity),
        )
    return sale, order


def sale_quantities(shop: TrytonShop, sale: dict) -> list[float]:
    admin = shop.server.admin
    (read,) = admin.sales_read([sale["id"]], ["lines"])
    lines = admin.call("model.sale.line.read", read["lines"], ["id", "quantity"])
    by_id = {line["id"]: line["quantity"] for line in lines}
    return [by_id[i] for i in read["lines"]]


def cancel_lines(shop: TrytonShop, order: Order, lines) -> CancellationRequest:
    return order_cancel_request(
        order=order,
        actor=shop.actor,
        channel="storefront",
        reason_code="Other",
        lines=[(n, Decimal(q)) for n, q in lines],
    )


def test_two_units_of_line_2_of_a_quotation_reduce_the_tryton_sale_line_and_the_request_is_confirmed(tryton_shop):
    allow_partial(tryton_shop)
    sale, order = three_line_sale(tryton_shop, "quotation")
    request = cancel_lines(tryton_shop, order, [(2, "2")])

    drain()

    request.refresh_from_db()
    assert request.state == State.CONFIRMED, request.erp_message
    assert request.erp_message == (
        f"Cancelled 2 of line 2 of sale {sale['number']} [{sale['reference']}] in Tryton; the sale is quotation."
    )
    assert sale_quantities(tryton_shop, sale) == [5.0, 2.0, 3.0]
    assert tryton_shop.server.sale_state(sale["id"]) == "quotation"
    order.refresh_from_db()
    assert order.status == "quotation"
    line = OrderLine.objects.get(order=order, line_number=2)
    assert (line.quantity_ordered, line.quantity_cancelled, line.line_total) == (Decimal(4), Decimal(2), Decimal(20))
    assert order.total == Decimal(100)
    assert IntegrationJob.objects.get(pk=request.job_id).status == "Success"


def test_the_order_history_refresh_brings_the_sales_line_quantities_back(tryton_shop):
    allow_partial(tryton_shop)
    sale, order = three_line_sale(tryton_shop, "quotation")
    cancel_lines(tryton_shop, order, [(2, "2")])
    drain()
    # Meanwhile someone changes line 3 in Tryton itself.
    admin = tryton_shop.server.admin
    (read,) = admin.sales_read([sale["id"]], ["lines"])
    admin.sale_draft(sale["id"])
    admin.call("model.sale.line.write", [read["lines"][2]], {"quantity": 2.0})
    admin.call("model.sale.sale.quote", [sale["id"]])

    job_enqueue(definition=tryton_shop.refresh_definition, parameters={"FullRefresh": "true"})
    drain()

    quantities = {
        line.line_number: (line.quantity_ordered, line.quantity_cancelled)
        for line in OrderLine.objects.filter(order=order)
    }
    # Line 2 keeps what the buyer ordered and what we cancelled; line 3, never cancelled here, is what
    # Tryton says it is now.
    assert quantities == {1: (Decimal(5), Decimal(0)), 2: (Decimal(4), Decimal(2)), 3: (Decimal(2), Decimal(0))}


def test_a_processing_sale_without_the_amendment_module_is_refused_with_a_clear_message(tryton_shop):
    allow_partial(tryton_shop)
    sale, order = three_line_sale(tryton_shop, "processing")
    order.status = "processing"
    order.save()
    tryton_shop_mapping_allows(tryton_shop, "processing")
    request = cancel_lines(tryton_shop, order, [(1, "2")])

    drain()

    request.refresh_from_db()
    assert request.state == State.DENIED
    assert request.erp_message == (
        f"Sale {sale['number']} [{sale['reference']}] is being processed in Tryton, and its lines can only be "
        "changed by a sale amendment: the Tryton module sale_amendment is not activated in this database."
    )
    assert sale_quantities(tryton_shop, sale) == [5.0, 4.0, 3.0]
    assert OrderLine.objects.get(order=order, line_number=1).quantity_cancelled == 0


def tryton_shop_mapping_allows(shop: TrytonShop, status: str) -> None:
    OrderStatusMapping.objects.filter(erp_order_status=status).update(allow_cancellation=True)


def test_a_confirmed_sale_is_refused_unless_the_connection_puts_it_back_to_draft(tryton_shop):
    allow_partial(tryton_shop)
    tryton_shop_mapping_allows(tryton_shop, "confirmed")
    setting_set(name="CancellableOrderStatuses", value=["quotation", "confirmed"], website=tryton_shop.website)
    sale, order = three_line_sale(tryton_shop, "confirmed")
    order.status = "confirmed"
    order.save()
    refused = cancel_lines(tryton_shop, order, [(3, "1")])
    drain()
    refused.refresh_from_db()
    assert refused.state == State.DENIED
    assert "resetConfirmedToDraft" in refused.erp_message

    tryton_shop.set_options(resetConfirmedToDraft=True)
    request = cancel_lines(tryton_shop, order, [(3, "1")])
    drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED, request.erp_message
    assert sale_quantities(tryton_shop, sale) == [5.0, 4.0, 2.0]
    assert tryton_shop.server.sale_state(sale["id"]) in ("confirmed", "processing")
