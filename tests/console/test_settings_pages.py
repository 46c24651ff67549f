"""Administration > System > Application Settings and Settings: values go through setting_set (validated,
audited); the registry's message shows as the form error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from countermand.settings.models import SettingChange, SystemSetting
from countermand.settings.registry import SETTINGS
from countermand.settings.selectors import setting_get
from countermand.settings.services import setting_set
from tests.factories import MappingFactory, WebsiteFactory

pytestmark = pytest.mark.django_db


def edit_url(name: str) -> str:
    return reverse("admin:console_application_setting_edit", args=[name])


# ---------------------------------------------------------------- Application Settings


def test_application_settings_lists_every_registered_setting(admin_client):
    html = admin_client.get(reverse("admin:console_application_settings")).content.decode()
    for name in SETTINGS:
        assert f'data-setting="{name}"' in html


def test_name_filter_narrows_the_list_to_matching_settings(admin_client):
    html = admin_client.get(
        reverse("admin:console_application_settings"), {"q": "OrderCancelStatuses"}
    ).content.decode()
    assert 'data-setting="OrderCancelStatuses"' in html
    assert 'data-setting="ShowOrderStatus"' not in html


def test_entering_submitted_stores_the_application_value_and_audits_who_did_it(admin_client, superuser):
    response = admin_client.post(edit_url("OrderCancelStatuses"), {"value": ["Submitted", ""]})
    assert response.status_code == 302
    assert setting_get("OrderCancelStatuses") == ["Submitted"]
    change = SettingChange.objects.get(name="OrderCancelStatuses")
    assert change.new_value == ["Submitted"]
    assert change.changed_by == superuser
    assert change.website is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CancellationWindowDays", "abc", "CancellationWindowDays takes a whole number, not &#x27;abc&#x27;."),
        ("AllowCancellationRequest", "maybe", "AllowCancellationRequest takes True or False, not &#x27;maybe&#x27;."),
        ("OrderCancelJobName", "  ", "OrderCancelJobName cannot be empty."),
        ("CancellationWithoutErpJob", "Sometimes", "CancellationWithoutErpJob takes one of LocalOnly, Refuse"),
    ],
)
def test_a_wrong_value_shows_the_registrys_message_and_stores_nothing(admin_client, name, value, message):
    response = admin_client.post(edit_url(name), {"value": value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SystemSetting.objects.filter(name=name).exists()


def test_a_website_settings_application_default_is_edited_on_application_settings(admin_client):
    admin_client.post(edit_url("AllowCancellationRequest"), {"value": "True"})
    assert SystemSetting.objects.get(name="AllowCancellationRequest", website=None).value is True


def test_reset_removes_the_stored_value_and_records_it(admin_client):
    setting_set(name="CancellationWindowDays", value=14)
    admin_client.post(edit_url("CancellationWindowDays"), {"_reset": "1"})
    assert setting_get("CancellationWindowDays") == 0
    assert SettingChange.objects.filter(name="CancellationWindowDays", new_value__isnull=True).exists()


def test_edit_page_shows_the_settings_history(admin_client):
    setting_set(name="CancellationWindowDays", value=14)
    setting_set(name="CancellationWindowDays", value=30)
    html = admin_client.get(edit_url("CancellationWindowDays")).content.decode()
    history = html[html.index('id="setting-history"') :]
    assert "14" in history
    assert "30" in history


def test_unknown_setting_is_not_found(admin_client):
    assert admin_client.get(edit_url("NoSuchSetting")).status_code == 404


def test_setting_history_is_listed_read_only(admin_client):
    setting_set(name="OrderCancelStatuses", value=["Submitted"])
    response = admin_client.get(reverse("admin:settings_settingchange_changelist"))
    assert "OrderCancelStatuses" in response.content.decode()
    change = SettingChange.objects.get()
    assert admin_client.post(reverse("admin:settings_settingchange_change", args=[change.pk]), {}).status_code == 403
    assert admin_client.get(reverse("admin:settings_settingchange_add")).status_code == 403


# ---------------------------------------------------------------- Settings (grouped)


def test_settings_page_shows_a_group_with_links_to_the_other_groups(admin_client):
    html = admin_client.get(reverse("admin:console_settings")).content.decode()
    assert "Order Cancellation" in html
    assert "Order History" in html
    assert 'data-setting="CancellableOrderStatuses"' in html
    assert 'data-setting="ShowOrderStatus"' not in html  # another group's page
    other = admin_client.get(reverse("admin:console_settings"), {"group": "order-history"}).content.decode()
    assert 'data-setting="ShowOrderStatus"' in other


def test_search_finds_cancellable_order_statuses_by_its_label(admin_client):
    html = admin_client.get(reverse("admin:console_settings"), {"q": "Cancellable Order Statuses"}).content.decode()
    assert 'data-setting="CancellableOrderStatuses"' in html
    assert 'data-setting="AllowCancellationRequest"' not in html


def test_list_settings_get_a_plus_button_and_only_statuses_a_buyer_could_cancel_as_suggestions(admin_client):
    MappingFactory(erp_order_status="Submitted", allow_cancellation=True)
    MappingFactory(erp_order_status="Open", allow_cancellation=True)
    MappingFactory(erp_order_status="Shipped", allow_cancellation=False)
    # Statuses Countermand sets itself, even when a mapping (wrongly) allows cancelling them.
    MappingFactory(erp_order_status="Cancelled", allow_cancellation=True)
    MappingFactory(erp_order_status="CancellationRequested", allow_cancellation=True)
    html = admin_client.get(reverse("admin:console_settings"), {"q": "Cancellable Order Statuses"}).content.decode()
    assert 'class="list-value-add"' in html
    datalist = html[html.index("<datalist") : html.index("</datalist>")]
    assert re.findall(r'<option value="([^"]+)">', datalist) == ["Open", "Submitted"]


def test_saving_a_list_stores_every_value_typed_and_ignores_blank_inputs(admin_client):
    url = reverse("admin:console_settings") + "?q=Cancellable+Order+Statuses"
    response = admin_client.post(url, {"v_CancellableOrderStatuses": ["Submitted", "Open", ""]})
    assert response.status_code == 302
    assert setting_get("CancellableOrderStatuses") == ["Submitted", "Open"]


def test_saving_an_unchanged_page_stores_nothing(admin_client):
    url = reverse("admin:console_settings") + "?group=order-history"
    response = admin_client.post(url, {"v_ShowOrderStatus": "True", "v_ShowErpOrderNumber": "True"})
    assert response.status_code == 302
    assert not SystemSetting.objects.exists()
    assert not SettingChange.objects.exists()


def test_one_wrong_value_saves_nothing_of_the_page_and_says_why(admin_client):
    url = reverse("admin:console_settings") + "?group=order-cancellation"
    data = {
        "v_OrderCancelStatuses": ["Submitted"],
        "v_CancellableOrderStatuses": [""],
        "v_AllowCancellationRequest": "False",
        "v_OrderCancelJobName": "OrderCancel",
        "v_CancellationRequestedStatus": "CancellationRequested",
        "v_CancelledStatus": "Cancelled",
        "v_CancellationWithoutErpJob": "LocalOnly",
        "v_CancellationReasons": ["Other"],
        "v_CancellationWindowDays": "soon",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "CancellationWindowDays takes a whole number" in response.content.decode()
    assert not SystemSetting.objects.exists()


def test_with_a_website_chosen_only_website_settings_show_with_where_their_value_comes_from(admin_client):
    website = WebsiteFactory(name="North")
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    setting_set(name="CancellationWindowDays", value=7)
    html = admin_client.get(reverse("admin:console_settings"), {"website": website.pk}).content.decode()
    assert 'data-setting="OrderCancelStatuses"' not in html
    row = html[html.index('id="setting-AllowCancellationRequest"') :]
    assert "from the website" in row[: row.index("</div>\n      </div>") + 200]
    days = html[html.index('id="setting-CancellationWindowDays"') :]
    assert "from the application" in days[:2000]


def test_a_website_value_is_stored_for_that_website_only(admin_client):
    website = WebsiteFactory(name="North")
    url = reverse("admin:console_settings") + f"?website={website.pk}&q=Cancellable+Order+Statuses"
    response = admin_client.post(url, {"v_CancellableOrderStatuses": ["Open"]})
    assert response.status_code == 302
    assert setting_get("CancellableOrderStatuses", website_id=website.pk) == ["Open"]
    assert setting_get("CancellableOrderStatuses") == []


def test_ticking_use_the_application_value_removes_the_website_value(admin_client):
    website = WebsiteFactory(name="North")
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    url = reverse("admin:console_settings") + f"?website={website.pk}&q=AllowCancellationRequest"
    admin_client.post(url, {"v_AllowCancellationRequest": "True", "inherit_AllowCancellationRequest": "on"})
    assert not SystemSetting.objects.filter(name="AllowCancellationRequest", website=website).exists()


def test_unknown_group_or_website_is_not_found(admin_client):
    assert admin_client.get(reverse("admin:console_settings"), {"group": "nope"}).status_code == 404
    assert admin_client.get(reverse("admin:console_settings"), {"website": "999999"}).status_code == 404


def test_read_only_admin_sees_settings_but_cannot_change_them(reader_client):
    assert reader_client.get(reverse("admin:console_application_settings")).status_code == 200
    html = reader_client.get(edit_url("OrderCancelStatuses")).content.decode()
    assert "You may view settings but not change them." in html
    assert reader_client.post(edit_url("OrderCancelStatuses"), {"value": "Submitted"}).status_code == 403
    assert reader_client.post(reverse("admin:console_settings"), {}).status_code == 403
    assert not SystemSetting.objects.exists()


def test_order_admin_cannot_change_settings(order_client):
    assert order_client.post(edit_url("OrderCancelStatuses"), {"value": "Submitted"}).status_code == 403


def test_integration_admin_may_change_settings(integration_client):
    assert integration_client.post(edit_url("OrderCancelStatuses"), {"value": "Submitted"}).status_code == 302
    assert setting_get("OrderCancelStatuses") == ["Submitted"]


def test_the_application_scope_names_the_websites_that_set_their_own_value(admin_client):
    demo = WebsiteFactory(name="Demo Store")
    setting_set(name="CancellableOrderStatuses", value=["Open", "Submitted"], website=demo)
    html = admin_client.get(reverse("admin:console_settings"), {"q": "Cancellable Order Statuses"}).content.decode()
    row = html[html.index('id="setting-CancellableOrderStatuses"') :]
    overrides = row[row.index("data-overrides") : row.index("</div>", row.index("data-overrides"))]
    assert "Demo Store</a> = Open, Submitted" in overrides
    assert f"website={demo.pk}" in overrides
