"""Reads of the cancellation domain."""

from __future__ import annotations

from collections.abc import Collection

from countermand.cancellations.models import CancellationRequest


def cancellation_orders_held(order_ids: Collection[int]) -> set[int]:
    """The orders among `order_ids` with an open cancellation request: their status is held (the
    lookup cancellations registers with orders, see apps.py)."""
    return set(
        CancellationRequest.objects.filter(
            order_id__in=list(order_ids), state__in=CancellationRequest.OPEN_STATES
        ).values_list("order_id", flat=True)
    )


def open_cancellation_of(*, order_id: int, user_id: int | None) -> CancellationRequest | None:
    """The open cancellation request of the order if `user_id` asked for it, else None (a repeat of one's own
    request is answered with it, see countermand/api/idempotency.py)."""
    if user_id is None:
        return None
    return CancellationRequest.objects.filter(
        order_id=order_id, state__in=CancellationRequest.OPEN_STATES, requested_by_id=user_id
    ).first()
