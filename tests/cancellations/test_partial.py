"""Partial cancellation through the request service and the ERP's outcomes (issue 10)."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from countermand.cancellations.models import CancellationRequest, CancellationRequestLine
from countermand.cancellations.services import (
    LinesNotCancellable,
    OrderNotCancellable,
    cancellation_confirm,
    cancellation_deny,
    cancellation_fail,
    cancellation_resend,
    order_cancel_request,
)
from countermand.cancellations.setup_check import setup_check
from countermand.integration.models import IntegrationJob, JobDefinition, JobDefinitionParameter
from countermand.integration.plugin import CancelLine, cancel_lines_parse
from countermand.orders.models import Order, OrderEvent, OrderLine
from countermand.orders.policies import ADMIN, Actor
from countermand.orders.services import order_erp_status_apply
from countermand.settings.services import setting_set
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db
State = CancellationRequest.State


def allow_partial(shop) -> None:
    setting_set(name="AllowPartialCancellation", value=True, website=shop.website)
    JobDefinitionParameter.objects.get_or_create(
        job_definition=JobDefinition.objects.get(name="OrderCancel"), name="CancelLines", defaults={"sequence": 2}
    )


def three_line_order(shop, **kwargs) -> Order:
    """Lines 1-3: 10 x 5.00, 4 x 2.50 (1 shipped), 2 x 20.00; subtotal 100, tax 10, shipping 5, total 115."""
    order = OrderFactory(
        website=shop.website,
        customer=shop.customer,
        subtotal=Decimal("100.00"),
        tax_amount=Decimal("10.00"),
        shipping_amount=Decimal("5.00"),
        total=Decimal("115.00"),
        **kwargs,
    )
    for number, ordered, shipped, price in ((1, 10, 0, "5.00"), (2, 4, 1, "2.50"), (3, 2, 0, "20.00")):
        OrderLineFactory(
            order=order,
            line_number=number,
            quantity_ordered=Decimal(ordered),
            quantity_shipped=Decimal(shipped),
            unit_price=Decimal(price),
            line_total=Decimal(ordered) * Decimal(price),
        )
    return order


def request(shop, order, lines, **kwargs):
    kwargs.setdefault("reason_code", "Ordered by mistake")
    return order_cancel_request(
        order=order, actor=shop.actor, channel="storefront", lines=[(n, Decimal(q)) for n, q in lines], **kwargs
    )


def line(order, number) -> OrderLine:
    return OrderLine.objects.get(order=order, line_number=number)


def test_partial_request_saves_its_lines_keeps_the_status_and_its_job_carries_the_lines(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(1, "4"), (3, "2")])
    order.refresh_from_db()
    assert order.status == "Submitted"  # the rest of the order goes on
    assert [(rl.line_number, rl.quantity) for rl in cr.lines.all()] == [(1, Decimal(4)), (3, Decimal(2))]
    job = IntegrationJob.objects.get()
    parameters = {p.name: p.value for p in job.parameters.all()}
    assert cancel_lines_parse(parameters["CancelLines"]) == (CancelLine(1, Decimal(4)), CancelLine(3, Decimal(2)))
    event = OrderEvent.objects.get(order=order)
    assert event.type == "CancellationRequested"
    assert event.data["lines"] == [{"lineNumber": 1, "quantity": "4"}, {"lineNumber": 3, "quantity": "2"}]


def test_whole_order_request_has_no_lines_and_an_empty_cancel_lines_parameter(shop):
    allow_partial(shop)
    cr = order_cancel_request(
        order=three_line_order(shop), actor=shop.actor, channel="storefront", reason_code="Ordered by mistake"
    )
    assert not cr.lines.exists()
    assert {p.name: p.value for p in cr.job.parameters.all()}["CancelLines"] == ""


def test_over_quantity_is_rejected_with_the_line_blockers_and_nothing_saved(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    with pytest.raises(LinesNotCancellable) as caught:
        request(shop, order, [(1, "2"), (2, "4")])  # line 2: 4 ordered, 1 shipped → 3 open
    assert caught.value.code == "LINES_NOT_CANCELLABLE"
    assert caught.value.details["blockers"] == [
        {
            "lineNumber": 2,
            "code": "LINE_QUANTITY_ABOVE_OPEN",
            "message": "Only 3 of this line can still be cancelled, not 4.",
        }
    ]
    assert not CancellationRequest.objects.exists()
    assert not CancellationRequestLine.objects.exists()
    assert not IntegrationJob.objects.exists()
    assert not OrderEvent.objects.exists()


def test_partial_request_is_refused_when_the_website_does_not_allow_it(shop):
    JobDefinitionParameter.objects.create(job_definition=JobDefinition.objects.get(), name="CancelLines")
    with pytest.raises(LinesNotCancellable) as caught:
        request(shop, three_line_order(shop), [(1, "1")])
    assert [b["code"] for b in caught.value.details["blockers"]] == ["PARTIAL_CANCELLATION_DISABLED"]
    assert not CancellationRequest.objects.exists()


def test_partial_request_is_refused_when_the_cancel_job_does_not_declare_cancel_lines(shop):
    setting_set(name="AllowPartialCancellation", value=True, website=shop.website)
    with pytest.raises(LinesNotCancellable) as caught:
        request(shop, three_line_order(shop), [(1, "1")])
    assert [b["code"] for b in caught.value.details["blockers"]] == ["PARTIAL_CANCELLATION_UNSUPPORTED"]
    assert not IntegrationJob.objects.exists()


def test_order_blockers_still_apply_to_a_partial_request(shop):
    allow_partial(shop)
    with pytest.raises(OrderNotCancellable) as caught:
        request(shop, three_line_order(shop, status="Shipped"), [(1, "1")])
    assert "STATUS_NOT_CANCELLABLE" in {b.code for b in caught.value.blockers}


def test_confirmed_partial_cancel_leaves_the_order_open_with_the_right_totals(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(1, "4"), (3, "1")])
    cancellation_confirm(request_id=cr.pk, erp_message="Lines cancelled.")
    order.refresh_from_db()
    assert order.status == "Submitted"
    assert (line(order, 1).quantity_cancelled, line(order, 1).line_total) == (Decimal(4), Decimal("30.00"))
    assert (line(order, 3).quantity_cancelled, line(order, 3).line_total) == (Decimal(1), Decimal("20.00"))
    assert line(order, 2).quantity_cancelled == 0
    # 4 x 5.00 + 1 x 20.00 = 40.00 off the subtotal; the tax follows in proportion (10 → 6), shipping stays.
    assert (order.subtotal, order.tax_amount, order.shipping_amount, order.total) == (
        Decimal("60.00"),
        Decimal("6.00"),
        Decimal("5.00"),
        Decimal("71.00"),
    )
    assert [rl.quantity_confirmed for rl in cr.lines.all()] == [Decimal(4), Decimal(1)]
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.type, event.old_status, event.new_status) == ("CancellationConfirmed", "Submitted", "Submitted")
    assert event.data["lines"][0] == {"lineNumber": 1, "quantity": "4", "amount": "20.00"}


def test_cancelling_the_last_open_quantity_cancels_the_order(shop):
    allow_partial(shop)
    order = OrderFactory(website=shop.website, customer=shop.customer, subtotal=Decimal(30), total=Decimal(30))
    OrderLineFactory(order=order, line_number=1, quantity_ordered=Decimal(1), unit_price=Decimal(10), line_total=10)
    OrderLineFactory(order=order, line_number=2, quantity_ordered=Decimal(2), unit_price=Decimal(10), line_total=20)
    first = request(shop, order, [(1, "1")])
    cancellation_confirm(request_id=first.pk)
    IntegrationJob.objects.update(status="Success")  # the worker finished its delivery
    assert Order.objects.get(pk=order.pk).status == "Submitted"
    last = request(shop, order, [(2, "2")])
    cancellation_confirm(request_id=last.pk)
    order.refresh_from_db()
    assert order.status == "Cancelled"
    assert (order.subtotal, order.total) == (Decimal(0), Decimal(0))


def test_the_erps_reported_quantities_win_over_the_asked_ones(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(1, "4"), (3, "2")])
    # The ERP could cancel 3 of line 1 and none of line 3 (it names only line 1).
    cancellation_confirm(request_id=cr.pk, cancelled_lines=[CancelLine(1, Decimal(3))])
    order.refresh_from_db()
    assert (line(order, 1).quantity_cancelled, line(order, 3).quantity_cancelled) == (Decimal(3), Decimal(0))
    assert order.subtotal == Decimal("85.00")
    assert order.status == "Submitted"
    assert {rl.line_number: rl.quantity_confirmed for rl in cr.lines.all()} == {1: Decimal(3), 3: Decimal(0)}


def test_denied_partial_cancel_changes_nothing_and_keeps_the_erps_message(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(1, "4")])
    denied = cancellation_deny(request_id=cr.pk, erp_message="Line 1 is already picked.")
    order.refresh_from_db()
    assert denied.state == State.DENIED
    assert denied.erp_message == "Line 1 is already picked."
    assert order.status == "Submitted"
    assert (order.subtotal, order.total) == (Decimal("100.00"), Decimal("115.00"))
    assert line(order, 1).quantity_cancelled == 0
    assert OrderEvent.objects.filter(order=order).last().type == "CancellationDenied"


def test_an_erp_status_reported_while_a_partial_request_is_open_is_taken_on_confirmation(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(1, "1")])
    order_erp_status_apply(order_id=order.pk, erp_status="Processing", channel="refresh")
    assert Order.objects.get(pk=order.pk).status == "Submitted"  # held while the request is open
    cancellation_confirm(request_id=cr.pk)
    assert Order.objects.get(pk=order.pk).status == "Processing"


def test_an_open_partial_request_blocks_another_request(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    request(shop, order, [(1, "1")])
    with pytest.raises(OrderNotCancellable) as caught:
        request(shop, order, [(3, "1")])
    assert [b.code for b in caught.value.blockers] == ["ALREADY_REQUESTED"]


def test_a_resent_partial_request_carries_its_lines_again(shop, order_admin):
    allow_partial(shop)
    order = three_line_order(shop)
    cr = request(shop, order, [(3, "2")])
    IntegrationJob.objects.update(status="Failure")  # retries exhausted
    cancellation_fail(request_id=cr.pk, error="ERP down")
    resent = cancellation_resend(request_id=cr.pk, actor=Actor(kind=ADMIN, user_id=order_admin.pk))
    values = {p.name: p.value for p in resent.job.parameters.all()}
    assert cancel_lines_parse(values["CancelLines"]) == (CancelLine(3, Decimal(2)),)
    assert Order.objects.get(pk=order.pk).status == "Submitted"


@pytest.mark.django_db(transaction=True)
def test_two_partial_requests_for_the_same_order_at_once_make_one_request(shop):
    allow_partial(shop)
    order = three_line_order(shop)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(number: int) -> None:
        try:
            barrier.wait()
            request(shop, order, [(number, "1")])
            outcomes.append("ok")
        except OrderNotCancellable as exc:
            outcomes.append(exc.blockers[0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (1, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ALREADY_REQUESTED", "ok"], outcomes
    assert CancellationRequest.objects.filter(order=order).count() == 1
    assert CancellationRequestLine.objects.filter(request__order=order).count() == 1
    assert IntegrationJob.objects.filter(order=order).count() == 1


def test_the_setup_check_warns_when_partial_cancellation_is_on_but_the_job_cannot_carry_lines(shop):
    setting_set(name="AllowPartialCancellation", value=True, website=shop.website)
    warned = [item for item in setup_check() if item.key == "partial-cancellation"]
    assert [item.state for item in warned] == ["warning"]
    assert "has no CancelLines parameter" in warned[0].detail
    allow_partial(shop)
    assert not [item for item in setup_check() if item.key == "partial-cancellation"]
