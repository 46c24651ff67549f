"""The setup guide walked by a new administrator from an empty database, counting every click.

Only the navigation is used — the console's index, the checklist's *Fix it* links, the forms' buttons —
never a typed URL. The checklist sends each fix back to itself, the forms come pre-filled from what the
checklist and the plugins already know (the Sandbox ERP's address, the processor that fits a Sandbox
connection, the OrderNumber parameter the processor declares), so the guide takes at most 25 clicks
including a buyer cancelling an order on the storefront.

The customer, the buyer and the order arrive the way an ERP's data does (they are not part of the guide):
created here once the checklist is green, as the order import or the order history refresh would.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.setup_check import OK, setup_check
from countermand.integration.models import JobDefinition
from countermand.integration.testing import run_due_jobs
from countermand.websites.models import Website
from tests.factories import BuyerAccountFactory, CustomerFactory, OrderFactory, OrderLineFactory, UserFactory

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
MAX_CLICKS = 25


class Clicks:
    """Every click of the walk goes through here, so the test can count them."""

    def __init__(self) -> None:
        self.count = 0
        self.log: list[str] = []

    def __call__(self, target: Locator, what: str) -> None:
        self.count += 1
        self.log.append(what)
        target.click()
        # A click that opens a page: type only once its scripts ran (the admin's add form moves the focus to
        # its first field on load, and text typed meanwhile would land there).
        target.page.wait_for_load_state("load")


@pytest.fixture
def browser_page(live_server, transactional_db, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def fix(page: Page, click: Clicks, key: str) -> None:
    """Follow a red step's *Fix it* link on the checklist."""
    step = page.locator(f"#setup-{key}")
    expect(step).to_have_attribute("data-state", "missing")
    click(step.get_by_role("link", name="Fix it"), f"Fix it: {key}")


def back_on_the_checklist(page: Page, done: str) -> None:
    expect(page.locator("h1")).to_have_text("Cancellation setup")
    expect(page.locator(f"#setup-{done}")).to_have_attribute("data-state", "ok")


