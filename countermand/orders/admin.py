"""Admin Console: Sales > Orders (read-only; Cancel Order and bulk cancel go through the cancellation
services), Order Status Mapping, and Order Drift."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from countermand.cancellations.admin import cancellation_lines_text
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import LinesNotCancellable, OrderNotCancellable, order_cancel_request
from countermand.console.badges import NOT_SENT_TEXT, cancellation_state_badge
from countermand.console.formatting import money_text, quantity_text
from countermand.console.forms import CancelOrderForm
from countermand.console.pages import ConsoleModelAdmin, ReadOnlyConsoleModelAdmin, ReadOnlyTabularInline
from countermand.console.sites import console_site
from countermand.core.errors import DomainError
from countermand.orders.actors import actor_for_user
from countermand.orders.models import Order, OrderDrift, OrderEvent, OrderLine, OrderStatusMapping
from countermand.orders.policies import Actor, Blocker
from countermand.orders.selectors import orders_blockers
from countermand.orders.services import order_drift_resolve, order_status_mapping_delete, order_status_mapping_save
from countermand.settings.selectors import settings_for

logger = logging.getLogger(__name__)
State = CancellationRequest.State


def _admin_actor(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None:  # the admin site only lets active staff in
        raise PermissionDenied
    return actor


def blockers_html(blockers: list[Blocker]) -> SafeString:
    if not blockers:
        return format_html('<span class="can-cancel">{}</span>', "✔ Can be cancelled")
    return format_html(
        '<ul class="blockers">{}</ul>',
        format_html_join(
            "", '<li>{} <span class="blocker-code">{}</span></li>', ((b.message, b.code) for b in blockers)
        ),
    )


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = (
        "line_number",
        "product_number",
        "description",
        "ordered",
        "shipped",
        "cancelled",
        "price",
        "line_total_column",
        "status",
    )
    readonly_fields = fields
    verbose_name = "Line"
    verbose_name_plural = "Lines"

    @admin.display(description="Ordered")
    def ordered(self, obj: OrderLine) -> str:
        return quantity_text(obj.quantity_ordered)

    @admin.display(description="Shipped")
    def shipped(self, obj: OrderLine) -> str:
        return quantity_text(obj.quantity_shipped)

    @admin.display(description="Cancelled")
    def cancelled(self, obj: OrderLine) -> str:
        return quantity_text(obj.quantity_cancelled)

    @admin.display(description="Unit price")
    def price(self, obj: OrderLine) -> str:
        return money_text(obj.unit_price)

    @admin.display(description="Line total")
    def line_total_column(self, obj: OrderLine) -> str:
        return money_text(obj.line_total)


class CancellationRequestInline(ReadOnlyTabularInline):
    model = CancellationRequest
    fk_name = "order"
    fields = (
        "link",
        "state_badge",
        "channel",
        "reason_code",
        "reason_text",
        "requested_by",
        "created_at",
        "lines_asked",
        "erp_message",
    )
    readonly_fields = fields
    verbose_name = "Cancellation Request"
    verbose_name_plural = "Cancellation Requests"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CancellationRequest]:
        return super().get_queryset(request).select_related("requested_by").prefetch_related("lines")

    @admin.display(description="Lines")
    def lines_asked(self, obj: CancellationRequest) -> str:
        """The request's lines ("line 2: 40 (confirmed 40)"); the whole order when it has none."""
        return cancellation_lines_text(obj)

    @admin.display(description="Request")
    def link(self, obj: CancellationRequest) -> SafeString:
        url = reverse("admin:cancellations_cancellationrequest_change", args=[obj.pk])
        return format_html('<a href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="State")
    def state_badge(self, obj: CancellationRequest) -> SafeString:
        return cancellation_state_badge(obj.state)


class OrderEventInline(ReadOnlyTabularInline):
    model = OrderEvent
    fields = ("created_at", "type", "channel_name", "old_status", "new_status", "actor", "message")
    readonly_fields = fields
    verbose_name = "Event"
    verbose_name_plural = "Events (audit trail)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="Channel")
    def channel_name(self, obj: OrderEvent) -> str:
        """The channel as people call it ("API", "Admin Console"), not its stored code."""
        channels = dict(CancellationRequest.Channel.choices)
        return str(channels.get(obj.channel, obj.channel or "—"))


class OrderChangeList(ChangeList):
    """Adds each listed order's cancellation blockers, for the whole page in a constant number of queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        actor = actor_for_user(request.user)
        if actor is None or not self.result_list:
            return
        page = list(self.result_list)
        blockers = orders_blockers(page, actor=actor)
        for order in page:
            order.console_blockers = blockers.get(order.pk, [])
        self.result_list = page


@admin.register(Order, site=console_site)
class OrderAdmin(ReadOnlyConsoleModelAdmin):
    """Orders come from the ERP: every field is read-only; cancelling goes through order_cancel_request."""

    show_cancel_job_banner = True
    change_form_template = "console/admin/order_change_form.html"
    # The number, its status and whether it can be cancelled first: on a phone they are what fits.
    list_display = (
        "web_number",
        "status_column",
        "can_cancel",
        "erp_number",
        "order_date",
        "customer_number",
        "total_column",
    )
    list_display_links = ("web_number",)
    list_filter = ("status", "website", ("customer", admin.RelatedOnlyFieldListFilter))
    search_fields = (
        "web_order_number",
        "erp_order_number",
        "customer__customer_number",
        "customer__name",
        "customer_po",
    )
    list_select_related = ("website", "customer")
    date_hierarchy = "order_date"
    actions = ["bulk_cancel"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "web_order_number",
                    "erp_order_number_column",
                    "status_column",
                    "order_date",
                    "website",
                    "customer",
                    "placed_by",
                    "customer_po_column",
                )
            },
        ),
        ("Totals", {"fields": ("currency", "subtotal", "tax_amount", "shipping_amount", "total")}),
    )
    readonly_fields = (
        "web_order_number",
        "erp_order_number_column",
        "status_column",
        "order_date",
        "website",
        "customer",
        "placed_by",
        "customer_po_column",
        "currency",
        "subtotal",
        "tax_amount",
        "shipping_amount",
        "total",
    )
    inlines = [OrderLineInline, CancellationRequestInline, OrderEventInline]

    # -- permissions: orders are never edited here; "cancel" is Django's change_order permission

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    # -- list and detail

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        mapping = OrderStatusMapping.objects.filter(erp_order_status=OuterRef("status")).values("display_name")[:1]
        default = OrderStatusMapping.objects.filter(is_default=True).values("display_name")[:1]
        queryset: QuerySet[Order] = (
            super()
            .get_queryset(request)
            .annotate(console_status_display=Coalesce(Subquery(mapping), Subquery(default)))
        )
        return queryset

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OrderChangeList

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj: Order) -> SafeString:
        shown = getattr(obj, "console_status_display", None)
        if shown and shown != obj.status:
            return format_html('<span title="{}">{}</span>', f"Buyers see: {shown}", obj.status)
        return format_html("{}", obj.status)

    @admin.display(description="Order", ordering="web_order_number")
    def web_number(self, obj: Order) -> str:
        return obj.web_order_number

    @admin.display(description="ERP order", ordering="erp_order_number")
    def erp_number(self, obj: Order) -> str:
        return obj.erp_order_number or "—"

    @admin.display(description="ERP order number")
    def erp_order_number_column(self, obj: Order) -> str:
        return obj.erp_order_number or "—"

    @admin.display(description="Customer PO")
    def customer_po_column(self, obj: Order) -> str:
        return obj.customer_po or "—"

    @admin.display(description="Total", ordering="total")
    def total_column(self, obj: Order) -> str:
        return f"{money_text(obj.total)} {obj.currency}".strip()

    @admin.display(description="Customer", ordering="customer__customer_number")
    def customer_number(self, obj: Order) -> str:
        return obj.customer.customer_number

    @admin.display(description="Can cancel")
    def can_cancel(self, obj: Order) -> SafeString:
        blockers = getattr(obj, "console_blockers", None)
        if blockers is None:
            return format_html("{}", "")
        if not blockers:
            return format_html('<span class="can-cancel" title="{}">✔</span>', "Can be cancelled")
        return format_html('<span class="cannot-cancel" title="{}">✖</span>', " ".join(b.message for b in blockers))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context: dict[str, Any] = {}
        order = self.get_object(request, object_id) if object_id else None
        actor = actor_for_user(request.user)
        if order is not None and actor is not None:
            # The blockers depend on who looks (DESIGN §4): the same list the storefront and API explain.
            context["order_blockers"] = blockers_html(orders_blockers([order], actor=actor).get(order.pk, []))
            context["may_cancel_order"] = self.has_cancel_permission(request)
            context["cancel_url"] = reverse("admin:orders_order_cancel", args=[order.pk])
        return super().changeform_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def object_tools(self, request: HttpRequest, obj: Order) -> list[dict[str, Any]]:
        if not self.has_cancel_permission(request):
            return []
        return [
            {
                "label": "Cancel Order",
                "url": reverse("admin:orders_order_cancel", args=[obj.pk]),
                "post": False,
                "css": "danger",
            }
        ]

    # -- Cancel Order

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name="orders_order_cancel"),
            *super().get_urls(),
        ]

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Cancel Order: reason + note (+ force) → order_cancel_request(channel="admin")."""
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("There is no such order.")
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        actor = _admin_actor(request)
        reasons = settings_for(website_id=order.website_id).cancellation_reasons
        form = CancelOrderForm(
            request.POST or None, reasons=reasons, may_force=actor.may_force, lines=list(order.lines.all())
        )
        if request.method == "POST" and form.is_valid():
            try:
                cancellation = order_cancel_request(
                    order=order,
                    actor=actor,
                    channel=CancellationRequest.Channel.ADMIN,
                    reason_code=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    force=bool(form.cleaned_data.get("force")),
                    lines=form.cancel_lines(),
                )
            except (OrderNotCancellable, LinesNotCancellable) as exc:
                form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_error(
                    "note" if exc.code == "REASON_REQUIRED" and form.cleaned_data["reason"] else None, exc.message
                )
            else:
                _report_cancellation(request, order, cancellation)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.page_context(request),
            "title": f"Cancel Order {order.web_order_number}",
            "crumb": f"{order} › Cancel Order",
            "order": order,
            "form": form,
            "reasons": reasons,
            "blockers": orders_blockers([order], actor=actor).get(order.pk, []),
            "may_force": actor.may_force,
            "opts": self.opts,
        }
        return TemplateResponse(request, "console/admin/order_cancel.html", context)

    # -- bulk cancel

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def bulk_cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        """Cancel many orders with one reason (channel "bulk"); each order succeeds or says why not."""
        actor = _admin_actor(request)
        orders = list(queryset.select_related("website", "customer").order_by("pk"))
        reasons = settings_for().cancellation_reasons
        if "apply" in request.POST:
            form = CancelOrderForm(request.POST, reasons=reasons, may_force=actor.may_force)
            if form.is_valid():
                results = [_cancel_one(order, actor=actor, form_data=form.cleaned_data) for order in orders]
                done = sum(1 for r in results if r["ok"])
                context = {
                    **self.page_context(request),
                    "title": "Bulk cancel: results",
                    "crumb": "Bulk cancel",
                    "results": results,
                    "done": done,
                    "failed": len(results) - done,
                    "local_only": sum(1 for r in results if r["ok"] and r["request"].state == State.LOCAL_ONLY),
                    "opts": self.opts,
                }
                return TemplateResponse(request, "console/admin/bulk_cancel_results.html", context)
        else:
            form = CancelOrderForm(reasons=reasons, may_force=actor.may_force)
        blockers = orders_blockers(orders, actor=actor)
        context = {
            **self.page_context(request),
            "title": f"Cancel {len(orders)} order{'s' if len(orders) != 1 else ''}",
            "crumb": "Bulk cancel",
            "rows": [{"order": o, "blockers": blockers.get(o.pk, [])} for o in orders],
            "form": form,
            "reasons": reasons,
            "may_force": actor.may_force,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "opts": self.opts,
        }
        return TemplateResponse(request, "console/admin/bulk_cancel.html", context)


