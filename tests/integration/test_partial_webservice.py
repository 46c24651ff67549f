"""A partial cancellation delivered by WebServiceOrderCancel to a real HTTP ERP on 127.0.0.1 (issue 10)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.orders.models import Order, OrderLine
from countermand.settings.services import setting_set
from tests.factories import OrderFactory, OrderLineFactory
from tests.integration.conftest import drain
from tests.integration.fake_erp import FakeErp

State = CancellationRequest.State
pytestmark = pytest.mark.django_db


@pytest.fixture
def partial_shop(erp_shop):
    setting_set(name="AllowPartialCancellation", value=True, website=erp_shop.website)
    JobDefinitionParameter.objects.create(
        job_definition=JobDefinition.objects.get(name="OrderCancel"), name="CancelLines", sequence=2
    )
    return erp_shop


def three_lines(shop) -> Order:
    order = OrderFactory(website=shop.website, customer=shop.customer, subtotal=60, total=60)
    for number in (1, 2, 3):
        OrderLineFactory(
            order=order, line_number=number, quantity_ordered=Decimal(2), unit_price=Decimal(10), line_total=20
        )
    return order


def cancel_lines(shop, order, lines) -> CancellationRequest:
    return order_cancel_request(
        order=order,
        actor=shop.actor,
        channel="storefront",
        reason_code="Other",
        lines=[(n, Decimal(q)) for n, q in lines],
    )


def test_the_default_body_carries_the_lines_and_a_cancelled_answer_does_not_cancel_what_is_left(partial_shop, fake_erp):
    order = three_lines(partial_shop)
    request = cancel_lines(partial_shop, order, [(2, "2")])
    drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    body = fake_erp.requests[0].body
    assert body["lines"] == [{"lineNumber": 2, "quantity": "2"}]
    assert body["orderNumber"] == order.erp_order_number
    order.refresh_from_db()
    assert order.status == "Submitted"  # the fake ERP answers "Cancelled"; lines 1 and 3 are left
    assert OrderLine.objects.get(order=order, line_number=2).quantity_cancelled == 2
    assert order.total == Decimal(40)


def test_a_body_template_that_does_not_render_the_lines_is_never_sent(partial_shop, fake_erp):
    connection = IntegrationConnection.objects.get()
    connection.options = {"cancelBody": {"order": "{OrderNumber}"}}
    connection.save()
    request = cancel_lines(partial_shop, three_lines(partial_shop), [(1, "1")])
    drain()
    request.refresh_from_db()
    assert request.state == State.FAILED
    assert "does not render the lines" in request.erp_message
    assert fake_erp.requests == []


class LinesErp(FakeErp):
    """An ERP that could cancel only one unit of what it was asked, and says so in `cancelled`."""

    def answer(self, order_number: str, key: str) -> tuple[int, dict]:
        return 200, {"message": "partly done", "cancelled": [{"lineNumber": 1, "quantity": "1"}]}


def test_the_lines_the_erp_reports_in_lines_field_win(partial_shop):
    erp = LinesErp().start()
    try:
        connection = IntegrationConnection.objects.get()
        connection.url = erp.url
        connection.options = {"linesField": "cancelled"}
        connection.save()
        order = three_lines(partial_shop)
        request = cancel_lines(partial_shop, order, [(1, "2"), (3, "2")])
        drain()
    finally:
        erp.stop()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    quantities = dict(OrderLine.objects.filter(order=order).values_list("line_number", "quantity_cancelled"))
    assert quantities == {1: Decimal(1), 2: Decimal(0), 3: Decimal(0)}
    assert {rl.line_number: rl.quantity_confirmed for rl in request.lines.all()} == {1: Decimal(1), 3: Decimal(0)}
