"""Admin Console: Administration > Jobs — Connections, Job Definitions (Details and Parameters tabs, Run),
Job History (logs, Retry, Cancel). Every state change goes through countermand.integration.services."""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from countermand.console.badges import breaker_badge, job_status_badge
from countermand.console.connection_test import connection_test
from countermand.console.forms import JobRunForm
from countermand.console.pages import ConsoleModelAdmin, ReadOnlyConsoleModelAdmin, return_url
from countermand.console.sites import console_site
from countermand.core.errors import DomainError, ValidationFailed
from countermand.integration.handlers import manual_run_check
from countermand.integration.models import (
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobLog,
    IntegrationJobParameter,
    JobDefinition,
    JobDefinitionParameter,
)
from countermand.integration.plugin import ProcessorKind
from countermand.integration.registry import (
    NONE,
    connection_types_accepted,
    processor_choices,
    processors_fitting,
    registry,
)
from countermand.integration.services import (
    connection_delete,
    connection_save,
    connection_validate,
    job_cancel,
    job_definition_delete,
    job_definition_save,
    job_definition_validate,
    job_retry,
    job_run,
)
from countermand.settings.selectors import settings_for

RUN_PERMISSION = "integration.add_integrationjob"
JOB_CONTROL_PERMISSION = "integration.change_integrationjob"

# ---------------------------------------------------------------- Connections


def _pairs_text(connection_type: str) -> str:
    """What the connection form says of a type: the integration processors that declare it (their
    `connection_types`), e.g. "Integration processor for it: WebServiceOrderCancel." """
    declared = [
        name for name in processors_fitting(connection_type) if connection_type in connection_types_accepted(name)
    ]
    if not declared:
        return "No installed integration processor declares this type."
    return f"Integration processor for it: {', '.join(declared)}."


def suggested_connection_url(request: HttpRequest, connection_type: str) -> str:
    """The URL a new connection of this type starts with; a path of our own site becomes absolute."""
    ctype = registry().connection_types.get(connection_type)
    url = ctype.suggested_url if ctype is not None else ""
    return request.build_absolute_uri(url) if url.startswith("/") else url


