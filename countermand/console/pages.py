"""Context shared by console pages and model admins: section, names, breadcrumbs, banner."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from countermand.console.checks import banner_context
from countermand.console.sections import OBJECT_NAMES, SECTIONS, section_of

RETURN_PARAMETER = "next"


def return_url(request: HttpRequest) -> str:
    """Where to go after saving: the console page named by `?next=` (the setup checklist's links set it, so
    each fixed step lands back on the checklist), or "" when there is none or it points off this site."""
    url = request.GET.get(RETURN_PARAMETER, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def page_context(
    request: HttpRequest,
    *,
    site: admin.AdminSite,
    section: str,
    name: str,
    title: str,
    crumb: str = "",
    list_url: str = "",
    banner: bool = False,
) -> dict[str, Any]:
    """Everything an admin template needs (from `site`, the Admin Console serving the page), plus the
    console's section breadcrumbs."""
    section_name = next(s.name for s in SECTIONS if s.key == section)
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": title,
        "subtitle": None,
        "console_section": section_name,
        "console_section_url": reverse("admin:console_section", kwargs={"key": section}),
        "console_name": name,
        "console_list_url": list_url,
        "crumb": crumb,
    }
    if banner:
        context.update(banner_context())
    return context


class ConsoleModelAdmin(admin.ModelAdmin):
    """Makes a ModelAdmin look like a page of the guide: its section in the breadcrumbs, its guide name
    in the title ("Job Definitions", "Add New Job Definition"), the console's styles, and — where
    cancellations are handled — the IMPORTANT banner when the OrderCancel job is missing."""

    change_list_template = "console/admin/change_list.html"
    change_form_template = "console/admin/change_form.html"
    show_cancel_job_banner = False
    # Django's "Show counts" repeated the list's count beside every filter choice.
    show_facets = admin.ShowFacets.NEVER

    def console_names(self) -> tuple[str, str, str, str]:
        """(section key, section name, plural name, singular name) of this model in the console."""
        found = section_of(self.model._meta.label)
        if found is None:
            plural = str(self.model._meta.verbose_name_plural).capitalize()
            return "other", "Other", plural, str(self.model._meta.verbose_name).capitalize()
        section, entry = found
        return section.key, section.name, entry.name, OBJECT_NAMES.get(self.model._meta.label, entry.name)

    def console_context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        key, section_name, plural, singular = self.console_names()
        context = {
            "console_section": section_name,
            "console_section_url": reverse("admin:console_section", kwargs={"key": key}),
            "console_name": plural,
            "console_object_name": singular,
            "console_list_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"),
        }
        if self.show_cancel_job_banner and IS_POPUP_VAR not in request.GET:
            context.update(banner_context())
        context.update(extra)
        return context

    def page_context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        """Context of a custom page of this model admin (Cancel Order, Run…): the admin's own plus ours."""
        return {**self.admin_site.each_context(request), **self.console_context(request, **extra)}

    def response_post_save_add(self, request: HttpRequest, obj: Any) -> HttpResponseRedirect:
        back = return_url(request)
        return HttpResponseRedirect(back) if back else super().response_post_save_add(request, obj)

    def response_post_save_change(self, request: HttpRequest, obj: Any) -> HttpResponseRedirect:
        back = return_url(request)
        return HttpResponseRedirect(back) if back else super().response_post_save_change(request, obj)

    def console_subtitle(self, obj: Any) -> str:
        return str(obj)

    def object_tools(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """Buttons above a change form: {label, url, post (bool), css}."""
        return []

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        _, _, plural, _ = self.console_names()
        context = self.console_context(request, title=plural)
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        _, _, _, singular = self.console_names()
        context = self.console_context(request)
        if object_id is None:
            context["title"] = f"Add New {singular}"
            context["crumb"] = f"Add New {singular}"
        else:
            context["title"] = singular
            obj = self.get_object(request, object_id)
            if obj is not None:
                context["crumb"] = context["subtitle"] = self.console_subtitle(obj)
                context["console_object_tools"] = self.object_tools(request, obj)
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})


class ReadOnlyConsoleModelAdmin(ConsoleModelAdmin):
    """A console page for rows nobody edits by hand (orders, cancellations, job runs, audit trails):
    viewing follows the view permission; every change goes through a service behind an explicit action."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """An inline that shows related rows of the parent (lines, events…) to whoever may view the parent."""

    extra = 0
    can_delete = False
    classes = ("console-readonly",)
    template = "console/admin/readonly_tabular.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.parent_model._meta
        user = request.user
        return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        )
