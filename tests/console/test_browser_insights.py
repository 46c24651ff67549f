"""In a real browser: the insights charts, the order import's preview, the Cancellable statuses, sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from countermand.cancellations.models import CancellationRequest
from countermand.orders.models import Order
from countermand.settings.services import setting_set
from tests.cancellations.test_insights import cancellation
from tests.factories import ConnectionFactory, CustomerFactory, MappingFactory, UserFactory, WebsiteFactory

State = CancellationRequest.State
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def console(live_server, transactional_db, monkeypatch):
    """A Chromium page signed in to the Admin Console as a superuser; `page.csp_errors` collects refusals."""
    UserFactory(username="chief", password="console-pass-1", is_staff=True, is_superuser=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM calls of the test, beside Playwright's loop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.csp_errors = errors  # type: ignore[attr-defined]
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "chief")
        page.fill("#id_password", "console-pass-1")
        page.click("input[type=submit]")
        expect(page.locator("#site-name")).to_contain_text("Countermand Admin Console")
        yield page
        browser.close()


def nav(page: Page, name: str) -> None:
    page.locator("#nav-sidebar th[scope=row], #content-main th[scope=row]").get_by_role(
        "link", name=name, exact=True
    ).first.click()


@pytest.mark.browser
def test_the_insights_charts_are_drawn_readable_and_downloadable(console, tmp_path):
    erp = ConnectionFactory(name="Sandbox ERP")
    today = timezone.localdate()
    for seconds in (2, 3, 4):
        cancellation(day=today, erp=erp, answered_after=seconds, reason="Ordered by mistake")
    cancellation(day=today, erp=erp, state=State.DENIED, answered_after=30, reason="Found it cheaper")
    cancellation(day=today, state=State.LOCAL_ONLY, reason="Ordered by mistake")
    page = console
    page.reload()

    nav(page, "Cancellation insights")

    expect(page.locator("h1")).to_have_text("Cancellation insights")
    for name in (
        "Cancellations per day by outcome",
        "Top reasons",
        "Denial rate",
        "Not sent to the ERP",
        "Time from request to the ERP's answer",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        assert chart.bounding_box()["width"] > 400, name
    per_day = page.get_by_role("img", name="Cancellations per day by outcome")
    expect(per_day.locator("rect.chart-fill-confirmed")).to_have_count(1)
    assert per_day.locator("rect.chart-fill-confirmed").bounding_box()["height"] > 20  # drawn, not a hairline
    expect(page.get_by_role("img", name="Top reasons").locator("text", has_text="Ordered by mistake")).to_be_visible()
    expect(page.locator("#figure-denial-rate")).to_have_text("25.0 %")
    expect(page.locator("#table-latency")).to_contain_text("Sandbox ERP")
    page.screenshot(path=str(tmp_path / "insights.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("#table-reasons").get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines == ["Reason,Cancellations,Denied by the ERP", "Ordered by mistake,4,0", "Found it cheaper,1,1"]
    assert page.csp_errors == []  # type: ignore[attr-defined]


@pytest.mark.browser
def test_the_import_preview_shows_each_rows_errors_and_a_clean_file_imports(console, tmp_path):
    store = WebsiteFactory(name="Store")
    CustomerFactory(customer_number="C1000")
    page = console
    nav(page, "Import orders")
    expect(page.locator("h1")).to_have_text("Import orders")

    def order(number: str, **extra: object) -> dict[str, object]:
        return {
            "webOrderNumber": number,
            "websiteId": store.pk,
            "customerNumber": "C1000",
            "orderDate": "2026-12-01",
            "status": "Submitted",
            **extra,
        }

    bad = tmp_path / "orders.json"
    bad.write_text(json.dumps([order("WEB-1"), order("WEB-2", customerNumber="C404")]))
    page.set_input_files("#id_file", str(bad))
    page.click("#import-preview-button")

    expect(page.locator("#import-errors")).to_be_visible()
    expect(page.locator("tr[data-order='WEB-2'] .import-errors")).to_contain_text("There is no customer C404.")
    expect(page.locator("tr[data-order='WEB-1']")).to_contain_text("OK")
    expect(page.locator("#import-submit")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "import-preview-errors.png"), full_page=True)

    good = tmp_path / "orders.csv"
    good.write_text(
        "webOrderNumber,websiteId,customerNumber,orderDate,status,lineNumber,productErpNumber,qtyOrdered\n"
        f"WEB-1,{store.pk},C1000,2026-12-01,Submitted,1,WID-100,2\n"
        f"WEB-2,{store.pk},C1000,2026-12-01,Open,1,BOLT-8,50\n"
    )
    page.set_input_files("#id_file", str(good))
    page.click("#import-preview-button")
    expect(page.locator("#import-ready")).to_be_visible()
    assert Order.objects.count() == 0
    page.click("#import-submit")

    expect(page.locator(".messagelist .success")).to_contain_text("Imported 2 order(s) from orders.csv.")
    expect(page.get_by_role("link", name="WEB-2", exact=True)).to_be_visible()
    assert set(Order.objects.values_list("web_order_number", flat=True)) == {"WEB-1", "WEB-2"}


@pytest.mark.browser
def test_the_cancellable_statuses_say_per_website_which_setting_decides_and_link_to_it(console, tmp_path):
    store, counter = WebsiteFactory(name="Demo Store"), WebsiteFactory(name="Trade Counter")
    setting_set(name="OrderCancelStatuses", value=["Submitted"])
    setting_set(name="AllowCancellationRequest", value=True, website=store)
    setting_set(name="CancellableOrderStatuses", value=["Submitted", "Open"], website=store)
    for status, allow in (("Submitted", True), ("Open", True), ("Shipped", False)):
        MappingFactory(erp_order_status=status, allow_cancellation=allow)
    page = console
    nav(page, "Settings")
    page.locator("#cancellable-statuses-link").get_by_role("link", name="Cancellable statuses").click()

    expect(page.locator("h1")).to_have_text("Cancellable statuses")
    open_on_store = page.locator("tr[data-status='Open'] td[data-website='Demo Store']")
    expect(open_on_store).to_contain_text("Buyers can cancel")
    expect(open_on_store).to_contain_text("Cancellable Order Statuses of Demo Store lists Open.")
    submitted_on_counter = page.locator("tr[data-status='Submitted'] td[data-website='Trade Counter']")
    expect(submitted_on_counter).to_contain_text("Buyers cannot cancel")
    expect(submitted_on_counter).to_contain_text("AllowCancellationRequest is off on Trade Counter")
    expect(page.locator("tr[data-status='Shipped'] td[data-website='Demo Store']")).to_contain_text(
        "The mapping of Shipped has Allow Cancellation off."
    )

    page.screenshot(path=str(tmp_path / "cancellable-statuses.png"), full_page=True)
    submitted_on_counter.get_by_role("link", name="Change AllowCancellationRequest on Trade Counter").click()
    expect(page.locator("h1")).to_contain_text("AllowCancellationRequest")
    assert f"/websites/website/{counter.pk}/settings/AllowCancellationRequest/" in page.url


@pytest.mark.browser
def test_load_sample_data_offered_on_an_empty_installations_index_leads_to_the_setup_checklist(console):
    page = console
    expect(page.locator("#sample-data")).to_contain_text("There is no order yet.")
    page.click("#load-sample-data")
    expect(page.locator("h1")).to_have_text("Cancellation setup")
    expect(page.locator(".messagelist .success")).to_contain_text("Loaded the sample data: 12 orders")
    nav(page, "Import orders")
    expect(page.locator("#load-sample-data")).to_have_count(0)
