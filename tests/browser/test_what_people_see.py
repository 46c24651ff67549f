"""What a person sees, in a real browser: no Django defaults showing in the console (item 7 of issue 12),
and on a 390 px phone the orders come first — storefront and console alike (item 8)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.orders.actors import actor_for_user
from tests.conftest import configure_cancellation
from tests.factories import (
    BuyerAccountFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    UserFactory,
    WebsiteFactory,
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(live_server, transactional_db, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def store():
    """Two websites (so the buyer gets the website switcher), a buyer with a dozen orders, an admin."""
    main = WebsiteFactory(name="Main Store", domain="shop.example.com")
    counter = WebsiteFactory(name="Trade Counter", domain="counter.example.com")
    configure_cancellation(main)
    account = BuyerAccountFactory(
        user=UserFactory(username="buyer@example.com", email="buyer@example.com", password="buyer-pass-1"),
        customer=CustomerFactory(customer_number="C1000", name="Acme Building Supplies"),
        websites=[main, counter],
    )
    orders = [
        OrderFactory(
            web_order_number=f"WEB-2026-{1000 + i}",
            erp_order_number=f"SO-2026-{5000 + i}",
            website=main,
            customer=account.customer,
            customer_po=f"PO-{i}",
            status="Submitted" if i % 2 else "Shipped",
        )
        for i in range(12)
    ]
    OrderLineFactory(order=orders[1], quantity_ordered=Decimal("20.000"), unit_price=Decimal("3.2000"))
    UserFactory(username="admin", password="console-pass-1", is_staff=True, is_superuser=True)
    return {"main": main, "account": account, "orders": orders}


def sign_in_to_the_console(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "console-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def right_edge(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"]


@pytest.mark.browser
def test_the_consoles_order_page_shows_no_django_defaults(browser, live_server, store):
    order = store["orders"][1]
    admin = UserFactory(username="admin")
    order_cancel_request(
        order=order, actor=actor_for_user(admin), channel=CancellationRequest.Channel.API, reason_code="Other"
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in_to_the_console(page, live_server.url)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    main = page.locator("#content-main")
    expect(main).to_contain_text("ERP order number")
    expect(main).to_contain_text("Customer PO")
    for default in ("Erp order number", "Customer po", "20.000", "3.2000", "Api"):
        assert default not in main.inner_text(), default
    lines = page.locator("#lines-group")
    expect(lines.locator("td.field-ordered")).to_have_text("20")
    expect(lines.locator("td.field-price")).to_have_text("3.20")
    expect(page.locator("#cancellation_requests-group td.field-channel")).to_have_text("API")
    # One Cancel Order button, in one style.
    expect(page.get_by_role("link", name=re.compile(r"^Cancel Order"))).to_have_count(1)
    # Dates in one format, with the time zone.
    created = page.locator("#cancellation_requests-group td.field-created_at").inner_text()
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC", created.strip()), created

    # An order without requests or events says so instead of drawing empty tables.
    other = store["orders"][3]
    page.goto(f"{live_server.url}/admin/orders/order/{other.pk}/change/")
    expect(page.locator("#cancellation_requests-group")).to_contain_text("None yet.")
    expect(page.locator("#cancellation_requests-group table")).to_have_count(0)
    # Order numbers do not wrap in the Orders list.
    page.goto(f"{live_server.url}/admin/orders/order/")
    number = page.locator("#result_list th.field-web_number").first
    expect(number).to_have_css("white-space", "nowrap")
    box = number.bounding_box()
    assert box is not None
    assert box["height"] < 45, box  # one line


@pytest.mark.browser
def test_on_a_phone_the_storefront_shows_orders_on_the_first_screen(browser, live_server, store):
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("E-mail address or user name").fill("buyer@example.com")
    page.get_by_label("Password").fill("buyer-pass-1")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    expect(page.locator("#website-switch")).to_be_attached()  # the switcher is there…
    first = page.locator("table.orders tbody tr").first.bounding_box()
    assert first is not None
    assert first["y"] + 60 < PHONE["height"], f"the first order starts at {first['y']} px"  # …and orders come first
    # The filters are one tap away, and open by themselves when filtering.
    filters = page.locator("details.filters-toggle")
    expect(filters).not_to_have_attribute("open", "")
    page.get_by_text("Filter orders").click()
    page.get_by_label("Status").select_option(label="Submitted")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("details.filters-toggle")).to_have_attribute("open", "")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_on_a_phone_the_consoles_orders_list_shows_status_and_can_cancel(browser, live_server, store):
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in_to_the_console(page, live_server.url)
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("#result_list")).to_be_visible()
    assert right_edge(page, "#result_list th.column-status_column") <= PHONE["width"]
    assert right_edge(page, "#result_list th.column-can_cancel") <= PHONE["width"]
    assert right_edge(page, "#result_list td.field-can_cancel") <= PHONE["width"]


@pytest.mark.browser
def test_a_jobs_page_opens_on_its_log_and_draws_no_red_icon_for_cancel_requested_no(browser, live_server, store):
    order = store["orders"][1]
    order_cancel_request(
        order=order,
        actor=actor_for_user(UserFactory(username="admin")),
        channel=CancellationRequest.Channel.ADMIN,
        reason_code="Other",
    )
    job = CancellationRequest.objects.get(order=order).job
    assert job is not None
    job.logs.create(sequence=1, level="Info", message="POST http://erp.example.com/orders/cancel")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in_to_the_console(page, live_server.url)
    page.goto(f"{live_server.url}/admin/integration/integrationjob/{job.pk}/change/")
    log = page.locator("#job-log")
    expect(log).to_contain_text("POST http://erp.example.com/orders/cancel")
    log_box = log.bounding_box()
    status_box = page.locator(".field-status_column").bounding_box()
    assert log_box is not None
    assert status_box is not None
    assert log_box["y"] < status_box["y"]
    assert log_box["y"] < 800  # on the first screen
    page.get_by_text("More about this run").click()
    expect(page.locator(".field-cancel_requested_column .readonly")).to_have_text("No")
    expect(page.locator("img[src*='icon-no']")).to_have_count(0)
