"""Cancellation setup: every step of the guide as a live checklist with links to the pages that fix it,
and the IMPORTANT banner whenever the OrderCancel job is missing."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from countermand.cancellations.setup_check import MISSING, OK, setup_check
from countermand.integration.models import JobDefinition
from countermand.settings.services import setting_set
from tests.factories import OrderFactory, WebsiteFactory

pytestmark = pytest.mark.django_db
SETUP = "admin:console_setup"


def states(html: str) -> dict[str, str]:
    found = {}
    for item in setup_check():
        start = html.index(f'id="setup-{item.key}"')
        found[item.key] = html[start : start + 300].split('data-state="')[1].split('"')[0]
    return found


def test_on_an_empty_database_every_required_step_is_red(admin_client):
    html = admin_client.get(reverse(SETUP)).content.decode()
    shown = states(html)
    for key in ("application-setting", "website-setting", "status-mapping", "cancellable-statuses", "connection"):
        assert shown[key] == MISSING, key
    assert shown["cancel-job"] == MISSING
    assert "setup-missing" in html
    assert "Fix it →" in html


def test_when_the_guide_is_done_every_step_is_green(admin_client, shop):
    html = admin_client.get(reverse(SETUP)).content.decode()
    assert set(states(html).values()) == {OK}
    assert "All " in html
    assert "steps done" in html


@pytest.mark.parametrize("configured", [False, True])
def test_every_link_opens_a_real_console_page(admin_client, request, configured):
    if configured:
        request.getfixturevalue("shop")
    else:
        WebsiteFactory(name="Lonely")
    for item in setup_check():
        assert item.link.startswith("/admin/"), item
        path = item.link.split("?")[0].split("#")[0]
        resolve(path)
        assert admin_client.get(item.link).status_code == 200, item.link


def test_links_point_at_the_page_that_fixes_each_step(db):
    website = WebsiteFactory(name="North")
    setting_set(name="OrderCancelStatuses", value=["Submitted"])
    links = {item.key: item.link for item in setup_check()}
    assert links["application-setting"] == reverse(
        "admin:console_application_setting_edit", args=["OrderCancelStatuses"]
    )
    # Straight to the missing setting of the website, not to a tab where it must be searched for.
    assert links["website-setting"] == reverse(
        "admin:websites_website_setting", args=[website.pk, "AllowCancellationRequest"]
    )
    # The mapping form opens with the listed status filled in and Allow Cancellation ticked.
    assert links["status-mapping"] == reverse("admin:orders_orderstatusmapping_add") + (
        "?erp_order_status=Submitted&display_name=Submitted&allow_cancellation=1"
    )
    assert links["cancellable-statuses"].startswith(reverse("admin:console_settings") + "?q=Cancellable")
    assert links["connection"] == reverse("admin:integration_integrationconnection_add") + "?name=ERP+Connection"
    assert (
        links["cancel-job"] == reverse("admin:integration_jobdefinition_add") + "?name=OrderCancel&job_type=Execution"
    )


def test_without_a_website_the_website_step_links_to_adding_one(db):
    item = next(i for i in setup_check() if i.key == "website-setting")
    assert item.link == reverse("admin:websites_website_add")
    assert "add one first" in item.detail


def test_the_website_step_links_to_the_website_where_cancellation_is_on_not_off(db):
    WebsiteFactory(name="Alpha Outlet")  # first by any order, cancellation off
    demo = WebsiteFactory(name="Demo Store")
    setting_set(name="AllowCancellationRequest", value=True, website=demo)
    item = next(i for i in setup_check() if i.key == "website-setting")
    assert item.state == OK
    assert item.link == reverse("admin:websites_website_change", args=[demo.pk]) + "#settings"


def test_cancellable_statuses_of_a_website_link_to_settings_at_that_websites_scope(admin_client):
    WebsiteFactory(name="Alpha Outlet")
    demo = WebsiteFactory(name="Demo Store")
    setting_set(name="CancellableOrderStatuses", value=["Open", "Submitted"], website=demo)
    item = next(i for i in setup_check() if i.key == "cancellable-statuses")
    assert item.detail == "Cancellable Order Statuses = Open, Submitted on Demo Store."
    assert f"website={demo.pk}" in item.link
    # The page behind the link shows the value the checklist names, not the application's "(empty)".
    html = admin_client.get(item.link).content.decode()
    row = html[html.index('id="setting-CancellableOrderStatuses"') :]
    assert "now Open, Submitted" in row[:3000]


def test_each_fix_it_link_returns_to_the_checklist_after_saving(admin_client):
    html = admin_client.get(reverse(SETUP)).content.decode()
    setup_url = reverse(SETUP)
    assert f"next={setup_url.replace('/', '%2F')}" in html
    edit = reverse("admin:console_application_setting_edit", args=["OrderCancelStatuses"])
    response = admin_client.post(f"{edit}?next={setup_url}", {"value": ["Submitted"]})
    assert response.status_code == 302
    assert response["Location"] == setup_url
    # A `next` pointing off the site is ignored.
    response = admin_client.post(f"{edit}?next=https://evil.example.com/", {"value": ["Submitted"]})
    assert response["Location"].startswith(reverse("admin:console_application_settings"))


def test_an_inactive_job_links_to_its_own_form(shop):
    definition = JobDefinition.objects.get(name="OrderCancel")
    JobDefinition.objects.filter(pk=definition.pk).update(is_active=False)
    link = {item.key: item.link for item in setup_check()}["cancel-job"]
    assert link == reverse("admin:integration_jobdefinition_change", args=[definition.pk])


@pytest.mark.parametrize(
    "url_name",
    ["admin:index", SETUP, "admin:orders_order_changelist", "admin:cancellations_cancellationrequest_changelist"],
)
def test_important_banner_is_on_the_index_and_the_order_pages_while_the_job_is_missing(admin_client, shop, url_name):
    assert 'id="cancel-job-banner"' not in admin_client.get(reverse(url_name)).content.decode()
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=False)
    html = admin_client.get(reverse(url_name)).content.decode()
    assert 'id="cancel-job-banner"' in html
    assert "IMPORTANT" in html
    assert "cancelled HERE ONLY" in html


def test_important_banner_is_on_an_orders_own_page_and_cancel_form(admin_client, shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    JobDefinition.objects.all().delete()
    for url in (
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_order_cancel", args=[order.pk]),
    ):
        assert 'id="cancel-job-banner"' in admin_client.get(url).content.decode()


def test_index_summarises_the_checklist(admin_client, shop):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "All " in html
    assert "steps of the setup guide are done" in html
    JobDefinition.objects.all().delete()
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "1 required step missing" in html


def test_every_staff_role_sees_the_checklist(reader_client, order_client, integration_client):
    for client in (reader_client, order_client, integration_client):
        assert client.get(reverse(SETUP)).status_code == 200
