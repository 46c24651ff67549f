"""Websites > Edit > Settings finger tab: each website setting with its effective value and where it comes from."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.settings.models import SettingChange, SystemSetting
from countermand.settings.registry import SETTINGS, WEBSITE
from countermand.settings.selectors import setting_get
from countermand.settings.services import setting_set
from tests.factories import WebsiteFactory

pytestmark = pytest.mark.django_db

WEBSITE_SETTINGS = [name for name, d in SETTINGS.items() if d.scope == WEBSITE]


@pytest.fixture
def website():
    return WebsiteFactory(name="North")


def setting_url(website, name: str) -> str:
    return reverse("admin:websites_website_setting", args=[website.pk, name])


def row_of(html: str, name: str) -> str:
    start = html.index(f'<tr data-setting="{name}">')
    return html[start : html.index("</tr>", start)]


def test_edit_page_has_details_and_settings_finger_tabs(admin_client, website):
    html = admin_client.get(reverse("admin:websites_website_change", args=[website.pk])).content.decode()
    assert 'data-tab="details"' in html
    assert ">Details<" in html
    assert 'data-tab="settings"' in html
    assert ">Settings<" in html
    assert 'data-tab-panel="settings"' in html


def test_settings_tab_lists_every_website_setting_with_its_value_and_source(admin_client, website):
    for name in ("AllowCancellationRequest", "CancellableOrderStatuses", "CancellationReasons"):
        assert name in WEBSITE_SETTINGS
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    setting_set(name="CancellationWindowDays", value=10)
    html = admin_client.get(reverse("admin:websites_website_change", args=[website.pk])).content.decode()
    for name in WEBSITE_SETTINGS:
        assert f'<tr data-setting="{name}">' in html
    assert "this website" in row_of(html, "AllowCancellationRequest")
    assert "True" in row_of(html, "AllowCancellationRequest")
    assert "application setting" in row_of(html, "CancellationWindowDays")
    assert ">10<" in row_of(html, "CancellationWindowDays")
    assert "default" in row_of(html, "ShowOrderStatus")
    assert setting_url(website, "AllowCancellationRequest") in row_of(html, "AllowCancellationRequest")


def test_settings_tab_of_a_new_website_asks_to_save_it_first(admin_client):
    html = admin_client.get(reverse("admin:websites_website_add")).content.decode()
    assert "Save the website first" in html


def test_edit_sets_the_value_for_this_website_and_returns_to_the_settings_tab(admin_client, website, superuser):
    response = admin_client.post(setting_url(website, "AllowCancellationRequest"), {"value": "True"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:websites_website_change", args=[website.pk]) + "#settings"
    assert setting_get("AllowCancellationRequest", website_id=website.pk) is True
    assert setting_get("AllowCancellationRequest") is False
    assert SettingChange.objects.get(website=website).changed_by == superuser


def test_edit_shows_the_registrys_message_for_a_wrong_value(admin_client, website):
    response = admin_client.post(setting_url(website, "AllowCancellationRequest"), {"value": "yes please"})
    assert response.status_code == 200
    assert "AllowCancellationRequest takes True or False" in response.content.decode()
    assert not SystemSetting.objects.exists()


def test_use_the_application_value_removes_the_websites_own_value(admin_client, website):
    setting_set(name="CancellationWindowDays", value=3, website=website)
    response = admin_client.post(setting_url(website, "CancellationWindowDays"), {"_reset": "1"})
    assert response.status_code == 302
    assert not SystemSetting.objects.filter(website=website).exists()


def test_application_only_settings_cannot_be_set_per_website(admin_client, website):
    assert admin_client.get(setting_url(website, "OrderCancelStatuses")).status_code == 404


def test_read_only_admin_sees_the_tab_but_cannot_edit(reader_client, website):
    html = reader_client.get(reverse("admin:websites_website_change", args=[website.pk])).content.decode()
    assert '<tr data-setting="AllowCancellationRequest">' in html
    assert reader_client.post(setting_url(website, "AllowCancellationRequest"), {"value": "True"}).status_code == 403
    assert reader_client.post(reverse("admin:websites_website_change", args=[website.pk]), {}).status_code == 403


def test_websites_are_plain_crud(admin_client):
    response = admin_client.post(
        reverse("admin:websites_website_add"), {"name": "South", "domain": "south.example.com", "is_active": "on"}
    )
    assert response.status_code == 302
    assert admin_client.get(reverse("admin:websites_website_changelist"), {"q": "South"}).status_code == 200
