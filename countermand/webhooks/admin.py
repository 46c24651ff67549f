"""Admin Console: Administration > Jobs > Webhook Subscriptions (secret write-only, *Send test event*, a banner
for subscriptions the failure streak disabled) and Webhook Deliveries (history with every attempt, *Redeliver*)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from countermand.console.badges import breaker_badge, job_status_badge
from countermand.console.pages import ConsoleModelAdmin, ReadOnlyConsoleModelAdmin, ReadOnlyTabularInline
from countermand.console.sites import console_site
from countermand.core.errors import DomainError
from countermand.core.events import DomainEventType
from countermand.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from countermand.webhooks.services import (
    delivery_redeliver,
    subscription_delete,
    subscription_save,
    subscription_test_send,
    subscription_validate,
)
from countermand.webhooks.signing import secret_check, secret_generate

State = WebhookDelivery.State
_STATE_CSS: dict[str, str] = {
    State.PENDING: "badge-info",
    State.WAITING: "badge-info",
    State.HELD: "badge-warn",
    State.DELIVERED: "badge-ok",
    State.FAILED: "badge-bad",
    State.CANCELLED: "badge-muted",
}


def delivery_state_badge(state: str) -> SafeString:
    return format_html('<span class="badge {}">{}</span>', _STATE_CSS.get(state, "badge-muted"), state)


class WebhookSubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(t.value, t.value) for t in DomainEventType], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label="Signing secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="whsec_ + base64 of 24–64 random bytes. Leave empty to keep the stored one; on a new "
        "subscription, empty generates one and shows it once. A new secret rotates it: the old one still "
        "signs for WebhookSecretOverlapHours.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "description", "event_types", "website", "ordered", "is_active")

    def clean(self) -> dict[str, Any]:
        """The service's checks, shown on the form's fields (URL, event types, secret format)."""
        cleaned = super().clean() or {}
        probe = WebhookSubscription(url=cleaned.get("url", ""), event_types=cleaned.get("event_types") or [])
        checks: list[tuple[str, Any]] = [("url", lambda: subscription_validate(probe))]
        if cleaned.get("secret"):
            checks.append(("secret", lambda: secret_check(cleaned["secret"])))
        for field, check in checks:
            try:
                check()
            except DomainError as exc:
                self.add_error(field if exc.details.get("field") != "eventTypes" else "event_types", exc.message)
        return cleaned


@admin.register(WebhookSubscription, site=console_site)
class WebhookSubscriptionAdmin(ConsoleModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("id", "url", "description", "types_column", "website", "active_column", "breaker_column")
    list_display_links = ("id", "url")
    list_filter = ("is_active", "website")
    search_fields = ("url", "description")
    readonly_fields = ("secret_status", "failure_streak", "disabled_at", "disabled_reason", "breaker_column")
    actions = ["send_test_events"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookSubscription]:
        return super().get_queryset(request).select_related("website", "connection")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        fieldsets: list[Any] = [
            (None, {"fields": ("url", "description", "event_types", "website", "ordered", "is_active")}),
            ("Signing", {"fields": ("secret", "secret_status")}),
        ]
        if obj is not None:
            fieldsets.append(
                ("Delivery health", {"fields": ("failure_streak", "disabled_at", "disabled_reason", "breaker_column")})
            )
        return fieldsets

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        secret = form.cleaned_data.get("secret") or None
        generated = ""
        if not change and not secret:
            secret = generated = secret_generate()
        subscription_save(subscription=obj, secret=secret, actor_id=request.user.pk)  # the form checked its input
        if generated:
            messages.warning(
                request,
                f"Signing secret of subscription {obj.pk} (shown once, copy it to the receiver now): {generated}",
            )

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        subscription_delete(subscription_id=obj.pk, actor_id=request.user.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            subscription_delete(subscription_id=pk, actor_id=request.user.pk)

    @admin.display(description="Stored secret")
    def secret_status(self, obj: WebhookSubscription) -> str:
        if not obj.pk:
            return "Not set"
        if obj.previous_secret_encrypted and obj.previous_secret_expires_at:
            return (
                f"Set (hidden); the previous one also signs until {obj.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC"
            )
        return "Set (hidden)"

    @admin.display(description="Event types")
    def types_column(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="Active", ordering="is_active")
    def active_column(self, obj: WebhookSubscription) -> SafeString:
        if obj.is_active:
            return format_html('<span class="badge badge-ok">{}</span>', "Active")
        if obj.auto_disabled:
            return format_html(
                '<span class="badge badge-bad" title="{}">Disabled (failures)</span>', obj.disabled_reason
            )
        return format_html('<span class="badge badge-muted">{}</span>', "Inactive")

    @admin.display(description="Breaker")
    def breaker_column(self, obj: WebhookSubscription) -> SafeString:
        return breaker_badge(obj.connection.breaker_state)

    def has_test_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.test_webhooksubscription")

    def object_tools(self, request: HttpRequest, obj: WebhookSubscription) -> list[dict[str, Any]]:
        if not self.has_test_permission(request):
            return []
        url = reverse("admin:webhooks_webhooksubscription_test", args=[obj.pk])
        return [{"label": "Send test event", "url": url, "post": True, "css": ""}]

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="webhooks_webhooksubscription_test",
            ),
            *super().get_urls(),
        ]

    def _send_test(self, request: HttpRequest, subscription: WebhookSubscription) -> None:
        try:
            delivery = subscription_test_send(subscription_id=subscription.pk, actor_id=request.user.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        url = reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
        messages.success(
            request,
            format_html('Test event queued for {}: <a href="{}">delivery {}</a>.', subscription, url, delivery.pk),
        )

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = self.get_object(request, object_id)
        if subscription is None:
            raise Http404("There is no such subscription.")
        if not self.has_test_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._send_test(request, subscription)
        return HttpResponseRedirect(reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]))

    @admin.action(description="Send test event", permissions=["test"])
    def send_test_events(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset.order_by("id"):
            self._send_test(request, subscription)


class AttemptInline(ReadOnlyTabularInline):
    model = WebhookDeliveryAttempt
    fields = (
        "attempt",
        "job_id",
        "attempted_at",
        "status_code",
        "duration_ms",
        "succeeded",
        "response_excerpt",
        "error",
    )
    readonly_fields = fields
    ordering = ("id",)


@admin.register(WebhookDelivery, site=console_site)
class WebhookDeliveryAdmin(ReadOnlyConsoleModelAdmin):
    list_display = (
        "id",
        "event_type",
        "subscription",
        "order",
        "state_column",
        "attempt_count",
        "last_status_code",
        "last_attempt_at",
        "job_column",
    )
    list_filter = ("state", "event_type", "subscription")
    search_fields = ("message_id", "order__web_order_number")
    inlines = [AttemptInline]
    actions = ["redeliver"]
    fields = (
        "message_id",
        "event_id",
        "event_type",
        "occurred_at",
        "subscription",
        "order",
        "state_column",
        "job_column",
        "attempt_count",
        "last_status_code",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("subscription", "order", "job")

    @admin.display(description="State", ordering="state")
    def state_column(self, obj: WebhookDelivery) -> SafeString:
        return delivery_state_badge(obj.state)

    @admin.display(description="Job")
    def job_column(self, obj: WebhookDelivery) -> SafeString | str:
        if obj.job is None:
            return "—"
        url = reverse("admin:integration_integrationjob_change", args=[obj.job_id])
        return format_html('<a href="{}">#{}</a> {}', url, obj.job_id, job_status_badge(obj.job.status))

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    def object_tools(self, request: HttpRequest, obj: WebhookDelivery) -> list[dict[str, Any]]:
        if not self.has_redeliver_permission(request) or obj.state in WebhookDelivery.OPEN_STATES:
            return []
        url = reverse("admin:webhooks_webhookdelivery_redeliver", args=[obj.pk])
        return [{"label": "Redeliver", "url": url, "post": True, "css": ""}]

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/redeliver/",
                self.admin_site.admin_view(self.redeliver_view),
                name="webhooks_webhookdelivery_redeliver",
            ),
            *super().get_urls(),
        ]

    def _redeliver(self, request: HttpRequest, delivery: WebhookDelivery) -> None:
        try:
            delivery_redeliver(delivery_id=delivery.pk, actor_id=request.user.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        messages.success(request, f"Delivery {delivery.pk} queued again (same webhook-id {delivery.message_id}).")

    def redeliver_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        delivery = self.get_object(request, object_id)
        if delivery is None:
            raise Http404("There is no such delivery.")
        if not self.has_redeliver_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self._redeliver(request, delivery)
        return HttpResponseRedirect(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))

    @admin.action(description="Redeliver", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.order_by("id"):
            self._redeliver(request, delivery)