@pytest.mark.browser
def test_the_guide_from_an_empty_database_takes_at_most_25_clicks_to_a_buyer_cancelling(browser_page, live_server):
    page = browser_page
    click = Clicks()
    UserFactory(username="admin", password="console-pass-1", is_staff=True, is_superuser=True)

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "console-pass-1")
    click(page.locator("input[type=submit]"), "Sign in")
    click(page.locator("#setup-summary").get_by_role("link", name="Cancellation setup"), "Cancellation setup")
    expect(page.locator(".setup-item.setup-missing").first).to_be_visible()

    # 1. Application setting OrderCancelStatuses = Submitted.
    fix(page, click, "application-setting")
    page.locator('#setting-form input[name="value"]').first.fill("Submitted")
    click(page.get_by_role("button", name="Save"), "Save OrderCancelStatuses")
    back_on_the_checklist(page, "application-setting")

    # 2. A website, then its AllowCancellationRequest = True (the link opens that very setting).
    expect(page.locator("#setup-website-setting")).to_contain_text("There is no active website")
    fix(page, click, "website-setting")
    page.fill("#id_name", "Main Store")
    page.fill("#id_domain", "shop.example.com")
    expect(page.locator("#id_name")).to_have_value("Main Store")
    click(page.locator("input[name=_save]"), "Save website")
    fix(page, click, "website-setting")
    expect(page.locator("h1")).to_contain_text("AllowCancellationRequest — Main Store")
    page.select_option("#id_value", "True")
    click(page.get_by_role("button", name="Save"), "Save AllowCancellationRequest")
    back_on_the_checklist(page, "website-setting")

    # 3. The mapping: the form opens with the listed status filled in and Allow Cancellation ticked.
    fix(page, click, "status-mapping")
    expect(page.locator("#id_erp_order_status")).to_have_value("Submitted")
    expect(page.locator("#id_allow_cancellation")).to_be_checked()
    click(page.locator("input[name=_save]"), "Save mapping")
    back_on_the_checklist(page, "status-mapping")

    # 4. Cancellable Order Statuses, at the scope of the website where cancellation is on.
    fix(page, click, "cancellable-statuses")
    expect(page.locator("#settings-website")).to_have_value(str(Website.objects.get(name="Main Store").pk))
    row = page.locator("#setting-CancellableOrderStatuses")
    expect(row.locator("datalist option")).to_have_count(1)  # Submitted: the one status a mapping allows
    row.locator("input[type=text]").last.fill("Submitted")
    click(page.get_by_role("button", name="Save"), "Save Cancellable Order Statuses")
    back_on_the_checklist(page, "cancellable-statuses")

    # 5. The ERP connection: the Sandbox ERP's address is filled in; tested before it is saved.
    fix(page, click, "connection")
    expect(page.locator("#id_type_name")).to_have_value("Sandbox")
    expect(page.locator("#id_url")).to_have_value(f"{live_server.url}/sandbox-erp")
    expect(page.locator("#id_name")).to_have_value("ERP Connection")
    expect(page.locator(".pairs-with[data-pairs-with=Sandbox]")).to_contain_text("WebServiceOrderCancel")
    click(page.get_by_role("button", name="Test connection"), "Test connection")
    expect(page.locator("#connection-test-result")).to_contain_text("OK")
    click(page.locator("input[name=_save]"), "Save connection")
    back_on_the_checklist(page, "connection")

    # 6. The OrderCancel job: name, type, connection, processor and its OrderNumber parameter are suggested.
    fix(page, click, "cancel-job")
    expect(page.locator("#id_name")).to_have_value("OrderCancel")
    expect(page.locator("#id_job_type")).to_have_value("Execution")
    expect(page.locator("#id_connection option:checked")).to_have_text("ERP Connection (Sandbox)")
    expect(page.locator("#id_integration_processor")).to_have_value("WebServiceOrderCancel")
    click(page.get_by_role("tab", name="Parameters"), "Parameters tab")
    expect(page.locator("#id_parameters-0-name")).to_have_value("OrderNumber")
    expect(page.locator("#id_parameters-0-value_type")).to_have_value("String")
    click(page.locator("input[name=_save]"), "Save job definition")

    # The checklist is green.
    expect(page.locator("h1")).to_have_text("Cancellation setup")
    expect(page.locator(".setup-item.setup-missing")).to_have_count(0)
    expect(page.locator(".setup-item.setup-warning")).to_have_count(0)
    expect(page.locator("#cancel-job-banner")).to_have_count(0)
    assert all(item.state == OK for item in setup_check())
    definition = JobDefinition.objects.get(name="OrderCancel")
    assert set(definition.parameters.values_list("name", "value_type")) == {
        ("OrderNumber", "String"),
        ("CancelLines", "String"),  # declared by WebServiceOrderCancel for partial cancellations
    }
    admin_clicks = click.count

    # The ERP's data arrives (not part of the guide): a customer, its buyer, an order on Main Store.
    website = Website.objects.get(name="Main Store")
    buyer = BuyerAccountFactory(
        user=UserFactory(username="buyer@example.com", email="buyer@example.com", password="buyer-pass-1"),
        customer=CustomerFactory(customer_number="C1000"),
        websites=[website],
    )
    order = OrderFactory(web_order_number="WEB-1001", website=website, customer=buyer.customer, status="Submitted")
    OrderLineFactory(order=order, quantity_ordered=Decimal(20), unit_price=Decimal("3.2000"))

    # The buyer, on the storefront's home page: signs in, opens the order from the recent orders, cancels.
    buyer_page = page.context.browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[union-attr]
    buyer_page.goto(f"{live_server.url}/")
    buyer_page.get_by_label("E-mail address or user name").fill("buyer@example.com")
    buyer_page.get_by_label("Password").fill("buyer-pass-1")
    click(buyer_page.get_by_role("button", name="Sign in"), "Buyer signs in")
    expect(buyer_page.get_by_role("heading", name="Your recent orders")).to_be_visible()
    click(buyer_page.get_by_role("link", name="WEB-1001"), "Open WEB-1001")
    click(buyer_page.get_by_role("button", name="Cancel this order…"), "Cancel this order…")
    dialog = buyer_page.get_by_role("dialog")
    dialog.get_by_label("Why do you want to cancel this order?").select_option(index=1)
    click(dialog.get_by_role("button", name="Cancel order", exact=True), "Cancel order")
    expect(buyer_page.locator("#cancellation-panel")).to_contain_text("Cancellation requested")
    flash = buyer_page.locator('[data-message~="cancellation"]')
    expect(flash).to_contain_text("has been requested")
    request = CancellationRequest.objects.get(order=order)
    assert (request.channel, request.job_id is not None) == ("storefront", True)  # on its way to the ERP

    # The OrderCancel job reaches the Sandbox ERP; the page follows without a reload: confirmed, when,
    # the order system's reference — and the "has been requested" flash is gone.
    run_due_jobs("guide-walk")
    request.refresh_from_db()
    assert request.state == CancellationRequest.State.CONFIRMED
    panel = buyer_page.locator("#cancellation-panel")
    expect(panel).to_contain_text("Cancellation confirmed", timeout=10_000)
    expect(panel.locator('[data-step="answer"] time')).to_have_text(re.compile(r"\d{2}:\d{2} UTC$"))
    expect(panel.locator("[data-erp-reference]")).to_contain_text(request.erp_reference)
    expect(flash).to_have_count(0)

    assert click.count <= MAX_CLICKS, click.log
    assert (admin_clicks, click.count) == (18, 22), click.log