class IntegrationConnectionForm(forms.ModelForm):
    """Type from the connection-type registry, options checked by the type, a write-only password."""

    type_name = forms.ChoiceField(label="Type")
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: it is stored encrypted and never shown. Leave blank to keep the current password.",
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")

    class Meta:
        model = IntegrationConnection
        fields = (
            "name",
            "type_name",
            "url",
            "log_on",
            "timeout_seconds",
            "options",
            "is_active",
            "max_concurrent_jobs",
            "breaker_threshold",
            "breaker_cooldown_seconds",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = registry().connection_types
        current = self.instance.type_name if self.instance.pk else ""
        if "type_name" in self.fields:  # absent when the form is shown read-only
            choices = [(name, name) for name in sorted(types)]
            if current and current not in types:
                choices.append((current, f"{current} (not installed)"))
            cast(forms.ChoiceField, self.fields["type_name"]).choices = choices
            # Which processor a connection of each type is for, from the processors' own declarations.
            self.fields["type_name"].help_text = format_html_join(
                "",
                '<strong>{}</strong>: {} <span class="pairs-with" data-pairs-with="{}">{}</span><br>',
                ((name, t.description, name, _pairs_text(name)) for name, t in sorted(types.items())),
            )
            self.fields["type_name"].widget.attrs["data-suggested-urls"] = json.dumps(
                {name: t.suggested_url for name, t in sorted(types.items()) if t.suggested_url}
            )
        if "options" in self.fields:
            self.fields["options"].required = False
            self.fields["options"].help_text = format_html(
                "A JSON object, e.g. {}. The options each type understands:{}",
                '{"cancelPath": "/orders/{OrderNumber}/cancel"}',
                format_html_join(
                    "",
                    '<details class="connection-options"{}><summary>{}</summary><ul>{}</ul></details>',
                    (
                        (
                            mark_safe(" open") if name == current else "",
                            name,
                            format_html_join("", "<li><code>{}</code> — {}</li>", sorted(t.options_help.items()))
                            or format_html("<li>{}</li>", "none"),
                        )
                        for name, t in sorted(types.items())
                    ),
                ),
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("options") is None and "options" not in self.errors:
            cleaned["options"] = {}
        type_name = cleaned.get("type_name")
        if type_name and "options" not in self.errors:
            probe = IntegrationConnection(type_name=type_name, options=cleaned["options"], url=cleaned.get("url") or "")
            try:
                connection_validate(probe)
            except ValidationFailed as exc:
                field = {"UNKNOWN_CONNECTION_TYPE": "type_name", "INVALID_CONNECTION_URL": "url"}.get(
                    exc.code, "options"
                )
                self.add_error(field, exc.message)
            else:
                cleaned["options"] = probe.options
        return cleaned

    def save(self, commit: bool = True) -> IntegrationConnection:
        """The connection with the form's values; connection_save (IntegrationConnectionAdmin.save_model)
        stores it, with the password."""
        connection = super().save(commit=False)
        if commit:
            self.save_with(actor_id=None)
        return connection

    def save_with(self, *, actor_id: int | None) -> IntegrationConnection:
        return connection_save(
            connection=self.instance,
            password=self.cleaned_data.get("password") or None,
            clear_password=bool(self.cleaned_data.get("clear_password")),
            actor_id=actor_id,
        )


@admin.register(IntegrationConnection, site=console_site)
class IntegrationConnectionAdmin(ConsoleModelAdmin):
    form = IntegrationConnectionForm
    change_form_template = "console/admin/connection_change_form.html"
    list_display = ("name", "type_name", "url", "is_active", "breaker_column", "max_concurrent_jobs", "password_set")
    list_filter = ("type_name", "is_active", "breaker_state")
    search_fields = ("name", "url")
    actions = ["test_connections"]
    readonly_fields = ("password_status", "breaker_column", "breaker_failures", "breaker_open_until")

    def save_model(self, request: HttpRequest, obj: IntegrationConnection, form: Any, change: bool) -> None:
        form.save_with(actor_id=request.user.pk)

    def delete_model(self, request: HttpRequest, obj: IntegrationConnection) -> None:
        connection_delete(connection_id=obj.pk, actor_id=request.user.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[IntegrationConnection]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            connection_delete(connection_id=pk, actor_id=request.user.pk)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        credentials: tuple[str, ...] = ("log_on", "password", "clear_password", "password_status")
        if not self.has_change_permission(request, obj) and obj is not None:
            credentials = ("log_on", "password_status")
        return (
            (None, {"fields": ("name", "type_name", "url", "timeout_seconds", "is_active")}),
            ("Credentials", {"fields": credentials}),
            ("Options", {"fields": ("options",)}),
            (
                "Load and circuit breaker",
                {
                    "fields": (
                        "max_concurrent_jobs",
                        "breaker_threshold",
                        "breaker_cooldown_seconds",
                        "breaker_column",
                        "breaker_failures",
                        "breaker_open_until",
                    )
                },
            ),
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new connection starts with a type that has a suggested URL, and that URL (the Sandbox ERP's own
        address for a Sandbox connection), so nobody has to guess it."""
        initial = super().get_changeform_initial_data(request)
        types = sorted(registry().connection_types.values(), key=lambda t: (not t.suggested_url, t.name))
        # A type that works out of the box (the Sandbox ERP) comes first: a new installation can try it at once.
        type_name = str(initial.get("type_name") or (types[0].name if types else ""))
        if type_name:
            initial["type_name"] = type_name
            initial.setdefault("url", suggested_connection_url(request, type_name))
        return initial

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context: dict[str, Any] = {}
        if object_id is None and self.has_test_permission(request):
            context["connection_test_url"] = reverse("admin:integration_integrationconnection_test_unsaved")
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def test_unsaved_view(self, request: HttpRequest) -> HttpResponse:
        """POST the add form's values: try them (nothing is saved) and answer {ok, message} as JSON, so
        *Test connection* works before the connection exists."""
        if not self.has_test_permission(request) or not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"ok": False, "message": "POST the connection's fields."}, status=405)
        form = self.get_form(request, None)(request.POST)
        if not form.is_valid():
            problems = "; ".join(
                f"{form.fields[f].label if f in form.fields else f}: {' '.join(str(m) for m in e)}"
                for f, e in form.errors.items()
            )
            return JsonResponse({"ok": False, "message": f"Correct the form first — {problems}"})
        connection = form.save(commit=False)
        if form.cleaned_data.get("password"):
            connection.set_password(form.cleaned_data["password"])
        result = connection_test(connection)  # outside any transaction: it waits on the network
        name = connection.name or "the connection"
        if result.ok:
            return JsonResponse({"ok": True, "message": f"Test connection {name}: OK — {result.message}."})
        return JsonResponse({"ok": False, "message": f"Test connection {name} failed: {result.message}."})

    @admin.display(description="Stored password")
    def password_status(self, obj: IntegrationConnection) -> str:
        return "Set (hidden)" if obj.has_password else "Not set"

    @admin.display(description="Password", boolean=True)
    def password_set(self, obj: IntegrationConnection) -> bool:
        return obj.has_password

    @admin.display(description="Breaker state", ordering="breaker_state")
    def breaker_column(self, obj: IntegrationConnection) -> SafeString:
        return breaker_badge(obj.breaker_state)

    def has_test_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("integration.change_integrationconnection")

    def object_tools(self, request: HttpRequest, obj: IntegrationConnection) -> list[dict[str, Any]]:
        if not self.has_test_permission(request):
            return []
        url = reverse("admin:integration_integrationconnection_test", args=[obj.pk])
        return [{"label": "Test connection", "url": url, "post": True, "css": ""}]

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "test/",
                self.admin_site.admin_view(self.test_unsaved_view),
                name="integration_integrationconnection_test_unsaved",
            ),
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="integration_integrationconnection_test",
            ),
            *super().get_urls(),
        ]

    def _report_test(self, request: HttpRequest, connection: IntegrationConnection) -> None:
        result = connection_test(connection)
        if result.ok:
            messages.success(request, f"Test connection {connection.name}: OK — {result.message}.")
        else:
            messages.error(request, f"Test connection {connection.name} failed: {result.message}.")

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: try to reach the ERP (outside any transaction) and say OK or what went wrong."""
        connection = self.get_object(request, object_id)
        if connection is None:
            raise Http404("There is no such connection.")
        if not self.has_test_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._report_test(request, connection)
        return HttpResponseRedirect(reverse("admin:integration_integrationconnection_change", args=[connection.pk]))

    @admin.action(description="Test connection", permissions=["test"])
    def test_connections(self, request: HttpRequest, queryset: QuerySet[IntegrationConnection]) -> None:
        for connection in queryset.order_by("name"):
            self._report_test(request, connection)


# ---------------------------------------------------------------- Job Definitions


def _fits_text(connection_types: tuple[str, ...]) -> str:
    return f"Fits {' and '.join(connection_types)} connections." if connection_types else "Fits any connection."


def _prompt_for(name: str) -> str:
    """OrderNumber → "Order Number": the prompt the guide gives a parameter, from its name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def suggested_parameters(processor_name: str) -> list[dict[str, Any]]:
    """Parameter rows a new job definition starts with: those the processor declares (`parameters`)."""
    processor = registry().processors.get(processor_name)
    if processor is None:
        return []
    return [
        {"name": spec.name, "value_type": str(spec.type), "prompt": _prompt_for(spec.name), "sequence": i + 1}
        for i, spec in enumerate(processor.parameters)
    ]


def job_definition_suggestions(initial: dict[str, Any]) -> dict[str, Any]:
    """The add form's initial values (`initial`: from the query string), paired for the administrator: the
    name OrderCancel while no such definition exists, the only active connection, and the integration
    processor that declares that connection's type (Sandbox → WebServiceOrderCancel)."""
    initial = dict(initial)
    job_name = settings_for().order_cancel_job_name
    if "name" not in initial and not JobDefinition.objects.filter(name=job_name).exists():
        initial["name"] = job_name
        initial.setdefault("job_type", JobDefinition.JobType.EXECUTION)
    if "connection" not in initial:
        active = list(IntegrationConnection.objects.filter(is_active=True)[:2])
        if len(active) == 1:
            initial["connection"] = active[0].pk
    connection_id = str(initial.get("connection") or "")
    connection = IntegrationConnection.objects.filter(pk=connection_id).first() if connection_id.isdigit() else None
    if connection is not None and "integration_processor" not in initial:
        declared = [
            n for n in processors_fitting(connection.type_name) if connection.type_name in connection_types_accepted(n)
        ]
        if declared:
            initial["integration_processor"] = declared[0]
    return initial


def suggested_parameters_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The parameter rows of a new definition: those its suggested integration processor declares."""
    processor = job_definition_suggestions(dict(request.GET.items())).get("integration_processor") or ""
    return suggested_parameters(str(processor))


def _processor_field(kind: str, label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, initial=NONE)


# What job_definition_validate reads.
VALIDATED_FIELDS = (
    "preprocessor",
    "integration_processor",
    "post_processor",
    "connection",
    "recurring_cron",
    "recurring_interval_seconds",
)


class JobDefinitionForm(forms.ModelForm):
    """Processors are chosen from the processor registry; the form runs job_definition_validate (the check
    job_definition_save makes), so a processor that is not installed (or does not fit the connection)
    cannot be saved and the form says why."""

    preprocessor = _processor_field(ProcessorKind.PREPROCESSOR, "Preprocessor")
    integration_processor = _processor_field(ProcessorKind.INTEGRATION, "Integration Processor")
    post_processor = _processor_field(ProcessorKind.POSTPROCESSOR, "Post Processor")

    class Meta:
        model = JobDefinition
        fields = (
            "name",
            "description",
            "job_type",
            "connection",
            "preprocessor",
            "integration_processor",
            "post_processor",
            "is_active",
            "notify_email",
            "notify_condition",
            "max_retries",
            "retry_backoff_seconds",
            "timeout_seconds",
            "recurring_interval_seconds",
            "recurring_cron",
            "debugging_enabled",
        )
        labels = {"name": "Job Name", "job_type": "Job Type", "connection": "Connection", "is_active": "Active"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        processors = registry().processors
        for field_name, kind in (
            ("preprocessor", ProcessorKind.PREPROCESSOR),
            ("integration_processor", ProcessorKind.INTEGRATION),
            ("post_processor", ProcessorKind.POSTPROCESSOR),
        ):
            if field_name not in self.fields:
                continue
            names = processor_choices(kind)
            choices = [(name, name) for name in names]
            current = getattr(self.instance, field_name, "") if self.instance.pk else ""
            if current and current not in names:
                choices.append((current, f"{current} (not installed)"))
            cast(forms.ChoiceField, self.fields[field_name]).choices = choices
            self.fields[field_name].help_text = format_html_join(
                "",
                "<strong>{}</strong>: {} <em>{}</em><br>",
                (
                    (name, processors[name].description or "—", _fits_text(processors[name].connection_types))
                    for name in names
                    if name in processors
                ),
            )
        if "connection" in self.fields:
            connection_field = cast(forms.ModelChoiceField, self.fields["connection"])
            connection_field.label_from_instance = lambda obj: f"{obj.name} ({obj.type_name})"  # type: ignore[method-assign]
            # The integration processors that fit each connection, for the form's script to pick one.
            select: forms.Widget = (
                getattr(connection_field.widget, "widget", None) or connection_field.widget
            )  # the admin wraps it
            select.attrs["data-fitting-processors"] = json.dumps(
                {
                    str(c.pk): processors_fitting(c.type_name)
                    for c in IntegrationConnection.objects.only("pk", "type_name")
                }
            )
        if "name" in self.fields:
            job_name = settings_for().order_cancel_job_name
            self.fields["name"].widget.attrs["list"] = "job-name-suggestions"
            self.fields["name"].help_text = format_html(
                "Name the cancellation job <strong>{}</strong>: the OrderCancelJobName setting looks it up."
                '<datalist id="job-name-suggestions"><option value="{}"></datalist>',
                job_name,
                job_name,
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        values = {name: cleaned[name] if name in cleaned else getattr(self.instance, name) for name in VALIDATED_FIELDS}
        probe = JobDefinition(**values)
        try:
            job_definition_validate(probe)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.details.get("problems") or [exc.message]) from exc
        return cleaned


PARAMETER_FORM_FIELDS = ("name", "value_type", "default_value", "prompt", "is_required", "sequence")


class JobDefinitionParameterForm(forms.ModelForm):
    class Meta:
        model = JobDefinitionParameter
        fields = PARAMETER_FORM_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"size": 18}),
            "default_value": forms.TextInput(attrs={"size": 14}),
            "prompt": forms.TextInput(attrs={"size": 18}),
            "sequence": forms.NumberInput(attrs={"style": "width: 4em"}),
        }


class JobDefinitionParameterInline(admin.TabularInline):
    """The Parameters finger tab. Parameters are part of their definition: its permissions apply."""

    model = JobDefinitionParameter
    form = JobDefinitionParameterForm
    fields = ("name", "value_type", "default_value", "prompt", "is_required", "sequence")
    extra = 0
    verbose_name = "Job Definition Parameter"
    verbose_name_plural = "Parameters"

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        # A new definition shows one row per parameter its processor declares, filled in.
        if obj is None and request.method == "GET":
            return len(suggested_parameters_for(request))
        return self.extra

    def _may(self, request: HttpRequest, obj: Any) -> bool:
        action = "add" if obj is None else "change"
        return request.user.has_perm(f"integration.{action}_jobdefinition")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return user.has_perm("integration.view_jobdefinition") or user.has_perm("integration.change_jobdefinition")


@admin.register(JobDefinition, site=console_site)
class JobDefinitionAdmin(ConsoleModelAdmin):
    form = JobDefinitionForm
    change_form_template = "console/admin/tabbed_change_form.html"
    inlines = [JobDefinitionParameterInline]
    list_display = (
        "name",
        "job_type",
        "connection",
        "integration_processor",
        "is_active",
        "recurrence",
        "last_run_at",
    )
    list_filter = ("job_type", "is_active", "connection")
    search_fields = ("name", "description")
    list_select_related = ("connection",)
    readonly_fields = ("last_run_at",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "description",
                    "job_type",
                    "connection",
                    "preprocessor",
                    "integration_processor",
                    "post_processor",
                    "is_active",
                )
            },
        ),
        ("Notification", {"fields": ("notify_email", "notify_condition")}),
        ("Retries and timeout", {"fields": ("max_retries", "retry_backoff_seconds", "timeout_seconds")}),
        ("Recurrence", {"fields": ("recurring_interval_seconds", "recurring_cron", "last_run_at")}),
        ("Debugging", {"classes": ("collapse",), "fields": ("debugging_enabled",)}),
    )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return job_definition_suggestions(super().get_changeform_initial_data(request))

    def get_formset_kwargs(self, request: HttpRequest, obj: Any, inline: Any, prefix: str) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if (
            (obj is None or obj.pk is None)
            and request.method == "GET"
            and isinstance(inline, JobDefinitionParameterInline)
        ):
            kwargs["initial"] = suggested_parameters_for(request)
        return kwargs

    def save_model(self, request: HttpRequest, obj: JobDefinition, form: Any, change: bool) -> None:
        """Saved with its parameters by job_definition_save in save_related (one validated, audited write)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        parameters = None
        for formset in formsets:
            if formset.model is JobDefinitionParameter:
                formset.save(commit=False)  # what changed, for the admin's history message; nothing written
                parameters = [
                    {name: f.cleaned_data[name] for name in PARAMETER_FORM_FIELDS}
                    for f in formset.forms
                    if f.cleaned_data and not formset._should_delete_form(f) and (f.instance.pk or f.has_changed())
                ]
        job_definition_save(definition=form.instance, parameters=parameters, actor_id=request.user.pk)
        form.save_m2m()

    def delete_model(self, request: HttpRequest, obj: JobDefinition) -> None:
        job_definition_delete(definition_id=obj.pk, actor_id=request.user.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[JobDefinition]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            job_definition_delete(definition_id=pk, actor_id=request.user.pk)

    @admin.display(description="Recurrence")
    def recurrence(self, obj: JobDefinition) -> str:
        if obj.recurring_cron:
            return obj.recurring_cron
        if obj.recurring_interval_seconds:
            return f"every {obj.recurring_interval_seconds} s"
        return "—"

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {
            "console_tabs": [{"key": "details", "label": "Details"}, {"key": "parameters", "label": "Parameters"}],
            "console_inline_tab": "parameters",
        }
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def response_add(
        self, request: HttpRequest, obj: JobDefinition, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The guide saves the Details first, then adds parameters on the Parameters tab: stay on the form
        # (unless they came filled in from the processor's declaration and a page to return to is named).
        if return_url(request) and obj.parameters.exists():
            messages.success(request, f"Job definition {obj.name} saved with its parameters.")
            return HttpResponseRedirect(return_url(request))
        if "_addanother" not in request.POST and "_popup" not in request.POST and "_continue" not in request.POST:
            messages.success(request, f"Job definition {obj.name} saved. Add its parameters on the Parameters tab.")
            return HttpResponseRedirect(reverse("admin:integration_jobdefinition_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def object_tools(self, request: HttpRequest, obj: JobDefinition) -> list[dict[str, Any]]:
        if not self.has_run_permission(request):
            return []
        return [
            {
                "label": "Run",
                "url": reverse("admin:integration_jobdefinition_run", args=[obj.pk]),
                "post": False,
                "css": "",
            }
        ]

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/run/", self.admin_site.admin_view(self.run_view), name="integration_jobdefinition_run"
            ),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Run: prompt for the parameters, check them, queue the job (job_run)."""
        definition = self.get_object(request, object_id)
        if definition is None:
            raise Http404("There is no such job definition.")
        if not self.has_run_permission(request):
            raise PermissionDenied
        try:  # a definition a domain owns (OrderCancel) is refused up front: the page says what to use
            manual_run_check(definition.name, actor_id=request.user.pk)
        except DomainError as exc:
            refused = exc.message
        else:
            refused = ""
        form = JobRunForm(request.POST or None, definition=definition)
        if request.method == "POST" and not refused and form.is_valid():
            try:
                job = job_run(definition_id=definition.pk, parameters=form.parameter_values(), actor_id=request.user.pk)
            except DomainError as exc:
                field = (
                    f"p_{exc.details['parameter']}"
                    if exc.details.get("parameter") in {p.name for p in form.parameters}
                    else None
                )
                form.add_error(field, exc.message)
            else:
                messages.success(request, f"Job #{job.pk} ({definition.name}) queued.")
                return HttpResponseRedirect(reverse("admin:integration_integrationjob_change", args=[job.pk]))
        context = {
            **self.page_context(request),
            "title": f"Run {definition.name}",
            "crumb": f"{definition} › Run",
            "definition": definition,
            "form": form,
            "refused": refused,
            "opts": self.opts,
        }
        return TemplateResponse(request, "console/admin/job_run.html", context, status=409 if refused else 200)


# ---------------------------------------------------------------- Job History


@admin.register(IntegrationJob, site=console_site)
class IntegrationJobAdmin(ReadOnlyConsoleModelAdmin):
    """Job runs: read-only, with their parameters and log; Retry and Cancel go through the services."""

    change_form_template = "console/admin/job_change_form.html"
    list_display = (
        "job_number_column",
        "definition",
        "status_column",
        "order_column",
        "attempt_column",
        "schedule_at",
        "started_at",
        "finished_at",
        "error_short",
    )
    list_display_links = ("job_number_column",)
    list_filter = ("status", "definition")
    search_fields = ("order__web_order_number", "order__erp_order_number", "dedupe_key", "parameters__value")
    search_help_text = "Job number, order number, or a parameter value."
    list_select_related = ("definition", "order")
    actions = ["retry_jobs", "cancel_jobs"]
    # What an integration developer opens a job for comes first (the template puts the log above these);
    # the queue's bookkeeping is folded away.
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status_column",
                    "definition",
                    "order_column",
                    "attempt_column",
                    "started_at",
                    "finished_at",
                    "error",
                    "result_json",
                )
            },
        ),
        (
            "More about this run",
            {
                "classes": ("collapse",),
                "fields": (
                    "job_number_column",
                    "connection",
                    "schedule_at",
                    "requested_by",
                    "retry_of",
                    "cancel_requested_column",
                    "counts_column",
                    "dedupe_key",
                    "idempotency_key",
                    "lease_owner",
                    "lease_expires_at",
                ),
            },
        ),
    )
    readonly_fields = (
        "job_number_column",
        "definition",
        "status_column",
        "order_column",
        "connection",
        "attempt_column",
        "schedule_at",
        "started_at",
        "finished_at",
        "requested_by",
        "retry_of",
        "cancel_requested_column",
        "counts_column",
        "error",
        "result_json",
        "dedupe_key",
        "idempotency_key",
        "lease_owner",
        "lease_expires_at",
    )

    def has_control_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(JOB_CONTROL_PERMISSION)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[IntegrationJob], search_term: str):  # type: ignore[no-untyped-def]
        """A number is a job number (or an exact order number / parameter value); other text searches as usual."""
        term = search_term.strip()
        number = term.removeprefix("#")
        if number.isdigit():
            if term.startswith("#"):
                return queryset.filter(pk=int(number)), False
            exact = IntegrationJob.objects.filter(
                Q(order__web_order_number=number) | Q(order__erp_order_number=number) | Q(parameters__value=number)
            ).values("pk")
            return queryset.filter(Q(pk=int(number)) | Q(pk__in=exact)), False
        return super().get_search_results(request, queryset, search_term)

    def console_subtitle(self, obj: IntegrationJob) -> str:
        return f"#{obj.pk} {obj.definition.name}"

    @admin.display(description="Job number", ordering="id")
    def job_number_column(self, obj: IntegrationJob) -> str:
        return f"#{obj.pk}"

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj: IntegrationJob) -> SafeString:
        badge = job_status_badge(obj.status)
        if obj.cancel_requested and obj.is_open:
            return format_html("{} {}", badge, "(cancel requested)")
        return badge

    @admin.display(description="Order")
    def order_column(self, obj: IntegrationJob) -> SafeString:
        if obj.order_id is None:
            return format_html("{}", "—")
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    @admin.display(description="Cancel requested")
    def cancel_requested_column(self, obj: IntegrationJob) -> str:
        # Plain words: Django's boolean icon drew "no" as a red error mark on every healthy job.
        if not obj.cancel_requested:
            return "No"
        return "Yes — it ends as Cancelled unless the ERP answers first" if obj.is_open else "Yes"

    @admin.display(description="Records, warnings, errors")
    def counts_column(self, obj: IntegrationJob) -> str:
        return f"{obj.record_count} records, {obj.warning_count} warnings, {obj.error_count} errors"

    @admin.display(description="Attempt")
    def attempt_column(self, obj: IntegrationJob) -> str:
        return f"{obj.attempt} of {obj.max_attempts}"

    @admin.display(description="Error")
    def error_short(self, obj: IntegrationJob) -> str:
        return obj.error[:100]

    @admin.display(description="Result")
    def result_json(self, obj: IntegrationJob) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.result, indent=2, sort_keys=True, default=str))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context: dict[str, Any] = {}
        if object_id and str(object_id).isdigit():
            job_id = int(object_id)
            context["job_parameters"] = list(IntegrationJobParameter.objects.filter(job_id=job_id).order_by("id"))
            context["job_logs"] = list(IntegrationJobLog.objects.filter(job_id=job_id).order_by("sequence"))
            context["job_retries"] = list(IntegrationJob.objects.filter(retry_of_id=job_id).order_by("id"))
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def object_tools(self, request: HttpRequest, obj: IntegrationJob) -> list[dict[str, Any]]:
        if not self.has_control_permission(request):
            return []
        tools = []
        if obj.status in (IntegrationJob.Status.FAILURE, IntegrationJob.Status.CANCELLED):
            tools.append(
                {
                    "label": "Retry",
                    "url": reverse("admin:integration_integrationjob_retry", args=[obj.pk]),
                    "post": True,
                    "css": "",
                }
            )
        if obj.is_open:
            tools.append(
                {
                    "label": "Cancel",
                    "url": reverse("admin:integration_integrationjob_cancel", args=[obj.pk]),
                    "post": True,
                    "css": "danger",
                }
            )
        return tools

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="integration_integrationjob_retry",
            ),
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="integration_integrationjob_cancel",
            ),
            *super().get_urls(),
        ]

    def _control(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404("There is no such job.")
        if not self.has_control_permission(request):
            raise PermissionDenied
        target = job
        if request.method == "POST":
            target = self._apply(request, job, action) or job
        return HttpResponseRedirect(reverse("admin:integration_integrationjob_change", args=[target.pk]))

    def _apply(self, request: HttpRequest, job: IntegrationJob, action: str) -> IntegrationJob | None:
        try:
            if action == "retry":
                new_job = job_retry(job_id=job.pk, actor_id=request.user.pk)
                messages.success(request, f"Job #{job.pk} retried as job #{new_job.pk}.")
                return new_job
            cancelled = job_cancel(job_id=job.pk, actor_id=request.user.pk)
            if cancelled.status == IntegrationJob.Status.CANCELLED:
                messages.success(request, f"Job #{job.pk} cancelled.")
            else:
                messages.warning(
                    request,
                    f"Job #{job.pk} is running: cancellation requested; "
                    "it ends as Cancelled unless the ERP answers first.",
                )
            return cancelled
        except DomainError as exc:
            messages.error(request, f"Job #{job.pk}: {exc.message}")
            return None

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._control(request, object_id, "retry")

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._control(request, object_id, "cancel")

    @admin.action(description="Retry selected jobs", permissions=["control"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[IntegrationJob]) -> None:
        for job in queryset.order_by("pk"):
            self._apply(request, job, "retry")

    @admin.action(description="Cancel selected jobs", permissions=["control"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[IntegrationJob]) -> None:
        for job in queryset.order_by("pk"):
            self._apply(request, job, "cancel")
