"""The console is grouped and named the way the setup guide navigates, and only staff get in."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

GUIDE_NAMES = [
    "Administration › System",
    "Application Settings",
    "Settings",
    "Order Status Mapping",
    "Cancellation setup",
    "Administration › Jobs",
    "Connections",
    "Job Definitions",
    "Job History",
    "Websites",
    "Sales",
    "Orders",
    "Cancellations",
]

CONSOLE_PAGES = [
    "admin:index",
    "admin:console_setup",
    "admin:console_application_settings",
    "admin:console_settings",
    "admin:orders_orderstatusmapping_changelist",
    "admin:settings_settingchange_changelist",
    "admin:integration_integrationconnection_changelist",
    "admin:integration_jobdefinition_changelist",
    "admin:integration_integrationjob_changelist",
    "admin:websites_website_changelist",
    "admin:orders_order_changelist",
    "admin:cancellations_cancellationrequest_changelist",
    "admin:orders_orderdrift_changelist",
    "admin:customers_customer_changelist",
    "admin:customers_buyeraccount_changelist",
]

TITLES = {
    "admin:console_application_settings": "Application Settings",
    "admin:console_settings": "Settings",
    "admin:console_setup": "Cancellation setup",
    "admin:orders_orderstatusmapping_changelist": "Order Status Mapping",
    "admin:integration_integrationconnection_changelist": "Connections",
    "admin:integration_jobdefinition_changelist": "Job Definitions",
    "admin:integration_integrationjob_changelist": "Job History",
    "admin:websites_website_changelist": "Websites",
    "admin:orders_order_changelist": "Orders",
    "admin:cancellations_cancellationrequest_changelist": "Cancellations",
    "admin:integration_jobdefinition_add": "Add New Job Definition",
}


def test_index_lists_the_guides_sections_and_pages_in_the_guides_words(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for name in GUIDE_NAMES:
        assert f">{name}<" in html, name
    # The sections come in the guide's order: System first, then Jobs, Websites, Sales.
    positions = [
        html.index(f">{s}<") for s in ("Administration › System", "Administration › Jobs", "Websites", "Sales")
    ]
    assert positions == sorted(positions)


@pytest.mark.parametrize("url_name", list(TITLES))
def test_each_page_is_titled_with_its_name_from_the_guide(admin_client, url_name):
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    assert f"<h1>{TITLES[url_name]}" in response.content.decode()


def test_sidebar_of_a_page_shows_the_grouped_navigation(admin_client):
    html = admin_client.get(reverse("admin:integration_jobdefinition_changelist")).content.decode()
    sidebar = html[html.index('id="nav-sidebar"') :]
    for name in ("Administration › Jobs", "Job Definitions", "Application Settings", "Cancellation setup"):
        assert f">{name}<" in sidebar


def test_breadcrumbs_follow_the_guides_path(admin_client):
    html = admin_client.get(reverse("admin:console_application_settings")).content.decode()
    crumbs = html[html.index('class="breadcrumbs"') :][:600]
    assert "Administration › System</a>" in crumbs
    assert "Application Settings" in crumbs


def test_section_page_lists_the_pages_of_that_section_only(admin_client):
    html = admin_client.get(reverse("admin:console_section", args=["jobs"])).content.decode()
    content = html[html.index('id="content-main"') :]
    assert ">Connections<" in content
    assert ">Job History<" in content
    assert ">Orders<" not in content


def test_unknown_section_is_not_found(admin_client):
    assert admin_client.get(reverse("admin:console_section", args=["nothing"])).status_code == 404


def test_djangos_own_app_index_shows_the_section_holding_that_apps_models(admin_client):
    response = admin_client.get("/admin/orders/")
    assert response.status_code == 200
    assert ">Orders<" in response.content.decode()


@pytest.mark.parametrize("url_name", CONSOLE_PAGES)
def test_every_console_page_renders_for_an_administrator(admin_client, url_name):
    assert admin_client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("url_name", CONSOLE_PAGES)
def test_a_buyer_is_sent_to_the_console_login_and_sees_nothing(buyer_client, url_name):
    response = buyer_client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("admin:console_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_read_only_admin_sees_every_countermand_page_but_no_add_links(reader_client):
    html = reader_client.get(reverse("admin:index")).content.decode()
    for name in GUIDE_NAMES:
        assert f">{name}<" in html, name
    assert 'class="addlink"' not in html
