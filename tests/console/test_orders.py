"""Sales > Orders: read-only orders with lines, events, requests and blockers; Cancel Order and bulk cancel
go through order_cancel_request (channel admin / bulk)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.orders.models import Order, OrderEvent
from tests.console.conftest import NO_PASSWORD, client_for, staff_in
from tests.factories import OrderFactory, OrderLineFactory, StaffFactory, WebsiteFactory

pytestmark = pytest.mark.django_db
LIST = "admin:orders_order_changelist"
State = CancellationRequest.State


@pytest.fixture
def order(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted", web_order_number="W-1")
    OrderLineFactory(order=order, product_number="WID-9", description="Nine widgets")
    return order


@pytest.fixture
def shipped(shop):
    return OrderFactory(website=shop.website, customer=shop.customer, status="Shipped", web_order_number="W-2")


@pytest.fixture
def canceller_client(db):
    """Staff who may view and cancel orders but not force a cancellation."""
    user = StaffFactory(username="canceller", password=NO_PASSWORD)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    return client_for(user)


@pytest.fixture
def force_client(db):
    user = staff_in("Order admin", "forcer")
    user.user_permissions.add(Permission.objects.get(codename="force_cancel_order"))
    return client_for(user)


def cancel_url(order) -> str:
    return reverse("admin:orders_order_cancel", args=[order.pk])


def order_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def listed(response) -> set[str]:
    return {o.web_order_number for o in response.context["cl"].result_list}


# ---------------------------------------------------------------- list and detail


def test_list_filters_by_status_website_and_customer_and_searches_numbers(admin_client, order, shipped):
    elsewhere = OrderFactory(website=WebsiteFactory(name="Other"), status="Submitted", web_order_number="W-3")
    assert listed(admin_client.get(reverse(LIST), {"status": "Shipped"})) == {"W-2"}
    assert listed(admin_client.get(reverse(LIST), {"website__id__exact": elsewhere.website_id})) == {"W-3"}
    assert listed(admin_client.get(reverse(LIST), {"customer__id__exact": order.customer_id})) == {"W-1", "W-2"}
    assert listed(admin_client.get(reverse(LIST), {"q": order.erp_order_number})) == {"W-1"}


def test_list_says_which_orders_can_be_cancelled(admin_client, order, shipped):
    html = admin_client.get(reverse(LIST)).content.decode()
    assert 'class="can-cancel"' in html
    assert "Orders with the status “Shipped” can no longer be cancelled." in html


def test_list_of_a_page_of_orders_loads_blockers_in_a_constant_number_of_queries(
    admin_client, shop, django_assert_max_num_queries
):
    for _ in range(30):
        OrderFactory(website=shop.website, customer=shop.customer)
    admin_client.get(reverse(LIST))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(30):
        admin_client.get(reverse(LIST))


def test_detail_shows_lines_events_requests_and_blockers(admin_client, order, shipped):
    admin_client.post(cancel_url(order), {"reason": "Other", "note": "phoned in"})
    html = admin_client.get(order_url(order)).content.decode()
    assert "WID-9" in html
    assert "Nine widgets" in html
    assert "CancellationRequested" in html  # the event and the status
    assert "Cancellation Requests" in html
    assert "Requested" in html
    assert "A cancellation of this order has already been requested." in html
    shipped_html = admin_client.get(order_url(shipped)).content.decode()
    assert "can no longer be cancelled" in shipped_html


def test_orders_are_read_only_in_the_console(admin_client, order):
    assert admin_client.post(order_url(order), {"status": "Cancelled"}).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "Submitted"


# ---------------------------------------------------------------- Cancel Order


def test_cancel_order_requests_the_cancellation_and_queues_the_erp_job(order_client, order, order_admin_user):
    response = order_client.post(cancel_url(order), {"reason": "Ordered by mistake", "note": "phoned in"}, follow=True)
    request = CancellationRequest.objects.get(order=order)
    assert request.channel == "admin"
    assert request.state == State.REQUESTED
    assert request.requested_by == order_admin_user
    assert request.reason_text == "phoned in"
    order.refresh_from_db()
    assert order.status == "CancellationRequested"
    assert IntegrationJob.objects.filter(pk=request.job_id, definition__name="OrderCancel").exists()
    assert f"job #{request.job_id} tells the ERP" in response.content.decode()


def test_cancel_order_page_offers_the_websites_reasons(order_client, order):
    html = order_client.get(cancel_url(order)).content.decode()
    assert '<option value="Ordered by mistake">' in html


def test_force_is_offered_only_with_the_force_permission(canceller_client, force_client, order):
    assert 'name="force"' not in canceller_client.get(cancel_url(order)).content.decode()
    assert 'name="force"' in force_client.get(cancel_url(order)).content.decode()


def test_a_reason_is_required(order_client, order):
    response = order_client.post(cancel_url(order), {"reason": "", "note": ""})
    assert response.status_code == 200
    assert not CancellationRequest.objects.exists()


def test_an_order_that_cannot_be_cancelled_shows_why_and_stays(order_client, shipped):
    html = order_client.get(cancel_url(shipped)).content.decode()
    assert "can no longer be cancelled" in html
    response = order_client.post(cancel_url(shipped), {"reason": "Other"})
    assert response.status_code == 200
    assert "can no longer be cancelled" in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_force_needs_the_force_permission_and_a_note(force_client, canceller_client, shipped):
    canceller_client.post(cancel_url(shipped), {"reason": "Other", "force": "on", "note": "customer insists"})
    assert not CancellationRequest.objects.exists()  # no force permission: the box is ignored, the rules apply
    response = force_client.post(cancel_url(shipped), {"reason": "Other", "force": "on", "note": ""})
    assert response.status_code == 200
    assert "A forced cancellation needs a note saying why." in response.content.decode()
    response = force_client.post(cancel_url(shipped), {"reason": "Other", "force": "on", "note": "customer insists"})
    assert response.status_code == 302
    assert CancellationRequest.objects.get(order=shipped).forced


def test_without_an_order_cancel_job_the_cancellation_is_local_only_and_says_so_loudly(order_client, order):
    JobDefinition.objects.all().delete()
    response = order_client.post(cancel_url(order), {"reason": "Other"}, follow=True)
    assert CancellationRequest.objects.get(order=order).state == State.LOCAL_ONLY
    html = response.content.decode()
    assert "NOT sent to the ERP" in html
    assert 'id="cancel-job-banner"' in html


def test_read_only_and_integration_admins_cannot_cancel(reader_client, integration_client, order):
    for client in (reader_client, integration_client):
        assert client.get(cancel_url(order)).status_code == 403
        assert client.post(cancel_url(order), {"reason": "Other"}).status_code == 403
        assert "Cancel Order" not in client.get(order_url(order)).content.decode()
    assert not CancellationRequest.objects.exists()


def test_unknown_order_is_not_found(admin_client, db):
    assert admin_client.get(reverse("admin:orders_order_cancel", args=[999999])).status_code == 404


# ---------------------------------------------------------------- bulk cancel


def test_bulk_cancel_asks_for_a_reason_and_shows_what_will_fail(order_client, order, shipped):
    response = order_client.post(reverse(LIST), {"action": "bulk_cancel", "_selected_action": [order.pk, shipped.pk]})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="bulk-cancel-form"' in html
    assert "can no longer be cancelled" in html
    assert not CancellationRequest.objects.exists()


def test_bulk_cancel_cancels_what_it_can_and_says_why_not_for_the_rest(order_client, order, shipped):
    response = order_client.post(
        reverse(LIST),
        {"action": "bulk_cancel", "_selected_action": [order.pk, shipped.pk], "apply": "1", "reason": "Other"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 cancelled, 1 not cancelled." in html
    assert CancellationRequest.objects.get().channel == "bulk"
    failed_row = html[html.index('data-order="W-2"') :]
    assert "not cancelled" in failed_row[:600]
    assert "can no longer be cancelled" in failed_row[:1200]


def test_bulk_cancel_without_a_reason_asks_again(order_client, order):
    response = order_client.post(
        reverse(LIST), {"action": "bulk_cancel", "_selected_action": [order.pk], "apply": "1", "reason": ""}
    )
    assert response.status_code == 200
    assert 'id="bulk-cancel-form"' in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_bulk_cancel_without_a_job_reports_every_order_as_not_sent(order_client, order, shop):
    JobDefinition.objects.all().delete()
    second = OrderFactory(website=shop.website, customer=shop.customer, status="Submitted")
    html = order_client.post(
        reverse(LIST),
        {"action": "bulk_cancel", "_selected_action": [order.pk, second.pk], "apply": "1", "reason": "Other"},
    ).content.decode()
    assert "2 cancelled, 0 not cancelled. 2 of them NOT sent to the ERP." in html


def test_bulk_cancel_is_not_offered_to_read_only_admins(reader_client, order):
    response = reader_client.post(
        reverse(LIST), {"action": "bulk_cancel", "_selected_action": [order.pk], "apply": "1", "reason": "Other"}
    )
    assert not CancellationRequest.objects.exists()
    assert response.status_code in (200, 302)
    assert OrderEvent.objects.filter(order=order).count() == 0
    assert Order.objects.get(pk=order.pk).status == "Submitted"


def test_the_orders_list_repeats_no_counts_beside_its_filters(admin_client, order, shipped):
    html = admin_client.get(reverse(LIST)).content.decode()
    assert "Show counts" not in html
    assert "2 orders" in html
