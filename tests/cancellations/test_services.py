import threading

import pytest
from django.core import mail
from django.db import connection, connections

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import (
    InvalidCancellationState,
    OrderNotCancellable,
    cancellation_confirm,
    cancellation_deny,
    cancellation_fail,
    cancellation_mark_sent,
    cancellation_resend,
    order_cancel_request,
)
from countermand.core.errors import Conflict, ValidationFailed
from countermand.integration.models import IntegrationJob, JobDefinition, JobDefinitionParameter
from countermand.integration.services import JobParameterError
from countermand.orders.models import Order, OrderEvent
from countermand.orders.policies import ADMIN, Actor
from countermand.orders.services import order_erp_status_apply, order_update
from countermand.settings.services import setting_set
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
State = CancellationRequest.State


def request(shop, order, **kwargs):
    kwargs.setdefault("reason_code", "Ordered by mistake")
    return order_cancel_request(order=order, actor=shop.actor, channel="storefront", **kwargs)


def test_request_creates_request_job_status_and_event_together(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, erp_order_number="E-77")
    cr = request(shop, order, note="wrong size")
    order.refresh_from_db()
    assert order.status == "CancellationRequested"
    assert cr.state == State.REQUESTED
    assert cr.previous_status == "Submitted"
    assert cr.reason_text == "wrong size"
    job = IntegrationJob.objects.get()
    assert job == cr.job
    assert job.status == "Queued"
    assert job.order == order
    assert job.definition.name == "OrderCancel"
    assert job.idempotency_key == cr.idempotency_key
    assert job.dedupe_key == f"OrderCancel:{order.pk}"
    assert {p.name: p.value for p in job.parameters.all()} == {"OrderNumber": "E-77"}
    event = OrderEvent.objects.get(order=order)
    assert (event.type, event.old_status, event.new_status, event.channel) == (
        "CancellationRequested",
        "Submitted",
        "CancellationRequested",
        "storefront",
    )


def test_order_number_parameter_is_the_web_number_when_the_erp_number_is_unknown(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, erp_order_number=None, web_order_number="W-1")
    request(shop, order)
    assert IntegrationJob.objects.get().parameters.get().value == "W-1"


