"""Buyer endpoints: the order history of the caller's customer on the caller's websites, and cancelling."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from countermand.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, cancel_idempotent
from countermand.api.permissions import IsBuyer
from countermand.api.serializers import (
    CancelRequestSerializer,
    OrderCollectionSerializer,
    OrderDetailSerializer,
    OrderPatchSerializer,
    OrderQuerySerializer,
    OrderStatusMappingCollectionSerializer,
    OrderStatusMappingSerializer,
    OrderSummarySerializer,
    cancel_lines_pairs,
    pagination_data,
)
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.core.errors import ValidationFailed
from countermand.orders.history import order_history_page, orders_shown
from countermand.orders.models import Order
from countermand.orders.policies import Actor
from countermand.orders.selectors import buyer_order_get, buyer_orders, order_latest_cancellation, status_mappings
from countermand.settings.selectors import setting_get

ORDER_NUMBER = OpenApiParameter(
    "orderNumber",
    str,
    OpenApiParameter.PATH,
    description="The web order number or the ERP order number.",
    examples=[OpenApiExample("Web order number", value="WEB-1001"), OpenApiExample("ERP number", value="ERP-5002")],
)


def order_detail_data(order: Order, actor: Actor) -> dict[str, Any]:
    """The order as `GET /api/v1/orders/{orderNumber}` shows it to `actor`."""
    order = Order.objects.select_related("website", "customer").prefetch_related("lines").get(pk=order.pk)
    context = {
        "shown": orders_shown([order], actor=actor, with_lines=True),
        "cancellation": order_latest_cancellation(order),
    }
    return OrderDetailSerializer(order, context=context).data


class BuyerView(APIView):
    permission_classes = [IsBuyer]

    @property
    def actor(self) -> Actor:
        return self.request.actor  # type: ignore[attr-defined]


class OrderListView(BuyerView):
    @extend_schema(
        tags=["orders"],
        operation_id="orders_list",
        parameters=[OrderQuerySerializer],
        responses={200: OrderCollectionSerializer},
        description="The order history of the caller's customer on the caller's websites, newest first.",
    )
    def get(self, request: Request) -> Response:
        query = OrderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = buyer_orders(self.actor)
        website_ids = set(self.actor.website_ids)
        website_id = query.validated_data.get("websiteId")
        if website_id is not None:
            if website_id not in website_ids:
                raise serializers.ValidationError({"websiteId": "You have no account on that website."})
            website_ids = {website_id}
            orders = orders.filter(website_id=website_id)
        orders = query.filters().apply(orders)
        page = order_history_page(
            orders,
            page=query.validated_data["page"],
            page_size=query.validated_data["pageSize"],
            website_ids=sorted(website_ids),
        )
        shown = orders_shown(page.items, actor=self.actor, website_ids=sorted(website_ids))
        return Response(
            {
                "orders": OrderSummarySerializer(page.items, many=True, context={"shown": shown}).data,
                "pagination": pagination_data(page),
                "showErpOrderNumber": all(shown.show_erp_number.values()) if shown.show_erp_number else True,
            }
        )


class OrderDetailView(BuyerView):
    error_statuses = {"patch": (409, 422)}

    @extend_schema(
        tags=["orders"],
        operation_id="orders_retrieve",
        parameters=[ORDER_NUMBER],
        responses={200: OrderDetailSerializer},
        description="One order with its lines, `canCancel`, `cancelBlockers` and its latest cancellation. "
        "Another customer's order is 404.",
    )
    def get(self, request: Request, orderNumber: str) -> Response:
        order = buyer_order_get(self.actor, orderNumber)
        return Response(order_detail_data(order, self.actor))

    @extend_schema(
        tags=["orders"],
        operation_id="orders_partial_update",
        parameters=[ORDER_NUMBER, IDEMPOTENCY_KEY_PARAMETER],
        request=OrderPatchSerializer,
        responses={200: OrderDetailSerializer},
        description='Compatibility with the original storefront: `{"status": "CancellationRequested", '
        '"cancellationReason": "…"}` requests the cancellation (as `POST …/cancel` does). A `status` equal '
        "to the order's current status changes nothing; any other status is refused (400). With `lines` "
        "(and status CancellationRequested), only those quantities of those lines, as with `POST …/cancel`: "
        "a line that cannot be is 409 LINES_NOT_CANCELLABLE with `blockers` [{lineNumber, code, message}].",
    )
    def patch(self, request: Request, orderNumber: str) -> Response:
        order = buyer_order_get(self.actor, orderNumber)
        body = OrderPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = cancel_lines_pairs(body.validated_data["lines"])
        return cancel_idempotent(
            request,
            order=order,
            lines=lines,
            cancel=lambda: self._status_change(order, body.validated_data, lines),
            answer=lambda: order_detail_data(order, self.actor),
        )

    def _status_change(self, order: Order, data: dict[str, Any], lines: list[tuple[int, Decimal]]) -> None:
        wanted = data["status"].strip()
        requested_status = setting_get("CancellationRequestedStatus")
        if lines and wanted != requested_status:
            raise ValidationFailed(
                f"`lines` asks for a partial cancellation: send them with status {requested_status}.",
                code="UNSUPPORTED_STATUS_CHANGE",
                fields={"lines": [f"Only with status {requested_status}."]},
            )
        # Lines are a request even when the order already shows the requested status (a whole-order request
        # is open): the service refuses it, and a repeat is told apart from a different ask.
        if wanted != order.status or lines:
            if wanted != requested_status:
                raise ValidationFailed(
                    f"A buyer can only change an order's status to {requested_status} (request its cancellation).",
                    code="UNSUPPORTED_STATUS_CHANGE",
                    fields={"status": [f"Only {requested_status} is accepted."]},
                )
            reason = data.get("cancellationReason", "")
            if not reason.strip():
                raise ValidationFailed(
                    "Give a cancellationReason (one of the order's cancellationReasons).",
                    code="REASON_REQUIRED",
                    fields={"cancellationReason": ["This field is required to request a cancellation."]},
                )
            order_cancel_request(
                order=order,
                actor=self.actor,
                channel=CancellationRequest.Channel.API,
                reason_code=reason,
                note=data["note"],
                lines=lines,
            )


class OrderCancelView(BuyerView):
    error_statuses = {"post": (409, 422)}

    @extend_schema(
        tags=["orders"],
        operation_id="orders_cancel",
        parameters=[ORDER_NUMBER, IDEMPOTENCY_KEY_PARAMETER],
        request=CancelRequestSerializer,
        responses={200: OrderDetailSerializer},
        description="Request the cancellation of the order. The ERP answers later: follow `cancellation.state` "
        "(Requested → Sent → Confirmed | Denied). Not cancellable: 409 ORDER_NOT_CANCELLABLE with `blockers`. "
        "With `lines`, only those quantities of those lines (partial cancellation, when the website allows it); "
        "a line that cannot be: 409 LINES_NOT_CANCELLABLE with `blockers` [{lineNumber, code, message}]. "
        "A repeat by the same buyer while their request is open answers 200 with it when it asks the same (same "
        "lines and quantities, or both the whole order), else 409 ALREADY_REQUESTED; see `Idempotency-Key`.",
    )
    def post(self, request: Request, orderNumber: str) -> Response:
        order = buyer_order_get(self.actor, orderNumber)
        body = CancelRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = cancel_lines_pairs(body.validated_data["lines"])
        return cancel_idempotent(
            request,
            order=order,
            lines=lines,
            cancel=lambda: order_cancel_request(
                order=order,
                actor=self.actor,
                channel=CancellationRequest.Channel.API,
                reason_code=body.validated_data["reason"],
                note=body.validated_data["note"],
                lines=lines,
            ),
            answer=lambda: order_detail_data(order, self.actor),
        )


class OrderStatusMappingListView(APIView):
    @extend_schema(
        tags=["orders"],
        operation_id="orderstatusmappings_list",
        responses={200: OrderStatusMappingCollectionSerializer},
        description="ERP status → display name, and whether orders in it may be cancelled or returned.",
    )
    def get(self, request: Request) -> Response:
        return Response({"orderStatusMappings": OrderStatusMappingSerializer(status_mappings(), many=True).data})
