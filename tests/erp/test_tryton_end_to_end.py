"""End to end against a real Tryton: a buyer's cancellation goes through the engine (queue → worker →
TrytonOrderCancel → outcome) and the recurring order history refresh runs in a real worker process."""

from __future__ import annotations

import pytest
from django.core import mail

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.orders.models import Order
from countermand.orders.policies import cancellation_blockers
from countermand.orders.selectors import cancellation_rules
from tests.erp.conftest import TrytonShop, wait_for
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db(transaction=True)]
State = CancellationRequest.State
Status = IntegrationJob.Status


def buyer_cancels(shop: TrytonShop, order: Order) -> CancellationRequest:
    return order_cancel_request(order=order, actor=shop.actor, channel="storefront", reason_code="Other")


def order_cancel_blockers_empty(shop: TrytonShop, order: Order) -> bool:
    """Whether the buyer could cancel `order` now."""
    return not cancellation_blockers(order, rules=cancellation_rules([order]), actor=shop.actor)


def state_of(request: CancellationRequest) -> str:
    request.refresh_from_db()
    return request.state


def test_a_buyers_cancellation_of_a_quotation_cancels_the_sale_in_tryton_and_is_confirmed(tryton_shop):
    sale = tryton_shop.server.create_sale("quotation")
    order = tryton_shop.order_for(sale)
    request = buyer_cancels(tryton_shop, order)
    assert Order.objects.get(pk=order.pk).status == "CancellationRequested"

    drain()

    assert tryton_shop.server.sale_state(sale["id"]) == "cancelled"
    assert state_of(request) == State.CONFIRMED
    assert (request.erp_reference, request.erp_message) == (
        sale["number"],
        f"Sale {sale['number']} [{sale['reference']}] cancelled in Tryton.",
    )
    order.refresh_from_db()
    assert order.status == "Cancelled"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert (job.status, job.attempt) == (Status.SUCCESS, 1)
    assert [m.to for m in mail.outbox] == [[tryton_shop.buyer.email]]


def test_a_processing_sale_denies_the_cancellation_with_trytons_message_and_the_order_takes_the_sale_state(
    tryton_shop,
):
    # Our order history still says quotation; Tryton has moved on.
    sale = tryton_shop.server.create_sale("quotation")
    order = tryton_shop.order_for(sale)
    tryton_shop.server.sale_advance(sale["id"], "processing")
    request = buyer_cancels(tryton_shop, order)

    drain()

    assert state_of(request) == State.DENIED
    assert request.erp_message == f'You can not call "cancel" on "{sale["number"]} [{sale["reference"]}]" of "Sale".'
    assert request.erp_reference == sale["number"]
    order.refresh_from_db()
    # Not the stale quotation (cancellable) it had before the request: the state the processor just read.
    assert order.status == "processing"
    assert not order_cancel_blockers_empty(tryton_shop, order)
    assert tryton_shop.server.sale_state(sale["id"]) == "processing"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert (job.status, job.attempt) == (Status.SUCCESS_WITH_WARNINGS, 1)


def test_cancelling_a_sale_already_cancelled_in_tryton_is_confirmed_without_error(tryton_shop):
    sale = tryton_shop.server.create_sale("cancelled")
    order = tryton_shop.order_for(sale, status="quotation")
    request = buyer_cancels(tryton_shop, order)

    drain()

    assert state_of(request) == State.CONFIRMED
    assert request.erp_message.endswith("was already cancelled in Tryton.")
    order.refresh_from_db()
    assert order.status == "Cancelled"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert (job.status, job.error) == (Status.SUCCESS, "")
    assert tryton_shop.server.sale_state(sale["id"]) == "cancelled"


def test_tryton_stopped_in_the_middle_of_a_run_is_retried_and_every_cancellation_delivered_once_back(
    tryton_shop, worker_processes
):
    server = tryton_shop.server
    JobDefinition.objects.filter(pk=tryton_shop.refresh_definition.pk).update(is_active=False)
    JobDefinition.objects.filter(pk=tryton_shop.cancel_definition.pk).update(max_retries=20, retry_backoff_seconds=1)
    IntegrationConnection.objects.filter(pk=tryton_shop.connection.pk).update(
        breaker_threshold=2, breaker_cooldown_seconds=1
    )
    sales = [server.create_sale("quotation") for _ in range(6)]
    orders = [tryton_shop.order_for(sale) for sale in sales]
    worker_processes.start(name="tryton-worker")

    before = [buyer_cancels(tryton_shop, order) for order in orders[:3]]
    wait_for(lambda: all(state_of(r) == State.CONFIRMED for r in before), 30, worker_processes)
    server.stop()
    during = [buyer_cancels(tryton_shop, order) for order in orders[3:]]
    wait_for(
        lambda: all(
            job.attempt >= 1 and job.status == Status.QUEUED
            for job in IntegrationJob.objects.filter(pk__in=[r.job_id for r in during])
        ),
        30,
        worker_processes,
    )
    assert all(state_of(r) in (State.REQUESTED, State.SENT) for r in during)
    server.start()
    wait_for(lambda: all(state_of(r) == State.CONFIRMED for r in during), 60, worker_processes)

    assert [server.sale_state(sale["id"]) for sale in sales] == ["cancelled"] * 6
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"Cancelled"}
    retried = IntegrationJob.objects.filter(pk__in=[r.job_id for r in during])
    assert all(job.status == Status.SUCCESS and job.attempt >= 2 for job in retried)
    assert all(job.logs.filter(message__contains="Tryton is unavailable").exists() for job in retried)


def test_the_worker_runs_the_recurring_refresh_and_sales_created_in_tryton_appear_as_orders(
    tryton_shop, worker_processes
):
    server = tryton_shop.server
    created = [server.create_sale(state) for state in ("quotation", "confirmed", "done")]
    # Every 2 s (the first slot is the first one after the definition was made).
    JobDefinition.objects.filter(pk=tryton_shop.refresh_definition.pk).update(recurring_interval_seconds=2)
    worker_processes.start(name="refresh-worker")

    wait_for(lambda: Order.objects.count() == 3, 30, worker_processes)

    job = IntegrationJob.objects.filter(definition=tryton_shop.refresh_definition).earliest("pk")
    assert job.schedule_slot  # queued by the scheduler, not by hand
    wait_for(lambda: IntegrationJob.objects.get(pk=job.pk).status == Status.SUCCESS, 10, worker_processes)
    statuses = dict(Order.objects.values_list("web_order_number", "status"))
    assert statuses == {sale["reference"]: sale["state"] for sale in created}
