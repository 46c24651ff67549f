"""Cancel Order with lines in the Admin Console, and the order page's cancelled quantities (issue 10)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_confirm
from countermand.integration.models import IntegrationJob, JobDefinition, JobDefinitionParameter
from countermand.orders.models import OrderLine
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shop):
    # The website does not offer partial cancellation to buyers; administrators may cancel lines anyway.
    JobDefinitionParameter.objects.create(job_definition=JobDefinition.objects.get(), name="CancelLines", sequence=2)
    order = OrderFactory(website=shop.website, customer=shop.customer, web_order_number="W-7", subtotal=50, total=50)
    OrderLineFactory(order=order, line_number=1, product_number="WID-1", quantity_ordered=3, line_total=30)
    OrderLineFactory(order=order, line_number=2, product_number="BOLT-2", quantity_ordered=2, line_total=20)
    return order


def test_cancel_order_offers_a_quantity_per_line(order_client, order):
    html = order_client.get(reverse("admin:orders_order_cancel", args=[order.pk])).content.decode()
    assert 'name="line_1"' in html
    assert 'name="line_2"' in html
    assert "BOLT-2: 2 ordered, 0 shipped, 0 cancelled — 2 open." in html


def test_cancel_order_with_a_line_quantity_requests_a_partial_cancellation(order_client, order):
    response = order_client.post(
        reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "Customer called", "line_2": "1"}
    )
    assert response.status_code == 302
    request = CancellationRequest.objects.get(order=order)
    assert request.channel == "admin"
    assert [(line.line_number, line.quantity) for line in request.lines.all()] == [(2, Decimal(1))]


def test_cancel_order_over_what_is_open_says_why_and_saves_nothing(order_client, order):
    response = order_client.post(
        reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "Customer called", "line_1": "4"}
    )
    assert response.status_code == 200
    assert "Line 1: Only 3 of this line can still be cancelled, not 4." in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_the_order_page_shows_cancelled_quantities_and_each_requests_lines(order_client, order):
    order_client.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "Other", "line_1": "2"})
    request = CancellationRequest.objects.get(order=order)
    IntegrationJob.objects.update(status="Success")
    cancellation_confirm(request_id=request.pk)
    html = order_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert re.search(r"<th[^>]*>\s*Cancelled\s*</th>", html)  # the lines' column
    assert re.search(r"field-cancelled\"[^>]*>\s*(<p>)?\s*2\s*(</p>)?\s*</td>", html)
    assert "line 1: 2 (confirmed 2)" in html
    assert OrderLine.objects.get(order=order, line_number=1).quantity_cancelled == 2
    detail = order_client.get(reverse("admin:cancellations_cancellationrequest_change", args=[request.pk]))
    assert "line 1: 2 (confirmed 2)" in detail.content.decode()