def test_blocked_request_raises_with_blockers_and_changes_nothing(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Shipped")
    with pytest.raises(OrderNotCancellable) as excinfo:
        request(shop, order)
    assert [b.code for b in excinfo.value.blockers] == ["STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"]
    assert excinfo.value.code == "ORDER_NOT_CANCELLABLE"
    assert excinfo.value.message == "Orders with the status “Shipped” can no longer be cancelled."
    assert not CancellationRequest.objects.exists()
    assert not IntegrationJob.objects.exists()
    assert not OrderEvent.objects.exists()


def test_second_request_is_already_requested(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    request(shop, order)
    with pytest.raises(OrderNotCancellable) as excinfo:
        request(shop, order)
    assert [b.code for b in excinfo.value.blockers] == ["ALREADY_REQUESTED"]


def test_reason_is_required_and_must_be_offered_to_buyers(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    with pytest.raises(ValidationFailed, match="Choose a reason"):
        request(shop, order, reason_code="  ")
    with pytest.raises(ValidationFailed, match="not one of the offered reasons"):
        request(shop, order, reason_code="Because")
    assert Order.objects.get(pk=order.pk).status == "Submitted"


def test_failure_while_inserting_the_job_rolls_the_whole_cancellation_back(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    # An open job already holds the order's dedupe key: the job insert hits the unique index.
    IntegrationJob.objects.create(
        definition=JobDefinition.objects.get(name="OrderCancel"),
        schedule_at=order.created_at,
        dedupe_key=f"OrderCancel:{order.pk}",
    )
    with pytest.raises(Conflict):
        request(shop, order)
    order.refresh_from_db()
    assert order.status == "Submitted"
    assert not CancellationRequest.objects.exists()
    assert not OrderEvent.objects.exists()
    assert IntegrationJob.objects.count() == 1


def test_bad_job_parameter_refuses_the_cancellation_and_queues_nothing(shop):
    definition = JobDefinition.objects.get(name="OrderCancel")
    JobDefinitionParameter.objects.create(job_definition=definition, name="Warehouse", is_required=True)
    order = OrderFactory(website=shop.website, customer=shop.customer)
    with pytest.raises(JobParameterError, match="needs a value for Warehouse"):
        request(shop, order)
    assert Order.objects.get(pk=order.pk).status == "Submitted"
    assert not CancellationRequest.objects.exists()
    assert not IntegrationJob.objects.exists()


def test_local_only_without_active_job_cancels_here_and_flags_it(shop):
    JobDefinition.objects.update(is_active=False)
    order = OrderFactory(website=shop.website, customer=shop.customer)
    cr = request(shop, order)
    order.refresh_from_db()
    assert cr.state == State.LOCAL_ONLY
    assert cr.needs_attention
    assert order.status == "Cancelled"
    assert not IntegrationJob.objects.exists()
    event = OrderEvent.objects.get(order=order)
    assert event.type == "CancelledLocally"
    assert "NOT sent to the ERP" in event.message


def test_refuse_without_active_job_blocks_with_no_erp_job(shop):
    JobDefinition.objects.all().delete()
    setting_set(name="CancellationWithoutErpJob", value="Refuse")
    order = OrderFactory(website=shop.website, customer=shop.customer)
    with pytest.raises(OrderNotCancellable) as excinfo:
        request(shop, order)
    assert [b.code for b in excinfo.value.blockers] == ["NO_ERP_JOB"]
    assert Order.objects.get(pk=order.pk).status == "Submitted"


def test_admin_force_cancel_needs_the_permission_and_a_note(shop, order_admin, force_admin):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Shipped")
    plain = Actor(kind=ADMIN, user_id=order_admin.pk, may_cancel=True, may_force=False)
    forcing = Actor(kind=ADMIN, user_id=force_admin.pk, may_cancel=True, may_force=True)
    with pytest.raises(OrderNotCancellable):
        order_cancel_request(order=order, actor=plain, channel="admin", reason_code="Other", note="x", force=True)
    with pytest.raises(ValidationFailed, match="needs a note"):
        order_cancel_request(order=order, actor=forcing, channel="admin", reason_code="Other", force=True)
    cr = order_cancel_request(
        order=order, actor=forcing, channel="admin", reason_code="Other", note="phoned in", force=True
    )
    assert cr.forced
    assert cr.previous_status == "Shipped"
    assert cr.channel == "admin"


def test_confirm_sets_cancelled_status_and_emails_the_buyer(shop, django_capture_on_commit_callbacks):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    cr = request(shop, order)
    cancellation_mark_sent(request_id=cr.pk)
    with django_capture_on_commit_callbacks(execute=True):
        cancellation_confirm(request_id=cr.pk, erp_reference="R-1")
    order.refresh_from_db()
    cr.refresh_from_db()
    assert (cr.state, order.status, cr.erp_reference) == (State.CONFIRMED, "Cancelled", "R-1")
    assert cr.resolved_at is not None
    assert len(mail.outbox) == 1
    assert "is cancelled" in mail.outbox[0].subject
    assert mail.outbox[0].to == [shop.buyer.email]


def test_confirm_takes_the_status_the_erp_reports(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    cr = request(shop, order)
    cancellation_confirm(request_id=cr.pk, erp_status="X-CANCELLED")
    assert Order.objects.get(pk=order.pk).status == "X-CANCELLED"


def test_confirm_twice_is_harmless(shop):
    cr = request(shop, OrderFactory(website=shop.website, customer=shop.customer))
    cancellation_confirm(request_id=cr.pk)
    cancellation_confirm(request_id=cr.pk)
    assert OrderEvent.objects.filter(type="CancellationConfirmed").count() == 1


def test_deny_restores_the_previous_status_and_keeps_the_erp_message(shop, django_capture_on_commit_callbacks):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    with django_capture_on_commit_callbacks(execute=True):
        cancellation_deny(request_id=cr.pk, erp_message="Already picked in the warehouse")
    order.refresh_from_db()
    cr.refresh_from_db()
    assert (cr.state, order.status, cr.erp_message) == (State.DENIED, "Submitted", "Already picked in the warehouse")
    assert "Already picked in the warehouse" in mail.outbox[0].body
    # A denied request is closed: once its job has finished, the buyer may ask again.
    IntegrationJob.objects.filter(pk=cr.job_id).update(status="Success")
    assert request(shop, order).state == State.REQUESTED


def test_erp_status_during_an_open_request_is_held_and_remembered_as_the_previous_status(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    order_erp_status_apply(order_id=order.pk, erp_status="Shipped", channel="refresh")
    order.refresh_from_db()
    cr.refresh_from_db()
    assert (order.status, cr.previous_status) == ("CancellationRequested", "Shipped")
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.type, event.old_status, event.new_status, event.channel) == (
        "Updated",
        "CancellationRequested",
        "CancellationRequested",
        "refresh",
    )
    assert event.data == {"erp_status": "Shipped", "held_by": f"cancellation request {cr.pk} is open"}
    assert "The ERP reports Shipped" in event.message
    # The same word again is no news: no second event.
    order_erp_status_apply(order_id=order.pk, erp_status="Shipped", channel="refresh")
    assert OrderEvent.objects.filter(order=order, type="Updated").count() == 1


def test_erp_reports_shipped_during_an_open_request_then_denies_and_the_order_ends_shipped(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    order_update(order_id=order.pk, values={"status": "Shipped"}, channel="api")
    assert Order.objects.get(pk=order.pk).status == "CancellationRequested"
    cancellation_deny(request_id=cr.pk, erp_message="Already shipped")
    order.refresh_from_db()
    assert order.status == "Shipped"
    denied = OrderEvent.objects.get(order=order, type="CancellationDenied")
    assert (denied.old_status, denied.new_status) == ("CancellationRequested", "Shipped")


def test_order_update_during_an_open_request_applies_other_fields_and_holds_the_status(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    order_update(order_id=order.pk, values={"status": "Shipped", "customer_po": "PO-7"}, channel="api")
    order.refresh_from_db()
    cr.refresh_from_db()
    assert (order.status, order.customer_po, cr.previous_status) == ("CancellationRequested", "PO-7", "Shipped")
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.type, event.data["fields"], event.data["erp_status"]) == ("Updated", ["customer_po"], "Shipped")


def test_erp_status_after_the_request_is_resolved_is_applied(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    cancellation_deny(request_id=cr.pk, erp_message="no")
    order_erp_status_apply(order_id=order.pk, erp_status="Shipped", channel="refresh")
    cr.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == "Shipped"
    assert cr.previous_status == "Submitted"


def test_confirm_records_one_confirmed_event_with_old_and_new_status(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    cr = request(shop, order)
    cancellation_confirm(request_id=cr.pk, erp_status="X-CANCELLED", erp_reference="R-9", erp_message="done")
    events = [(e.type, e.old_status, e.new_status) for e in OrderEvent.objects.filter(order=order)]
    assert events == [
        ("CancellationRequested", "Submitted", "CancellationRequested"),
        ("CancellationConfirmed", "CancellationRequested", "X-CANCELLED"),
    ]
    confirmed = OrderEvent.objects.get(order=order, type="CancellationConfirmed")
    assert (confirmed.message, confirmed.data) == ("done", {"request_id": cr.pk, "erp_reference": "R-9"})


def test_denied_request_cannot_then_be_confirmed(shop):
    cr = request(shop, OrderFactory(website=shop.website, customer=shop.customer))
    cancellation_deny(request_id=cr.pk, erp_message="no")
    with pytest.raises(InvalidCancellationState):
        cancellation_confirm(request_id=cr.pk)


def test_failed_request_stays_open_and_resend_uses_the_same_idempotency_key(shop, order_admin):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    cr = request(shop, order)
    first_job = cr.job
    IntegrationJob.objects.filter(pk=first_job.pk).update(status="Failure")
    cancellation_fail(request_id=cr.pk, error="ERP unreachable after 4 attempts")
    cr.refresh_from_db()
    assert cr.state == State.FAILED
    assert cr.needs_attention
    assert Order.objects.get(pk=order.pk).status == "CancellationRequested"
    resent = cancellation_resend(request_id=cr.pk, actor=Actor(kind=ADMIN, user_id=order_admin.pk))
    assert resent.state == State.REQUESTED
    assert resent.job != first_job
    assert resent.job.idempotency_key == cr.idempotency_key == first_job.idempotency_key
    assert resent.send_count == 2


def test_local_only_request_is_resent_once_a_job_exists(shop, order_admin):
    JobDefinition.objects.update(is_active=False)
    order = OrderFactory(website=shop.website, customer=shop.customer)
    cr = request(shop, order)
    admin = Actor(kind=ADMIN, user_id=order_admin.pk)
    with pytest.raises(Conflict, match="no active OrderCancel job definition"):
        cancellation_resend(request_id=cr.pk, actor=admin)
    JobDefinition.objects.update(is_active=True)
    resent = cancellation_resend(request_id=cr.pk, actor=admin)
    assert resent.state == State.REQUESTED
    assert resent.job.idempotency_key == cr.idempotency_key
    assert Order.objects.get(pk=order.pk).status == "CancellationRequested"
    cancellation_confirm(request_id=cr.pk)
    assert Order.objects.get(pk=order.pk).status == "Cancelled"


def test_only_failed_or_local_only_requests_can_be_resent(shop, order_admin):
    cr = request(shop, OrderFactory(website=shop.website, customer=shop.customer))
    with pytest.raises(InvalidCancellationState):
        cancellation_resend(request_id=cr.pk, actor=Actor(kind=ADMIN, user_id=order_admin.pk))


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_requests_for_one_order_make_one_request_and_one_job(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait()
            request(shop, order)
            outcomes.append("ok")
        except OrderNotCancellable as exc:
            outcomes.append(exc.blockers[0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ALREADY_REQUESTED"] * 7 + ["ok"], outcomes
    assert CancellationRequest.objects.filter(order=order).count() == 1
    assert IntegrationJob.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order).count() == 1
    assert connection.vendor in {"sqlite", "postgresql"}
