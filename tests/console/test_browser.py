"""The setup guide walked in a real browser, from an empty database, through the Admin Console only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from countermand.cancellations.setup_check import OK, setup_check
from countermand.integration.models import JobDefinition, JobDefinitionParameter
from countermand.settings.selectors import setting_get
from countermand.websites.models import Website
from tests.factories import UserFactory

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def console_page(live_server, transactional_db, monkeypatch):
    """A Chromium page signed in to the Admin Console as a superuser (the only row in the database)."""
    UserFactory(username="admin", password="console-pass-1", is_staff=True, is_superuser=True)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM checks are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "console-pass-1")
        page.click("input[type=submit]")
        expect(page.locator("#site-name")).to_contain_text("Countermand Admin Console")
        yield page
        browser.close()


def nav(page: Page, name: str) -> None:
    """Follow the console's grouped navigation (the index or the sidebar) to a page named as in the guide."""
    page.locator("#nav-sidebar th[scope=row], #content-main th[scope=row]").get_by_role(
        "link", name=name, exact=True
    ).first.click()


def keep_screenshot(page: Page, path: Path) -> None:
    """Screenshot of the whole page; copied to $COUNTERMAND_SCREENSHOT_DIR when set, for people to look at."""
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("COUNTERMAND_SCREENSHOT_DIR"):
        shutil.copy(path, Path(os.environ["COUNTERMAND_SCREENSHOT_DIR"]) / path.name)


def expect_success(page: Page) -> None:
    expect(page.locator(".messagelist .success")).to_be_visible()


