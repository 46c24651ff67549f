"""The domain-event port: what happened to an order, told to whoever listens (the webhooks app), in the
transaction that made it happen.

The apps that change orders (cancellations, orders) sit *below* the apps that publish their news to other
systems (webhooks), so they cannot import them. They call `domain_event_publish(...)` once per event,
inside the service's transaction; the webhooks app registers a listener in its `AppConfig.ready()`:

    from countermand.core.events import domain_event_listener_register
    domain_event_listener_register(webhook_event_publish)

A listener runs inside the caller's transaction (it writes its outbox rows there: they commit with the
change or not at all) and must not call out (HTTP, mail) except through `transaction.on_commit`. With no
listener registered, publishing does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DomainEventType(StrEnum):
    """The events other systems can subscribe to (the webhook event types: a public contract)."""

    CANCELLATION_REQUESTED = "cancellation.requested"
    CANCELLATION_SENT = "cancellation.sent"
    CANCELLATION_CONFIRMED = "cancellation.confirmed"
    CANCELLATION_DENIED = "cancellation.denied"
    CANCELLATION_FAILED = "cancellation.failed"
    CANCELLATION_LOCAL_ONLY = "cancellation.local_only"
    ORDER_DRIFT_FOUND = "order.drift_found"


@dataclass(frozen=True)
class DomainEvent:
    """One event: its type, the order it concerns, and the ids of what a listener reads to describe it."""

    type: DomainEventType
    order_id: int
    cancellation_id: int | None = None
    drift_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


DomainEventListener = Callable[[DomainEvent], object]  # what it returns is ignored
_listeners: list[DomainEventListener] = []


def domain_event_listener_register(listener: DomainEventListener) -> None:
    """Hear every published event (inside the publishing transaction). Registering twice has no effect."""
    if listener not in _listeners:
        _listeners.append(listener)


def domain_event_publish(
    type: DomainEventType,
    *,
    order_id: int,
    cancellation_id: int | None = None,
    drift_id: int | None = None,
    **data: Any,
) -> None:
    """Tell every listener that `type` happened to order `order_id`. Call it inside the transaction of the
    change it reports; a listener's error rolls that transaction back (its outbox is part of it)."""
    event = DomainEvent(type=type, order_id=order_id, cancellation_id=cancellation_id, drift_id=drift_id, data=data)
    for listener in _listeners:
        listener(event)
