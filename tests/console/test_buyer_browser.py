"""The one-screen buyer creation in a real browser: the customer field searches, the invitation arrives."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from countermand.customers.models import BuyerAccount
from tests.console.test_browser import CHROMIUM_ARGS
from tests.factories import CustomerFactory, UserFactory, WebsiteFactory

pytestmark = pytest.mark.browser


def test_a_buyer_is_created_on_one_screen_with_a_searched_customer_and_gets_the_invitation(
    live_server, transactional_db, monkeypatch, smtp_server
):
    UserFactory(username="admin", password="console-pass-1", is_staff=True, is_superuser=True)
    CustomerFactory(customer_number="C4242", name="Wayne Enterprises")
    CustomerFactory(customer_number="C5000", name="Stark Industries")
    WebsiteFactory(name="Demo Store")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "console-pass-1")
        page.click("input[type=submit]")
        page.goto(f"{live_server.url}/admin/customers/buyeraccount/add/")

        page.fill("#id_email", "bruce@example.com")
        page.locator("#id_customer + .select2 .select2-selection").click()
        page.locator(".select2-search__field").fill("wayne")
        option = page.locator(".select2-results__option", has_text="C4242 Wayne Enterprises")
        expect(option).to_have_count(1)
        option.click()
        page.locator("#id_websites_from option", has_text="Demo Store").dblclick()
        expect(page.locator("#id_send_invitation")).to_be_checked()
        page.locator("input[name=_save]").click()
        expect(page.locator(".messagelist")).to_contain_text("An invitation is on its way to bruce@example.com")
        browser.close()

    account = BuyerAccount.objects.select_related("customer").get(user__username="bruce@example.com")
    assert account.customer.customer_number == "C4242"
    assert [w.name for w in account.websites.all()] == ["Demo Store"]
    message = smtp_server.wait_for_message(to="bruce@example.com")
    assert f"{live_server.url}/account/invitation/" in message.get_body().get_content()