def _cancel_one(order: Order, *, actor: Actor, form_data: dict[str, Any]) -> dict[str, Any]:
    """One order of a bulk cancel: its request, or why it was not cancelled. One bad order never stops the rest."""
    try:
        cancellation = order_cancel_request(
            order=order,
            actor=actor,
            channel=CancellationRequest.Channel.BULK,
            reason_code=form_data["reason"],
            note=form_data.get("note", ""),
            force=bool(form_data.get("force")),
        )
    except DomainError as exc:
        return {"order": order, "ok": False, "message": exc.message, "code": exc.code, "request": None}
    except Exception as exc:  # a bug must cost one order, not the whole batch
        logger.exception("bulk cancel of order %s failed", order)
        return {"order": order, "ok": False, "message": f"Unexpected error: {exc}", "code": "ERROR", "request": None}
    if cancellation.state == State.LOCAL_ONLY:
        message = f"Cancelled here only — {NOT_SENT_TEXT}."
    else:
        message = f"Cancellation requested; job #{cancellation.job_id} tells the ERP."
    return {"order": order, "ok": True, "message": message, "code": cancellation.state, "request": cancellation}


def _report_cancellation(request: HttpRequest, order: Order, cancellation: CancellationRequest) -> None:
    if cancellation.state == State.LOCAL_ONLY:
        messages.error(
            request,
            f"Order {order.web_order_number} is cancelled HERE ONLY — {NOT_SENT_TEXT}: there is no active "
            "OrderCancel job definition. Create it, then resend the cancellation (Sales › Cancellations).",
        )
    else:
        messages.success(
            request,
            f"Cancellation of order {order.web_order_number} requested; job #{cancellation.job_id} tells the ERP.",
        )


