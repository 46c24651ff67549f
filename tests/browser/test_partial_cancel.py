"""A buyer on a phone cancels one line of a demo order, by keyboard, in a real browser against a live server
and a real worker, and watches the Sandbox ERP confirm it (issue 10)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from countermand.cancellations.models import CancellationRequest
from countermand.orders.models import Order, OrderLine
from tests.api.world import world_build
from tests.browser.test_buyer_journey import (  # noqa: F401  (phone is a fixture)
    check_accessible_on_a_phone,
    deliver_to_the_erp,
    phone,
    sign_in,
    tab_to,
)


@pytest.mark.browser
def test_a_buyer_cancels_one_line_of_an_order_on_a_phone_and_watches_it_confirmed(phone, live_server, tmp_path):  # noqa: F811
    world_build(sandbox_url=f"{live_server.url}/sandbox-erp")
    page = phone.new_page()
    base = live_server.url
    sign_in(page, base)
    page.goto(f"{base}/orders/WEB-1009/")
    expect(page.get_by_role("heading", name="Order WEB-1009")).to_be_visible()

    # Open the dialog by keyboard: the whole order is chosen, the line inputs are hidden.
    tab_to(page, "#cancel-open")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cancel order WEB-1009?")
    expect(dialog).to_be_visible()
    whole = dialog.get_by_label("The whole order")
    expect(whole).to_be_checked()
    expect(dialog.get_by_label("Line 2, BOLT-8: how many to cancel?")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Cancel order", exact=True)).to_be_visible()

    # Choose "Some lines only" with the keyboard (arrow keys move between radio buttons), 40 of line 2.
    whole.focus()
    page.keyboard.press("ArrowDown")
    expect(dialog.get_by_label("Some lines only")).to_be_checked()
    quantity = dialog.get_by_label("Line 2, BOLT-8: how many to cancel?")
    expect(quantity).to_be_visible()
    tab_to(page, "#id_cancel_line_2")
    page.keyboard.press("Control+A")
    page.keyboard.type("40")
    # What will remain and the new total, before confirming: 178.40 - 40 x 0.15 = 172.40.
    expect(dialog.locator("[data-cancel-summary]")).to_have_text(
        "What will remain: line 2: 60 left. New total: 172.40 USD."
    )
    dialog.get_by_label("Why do you want to cancel this order?").select_option("Ordered by mistake")
    check_accessible_on_a_phone(page)
    page.screenshot(path=str(tmp_path / "partial-dialog.png"))
    tab_to(page, "dialog button[type=submit]")
    expect(page.locator("dialog button[type=submit]")).to_have_text("Cancel these lines")
    page.keyboard.press("Enter")

    progress = page.locator("#cancellation-panel")
    expect(progress).to_contain_text("Cancellation requested")
    expect(progress).to_contain_text("Line 2: 40 to cancel")
    expect(page.locator("[data-order-status]")).to_have_text("Submitted")  # the rest goes on
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1009")
    assert [(line.line_number, line.quantity) for line in request.lines.all()] == [(2, Decimal(40))]

    # The worker delivers it to the Sandbox ERP; the page follows without a reload.
    page.evaluate("window.notReloaded = true")
    deliver_to_the_erp()
    expect(progress).to_contain_text("Cancellation confirmed", timeout=20_000)
    expect(progress).to_contain_text("The lines you chose are cancelled; the rest of the order goes on.")
    expect(progress).to_contain_text("Line 2: 40 cancelled")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("[data-order-status]")).to_have_text("Submitted")
    check_accessible_on_a_phone(page)
    page.screenshot(path=str(tmp_path / "partial-confirmed.png"), full_page=True)

    line = OrderLine.objects.get(order__web_order_number="WEB-1009", line_number=2)
    assert (line.quantity_cancelled, line.line_total) == (Decimal(40), Decimal("9.00"))
    order = Order.objects.get(web_order_number="WEB-1009")
    assert (order.status, order.total) == ("Submitted", Decimal("172.40"))
    page.reload()
    expect(page.locator('[data-line-cancelled="2"]')).to_have_text("40")
