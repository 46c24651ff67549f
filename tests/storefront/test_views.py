"""Storefront pages: signing in and out, My orders, the order page, cancelling, the progress feed."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import pytest
from django.test import Client

from countermand.accounts.services import MAX_FAILURES_PER_USERNAME_AND_ADDRESS
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_confirm, cancellation_deny
from countermand.orders.models import Order
from countermand.settings.services import setting_set
from countermand.websites.models import Website
from tests.factories import BuyerAccountFactory, CustomerFactory, WebsiteFactory


@pytest.fixture(autouse=True)
def storefront_hosts(settings) -> None:
    """The demo websites' domains (and one of no website) are hosts this server answers."""
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "counter.localhost", "elsewhere.example.com"]


@pytest.fixture
def buyer(world) -> Client:
    return world.browser("buyer_c1000")


class FormControls(HTMLParser):
    """Collects form controls and labels, to check that every visible control has a label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        if tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"] or "")


def unlabelled_controls(html: str) -> list[dict[str, str | None]]:
    parser = FormControls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("id") not in parser.label_for and not c.get("aria-label")]


# --- signing in and out


def test_sign_in_takes_the_buyer_to_my_orders(world):
    response = Client().post("/account/login/", {"username": "buyer@example.com", "password": "demo-buyer"})
    assert response.status_code == 302
    assert response["Location"] == "/orders/"


def test_sign_in_with_a_wrong_password_shows_an_error(world):
    response = Client().post("/account/login/", {"username": "buyer@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_sign_in_is_throttled_after_repeated_failures(world):
    client = Client()
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS):
        client.post("/account/login/", {"username": "buyer@example.com", "password": "nope"})
    response = client.post("/account/login/", {"username": "buyer@example.com", "password": "demo-buyer"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_failures_from_another_address_do_not_lock_the_buyer_out(world):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS):
        attacker.post("/account/login/", {"username": "buyer@example.com", "password": "nope"})
    buyer = Client(REMOTE_ADDR="10.0.0.5")
    response = buyer.post("/account/login/", {"username": "buyer@example.com", "password": "demo-buyer"})
    assert response.status_code == 302
    assert "_auth_user_id" in buyer.session


def test_sign_in_page_labels_its_fields(world):
    html = Client().get("/account/login/").content.decode()
    assert unlabelled_controls(html) == []
    assert 'autocomplete="current-password"' in html


def test_sign_out_ends_the_session(buyer):
    response = buyer.post("/account/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/"
    assert buyer.get("/orders/").status_code == 302


def test_pages_send_anonymous_visitors_to_sign_in(world):
    response = Client().get("/orders/WEB-1001/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/orders/WEB-1001/"


def test_staff_without_a_buyer_account_get_an_explanation(world):
    response = world.browser("order_admin").get("/orders/")
    assert response.status_code == 403
    assert "no buyer account" in response.content.decode()


# --- My orders


def test_my_orders_lists_the_customers_orders_on_this_website(buyer):
    html = buyer.get("/orders/").content.decode()
    assert "WEB-1001" in html
    assert "WEB-1008" in html
    assert "WEB-2001" not in html
    assert "Showing 1–9 of 9 orders" in html
    assert unlabelled_controls(html) == []


def test_my_orders_filters(buyer):
    html = buyer.get("/orders/", {"status": "Shipped"}).content.decode()
    assert "WEB-1004" in html
    assert "WEB-1001" not in html
    assert "matching your filters" in html
    html = buyer.get("/orders/", {"search": "po-1003"}).content.decode()
    assert "WEB-1003" in html
    assert "WEB-1004" not in html
    html = buyer.get("/orders/", {"from_date": "2000-01-01", "to_date": "2000-01-02"}).content.decode()
    assert "No orders match your filters" in html


def test_invalid_filters_are_reported_and_ignored(buyer):
    response = buyer.get("/orders/", {"from_date": "2026-05-02", "to_date": "2026-05-01"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters are not valid" in html
    assert 'aria-invalid="true"' in html
    assert "Showing 1–9 of 9" in html


def test_my_orders_pages_keep_the_filters(world, buyer):
    Order.objects.bulk_create(
        Order(
            web_order_number=f"BULK-{i:03d}",
            website=world.store,
            customer=Order.objects.get(web_order_number="WEB-1001").customer,
            order_date="2020-01-01",
            status="Shipped",
        )
        for i in range(45)
    )
    html = buyer.get("/orders/", {"status": "Shipped", "page": 2}).content.decode()
    assert "Showing 21–40 of 46 orders" in html
    assert 'href="?status=Shipped&amp;page=3"' in html
    assert 'aria-current="page"' in html
    last = buyer.get("/orders/", {"status": "Shipped", "page": 99}).content.decode()
    assert "Showing 41–46 of 46" in last


def test_display_settings_hide_the_erp_number_and_the_status(world, buyer):
    setting_set(name="ShowErpOrderNumber", value=False, website=world.store)
    setting_set(name="ShowOrderStatus", value=False, website=world.store)
    html = buyer.get("/orders/").content.decode()
    assert "ERP-5001" not in html
    assert ">ERP number</th>" not in html
    assert ">Status</th>" not in html
    assert '<span class="status">' not in html


# --- the order page


def test_order_page_of_a_cancellable_order_has_lines_and_the_cancel_dialog(buyer):
    html = buyer.get("/orders/WEB-1002/").content.decode()
    assert "Red widget" in html
    assert "Bolt M8" in html
    assert "data-order-status>Open<" in html
    assert 'id="cancel-open"' in html
    assert '<dialog id="cancel-dialog" aria-labelledby="cancel-dialog-title"' in html
    assert 'aria-live="polite"' in html
    assert unlabelled_controls(html) == []


def test_order_page_of_a_shipped_order_says_why_it_cannot_be_cancelled(buyer):
    html = buyer.get("/orders/WEB-1004/").content.decode()
    assert 'id="cancel-open"' not in html
    assert "This order cannot be cancelled" in html
    assert "can no longer be cancelled" in html
    assert 'data-blocker="MAPPING_DISALLOWS"' not in html  # the same cause, said once


def test_order_page_on_a_website_without_cancellation_has_no_cancel_button(world, buyer):
    Order.objects.filter(web_order_number="WEB-1002").update(website=world.counter)
    html = buyer.get("/orders/WEB-1002/", HTTP_HOST="counter.localhost").content.decode()
    assert 'id="cancel-open"' not in html
    assert "<dialog" not in html
    assert "Orders cannot be cancelled on Trade Counter" in html


@pytest.mark.parametrize("number", ["WEB-1001/A", "WEB 1001\x07", "W" * 50])
def test_orders_stored_with_numbers_that_are_no_longer_accepted_still_list_and_open(world, buyer, number):
    """Order numbers are checked on import, update and refresh; older rows may hold a `/` or a control
    character. My orders must not break for every buyer of the customer (NoReverseMatch was a 500)."""
    Order.objects.filter(web_order_number="WEB-1001").update(web_order_number=number)
    listing = buyer.get("/orders/")
    assert listing.status_code == 200
    link = re.search(rf'href="(/orders/[^"]*)">{re.escape(escape(number))}</a>', listing.content.decode())
    assert link is not None
    url = link.group(1)  # quoted; the client unquotes it as a server does
    page = buyer.get(url)
    assert page.status_code == 200
    assert escape(number) in page.content.decode()
    assert buyer.get(url + "cancel/").status_code == 200
    assert buyer.get(url + "progress/").status_code == 200


def test_another_customers_order_number_gives_a_not_found_page(world):
    response = world.browser("buyer_c2000").get("/orders/WEB-1001/")
    assert response.status_code == 404
    assert "Order not found" in response.content.decode()


# --- cancelling


def test_cancelling_from_the_dialog_requests_the_cancellation(buyer):
    response = buyer.post("/orders/WEB-1002/cancel/", {"reason": "No longer needed", "note": "Project stopped"})
    assert response.status_code == 302
    assert response["Location"] == "/orders/WEB-1002/"
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1002")
    assert (request.channel, request.reason_code, request.reason_text) == (
        "storefront",
        "No longer needed",
        "Project stopped",
    )
    html = buyer.get("/orders/WEB-1002/").content.decode()
    assert "has been requested" in html
    assert "Cancellation requested" in html
    assert 'data-waiting="true"' in html
    assert 'id="cancel-open"' not in html


def test_cancelling_without_a_reason_shows_the_form_again(buyer):
    response = buyer.post("/orders/WEB-1002/cancel/", {"reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_cancelling_an_order_that_cannot_be_cancelled_says_why(buyer):
    response = buyer.post("/orders/WEB-1004/cancel/", {"reason": "Other"}, follow=True)
    assert "can no longer be cancelled" in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_the_confirmation_page_works_without_javascript(buyer):
    html = buyer.get("/orders/WEB-1002/cancel/").content.decode()
    assert "Cancel order WEB-1002?" in html
    assert unlabelled_controls(html) == []
    assert buyer.get("/orders/WEB-1004/cancel/")["Location"] == "/orders/WEB-1004/"


# --- progress


def test_progress_feed_follows_the_cancellation_to_confirmed(buyer):
    buyer.post("/orders/WEB-1002/cancel/", {"reason": "Other"})
    waiting = buyer.get("/orders/WEB-1002/progress/").json()
    assert waiting["state"] == "Requested"
    assert waiting["waiting"] is True
    assert "Cancellation requested" in waiting["html"]
    cancellation_confirm(request_id=CancellationRequest.objects.get().pk)
    done = buyer.get("/orders/WEB-1002/progress/").json()
    assert done["state"] == "Confirmed"
    assert done["waiting"] is False
    assert done["statusDisplay"] == "Cancelled"
    assert "Cancellation confirmed" in done["html"]


def test_progress_feed_shows_the_erps_refusal(buyer):
    buyer.post("/orders/WEB-1002/cancel/", {"reason": "Other"})
    cancellation_deny(request_id=CancellationRequest.objects.get().pk, erp_message="Already picked")
    done = buyer.get("/orders/WEB-1002/progress/").json()
    assert done["state"] == "Denied"
    assert done["statusDisplay"] == "Open"
    assert "Cancellation denied" in done["html"]
    assert "Already picked" in done["html"]
    assert 'id="cancel-open"' in done["html"]  # the order may be cancelled again


def test_the_confirmed_step_shows_when_and_the_erps_reference(buyer):
    buyer.post("/orders/WEB-1002/cancel/", {"reason": "Other"})
    requested = buyer.get("/orders/WEB-1002/progress/").json()["html"]
    assert "data-erp-reference" not in requested
    cancellation_confirm(request_id=CancellationRequest.objects.get().pk, erp_reference="SO-4711")
    done = buyer.get("/orders/WEB-1002/progress/").json()["html"]
    answer = done[done.index('data-step="answer"') :]
    answer = answer[: answer.index("</li>")]
    assert "Confirmed" in answer
    assert re.search(r'<time datetime="[^"]+">\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC</time>', answer), answer
    assert "Order system reference: <strong>SO-4711</strong>" in done


def test_the_requested_flash_is_tagged_so_the_page_can_take_it_away_once_answered(buyer):
    html = buyer.post("/orders/WEB-1002/cancel/", {"reason": "Other"}, follow=True).content.decode()
    assert re.search(r'<p class="message message--success" data-message="cancellation">[^<]*has been requested', html)


def test_a_shipped_orders_page_offers_the_next_step(buyer):
    html = buyer.get("/orders/WEB-1004/").content.decode()
    step = html[html.index("data-next-step") :]
    assert "customer service" in step[:600]
    assert "WEB-1004" in step[:600]
    assert 'href="/orders/"' in step[:600]
    # An order that can be cancelled has no such hint.
    assert "data-next-step" not in buyer.get("/orders/WEB-1002/").content.decode()


def test_progress_feed_of_another_customers_order_is_404(world):
    assert world.browser("buyer_c2000").get("/orders/WEB-1002/progress/").status_code == 404


# --- which website


def test_the_website_is_the_one_whose_domain_is_the_host(world, buyer):
    Order.objects.filter(web_order_number="WEB-1002").update(website=world.counter)
    counter = buyer.get("/orders/", HTTP_HOST="counter.localhost").content.decode()
    assert "WEB-1002" in counter
    assert "WEB-1001" not in counter
    assert "Trade Counter" in counter
    store = buyer.get("/orders/", HTTP_HOST="localhost").content.decode()
    assert "WEB-1001" in store
    assert "WEB-1002" not in store


def test_a_website_the_buyer_has_no_account_on_is_refused(world, buyer):
    WebsiteFactory(name="Elsewhere", domain="elsewhere.example.com")
    response = buyer.get("/orders/", HTTP_HOST="elsewhere.example.com")
    assert response.status_code == 403
    assert "not set up for Elsewhere" in response.content.decode()


def test_without_a_domain_match_the_buyer_chooses_the_website(world, buyer):
    Order.objects.filter(web_order_number="WEB-1002").update(website=world.counter)
    html = buyer.get("/orders/").content.decode()
    assert 'id="website-switch"' in html
    assert "WEB-1002" not in html
    html = buyer.get("/orders/", {"website": world.counter.pk}).content.decode()
    assert "WEB-1002" in html
    assert "WEB-1001" not in html
    html = buyer.get("/orders/").content.decode()  # the choice is remembered
    assert "WEB-1002" in html


def test_a_buyer_of_one_website_sees_no_website_switch(db):
    website = WebsiteFactory(name="Only Store", domain="only.example.com")
    account = BuyerAccountFactory(customer=CustomerFactory(), websites=[website])
    client = Client()
    client.force_login(account.user)
    html = client.get("/orders/").content.decode()
    assert "website-switch" not in html
    assert "Only Store" in html
    Website.objects.filter(pk=website.pk).update(is_active=False)
    assert client.get("/orders/").status_code == 403