@pytest.mark.browser
def test_the_setup_guide_walked_in_the_console_turns_the_checklist_green(console_page, live_server, tmp_path):
    page = console_page
    banner = page.locator("#cancel-job-banner")

    # An empty database: the IMPORTANT warning is on the console's index, every step is red.
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("IMPORTANT")
    nav(page, "Cancellation setup")
    expect(page.locator("h1")).to_have_text("Cancellation setup")
    expect(page.locator(".setup-item.setup-missing").first).to_be_visible()
    keep_screenshot(page, tmp_path / "cancellation-setup-missing.png")

    # Update the application setting: Administration > System > Application Settings, Name filter, Value.
    nav(page, "Application Settings")
    page.fill("#name-filter", "OrderCancelStatuses")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#application-settings tbody tr")).to_have_count(1)
    page.locator('tr[data-setting="OrderCancelStatuses"]').get_by_role("link", name="Edit").click()
    page.locator('#setting-form input[name="value"]').first.fill("Submitted")
    page.get_by_role("button", name="Save").click()
    expect_success(page)

    # Update the website settings: Websites > (add the store) > Edit > Settings finger tab > Edit > True.
    nav(page, "Websites")
    page.get_by_role("link", name="Add New Website").click()
    page.fill("#id_name", "Main Store")
    page.fill("#id_domain", "shop.example.com")
    page.locator("input[name=_save]").click()
    expect_success(page)
    page.locator("#result_list").get_by_role("link", name="Main Store").click()  # Edit
    page.get_by_role("tab", name="Settings").click()
    expect(page.locator("#website-settings")).to_be_visible()
    page.fill("#website-settings-search", "AllowCancellationRequest")
    expect(page.locator('tr[data-setting="ShowOrderStatus"]')).to_be_hidden()
    page.get_by_role("link", name="Edit AllowCancellationRequest").click()
    page.select_option("#id_value", "True")
    page.get_by_role("button", name="Save").click()
    expect_success(page)
    allow_row = page.locator('tr[data-setting="AllowCancellationRequest"]')
    expect(allow_row).to_be_visible()  # back on the Settings tab
    expect(allow_row).to_contain_text("True")
    expect(allow_row).to_contain_text("this website")

    # Create and map the order statuses: Order Status Mapping, Allow Cancellation, Save.
    nav(page, "Order Status Mapping")
    page.get_by_role("link", name="Add New Order Status Mapping").click()
    page.fill("#id_erp_order_status", "Submitted")
    page.fill("#id_display_name", "Submitted")
    page.check("#id_allow_cancellation")
    page.locator("input[name=_save]").click()
    expect_success(page)

    # Identify the cancellable order statuses: Settings, search, the + button, Save.
    nav(page, "Settings")
    page.fill("#settings-search", "Cancellable Order Statuses")
    page.get_by_role("button", name="Search").click()
    row = page.locator("#setting-CancellableOrderStatuses")
    expect(row.locator("datalist option[value=Submitted]")).to_have_count(1)  # offered from the mapping screen
    row.get_by_role("button", name="Add a value").click()
    row.locator("input[type=text]").last.fill("Submitted")
    page.get_by_role("button", name="Save").click()
    expect_success(page)

    # The ERP connection, tested from the console.
    nav(page, "Connections")
    page.get_by_role("link", name="Add New Connection").click()
    page.fill("#id_name", "ERP Connection")
    page.select_option("#id_type_name", "Sandbox")
    page.fill("#id_url", f"{live_server.url}/sandbox-erp")
    page.locator("input[name=_save]").click()
    expect_success(page)
    page.locator("#result_list").get_by_role("link", name="ERP Connection").click()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".messagelist .success")).to_contain_text("OK")

    # Still no OrderCancel job: the IMPORTANT warning stays on the checklist, that step is red.
    nav(page, "Cancellation setup")
    expect(banner).to_be_visible()
    expect(page.locator("#setup-cancel-job")).to_have_attribute("data-state", "missing")

    # Create the cancel order integration job: Details finger tab, Save; Parameters finger tab, OrderNumber.
    nav(page, "Job Definitions")
    page.get_by_role("link", name="Add New Job Definition").click()
    expect(page.get_by_role("tab", name="Details")).to_have_attribute("aria-selected", "true")
    page.fill("#id_name", "OrderCancel")
    page.select_option("#id_job_type", "Execution")
    page.select_option("#id_connection", label="ERP Connection (Sandbox)")
    page.select_option("#id_preprocessor", "None")
    page.select_option("#id_integration_processor", "WebServiceOrderCancel")
    page.select_option("#id_post_processor", "None")
    page.locator("input[name=_save]").click()
    expect_success(page)
    page.get_by_role("tab", name="Parameters").click()
    expect(page.locator("#id_name")).to_be_hidden()  # the Details tab is put away
    page.get_by_role("button", name="Add another Job Definition Parameter").click()
    page.fill("#id_parameters-0-name", "OrderNumber")
    page.select_option("#id_parameters-0-value_type", "String")
    page.fill("#id_parameters-0-prompt", "Order Number")
    page.locator("input[name=_save]").click()
    expect_success(page)

    # Every step of the guide is done: the checklist is green and the warning is gone.
    nav(page, "Cancellation setup")
    expect(page.locator("#setup-score")).to_contain_text("steps done")
    expect(page.locator(".setup-item.setup-missing")).to_have_count(0)
    expect(page.locator(".setup-item.setup-warning")).to_have_count(0)
    expect(banner).to_have_count(0)
    keep_screenshot(page, tmp_path / "cancellation-setup.png")

    # What the console stored is what the guide asked for.
    website = Website.objects.get(name="Main Store")
    assert setting_get("OrderCancelStatuses") == ["Submitted"]
    assert setting_get("AllowCancellationRequest", website_id=website.pk) is True
    assert setting_get("CancellableOrderStatuses") == ["Submitted"]
    definition = JobDefinition.objects.get(name="OrderCancel")
    assert (definition.job_type, definition.integration_processor, definition.connection.name) == (
        "Execution",
        "WebServiceOrderCancel",
        "ERP Connection",
    )
    assert JobDefinitionParameter.objects.filter(job_definition=definition, name="OrderNumber", value_type="String")
    assert all(item.state == OK for item in setup_check())
