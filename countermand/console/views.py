"""Console pages that are not a model's list or form: the settings pages and the setup checklist.

Thin entry points: they read through selectors, write through countermand.settings.services
(`setting_set` validates and audits every change), and render.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify

from countermand.console.checks import console_setup_context
from countermand.console.forms import SettingValueForm, mapped_statuses, setting_initial, setting_value_field
from countermand.console.pages import RETURN_PARAMETER, page_context, return_url
from countermand.settings.models import SettingChange
from countermand.settings.registry import SETTINGS, WEBSITE, SettingDefinition, SettingError
from countermand.settings.selectors import WEBSITE_SOURCE, settings_snapshot
from countermand.settings.services import setting_reset, setting_set
from countermand.websites.models import Website

VIEW_SETTINGS, CHANGE_SETTINGS = "settings.view_systemsetting", "settings.change_systemsetting"


def _require_settings_access(request: HttpRequest) -> bool:
    """May the user see settings (raises PermissionDenied if not); returns whether they may change them."""
    user = request.user
    can_change = user.has_perm(CHANGE_SETTINGS)
    if not (can_change or user.has_perm(VIEW_SETTINGS)):
        raise PermissionDenied
    return can_change


# ---------------------------------------------------------------- setup checklist


def setup_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """Cancellation setup: every step of the guide, red until done, with a link to the page that fixes it."""
    context = page_context(
        request, site=site, section="system", name="Cancellation setup", title="Cancellation setup", crumb=""
    )
    setup = console_setup_context()
    # Each "Fix it" link brings the administrator back here once that page is saved.
    setup["setup_items"] = [
        replace(item, link=_with_return(item.link, request.path)) if item.link and not item.ok else item
        for item in setup["setup_items"]
    ]
    context.update(setup)
    return TemplateResponse(request, "console/setup.html", context)


def _with_return(link: str, back: str) -> str:
    """`link` with ?next=`back` added (before any #fragment)."""
    base, hash_mark, fragment = link.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{urlencode({RETURN_PARAMETER: back})}"
    return f"{joined}{hash_mark}{fragment}"


# ---------------------------------------------------------------- values and where they come from


@dataclass
class SettingRow:
    definition: SettingDefinition
    value: Any
    source: str  # website | application | default
    text: str
    stored: bool  # a row exists at the scope being edited
    # At the application scope: the websites that set their own value, with it (a website's own value is
    # what its buyers get, while this scope may show "(empty)").
    overrides: list[tuple[Website, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.definition.name


def with_website_overrides(rows: list[SettingRow], websites: list[Website]) -> list[SettingRow]:
    """`rows` (application scope) with, for each website setting, the websites holding their own value."""
    names = [r.name for r in rows if r.definition.scope == WEBSITE]
    if not names or not websites:
        return rows
    snapshot = settings_snapshot(names=names, website_ids=[w.pk for w in websites])
    for row in rows:
        if row.definition.scope != WEBSITE:
            continue
        for w in websites:
            resolved = snapshot.resolve(row.name, w.pk)
            if resolved.source == WEBSITE_SOURCE:
                row.overrides.append((w, _value_text(row.definition, resolved.value)))
    return rows


def setting_rows(definitions: list[SettingDefinition], website: Website | None) -> list[SettingRow]:
    """Each setting's effective value for the application (website None) or one website, and its source."""
    website_id = website.pk if website is not None else None
    snapshot = settings_snapshot(names=[d.name for d in definitions], website_ids=[website_id] if website_id else [])
    rows = []
    for d in definitions:
        resolved = snapshot.resolve(d.name, website_id)
        value = resolved.value
        text = d.to_text(value) if d.type != "list" else ", ".join(value) or "(empty)"
        rows.append(SettingRow(d, value, resolved.source, text, resolved.stored))
    return rows


def _matches(d: SettingDefinition, q: str) -> bool:
    q = q.strip().lower()
    return not q or q in d.name.lower() or q in d.display_label.lower() or q.replace(" ", "") in d.name.lower()


# ---------------------------------------------------------------- Administration > System > Application Settings


def application_settings_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """Application-scope values of every setting, filtered by Name (website settings: their default)."""
    can_change = _require_settings_access(request)
    q = request.GET.get("q", "")
    definitions = sorted((d for d in SETTINGS.values() if _matches(d, q)), key=lambda d: d.name.lower())
    context = page_context(
        request, site=site, section="system", name="Application Settings", title="Application Settings"
    )
    context.update({"rows": setting_rows(definitions, None), "q": q, "can_change": can_change})
    return TemplateResponse(request, "console/application_settings.html", context)


def application_setting_edit_view(request: HttpRequest, name: str, *, site: admin.AdminSite) -> HttpResponse:
    """Edit one setting's application value; the registry's message shows as the form error."""
    can_change = _require_settings_access(request)
    definition = SETTINGS.get(name)
    if definition is None:
        raise Http404(f"There is no setting named {name!r}.")
    list_url = reverse("admin:console_application_settings")
    row = setting_rows([definition], None)[0]  # a failed POST saves nothing: read it once
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if "_reset" in request.POST:
            setting_reset(name=name, actor=request.user)
            messages.success(request, f"{name} now uses its default value.")
            return HttpResponseRedirect(return_url(request) or f"{list_url}?{urlencode({'q': name})}")
        form = SettingValueForm(request.POST, definition=definition, statuses=mapped_statuses())
        if form.is_valid():
            try:
                value = setting_set(name=name, value=form.cleaned_data["value"], actor=request.user)
            except SettingError as exc:
                form.add_error("value", exc.message)
            else:
                messages.success(request, f"{name} = {definition.to_text(value) or '(empty)'}".replace("\n", ", "))
                return HttpResponseRedirect(return_url(request) or f"{list_url}?{urlencode({'q': name})}")
    else:
        form = SettingValueForm(
            initial={"value": setting_initial(definition, row.value)},
            definition=definition,
            statuses=mapped_statuses(),
            disabled=not can_change,
        )
    context = page_context(
        request,
        site=site,
        section="system",
        name="Application Settings",
        title=definition.name,
        crumb=definition.name,
        list_url=list_url,
    )
    context.update(
        {
            "definition": definition,
            "row": row,
            "form": form,
            "can_change": can_change,
            "history": SettingChange.objects.filter(name=name).select_related("website", "changed_by")[:25],
            "default_text": _value_text(definition, definition.default),
        }
    )
    return TemplateResponse(request, "console/setting_edit.html", context)


def _value_text(definition: SettingDefinition, value: Any) -> str:
    if definition.type == "list":
        return ", ".join(value) or "(empty)"
    return definition.to_text(value)


# ---------------------------------------------------------------- Websites > Edit > Settings


def website_setting_edit_view(
    request: HttpRequest, website_id: int, name: str, *, site: admin.AdminSite
) -> HttpResponse:
    """Edit one website-scope setting for one website (the Settings finger tab's Edit link)."""
    can_change = _require_settings_access(request)
    website = get_object_or_404(Website, pk=website_id)
    definition = SETTINGS.get(name)
    if definition is None or definition.scope != WEBSITE:
        raise Http404(f"There is no website setting named {name!r}.")
    back = reverse("admin:websites_website_change", args=[website.pk]) + "#settings"
    row = setting_rows([definition], website)[0]  # a failed POST saves nothing: read it once
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if "_reset" in request.POST:
            setting_reset(name=name, website=website, actor=request.user)
            messages.success(request, f"{name} on {website} now uses the application value.")
            return HttpResponseRedirect(return_url(request) or back)
        form = SettingValueForm(request.POST, definition=definition, statuses=mapped_statuses())
        if form.is_valid():
            try:
                value = setting_set(name=name, value=form.cleaned_data["value"], website=website, actor=request.user)
            except SettingError as exc:
                form.add_error("value", exc.message)
            else:
                messages.success(request, f"{name} on {website} = {_value_text(definition, value)}")
                return HttpResponseRedirect(return_url(request) or back)
    else:
        form = SettingValueForm(
            initial={"value": setting_initial(definition, row.value)},
            definition=definition,
            statuses=mapped_statuses(),
            disabled=not can_change,
        )
    context = page_context(
        request,
        site=site,
        section="websites",
        name="Websites",
        title=f"{definition.name} — {website}",
        crumb=f"{website} › Settings › {definition.name}",
        list_url=reverse("admin:websites_website_changelist"),
    )
    context.update(
        {
            "definition": definition,
            "row": row,
            "website": website,
            "form": form,
            "can_change": can_change,
            "back_url": back,
            "history": SettingChange.objects.filter(name=name, website=website).select_related("changed_by")[:25],
            "default_text": _value_text(definition, definition.default),
        }
    )
    return TemplateResponse(request, "console/setting_edit.html", context)


# ---------------------------------------------------------------- Administration > System > Settings


def _groups() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for d in SETTINGS.values():
        seen.setdefault(slugify(d.group), d.group)
    return list(seen.items())


class GroupSettingsForm(forms.Form):
    """The settings of one page: a value per setting, and with a website chosen, *use the inherited value*."""

    def __init__(self, *args: Any, rows: list[SettingRow], website: Website | None, disabled: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        statuses = mapped_statuses()
        self.rows = rows
        self.website = website
        for row in rows:
            d = row.definition
            self.fields[f"v_{d.name}"] = setting_value_field(
                d, statuses=statuses, label=d.display_label, disabled=disabled
            )
            self.initial[f"v_{d.name}"] = setting_initial(d, row.value)
            if website is not None:
                self.fields[f"inherit_{d.name}"] = forms.BooleanField(
                    required=False, label="Use the application value", disabled=disabled
                )
                self.initial[f"inherit_{d.name}"] = not row.stored

    def entries(self) -> list[dict[str, Any]]:
        return [
            {
                "row": row,
                "field": self[f"v_{row.name}"],
                "inherit": self[f"inherit_{row.name}"] if self.website is not None else None,
            }
            for row in self.rows
        ]

    def changes(self) -> list[tuple[SettingDefinition, str, Any]]:
        """What saving would do: ("set", value) or ("reset", None) per changed setting; parse errors go on
        the form with the registry's message."""
        planned: list[tuple[SettingDefinition, str, Any]] = []
        for row in self.rows:
            d = row.definition
            typed = f"v_{d.name}" in self.changed_data
            if self.website is not None and self.cleaned_data.get(f"inherit_{d.name}") and not typed:
                if row.stored:
                    planned.append((d, "reset", None))
                continue
            raw = self.cleaned_data.get(f"v_{d.name}")
            try:
                value = d.parse(raw)
            except SettingError as exc:
                self.add_error(f"v_{d.name}", exc.message)
                continue
            if not row.stored and value == row.value and self.website is None:
                continue  # the default, unchanged: nothing to store
            if row.stored and value == row.value:
                continue
            planned.append((d, "set", value))
        return planned


def settings_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """Settings grouped in pages; list settings get a + button; a website can be chosen."""
    can_change = _require_settings_access(request)
    groups = _groups()
    q = request.GET.get("q", "").strip()
    group_slug = request.GET.get("group", "")
    if group_slug and group_slug not in dict(groups):
        raise Http404("There is no such group of settings.")
    if not group_slug and not q:
        group_slug = groups[0][0]
    websites = list(Website.objects.order_by("name"))
    website = None
    if request.GET.get("website"):
        website = next((w for w in websites if str(w.pk) == request.GET["website"]), None)
        if website is None:
            raise Http404("There is no such website.")
    definitions = [
        d
        for d in SETTINGS.values()
        if (not group_slug or slugify(d.group) == group_slug)
        and _matches(d, q)
        and (website is None or d.scope == WEBSITE)
    ]
    rows = setting_rows(definitions, website)
    if website is None:
        rows = with_website_overrides(rows, websites)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = GroupSettingsForm(request.POST, rows=rows, website=website, disabled=False)
        if form.is_valid():
            planned = form.changes()
            if not form.errors:
                try:
                    with transaction.atomic():
                        for d, action, value in planned:
                            if action == "reset":
                                setting_reset(name=d.name, website=website, actor=request.user)
                            else:
                                setting_set(name=d.name, value=value, website=website, actor=request.user)
                except SettingError as exc:
                    form.add_error(
                        f"v_{exc.details.get('setting')}" if exc.details.get("setting") else None, exc.message
                    )
                else:
                    if planned:
                        names = ", ".join(d.name for d, _, _ in planned)
                        messages.success(request, f"Saved {names}" + (f" for {website}." if website else "."))
                    else:
                        messages.info(request, "Nothing changed.")
                    return HttpResponseRedirect(return_url(request) or request.get_full_path())
    else:
        form = GroupSettingsForm(rows=rows, website=website, disabled=not can_change)
    context = page_context(request, site=site, section="system", name="Settings", title="Settings")
    context.update(
        {
            "form": form,
            "entries": form.entries(),
            "groups": [
                {"slug": slug, "name": name, "url": "?" + urlencode(_query(group=slug, website=website))}
                for slug, name in groups
            ],
            "group_slug": group_slug,
            "group_name": dict(groups).get(group_slug, ""),
            "q": q,
            "websites": websites,
            "website": website,
            "can_change": can_change,
        }
    )
    return TemplateResponse(request, "console/settings.html", context)


def _query(*, group: str = "", website: Website | None = None, q: str = "") -> dict[str, str]:
    query = {}
    if group:
        query["group"] = group
    if website is not None:
        query["website"] = str(website.pk)
    if q:
        query["q"] = q
    return query
