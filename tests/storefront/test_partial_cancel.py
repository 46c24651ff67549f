"""Partial cancellation on the storefront (issue 10): the dialog's lines, and what it posts."""

from decimal import Decimal

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.orders.models import OrderLine
from countermand.settings.services import setting_set


@pytest.fixture
def buyer(world):
    return world.browser("buyer_c1000")


def test_the_dialog_offers_the_whole_order_by_default_and_each_open_line(buyer):
    OrderLine.objects.filter(order__web_order_number="WEB-1009", line_number=3).update(quantity_shipped=6)
    html = buyer.get("/orders/WEB-1009/").content.decode()
    assert 'name="scope" value="order"' in html
    assert '<input type="radio" name="scope" value="order" id="id_scope_0" checked>' in html
    assert 'name="cancel_line_1"' in html
    assert 'name="cancel_line_2"' in html
    assert 'name="cancel_line_3"' not in html  # shipped in full
    assert "Up to 100." in html


def test_no_line_choice_where_the_website_does_not_offer_partial_cancellation(buyer, world):
    setting_set(name="AllowPartialCancellation", value=False, website=world.store)
    html = buyer.get("/orders/WEB-1009/").content.decode()
    assert 'id="cancel-open"' in html
    assert 'name="scope"' not in html
    assert "cancel_line_" not in html


def test_posting_some_lines_requests_a_partial_cancellation(buyer):
    response = buyer.post(
        "/orders/WEB-1009/cancel/",
        {"scope": "lines", "cancel_line_1": "", "cancel_line_2": "40", "cancel_line_3": "0", "reason": "Other"},
    )
    assert response.status_code == 302
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1009")
    assert [(line.line_number, line.quantity) for line in request.lines.all()] == [(2, Decimal(40))]
    html = buyer.get("/orders/WEB-1009/").content.decode()
    assert "Your cancellation of lines of order WEB-1009 has been requested." in html
    assert "Line 2: 40 to cancel" in html


def test_choosing_some_lines_without_any_quantity_shows_the_form_again(buyer):
    response = buyer.post("/orders/WEB-1009/cancel/", {"scope": "lines", "cancel_line_1": "0", "reason": "Other"})
    assert response.status_code == 400
    assert "Choose how many to cancel of at least one line." in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_a_quantity_above_what_is_open_is_refused_by_the_form(buyer):
    response = buyer.post("/orders/WEB-1009/cancel/", {"scope": "lines", "cancel_line_3": "7", "reason": "Other"})
    assert response.status_code == 400
    assert "less than or equal to 6" in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_the_whole_order_is_still_one_choice_away(buyer):
    response = buyer.post("/orders/WEB-1009/cancel/", {"scope": "order", "cancel_line_2": "40", "reason": "Other"})
    assert response.status_code == 302
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1009")
    assert not request.lines.exists()
    assert request.order.status == "CancellationRequested"
