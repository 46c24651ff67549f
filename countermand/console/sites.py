"""The Admin Console: Django's admin, grouped the way the setup guide navigates.

The guide says *Administration > System > Application Settings*, *Administration > Jobs > Job
Definitions*, *Websites > Edit > Settings*, *Sales > Orders*… so the index and the sidebar list these
sections instead of Django's one-box-per-app layout. Console pages that are not a model (settings pages,
the cancellation setup checklist) live under /admin/ too, through `get_urls`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse

from countermand.console import import_views, insights_views, statuses_views, views
from countermand.console.checks import console_setup_context, webhook_banner_context
from countermand.console.forms import ConsoleSignInForm
from countermand.console.sections import SECTIONS, Entry


class CountermandAdminSite(admin.AdminSite):
    """The Admin Console. Same permissions and pages as Django's admin, grouped as the guide says."""

    site_header = "Countermand Admin Console"
    site_title = "Countermand Admin Console"
    index_title = "Admin Console"
    index_template = "console/index.html"
    app_index_template = "console/section.html"
    login_form = ConsoleSignInForm

    def get_urls(self):  # type: ignore[no-untyped-def]
        def wrap(view):  # type: ignore[no-untyped-def]
            return self.admin_view(functools.partial(view, site=self))

        console_urls = [
            path("setup/", wrap(views.setup_view), name="console_setup"),
            path(
                "system/application-settings/",
                wrap(views.application_settings_view),
                name="console_application_settings",
            ),
            path(
                "system/application-settings/<str:name>/",
                wrap(views.application_setting_edit_view),
                name="console_application_setting_edit",
            ),
            path("system/settings/", wrap(views.settings_view), name="console_settings"),
            path("section/<slug:key>/", self.admin_view(self.section_view), name="console_section"),
            path("sales/insights/", wrap(insights_views.insights_view), name="console_insights"),
            path(
                "system/cancellable-statuses/",
                wrap(statuses_views.cancellable_statuses_view),
                name="console_cancellable_statuses",
            ),
            path("sales/import-orders/", wrap(import_views.order_import_view), name="console_order_import"),
            path("sales/sample-data/", wrap(import_views.sample_data_load_view), name="console_sample_data_load"),
        ]
        # Before Django's own patterns: its catch-all view would answer 404 for these paths.
        return console_urls + super().get_urls()

    def _registered_by_label(self) -> dict[str, Any]:
        return {model._meta.label: (model, model_admin) for model, model_admin in self._registry.items()}

    def _model_entry(self, request: HttpRequest, entry: Entry, model: Any, model_admin: Any) -> dict[str, Any] | None:
        if not model_admin.has_module_permission(request):
            return None
        perms = model_admin.get_model_perms(request)
        if True not in perms.values():
            return None
        info = (model._meta.app_label, model._meta.model_name)
        item: dict[str, Any] = {
            "model": model,
            "name": entry.name,
            "object_name": entry.object_name,
            "perms": perms,
            "admin_url": None,
            "add_url": None,
        }
        if perms.get("change") or perms.get("view"):
            item["view_only"] = not perms.get("change")
            with contextlib.suppress(NoReverseMatch):
                item["admin_url"] = reverse("admin:{}_{}_changelist".format(*info), current_app=self.name)
        if perms.get("add"):
            with contextlib.suppress(NoReverseMatch):
                item["add_url"] = reverse("admin:{}_{}_add".format(*info), current_app=self.name)
        return item

    def _page_entry(self, request: HttpRequest, entry: Entry) -> dict[str, Any] | None:
        user = request.user
        if entry.perm and not (user.has_perm(entry.perm) or (entry.change_perm and user.has_perm(entry.change_perm))):
            return None
        can_change = bool(entry.change_perm) and user.has_perm(entry.change_perm)
        return {
            "model": None,
            "name": entry.name,
            "object_name": entry.object_name,
            "perms": {"view": True, "change": can_change, "add": False, "delete": False},
            "admin_url": reverse(f"admin:{entry.url_name}", current_app=self.name),
            "add_url": None,
            "view_only": not can_change,
        }

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The guide's sections, each with the pages this user may see. Unlisted models go under *Other*."""
        registered = self._registered_by_label()
        placed: set[str] = set()
        sections: list[dict[str, Any]] = []
        for section in SECTIONS:
            items = []
            for entry in section.entries:
                if entry.model:
                    placed.add(entry.model)
                    if entry.model not in registered:
                        continue
                    item = self._model_entry(request, entry, *registered[entry.model])
                else:
                    item = self._page_entry(request, entry)
                if item is not None:
                    items.append(item)
            if items:
                sections.append(self._section_dict(section.key, section.name, items))
        others = []
        for label, (model, model_admin) in sorted(registered.items()):
            if label not in placed:
                entry = Entry(str(model._meta.verbose_name_plural).capitalize(), model._meta.object_name, model=label)
                item = self._model_entry(request, entry, model, model_admin)
                if item is not None:
                    others.append(item)
        if others:
            sections.append(self._section_dict("other", "Other", others))
        if app_label:
            sections = [
                s
                for s in sections
                if any(m["model"] is not None and m["model"]._meta.app_label == app_label for m in s["models"])
            ]
        return sections

    def _section_dict(self, key: str, name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": name,
            "app_label": key,
            "app_url": reverse("admin:console_section", kwargs={"key": key}, current_app=self.name),
            "has_module_perms": True,
            "models": items,
        }

    def section_view(self, request: HttpRequest, key: str) -> HttpResponse:
        """One section of the console (e.g. *Administration > Jobs*) with its pages."""
        sections = [s for s in self.get_app_list(request) if s["app_label"] == key]
        if not sections:
            raise Http404("There is no such section in the Admin Console, or you may not see it.")
        context = {
            **self.each_context(request),
            "title": sections[0]["name"],
            "subtitle": None,
            "app_list": sections,
            "app_label": key,
        }
        request.current_app = self.name
        return TemplateResponse(request, self.app_index_template, context)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """Django's context of every console page, plus the banners every page shows."""
        return {**super().each_context(request), **webhook_banner_context(request)}

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        return super().index(request, {**console_setup_context(), **(extra_context or {})})


console_site = CountermandAdminSite(name="admin")
