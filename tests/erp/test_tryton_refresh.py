"""OrderHistoryRefresh against a real trytond 8.2 server: import, status updates, the sweep, drift."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from countermand.cancellations.services import order_cancel_request
from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationJob
from countermand.integration.plugin import TransientError
from countermand.integration.services import job_enqueue
from countermand.integration.testing import ListLogger, processor_context
from countermand.orders.models import Order, OrderDrift, OrderEvent
from countermand.orders.policies import MAPPING_DISALLOWS, STATUS_NOT_CANCELLABLE, cancellation_blockers
from countermand.orders.refresh import OrderHistoryRefresh
from countermand.orders.selectors import cancellation_rules
from tests.erp.conftest import Ran, TrytonShop
from tests.factories import WebsiteFactory
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db]
Status = IntegrationJob.Status


def refresh(shop: TrytonShop, **parameters) -> Ran:
    """Run OrderHistoryRefresh in this process (as the worker would); returns its context and result."""
    context = processor_context(shop.refresh_definition, parameters=parameters)
    return Ran(context, OrderHistoryRefresh().execute(context))


def refresh_job(shop: TrytonShop) -> IntegrationJob:
    """Queue the refresh job and let the engine run it."""
    job = job_enqueue(definition=shop.refresh_definition)
    drain()
    job.refresh_from_db()
    return job


def log_of(ran: Ran) -> ListLogger:
    return ran.logger


def test_refresh_brings_the_sales_of_known_customers_in_as_orders_with_their_lines(tryton_shop):
    server = tryton_shop.server
    lines = [{"product": "WIDGET", "quantity": 2}, {"product": "SUPPORT", "quantity": 1}]
    quotation = server.create_sale("quotation", lines=lines)
    done = server.create_sale("done", lines=lines)
    draft = server.create_sale("draft")
    server.create_sale("quotation", party_code="C3000")  # a customer Countermand does not know

    job = refresh_job(tryton_shop)

    assert job.status == Status.SUCCESS, job.error
    assert job.result["imported"] == 3  # the sales of C3000 are not even read
    orders = {o.web_order_number: o for o in Order.objects.prefetch_related("lines")}
    assert set(orders) == {quotation["reference"], done["reference"], draft["reference"]}
    order = orders[quotation["reference"]]
    assert (order.erp_order_number, order.status, order.website, order.customer) == (
        quotation["number"],
        "quotation",
        tryton_shop.website,
        tryton_shop.customer,
    )
    assert (order.subtotal, order.total, order.currency) == (Decimal("50.00"), Decimal("50.00"), "USD")
    assert order.order_date == timezone.now().date()
    assert [
        (
            line.line_number,
            line.product_number,
            line.description,
            line.quantity_ordered,
            line.unit_price,
            line.line_total,
            line.quantity_shipped,
        )
        for line in order.lines.all()
    ] == [
        (1, "WIDGET", "Widget", Decimal(2), Decimal(10), Decimal(20), Decimal(0)),
        (2, "SUPPORT", "Support", Decimal(1), Decimal(30), Decimal(30), Decimal(0)),
    ]
    assert [line.quantity_shipped for line in orders[done["reference"]].lines.all()] == [Decimal(2), Decimal(1)]
    assert orders[done["reference"]].status == "done"
    assert (orders[draft["reference"]].erp_order_number, orders[draft["reference"]].status) == (None, "draft")
    assert OrderEvent.objects.filter(type=OrderEvent.Type.IMPORTED, channel="refresh").count() == 3


def test_a_sale_moved_to_done_shows_its_mapped_status_and_is_no_longer_cancellable(tryton_shop):
    server = tryton_shop.server
    moving = server.create_sale("quotation")
    staying = server.create_sale("quotation")
    first = refresh_job(tryton_shop)
    order = Order.objects.get(web_order_number=moving["reference"])
    assert cancellation_blockers(order, rules=cancellation_rules([order]), actor=tryton_shop.actor) == []
    events = OrderEvent.objects.count()

    server.sale_advance(moving["id"], "done")
    second = refresh_job(tryton_shop)

    assert second.status == Status.SUCCESS, second.error
    assert datetime.datetime.fromisoformat(second.result["since"]) < datetime.datetime.fromisoformat(
        first.result["watermark"]
    )
    assert (second.result["updated"], second.result["status_changes"]) == (1, 1)
    order.refresh_from_db()
    rules = cancellation_rules([order])
    assert (order.status, rules.display(order.status)) == ("done", "Done")
    codes = {b.code for b in cancellation_blockers(order, rules=rules, actor=tryton_shop.actor)}
    assert codes == {STATUS_NOT_CANCELLABLE, MAPPING_DISALLOWS}
    assert [o.quantity_shipped for o in order.lines.all()] == [Decimal(2)]
    # The unchanged sale was read again but nothing was written for it.
    assert OrderEvent.objects.count() == events + 1
    assert Order.objects.get(web_order_number=staying["reference"]).events.count() == 1


def test_drift_is_recorded_both_ways_and_an_open_cancellation_keeps_its_status(tryton_shop):
    server = tryton_shop.server
    here = server.create_sale("quotation")  # cancelled here only (e.g. LocalOnly)
    there = server.create_sale("quotation")  # cancelled in Tryton, behind our back
    asked = server.create_sale("quotation")  # a buyer asked to cancel; the job has not run yet
    cancelled_here = tryton_shop.order_for(here, status="Cancelled")
    cancelled_there = tryton_shop.order_for(there)
    requested = tryton_shop.order_for(asked)
    order_cancel_request(order=requested, actor=tryton_shop.actor, channel="storefront", reason_code="Other")
    server.sale_advance(there["id"], "cancelled")
    server.sale_advance(asked["id"], "confirmed")

    context = refresh(tryton_shop)

    cancelled_here.refresh_from_db()
    cancelled_there.refresh_from_db()
    requested.refresh_from_db()
    assert cancelled_here.status == "Cancelled"
    assert cancelled_there.status == "Cancelled"
    assert requested.status == "CancellationRequested"
    drifts = {(d.order_id, d.kind, d.our_status, d.erp_status) for d in OrderDrift.objects.all()}
    assert drifts == {
        (cancelled_here.pk, OrderDrift.Kind.CANCELLED_HERE_NOT_THERE, "Cancelled", "quotation"),
        (cancelled_there.pk, OrderDrift.Kind.CANCELLED_THERE_NOT_HERE, "quotation", "Cancelled"),
    }
    warnings = log_of(context).messages("Warn")
    assert len(warnings) == 2
    assert f"is cancelled here (Cancelled) but {here['number']} is quotation in Tryton" in warnings[0]
    assert f"{there['number']} was cancelled in Tryton http://127.0.0.1:" in warnings[1]
    assert context.result.data["held_by_cancellation"] == 1
    assert context.result.data["new_drift"] == 2
    assert cancelled_here.events.filter(type=OrderEvent.Type.DRIFT_DETECTED).count() == 1

    again = refresh(tryton_shop, FullRefresh=True)
    assert again.result.data["new_drift"] == 0
    assert log_of(again).messages("Warn") == []
    assert OrderDrift.objects.count() == 2


def test_the_status_sweep_updates_open_orders_the_changed_sales_query_did_not_return(tryton_shop):
    server = tryton_shop.server
    quotation = server.create_sale("quotation")
    done = server.create_sale("done")
    refresh(tryton_shop)
    local = tryton_shop.order_for({"reference": "W-LOCAL", "number": "SO-LOCAL", "state": "quotation"})
    server.sale_advance(quotation["id"], "processing")
    # A previous run whose watermark is ahead of every change: step 1 finds nothing, the sweep must.
    job = job_enqueue(definition=tryton_shop.refresh_definition)
    future = timezone.now() + datetime.timedelta(days=1)
    IntegrationJob.objects.filter(pk=job.pk).update(
        status=Status.SUCCESS, finished_at=timezone.now(), result={"watermark": future.isoformat()}
    )

    context = refresh(tryton_shop)

    assert Order.objects.get(web_order_number=quotation["reference"]).status == "processing"
    assert context.result.data["imported"] == 0
    assert context.result.data["status_changes"] == 1
    assert context.result.data["not_found"] == 1  # W-LOCAL; the done order is final and not asked about
    assert f"1 order(s) of {tryton_shop.website.name} not found in Tryton" in log_of(context).messages("Info")[-2]
    assert local.web_order_number in log_of(context).messages("Info")[-2]
    assert Order.objects.get(web_order_number=done["reference"]).status == "done"


def test_sales_are_matched_by_reference_and_renamed_states_need_a_mapping(tryton_shop):
    tryton_shop.set_options(matchField="reference", statusCodes={"quotation": "Open"})
    sale = tryton_shop.server.create_sale("quotation", reference="W-77")
    ours = tryton_shop.order_for(sale, erp_order_number=None, status="draft")

    context = refresh(tryton_shop)

    ours.refresh_from_db()
    assert (ours.status, ours.erp_order_number) == ("Open", sale["number"])
    assert log_of(context).messages("Warn") == [
        "No Order Status Mapping for the ERP status 'Open': buyers see the raw code. Create one in "
        "Administration › System › Order Status Mapping."
    ]


def test_tryton_down_makes_the_refresh_transient(tryton_shop):
    tryton_shop.server.stop()
    with pytest.raises(TransientError, match="Tryton is unavailable"):
        refresh(tryton_shop)


def test_the_refresh_says_which_website_is_missing(tryton_shop):
    tryton_shop.set_options(website="Nowhere")
    with pytest.raises(ValidationFailed, match="There is no website named 'Nowhere'"):
        refresh(tryton_shop)
    tryton_shop.connection.options.pop("website")
    tryton_shop.connection.save()
    WebsiteFactory(name="Second Store")
    with pytest.raises(ValidationFailed, match="a Website parameter on the job definition or the connection option"):
        refresh(tryton_shop)
