"""The Content-Security-Policy holds in a real browser: the storefront, the Admin Console and the Swagger page
work (their scripts run, Swagger UI renders the operations) and report no CSP violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from countermand.websites.models import Website
from tests.api.world import world_build
from tests.factories import UserFactory

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every violation the page reports, kept where the test can read it (added before any page script runs).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${where}`);
});
"""


class Browser:
    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    def visit(self, path: str) -> None:
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy, path

    def violations(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations")
        in_console = [text for text in self.console if "Content Security Policy" in text]
        return reported + in_console


@pytest.fixture
def browser(live_server, transactional_db, monkeypatch):
    world_build(sandbox_url=f"{live_server.url}/sandbox-erp")
    UserFactory(username="csp-admin", password="console-pass-1", is_staff=True, is_superuser=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1300, "height": 900})
        context.set_default_timeout(15_000)
        context.add_init_script(RECORD_VIOLATIONS)
        yield Browser(context.new_page(), live_server.url)
        chromium.close()


@pytest.mark.browser
def test_the_swagger_page_renders_its_operations_under_the_policy(browser):
    browser.visit("/api/docs/")
    expect(browser.page.locator(".opblock").first).to_be_visible()
    expect(
        browser.page.locator(".opblock-summary-path", has_text="/api/v1/orders/{orderNumber}/cancel")
    ).to_be_visible()
    assert browser.violations() == []


@pytest.mark.browser
def test_the_storefront_works_under_the_policy(browser):
    page = browser.page
    browser.visit("/")
    browser.visit("/account/login/")
    page.get_by_label("E-mail address or user name").fill("buyer@example.com")
    page.get_by_label("Password").fill("demo-buyer")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    browser.visit("/orders/WEB-1001/")
    page.locator("#cancel-open").click()  # the storefront's script opens the dialog
    expect(page.get_by_role("dialog", name="Cancel order WEB-1001?")).to_be_visible()
    assert browser.violations() == []


@pytest.mark.browser
def test_the_console_works_under_the_policy(browser):
    page = browser.page
    browser.visit("/admin/login/")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", "console-pass-1")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("Countermand Admin Console")
    for path in ("/admin/", "/admin/setup/", "/admin/system/settings/", "/admin/orders/order/"):
        browser.visit(path)
    # The console's script: the website page's finger tabs.
    store = Website.objects.get(name="Demo Store")
    browser.visit(f"/admin/websites/website/{store.pk}/change/")
    page.get_by_role("tab", name="Settings").click()
    expect(page.locator("#website-settings")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/websites/website/\d+/change/"))
    assert browser.violations() == []


@pytest.mark.browser
def test_an_inline_script_is_blocked_and_reported(browser):
    """The check above can see a violation: an injected inline script does not run and is reported."""
    browser.visit("/account/login/")
    ran = browser.page.evaluate(
        """() => { window.injected = false; const s = document.createElement('script');
                   s.textContent = 'window.injected = true'; document.body.appendChild(s); return window.injected; }"""
    )
    assert ran is False
    browser.page.wait_for_function("window.__cspViolations.length > 0")
    assert any("script-src" in v for v in browser.violations())
