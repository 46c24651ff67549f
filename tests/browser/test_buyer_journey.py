"""A buyer on a phone, in a real browser against a live server and a real worker.

Signs in, filters the orders, opens a cancellable order, cancels it with a reason in the confirmation
dialog (keyboard only), and watches the page reach Confirmed — without reloading — once `countermand
worker --burst` has delivered the cancellation to the Sandbox ERP. Then: why a shipped order cannot be
cancelled, no Cancel button where the website does not offer cancellation, and a not-found page for
another customer's order. Along the way: labels, focus, contrast and a 390 px wide layout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from countermand.cancellations.models import CancellationRequest
from countermand.orders.models import Order
from tests.api.world import world_build
from tests.integration.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The Trade Counter website's domain, served by the same live server.
    "--host-resolver-rules=MAP counter.localhost 127.0.0.1",
]

# Text whose contrast with its background is below WCAG AA (4.5:1), as [text, ratio] pairs.
LOW_CONTRAST_JS = """() => {
  const rgb = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ({r, g, b}) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim(); const el = walker.currentNode.parentElement;
    if (!text || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push([text.slice(0, 40), Math.round(ratio * 100) / 100]);
  }
  return low;
}"""

# Visible form controls without a label.
UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && el.getClientRects().length)
  .filter((el) => !el.labels.length && !el.getAttribute('aria-label'))
  .map((el) => el.name)"""


def check_accessible_on_a_phone(page: Page) -> None:
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.evaluate(LOW_CONTRAST_JS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"


def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    """Reach `selector` with the Tab key only; its focus must be visible."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("none", ""), f"{selector} has no visible focus"
            return
    pytest.fail(f"{selector} cannot be reached with the keyboard")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/orders/")
    expect(page).to_have_url(re.compile(r"/account/login/"))
    page.get_by_label("E-mail address or user name").fill("buyer@example.com")
    page.get_by_label("Password").fill("demo-buyer")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()


def deliver_to_the_erp() -> str:
    """`countermand worker --burst` on the test database: runs the OrderCancel job against the Sandbox ERP."""
    done = subprocess.run(
        [sys.executable, "-m", "countermand", "worker", "--burst", "--worker-id", "browser-test"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "COUNTERMAND_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def phone(live_server, transactional_db, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "counter.localhost"]
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        yield context
        browser.close()


@pytest.mark.browser
def test_a_buyer_cancels_an_order_on_a_phone_and_watches_the_erp_confirm_it(phone, live_server, tmp_path):
    world = world_build(sandbox_url=f"{live_server.url}/sandbox-erp")
    Order.objects.filter(web_order_number="WEB-1006").update(website=world.counter)
    page = phone.new_page()
    base = live_server.url  # http://localhost:<port>: the Demo Store's domain

    # Sign in and filter My orders.
    sign_in(page, base)
    check_accessible_on_a_phone(page)
    page.get_by_text("Filter orders").click()  # folded on a phone, so the orders come first
    page.get_by_label("Status").select_option(label="Submitted")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status").filter(has_text="matching your filters")).to_be_visible()
    expect(page.get_by_role("link", name="WEB-1001")).to_be_visible()
    expect(page.get_by_role("link", name="WEB-1004")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "orders.png"), full_page=True)

    # Open a cancellable order; open the confirmation dialog from the keyboard, then close it with Escape.
    page.get_by_role("link", name="WEB-1001").click()
    expect(page.get_by_role("heading", name="Order WEB-1001")).to_be_visible()
    check_accessible_on_a_phone(page)
    tab_to(page, "#cancel-open")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cancel order WEB-1001?")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "id_reason"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "cancel-open"

    # Cancel with a reason.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    check_accessible_on_a_phone(page)
    dialog.get_by_label("Why do you want to cancel this order?").select_option("Ordered by mistake")
    dialog.get_by_label("Anything else we should know? (optional)").fill("Ordered twice by two colleagues.")
    page.screenshot(path=str(tmp_path / "dialog.png"))
    dialog.get_by_role("button", name="Cancel order", exact=True).click()
    progress = page.locator("#cancellation-panel")
    expect(progress).to_have_attribute("aria-live", "polite")
    expect(progress).to_contain_text("Cancellation requested")
    expect(page.locator("[data-order-status]")).to_have_text("Cancellation Requested")
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1001")
    assert (request.reason_code, request.channel) == ("Ordered by mistake", "storefront")

    # The worker delivers it to the ERP; the page follows without a reload.
    page.evaluate("window.notReloaded = true")
    deliver_to_the_erp()
    expect(progress).to_contain_text("Cancellation confirmed", timeout=20_000)
    expect(page.locator("[data-order-status]")).to_have_text("Cancelled")
    assert page.evaluate("window.notReloaded") is True
    request.refresh_from_db()
    assert request.state == "Confirmed"
    check_accessible_on_a_phone(page)
    page.screenshot(path=str(tmp_path / "confirmed.png"), full_page=True)

    # A shipped order says why it cannot be cancelled.
    page.goto(f"{base}/orders/WEB-1004/")
    expect(page.locator("#cancel-open")).to_have_count(0)
    expect(progress).to_contain_text("This order cannot be cancelled")
    expect(progress).to_contain_text("“Shipped” can no longer be cancelled")
    check_accessible_on_a_phone(page)

    # Another customer's order number: not found.
    response = page.goto(f"{base}/orders/WEB-2001/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Order not found")).to_be_visible()

    # The Trade Counter website does not offer cancellation: no Cancel button.
    counter = base.replace("localhost", "counter.localhost")
    sign_in(page, counter)
    expect(page.locator(".site-name")).to_have_text("Trade Counter")
    page.get_by_role("link", name="WEB-1006").click()
    expect(page.get_by_role("heading", name="Order WEB-1006")).to_be_visible()
    expect(page.locator("#cancel-open")).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)
    expect(progress).to_contain_text("Orders cannot be cancelled on Trade Counter")
