"""Administration > System > Cancellable statuses: per status and website, the rules' verdict and its settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.orders.cancellable import cancellable_statuses
from countermand.orders.policies import BlockerCode
from countermand.settings.services import setting_set
from tests.console.conftest import client_for
from tests.factories import JobDefinitionFactory, MappingFactory, StaffFactory, WebsiteFactory

URL = "/admin/system/cancellable-statuses/"


@pytest.fixture
def two_websites(db):
    """The demo's set-up: Submitted cancellable everywhere, Open only where a website lists it, Shipped nowhere."""
    store, counter = WebsiteFactory(name="Demo Store"), WebsiteFactory(name="Trade Counter")
    setting_set(name="OrderCancelStatuses", value=["Submitted"])
    setting_set(name="AllowCancellationRequest", value=True, website=store)
    setting_set(name="CancellableOrderStatuses", value=["Submitted", "Open"], website=store)
    setting_set(name="AllowCancellationRequest", value=True, website=counter)
    for status, allow in (("Submitted", True), ("Open", True), ("Shipped", False)):
        MappingFactory(erp_order_status=status, allow_cancellation=allow)
    JobDefinitionFactory()
    return store, counter


def verdicts(matrix) -> dict[tuple[str, str], tuple[bool, set[str]]]:
    return {
        (row.status, cell.website.name): (cell.cancellable, {b.code for b in cell.blockers})
        for row in matrix.statuses
        for cell in row.websites
    }


@pytest.mark.django_db
def test_each_status_on_each_website_gets_the_rules_verdict_for_a_buyers_order(two_websites):
    found = verdicts(cancellable_statuses())
    assert found[("Submitted", "Demo Store")] == (True, set())
    assert found[("Submitted", "Trade Counter")] == (True, set())
    assert found[("Open", "Demo Store")] == (True, set())
    assert found[("Open", "Trade Counter")] == (False, {BlockerCode.STATUS_NOT_CANCELLABLE})
    assert found[("Shipped", "Demo Store")] == (
        False,
        {BlockerCode.STATUS_NOT_CANCELLABLE, BlockerCode.MAPPING_DISALLOWS},
    )


@pytest.mark.django_db
def test_a_website_with_cancellation_off_blocks_every_status_there(two_websites):
    _, counter = two_websites
    setting_set(name="AllowCancellationRequest", value=False, website=counter)
    found = verdicts(cancellable_statuses())
    assert found[("Submitted", "Trade Counter")] == (False, {BlockerCode.WEBSITE_DISABLED})
    assert found[("Submitted", "Demo Store")] == (True, set())


@pytest.mark.django_db
def test_a_status_a_setting_lists_without_a_mapping_is_shown_as_blocked_by_the_missing_mapping(two_websites):
    setting_set(name="OrderCancelStatuses", value=["Submitted", "Backordered"])
    row = next(r for r in cancellable_statuses().statuses if r.status == "Backordered")
    assert row.mapping is None
    assert all(
        not cell.cancellable and {b.code for b in cell.blockers} == {BlockerCode.MAPPING_DISALLOWS}
        for cell in row.websites
    )


@pytest.mark.django_db
def test_the_page_names_the_setting_behind_each_verdict_with_a_link_to_change_it(admin_client, two_websites):
    store, counter = two_websites
    html = admin_client.get(URL).content.decode()
    assert "<h1>Cancellable statuses</h1>" in html or ">Cancellable statuses</h1>" in html
    application = reverse("admin:console_application_setting_edit", args=["OrderCancelStatuses"])
    counter_list = reverse("admin:websites_website_setting", args=[counter.pk, "CancellableOrderStatuses"])
    store_list = reverse("admin:websites_website_setting", args=[store.pk, "CancellableOrderStatuses"])
    assert "Neither OrderCancelStatuses nor Cancellable Order Statuses of Trade Counter lists Open." in html
    assert f'href="{application}"' in html
    assert f'href="{counter_list}"' in html
    assert "Cancellable Order Statuses of Demo Store lists Open." in html
    assert f'href="{store_list}"' in html
    assert "The mapping of Shipped has Allow Cancellation off." in html


@pytest.mark.django_db
def test_the_cancelled_and_requested_statuses_say_what_they_are_rather_than_which_list_misses_them(admin_client):
    WebsiteFactory(name="Store")
    MappingFactory(erp_order_status="Cancelled", allow_cancellation=False)
    MappingFactory(erp_order_status="CancellationRequested", allow_cancellation=False)
    html = admin_client.get(URL).content.decode()
    assert "This is the status of cancelled orders (setting CancelledStatus)." in html
    assert "This is the status of orders waiting for the ERP (setting CancellationRequestedStatus)." in html


@pytest.mark.django_db
def test_an_empty_installation_is_told_what_to_add_first(admin_client):
    assert "There is no website yet." in admin_client.get(URL).content.decode()
    WebsiteFactory(name="Store")
    assert "There is no Order Status Mapping yet." in admin_client.get(URL).content.decode()


@pytest.mark.django_db
def test_the_page_is_listed_under_system_for_those_who_may_see_settings(reader_client):
    section = reader_client.get(reverse("admin:console_section", kwargs={"key": "system"})).content.decode()
    assert URL in section
    assert reader_client.get(URL).status_code == 200
    assert client_for(StaffFactory(username="plain", password=None)).get(URL).status_code == 403


@pytest.mark.django_db
def test_the_page_reads_in_a_constant_number_of_queries_however_many_statuses(
    admin_client, two_websites, django_assert_max_num_queries
):
    for i in range(15):
        MappingFactory(erp_order_status=f"Status{i}", allow_cancellation=bool(i % 2))
    with django_assert_max_num_queries(20):
        assert admin_client.get(URL).status_code == 200


@pytest.mark.django_db
def test_the_setup_checklist_and_the_settings_page_link_to_the_cancellable_statuses(admin_client):
    for page in (reverse("admin:console_setup"), reverse("admin:console_settings")):
        html = admin_client.get(page).content.decode()
        assert f'<a href="{URL}">Cancellable statuses</a>' in html, page
