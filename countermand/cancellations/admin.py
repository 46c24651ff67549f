"""Admin Console: Sales > Cancellations — what needs attention (Failed, LocalOnly) first, and Resend to ERP."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_resend
from countermand.console.badges import cancellation_state_badge, job_status_badge, not_sent_marker
from countermand.console.pages import ReadOnlyConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.core.errors import DomainError
from countermand.integration.models import IntegrationJob
from countermand.orders.actors import actor_for_user
from countermand.orders.policies import quantity_text

State = CancellationRequest.State
NEEDS_ATTENTION = "needs"
ALL = "all"


def cancellation_lines_text(request: CancellationRequest) -> str:
    """A request's lines as the console shows them ("line 2: 40 (confirmed 40)"); "Whole order" without."""
    lines = list(request.lines.all())
    if not lines:
        return "Whole order"
    return ", ".join(
        f"line {line.line_number}: {quantity_text(line.quantity)}"
        + (f" (confirmed {quantity_text(line.quantity_confirmed)})" if line.quantity_confirmed is not None else "")
        for line in lines
    )


class AttentionFilter(admin.SimpleListFilter):
    """Shows the cancellations that need attention unless asked for all (or for one state)."""

    title = "attention"
    parameter_name = "attention"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        self._state_chosen = "state__exact" in request.GET
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(NEEDS_ATTENTION, "Needs attention (Failed, LocalOnly)"), (ALL, "All")]

    def effective(self) -> str:
        value = self.value()
        if value in (NEEDS_ATTENTION, ALL):
            return value
        return ALL if self._state_chosen else NEEDS_ATTENTION

    def queryset(self, request: HttpRequest, queryset: QuerySet[CancellationRequest]) -> QuerySet[CancellationRequest]:
        if self.effective() == NEEDS_ATTENTION:
            return queryset.filter(state__in=CancellationRequest.NEEDS_ATTENTION_STATES)
        return queryset

    def choices(self, changelist: Any):  # type: ignore[no-untyped-def]
        current = self.effective()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


@admin.register(CancellationRequest, site=console_site)
class CancellationRequestAdmin(ReadOnlyConsoleModelAdmin):
    show_cancel_job_banner = True
    change_list_template = "console/admin/cancellation_change_list.html"
    change_form_template = "console/admin/cancellation_change_form.html"
    list_display = (
        "id",
        "order_link",
        "state_column",
        "channel",
        "reason_code",
        "requested_by",
        "created_at",
        "job_column",
        "erp_message_short",
    )
    list_display_links = ("id",)
    list_filter = (AttentionFilter, "state", "channel", "forced")
    search_fields = ("order__web_order_number", "order__erp_order_number", "reason_code", "erp_message")
    list_select_related = ("order", "requested_by", "job")
    actions = ["resend_to_erp"]
    fields = (
        "order_link",
        "state_column",
        "channel",
        "requested_by",
        "reason_code",
        "reason_text",
        "lines_asked",
        "forced",
        "previous_status",
        "erp_message",
        "erp_reference",
        "job_column",
        "send_count",
        "idempotency_key",
        "created_at",
        "updated_at",
        "resolved_at",
    )
    readonly_fields = fields

    @admin.display(description="Lines")
    def lines_asked(self, obj: CancellationRequest) -> str:
        """A partial cancellation's lines (asked, and confirmed by the ERP); else the whole order."""
        return cancellation_lines_text(obj)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cancellations.resend_cancellation")

    @admin.display(description="Order", ordering="order__web_order_number")
    def order_link(self, obj: CancellationRequest) -> SafeString:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.web_order_number)

    @admin.display(description="State", ordering="state")
    def state_column(self, obj: CancellationRequest) -> SafeString:
        return cancellation_state_badge(obj.state)

    @admin.display(description="Job")
    def job_column(self, obj: CancellationRequest) -> SafeString:
        if obj.job_id is None:
            return not_sent_marker() if obj.state == State.LOCAL_ONLY else format_html("{}", "—")
        job: IntegrationJob = obj.job  # type: ignore[assignment]
        url = reverse("admin:integration_integrationjob_change", args=[obj.job_id])
        return format_html('<a href="{}">#{}</a> {}', url, obj.job_id, job_status_badge(job.status))

    @admin.display(description="ERP message")
    def erp_message_short(self, obj: CancellationRequest) -> str:
        return obj.erp_message[:120]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        counts = {
            state: CancellationRequest.objects.filter(state=state).count()
            for state in CancellationRequest.NEEDS_ATTENTION_STATES
        }
        context = {
            "attention_failed": counts[State.FAILED],
            "attention_local_only": counts[State.LOCAL_ONLY],
            "attention_total": sum(counts.values()),
            "showing_all": request.GET.get("attention") == ALL or "state__exact" in request.GET,
            "needs_attention_url": "?attention=" + NEEDS_ATTENTION,
            "all_url": "?attention=" + ALL,
        }
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def object_tools(self, request: HttpRequest, obj: CancellationRequest) -> list[dict[str, Any]]:
        if obj.needs_attention and self.has_resend_permission(request):
            return [
                {
                    "label": "Resend to ERP",
                    "url": reverse("admin:cancellations_cancellationrequest_resend", args=[obj.pk]),
                    "post": True,
                    "css": "danger",
                }
            ]
        return []

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/resend/",
                self.admin_site.admin_view(self.resend_view),
                name="cancellations_cancellationrequest_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: send a Failed or LocalOnly cancellation to the ERP again (same idempotency key)."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("There is no such cancellation.")
        if not self.has_resend_permission(request):
            raise PermissionDenied
        url = reverse("admin:cancellations_cancellationrequest_change", args=[obj.pk])
        if request.method != "POST":
            return HttpResponseRedirect(url)
        self._resend(request, obj)
        return HttpResponseRedirect(url)

    def _resend(self, request: HttpRequest, obj: CancellationRequest) -> bool:
        actor = actor_for_user(request.user)
        if actor is None:
            raise PermissionDenied
        try:
            resent = cancellation_resend(request_id=obj.pk, actor=actor)
        except DomainError as exc:
            messages.error(request, f"Cancellation #{obj.pk} ({obj.order}): {exc.message}")
            return False
        messages.success(
            request, f"Cancellation #{obj.pk} ({obj.order}) resent to the ERP: job #{resent.job_id} queued."
        )
        return True

    @admin.action(description="Resend to ERP", permissions=["resend"])
    def resend_to_erp(self, request: HttpRequest, queryset: QuerySet[CancellationRequest]) -> None:
        """Resend each selected Failed / LocalOnly cancellation; one that cannot be resent says why."""
        for obj in queryset.select_related("order").order_by("pk"):
            self._resend(request, obj)