class OrderStatusMappingForm(forms.ModelForm):  # type: ignore[type-arg]  # not subscriptable at run time
    class Meta:
        model = OrderStatusMapping
        fields = ("erp_order_status", "display_name", "allow_cancellation", "allow_rma", "is_default")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("is_default"):
            other = OrderStatusMapping.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
            if other is not None:
                self.add_error(
                    "is_default",
                    f"{other.erp_order_status} is already the default mapping; untick Is Default there first.",
                )
        return cleaned


@admin.register(OrderStatusMapping, site=console_site)
class OrderStatusMappingAdmin(ConsoleModelAdmin):
    form = OrderStatusMappingForm
    list_display = ("erp_order_status", "display_name", "allow_cancellation", "allow_rma", "is_default")
    list_filter = ("allow_cancellation", "allow_rma", "is_default")
    search_fields = ("erp_order_status", "display_name")
    fields = ("erp_order_status", "display_name", "allow_cancellation", "allow_rma", "is_default")

    def save_model(self, request: HttpRequest, obj: OrderStatusMapping, form: Any, change: bool) -> None:
        order_status_mapping_save(mapping=obj, actor_id=request.user.pk)

    def delete_model(self, request: HttpRequest, obj: OrderStatusMapping) -> None:
        order_status_mapping_delete(mapping_id=obj.pk, actor_id=request.user.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OrderStatusMapping]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            order_status_mapping_delete(mapping_id=pk, actor_id=request.user.pk)


@admin.register(OrderDrift, site=console_site)
class OrderDriftAdmin(ReadOnlyConsoleModelAdmin):
    """Orders whose ERP state contradicts ours, found by the order history refresh (read-only)."""

    list_display = ("order", "kind", "our_status", "erp_status", "detected_at", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("order__web_order_number", "order__erp_order_number")
    list_select_related = ("order",)
    fields = ("order", "kind", "our_status", "erp_status", "message", "detected_at", "resolved_at")
    readonly_fields = fields
    actions = ["mark_resolved"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.action(description="Mark resolved (the order and the ERP agree again)", permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: Any) -> None:
        open_ids = list(queryset.filter(resolved_at__isnull=True).values_list("pk", flat=True))
        for drift_id in open_ids:
            order_drift_resolve(drift_id=drift_id, actor_id=request.user.pk)
        self.message_user(request, f"{len(open_ids)} drift record(s) marked resolved.")
