"""Reads of orders and of the facts the cancellation rules need, without N+1 queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from countermand.core.errors import NotFound
from countermand.integration.models import JobDefinition
from countermand.integration.plugin import CANCEL_LINES_PARAMETER
from countermand.orders.models import Order, OrderStatusMapping
from countermand.orders.policies import (
    Actor,
    Blocker,
    CancellationRules,
    Eligibility,
    cancellation_blockers,
    cancellation_eligibility,
)
from countermand.settings.selectors import settings_snapshot

if TYPE_CHECKING:
    from countermand.cancellations.models import CancellationRequest

HeldOrders = Callable[[Collection[int]], set[int]]
"""A lookup of the orders whose status a hold keeps (e.g. an open cancellation): given order ids,
returns those that are held. Apps built on orders register one (`held_orders_register`), so orders
need not know them."""

_held_orders_lookups: list[HeldOrders] = []


def held_orders_register(lookup: HeldOrders) -> None:
    """Register a held-orders lookup (once; an app does it in its AppConfig.ready())."""
    if lookup not in _held_orders_lookups:
        _held_orders_lookups.append(lookup)


def orders_held(order_ids: Collection[int]) -> set[int]:
    """The ids among `order_ids` whose status a registered hold keeps (an open cancellation…)."""
    held: set[int] = set()
    for lookup in _held_orders_lookups:
        held |= lookup(order_ids)
    return held


def status_mappings() -> list[OrderStatusMapping]:
    return list(OrderStatusMapping.objects.all())


def status_display_map(mappings: Iterable[OrderStatusMapping]) -> dict[str, str]:
    return {m.erp_order_status: m.display_name for m in mappings}


def status_display(status: str, mappings: Sequence[OrderStatusMapping]) -> str:
    """The buyer-facing name of a status: its mapping, else the default mapping, else the raw code."""
    default = None
    for m in mappings:
        if m.erp_order_status == status:
            return m.display_name
        if m.is_default:
            default = m.display_name
    return default if default is not None else status


def cancellation_rules(orders: Iterable[Order], *, today: datetime.date | None = None) -> CancellationRules:
    """Load every fact the rules read for these orders: four queries, however many orders."""
    orders = list(orders)
    website_ids = {o.website_id for o in orders}
    snapshot = settings_snapshot(website_ids=website_ids)
    application = snapshot.for_website(None)
    per_website = {w: snapshot.for_website(w) for w in website_ids}
    mappings = status_mappings()
    # One query for both facts: whether the job is active, and whether it declares the lines parameter.
    job_parameters = list(
        JobDefinition.objects.filter(name=application.order_cancel_job_name, is_active=True).values_list(
            "parameters__name", flat=True
        )
    )
    cancel_job_active = bool(job_parameters)
    open_ids = orders_held([o.id for o in orders]) if orders else set()
    return CancellationRules(
        order_cancel_statuses=frozenset(application.order_cancel_statuses),
        requested_status=application.cancellation_requested_status,
        cancelled_status=application.cancelled_status,
        cancel_job_active=cancel_job_active,
        without_job_mode=application.cancellation_without_erp_job,
        status_display=status_display_map(mappings),
        mapping_allows=frozenset(m.erp_order_status for m in mappings if m.allow_cancellation),
        website_allows={w: s.allow_cancellation_request for w, s in per_website.items()},
        website_cancellable_statuses={w: frozenset(s.cancellable_order_statuses) for w, s in per_website.items()},
        website_window_days={w: s.cancellation_window_days for w, s in per_website.items()},
        orders_with_open_request=frozenset(open_ids),
        website_allows_partial={w: s.allow_partial_cancellation for w, s in per_website.items()},
        cancel_job_takes_lines=CANCEL_LINES_PARAMETER in job_parameters,
        today=today or timezone.localdate(),
    )


def orders_blockers(orders: Sequence[Order], *, actor: Actor) -> dict[int, list[Blocker]]:
    """The blockers of each order of a page, keyed by order id, in a constant number of queries."""
    rules = cancellation_rules(orders)
    return {o.id: cancellation_blockers(o, rules=rules, actor=actor) for o in orders}


def orders_eligibility(orders: Sequence[Order], *, actor: Actor) -> dict[int, Eligibility]:
    """The order and line blockers of each order of a page, keyed by order id: the rules' queries and one
    for the lines (unless prefetched), however many orders."""
    prefetch_related_objects(list(orders), "lines")
    rules = cancellation_rules(orders)
    return {o.id: cancellation_eligibility(o, list(o.lines.all()), rules=rules, actor=actor) for o in orders}


def order_get(number: str) -> Order:
    """An order by web or ERP order number. Raises NotFound."""
    order = (
        Order.objects.select_related("website", "customer")
        .filter(Q(web_order_number=number) | Q(erp_order_number=number))
        .first()
    )
    if order is None:
        raise NotFound(f"There is no order {number!r}.", code="ORDER_NOT_FOUND")
    return order


def buyer_orders(actor: Actor) -> QuerySet[Order]:
    """The orders a buyer may see: their customer's, on their websites (nothing for a non-buyer)."""
    if actor.customer_id is None:
        return Order.objects.none()
    return Order.objects.filter(customer_id=actor.customer_id, website_id__in=actor.website_ids)


def buyer_order_get(actor: Actor, number: str) -> Order:
    """A buyer's own order by web or ERP number; another customer's order is NotFound, never Forbidden."""
    order = (
        buyer_orders(actor)
        .select_related("website", "customer")
        .filter(Q(web_order_number=number) | Q(erp_order_number=number))
        .first()
    )
    if order is None:
        raise NotFound(f"There is no order {number!r}.", code="ORDER_NOT_FOUND")
    return order


def order_latest_cancellation(order: Order) -> CancellationRequest | None:
    return order.cancellation_requests.prefetch_related("lines").order_by("-created_at", "-id").first()
