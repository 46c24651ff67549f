"""The bodies of webhook deliveries: the order, its cancellation and drift as the admin REST API shows them
(the same camelCase names and formats: `AdminOrderDetailSerializer`, `AdminCancellationSerializer`), read
in the publishing transaction, so a delivery tells the state the event left behind even when it is
delivered late. Without the order's audit trail and the buyer's options (`canCancel`, `cancelBlockers`):
those are the caller's view, not the event's."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.orders.models import Order, OrderDrift, OrderStatusMapping
from countermand.orders.selectors import status_display


def timestamp(moment: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the REST API writes times."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def number(value: decimal.Decimal | None) -> float | None:
    """Amounts and quantities as JSON numbers, as the REST API writes them."""
    return None if value is None else float(value)


def order_data(order: Order, mappings: list[OrderStatusMapping]) -> dict[str, Any]:
    return {
        "webOrderNumber": order.web_order_number,
        "erpOrderNumber": order.erp_order_number,
        "orderDate": order.order_date.isoformat(),
        "websiteId": order.website_id,
        "websiteName": order.website.name,
        "customerNumber": order.customer.customer_number,
        "customerName": order.customer.name,
        "customerPO": order.customer_po,
        "currencyCode": order.currency,
        "status": order.status,
        "statusDisplay": status_display(order.status, mappings),
        "orderTotal": number(order.total),
        "productTotal": number(order.subtotal),
        "taxAmount": number(order.tax_amount),
        "shippingCharges": number(order.shipping_amount),
        "orderLines": [
            {
                "lineNumber": line.line_number,
                "productErpNumber": line.product_number,
                "description": line.description,
                "qtyOrdered": number(line.quantity_ordered),
                "qtyShipped": number(line.quantity_shipped),
                "qtyCancelled": number(line.quantity_cancelled),
                "qtyCancellable": number(line.quantity_cancellable),
                "unitNetPrice": number(line.unit_price),
                "lineTotal": number(line.line_total),
                "status": line.status,
            }
            for line in order.lines.all()
        ],
    }


def cancellation_data(request: CancellationRequest, order: Order) -> dict[str, Any]:
    return {
        "id": request.pk,
        "orderNumber": order.web_order_number,
        "erpOrderNumber": order.erp_order_number,
        "state": request.state,
        "reason": request.reason_code,
        "note": request.reason_text,
        "requestedAt": timestamp(request.created_at),
        "resolvedAt": timestamp(request.resolved_at),
        "erpMessage": request.erp_message,
        "channel": request.channel,
        "forced": request.forced,
        "previousStatus": request.previous_status,
        "erpReference": request.erp_reference,
        "sendCount": request.send_count,
        "needsAttention": request.needs_attention,
        "notSentToErp": request.state == CancellationRequest.State.LOCAL_ONLY,
        "lines": [  # a partial cancellation's lines; empty: the whole order
            {
                "lineNumber": line.line_number,
                "quantity": number(line.quantity),
                "quantityConfirmed": number(line.quantity_confirmed),
            }
            for line in request.lines.all()
        ],
    }


def drift_data(drift: OrderDrift) -> dict[str, Any]:
    return {
        "id": drift.pk,
        "kind": drift.kind,
        "ourStatus": drift.our_status,
        "erpStatus": drift.erp_status,
        "message": drift.message,
        "detectedAt": timestamp(drift.detected_at),
    }


def event_data(*, order_id: int, cancellation_id: int | None, drift_id: int | None) -> dict[str, Any]:
    """The `data` of an event's body: `order`, and `cancellation` or `drift` when the event has one.
    A constant number of queries (order with website, customer and lines; mappings; the request or drift)."""
    order = Order.objects.select_related("website", "customer").prefetch_related("lines").get(pk=order_id)
    data: dict[str, Any] = {"order": order_data(order, list(OrderStatusMapping.objects.all()))}
    if cancellation_id is not None:
        data["cancellation"] = cancellation_data(CancellationRequest.objects.get(pk=cancellation_id), order)
    if drift_id is not None:
        data["drift"] = drift_data(OrderDrift.objects.get(pk=drift_id))
    return data


def body(
    *, message_id: str, event_id: str, event_type: str, occurred_at: datetime.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """A delivery's JSON body (Standard Webhooks: `type`, `timestamp`, `data`; plus the ids to dedupe on)."""
    return {
        "id": message_id,
        "eventId": event_id,
        "type": event_type,
        "timestamp": timestamp(occurred_at or timezone.now()),
        "data": data,
    }
