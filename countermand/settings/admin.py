"""Admin Console: the audit trail of setting changes (read-only). Values are edited on the console's
Application Settings and Settings pages (countermand.console.views), through setting_set."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from countermand.console.pages import ReadOnlyConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.console.templatetags.console_tags import setting_text
from countermand.settings.models import SettingChange


@admin.register(SettingChange, site=console_site)
class SettingChangeAdmin(ReadOnlyConsoleModelAdmin):
    """Who changed which setting when: append-only, nobody edits it."""

    list_display = ("changed_at", "name", "scope", "old", "new", "changed_by")
    list_filter = ("name", "website")
    search_fields = ("name",)
    list_select_related = ("website", "changed_by")
    date_hierarchy = "changed_at"
    fields = ("changed_at", "name", "scope", "old", "new", "changed_by")
    readonly_fields = fields

    @admin.display(description="Website")
    def scope(self, obj: SettingChange) -> str:
        return str(obj.website) if obj.website_id else "Application"

    @admin.display(description="Old value")
    def old(self, obj: SettingChange) -> str:
        return setting_text(obj.old_value)

    @admin.display(description="New value")
    def new(self, obj: SettingChange) -> str:
        return setting_text(obj.new_value, "(reset)")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return (
            user.has_perm("settings.view_settingchange")
            or user.has_perm("settings.view_systemsetting")
            or user.has_perm("settings.change_systemsetting")
        )
