"""Admin API of webhooks: `/api/v1/admin/webhooksubscriptions` (+ `test`) and `/api/v1/admin/webhookdeliveries`
(+ `redeliver`). Thin: the serializers check input, the webhooks services write, the selectors read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from countermand.api import webhook_serializers as s
from countermand.api.serializers import pagination_data
from countermand.api.views.admin import AdminViewSet, crud_permissions, crud_schema
from countermand.orders.history import plain_page
from countermand.webhooks.models import WebhookSubscription
from countermand.webhooks.selectors import deliveries_with_attempts, subscriptions_all
from countermand.webhooks.services import delivery_redeliver, subscription_delete, subscription_test_send

TAG_SUBSCRIPTIONS, TAG_DELIVERIES = "admin: webhook subscriptions", "admin: webhook deliveries"


@crud_schema(TAG_SUBSCRIPTIONS, s.WebhookSubscriptionCollectionSerializer)
class WebhookSubscriptionViewSet(
    AdminViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = subscriptions_all()
    serializer_class = s.WebhookSubscriptionSerializer
    required_permissions = {
        **crud_permissions("webhooks", "webhooksubscription"),
        "test": ("webhooks.test_webhooksubscription",),
    }
    collection_key = "webhookSubscriptions"
    error_statuses = {"post": (409,), "put": (409,), "patch": (409,), "delete": (409,)}

    def delete_instance(self, instance: WebhookSubscription) -> None:
        subscription_delete(subscription_id=instance.pk, actor_id=self.request.user.pk)

    @extend_schema(
        tags=[TAG_SUBSCRIPTIONS],
        operation_id="admin_webhooksubscriptions_test",
        request=None,
        responses={202: s.WebhookDeliverySerializer},
        description="Send a signed `webhook.test` event to the subscription through the delivery queue.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        delivery = subscription_test_send(subscription_id=subscription.pk, actor_id=request.user.pk)
        shown = deliveries_with_attempts().get(pk=delivery.pk)
        return Response(s.WebhookDeliverySerializer(shown).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryViewSet(AdminViewSet, mixins.RetrieveModelMixin):
    queryset = deliveries_with_attempts()
    serializer_class = s.WebhookDeliverySerializer
    required_permissions = {
        "list": ("webhooks.view_webhookdelivery",),
        "retrieve": ("webhooks.view_webhookdelivery",),
        "redeliver": ("webhooks.change_webhookdelivery",),
    }
    error_statuses = {"post": (409,)}

    @extend_schema(
        tags=[TAG_DELIVERIES],
        parameters=[s.WebhookDeliveryQuerySerializer],
        responses={200: s.WebhookDeliveryCollectionSerializer},
        description="Delivery history, newest first, each with its attempts (response code, time, body excerpt).",
    )
    def list(self, request: Request) -> Response:
        query = s.WebhookDeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        deliveries = self.get_queryset()
        if "subscriptionId" in wanted:
            deliveries = deliveries.filter(subscription_id=wanted["subscriptionId"])
        if "state" in wanted:
            deliveries = deliveries.filter(state=wanted["state"])
        if "eventType" in wanted:
            deliveries = deliveries.filter(event_type=wanted["eventType"])
        page = plain_page(deliveries.order_by("-id"), page=wanted["page"], page_size=wanted["pageSize"])
        return Response(
            {"webhookDeliveries": self.get_serializer(page.items, many=True).data, "pagination": pagination_data(page)}
        )

    @extend_schema(tags=[TAG_DELIVERIES])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        tags=[TAG_DELIVERIES],
        operation_id="admin_webhookdeliveries_redeliver",
        request=None,
        responses={202: s.WebhookDeliverySerializer},
        description="Send a finished delivery again: same webhook-id and body, a new job with fresh attempts.",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        delivery = self.get_object()
        delivery_redeliver(delivery_id=delivery.pk, actor_id=request.user.pk)
        shown = deliveries_with_attempts().get(pk=delivery.pk)
        return Response(self.get_serializer(shown).data, status=status.HTTP_202_ACCEPTED)
