"""Admin Console: Websites, with the *Settings* finger tab of the setup guide (Websites > Edit > Settings)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path

from countermand.console.pages import ConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.console.views import CHANGE_SETTINGS, VIEW_SETTINGS, setting_rows, website_setting_edit_view
from countermand.settings.registry import SETTINGS, WEBSITE
from countermand.websites.models import Website


@admin.register(Website, site=console_site)
class WebsiteAdmin(ConsoleModelAdmin):
    change_form_template = "console/admin/tabbed_change_form.html"
    list_display = ("name", "domain", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "domain")
    fields = ("name", "domain", "is_active")

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:website_id>/settings/<str:name>/",
                self.admin_site.admin_view(self.setting_edit_view),
                name="websites_website_setting",
            ),
            *super().get_urls(),
        ]

    def setting_edit_view(self, request: HttpRequest, website_id: int, name: str) -> HttpResponse:
        return website_setting_edit_view(request, website_id, name, site=self.admin_site)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        website = self.get_object(request, object_id) if object_id else None
        user = request.user
        context = {
            "console_tabs": [{"key": "details", "label": "Details"}, {"key": "settings", "label": "Settings"}],
            "console_tab_include": "console/admin/website_settings_tab.html",
            "console_tab_include_key": "settings",
            "website_settings": (
                setting_rows([d for d in SETTINGS.values() if d.scope == WEBSITE], website) if website else []
            ),
            "website_obj": website,
            "may_view_settings": user.has_perm(VIEW_SETTINGS) or user.has_perm(CHANGE_SETTINGS),
            "may_change_settings": user.has_perm(CHANGE_SETTINGS),
        }
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})
