"""Admin API shapes of webhooks: subscriptions (the signing secret write-only), deliveries and their attempts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from countermand.api.serializers import JsonModelSerializer, PageQuerySerializer, PaginationSerializer, actor_id, camel
from countermand.core.events import DomainEventType
from countermand.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from countermand.webhooks.services import subscription_save
from countermand.websites.models import Website

INT32_MAX = 2**31 - 1
SECRET_PATTERN = r"^whsec_[A-Za-z0-9+/]{32,88}={0,2}$"


class WebhookSubscriptionSerializer(JsonModelSerializer):
    """A webhook subscription. `secret` is write-only (stored encrypted, never returned); a new one rotates
    it, the old one signing beside it for `WebhookSecretOverlapHours`."""

    eventTypes = serializers.ListField(
        source="event_types",
        child=serializers.ChoiceField(choices=[t.value for t in DomainEventType]),
        min_length=1,
        max_length=len(DomainEventType),
        help_text="The event types sent to this URL.",
    )
    websiteId = serializers.PrimaryKeyRelatedField(
        source="website",
        queryset=Website.objects.all(),
        allow_null=True,
        required=False,
        help_text="Only events of this website's orders (null: every website).",
    )
    secret = serializers.RegexField(
        SECRET_PATTERN,
        write_only=True,
        max_length=100,
        style={"input_type": "password"},
        help_text="whsec_ + base64 of 24 to 64 random bytes (Standard Webhooks). Never returned.",
    )
    hasPreviousSecret = serializers.SerializerMethodField(
        help_text="The previous secret still signs (a rotation's overlap) until previousSecretExpiresAt."
    )
    previousSecretExpiresAt = serializers.DateTimeField(
        source="previous_secret_expires_at", read_only=True, allow_null=True
    )
    autoDisabled = serializers.BooleanField(source="auto_disabled", read_only=True)

    class Meta:
        model = WebhookSubscription
        fields, extra_kwargs = camel(
            "id",
            "url",
            "description",
            "ordered",
            "is_active",
            "failure_streak",
            "disabled_at",
            "disabled_reason",
            "connection_id",
            "created_at",
            "updated_at",
            url={"max_length": 500},
            connectionId={"read_only": True, "help_text": "The connection whose circuit breaker guards this URL."},
        )
        fields += [
            "eventTypes",
            "websiteId",
            "secret",
            "hasPreviousSecret",
            "previousSecretExpiresAt",
            "autoDisabled",
        ]
        read_only_fields = ["failureStreak", "disabledAt", "disabledReason", "createdAt", "updatedAt"]

    def get_hasPreviousSecret(self, subscription: WebhookSubscription) -> bool:
        return bool(subscription.previous_secret_encrypted and subscription.previous_secret_expires_at)

    def create(self, validated_data: dict[str, Any]) -> WebhookSubscription:
        secret = validated_data.pop("secret", None)
        return subscription_save(
            subscription=WebhookSubscription(**validated_data), secret=secret, actor_id=actor_id(self)
        )

    def update(self, instance: WebhookSubscription, validated_data: dict[str, Any]) -> WebhookSubscription:
        secret = validated_data.pop("secret", None)  # omitted (PATCH): the stored secret stays
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return subscription_save(subscription=instance, secret=secret, actor_id=actor_id(self))


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class WebhookSubscriptionCollectionSerializer(serializers.Serializer):
    webhookSubscriptions = WebhookSubscriptionSerializer(many=True)


class WebhookDeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDeliveryAttempt
        fields, extra_kwargs = camel(
            "attempt", "job_id", "attempted_at", "status_code", "duration_ms", "response_excerpt", "error", "succeeded"
        )
        fields += ["jobNumber"]
        fields.remove("jobId")

    jobNumber = serializers.IntegerField(source="job_id", read_only=True, allow_null=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """A delivery: the event, the body sent, where it stands, and every HTTP attempt."""

    webhookId = serializers.CharField(source="message_id", read_only=True, help_text="The webhook-id header.")
    eventId = serializers.UUIDField(source="event_id", read_only=True)
    subscriptionId = serializers.IntegerField(source="subscription_id", read_only=True)
    orderNumber = serializers.CharField(source="order.web_order_number", read_only=True, default=None)
    jobNumber = serializers.IntegerField(source="job_id", read_only=True, allow_null=True)
    body = serializers.JSONField(source="payload", read_only=True, help_text="The JSON body, as signed and sent.")
    attempts = WebhookDeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields, extra_kwargs = camel(
            "id",
            "event_type",
            "occurred_at",
            "state",
            "attempt_count",
            "last_status_code",
            "last_attempt_at",
            "delivered_at",
        )
        fields += ["webhookId", "eventId", "subscriptionId", "orderNumber", "jobNumber", "body", "attempts"]
        read_only_fields = fields


@extend_schema_serializer(many=False)
class WebhookDeliveryCollectionSerializer(serializers.Serializer):
    webhookDeliveries = WebhookDeliverySerializer(many=True)
    pagination = PaginationSerializer()


class WebhookDeliveryQuerySerializer(PageQuerySerializer):
    subscriptionId = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)
    state = serializers.ChoiceField(choices=WebhookDelivery.State.values, required=False)
    eventType = serializers.CharField(required=False, max_length=50)
