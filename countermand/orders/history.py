"""Order history reads shared by the REST API and the storefront: filters, pages, and what a page shows.

Pagination is numbered (`page`, `pageSize`: the contract of DESIGN §7 and of the original system) and
uses an *indexed OFFSET with a deferred join*: the page's ids are picked by
`SELECT id … ORDER BY order_date DESC, id DESC LIMIT n OFFSET k`, which PostgreSQL answers from the
`order_history_idx` index (customer, website, order_date, id) alone — an index-only scan that skips
`k` index entries without touching the table — and only the `n` rows of the page are then read.
Keyset pagination would make deep pages O(1) but cannot jump to page 4,000 or say how many pages
there are, which buyers and the original API expect. Skipping index entries is cheap enough: on the
bench's million-order history a page at offset 800,000 costs ~150 ms (the skip plus the exact count),
page 1 ~70 ms (the count), a filtered page ~30 ms (see bench/order_history.py).

A buyer of several websites: see order_history_page. A page costs a constant number of queries whatever
its depth or size: count, page ids, page rows, then the facts of the cancellation rules, the status
mappings and the display settings (orders.selectors.cancellation_rules, orders_shown).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q, QuerySet, prefetch_related_objects

from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.orders.policies import Actor, Blocker, cancellation_blockers, cancellation_eligibility
from countermand.orders.selectors import cancellation_rules, status_display, status_mappings
from countermand.settings.selectors import settings_snapshot

if TYPE_CHECKING:
    from countermand.cancellations.models import CancellationRequest

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
HISTORY_ORDERING = ("-order_date", "-id")
DISPLAY_SETTINGS = ("ShowOrderStatus", "ShowErpOrderNumber", "CancellationReasons")


@dataclass(frozen=True)
class OrderFilters:
    """What a buyer (or an administrator) narrows the order history by."""

    statuses: tuple[str, ...] = ()
    search: str = ""
    from_date: datetime.date | None = None
    to_date: datetime.date | None = None

    def apply(self, orders: QuerySet[Order]) -> QuerySet[Order]:
        if self.statuses:
            orders = orders.filter(status__in=self.statuses)
        if self.from_date:
            orders = orders.filter(order_date__gte=self.from_date)
        if self.to_date:
            orders = orders.filter(order_date__lte=self.to_date)
        term = self.search.strip()
        if term:
            # Prefix matches: order numbers and POs are typed from their start, and a prefix keeps the
            # scan inside the customer's rows cheap.
            orders = orders.filter(
                Q(web_order_number__istartswith=term)
                | Q(erp_order_number__istartswith=term)
                | Q(customer_po__istartswith=term)
            )
        return orders

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.search.strip() or self.from_date or self.to_date)


@dataclass(frozen=True)
class Page:
    """One numbered page of a list (orders, jobs, cancellations)."""

    items: list[Any]
    page: int
    page_size: int
    total: int

    @property
    def number_of_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.number_of_pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0


def order_history_page(orders: QuerySet[Order], *, page: int, page_size: int, website_ids: Sequence[int] = ()) -> Page:
    """Page `page` (from 1) of `orders`, newest first: three queries (count, page ids, rows) at any depth.

    `website_ids`: the websites `orders` spans, when more than one. PostgreSQL cannot walk
    `order_history_idx` in order for `website_id IN (…)`, so it would sort the customer's whole
    history; instead each website's ids are read in index order and merged (UNION ALL of ordered
    per-website scans, which the planner runs as a Merge Append).
    """
    total = orders.count()
    offset = (page - 1) * page_size
    if offset >= total:
        return Page(items=[], page=page, page_size=page_size, total=total)
    ordered = orders.order_by(*HISTORY_ORDERING)
    if len(website_ids) > 1 and connection.features.supports_slicing_ordering_in_compound:
        per_website = [
            ordered.filter(website_id=w).values_list("id", "order_date")[: offset + page_size]
            for w in sorted(website_ids)
        ]
        merged = per_website[0].union(*per_website[1:], all=True).order_by("-order_date", "-id")
        page_ids = [row[0] for row in merged[offset : offset + page_size]]
    else:
        page_ids = list(ordered.values_list("id", flat=True)[offset : offset + page_size])
    rows = list(Order.objects.filter(id__in=page_ids).select_related("website", "customer").order_by(*HISTORY_ORDERING))
    return Page(items=rows, page=page, page_size=page_size, total=total)


def plain_page(queryset: QuerySet[Any], *, page: int, page_size: int) -> Page:
    """Page `page` of an already ordered queryset with a plain OFFSET (lists that stay small: jobs, requests)."""
    offset = (page - 1) * page_size
    return Page(
        items=list(queryset[offset : offset + page_size]), page=page, page_size=page_size, total=queryset.count()
    )


@dataclass
class OrdersShown:
    """Everything needed to show some orders to an actor: display names, blockers, website settings."""

    mappings: list[OrderStatusMapping]
    blockers: dict[int, list[Blocker]]
    show_status: dict[int, bool] = field(default_factory=dict)
    show_erp_number: dict[int, bool] = field(default_factory=dict)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    # Order id → line number → the line's blockers (partial cancellation); filled by `with_lines=True`.
    line_blockers: dict[int, dict[int, list[Blocker]]] = field(default_factory=dict)

    def status_display(self, order: Order) -> str:
        return status_display(order.status, self.mappings)

    def can_cancel(self, order: Order) -> bool:
        return not self.blockers.get(order.id)

    def blockers_of_line(self, line: OrderLine) -> list[Blocker]:
        """Why (part of) this line cannot be cancelled: its order's blockers first, then its own."""
        return [
            *self.blockers.get(line.order_id, []),
            *self.line_blockers.get(line.order_id, {}).get(line.line_number, []),
        ]

    def can_cancel_lines(self, order: Order) -> bool:
        """Whether some line of the order may be cancelled alone (partial cancellation is offered)."""
        return self.can_cancel(order) and any(not found for found in self.line_blockers.get(order.id, {}).values())


def orders_shown(
    orders: Sequence[Order],
    *,
    actor: Actor,
    website_ids: Sequence[int] = (),
    mappings: list[OrderStatusMapping] | None = None,
    with_lines: bool = False,
) -> OrdersShown:
    """Display facts for a page of orders in a constant number of queries (rules, mappings, settings).
    Pass `mappings` when the caller has loaded them already; `with_lines` adds each line's blockers (one
    query more for the lines, unless prefetched)."""
    rules = cancellation_rules(orders)
    line_blockers: dict[int, dict[int, list[Blocker]]] = {}
    if with_lines:
        prefetch_related_objects(list(orders), "lines")
        line_blockers = {
            o.id: cancellation_eligibility(o, list(o.lines.all()), rules=rules, actor=actor).line_blockers
            for o in orders
        }
    websites = {o.website_id for o in orders} | set(website_ids)
    snapshot = settings_snapshot(names=DISPLAY_SETTINGS, website_ids=websites)
    return OrdersShown(
        mappings=status_mappings() if mappings is None else mappings,
        blockers={o.id: cancellation_blockers(o, rules=rules, actor=actor) for o in orders},
        show_status={w: bool(snapshot.get("ShowOrderStatus", w)) for w in websites},
        show_erp_number={w: bool(snapshot.get("ShowErpOrderNumber", w)) for w in websites},
        reasons={w: list(snapshot.get("CancellationReasons", w)) for w in websites},
        line_blockers=line_blockers,
    )


def order_cancellations(order: Order) -> list[CancellationRequest]:
    """The order's cancellation requests, newest first, with their lines (two queries)."""
    return list(
        order.cancellation_requests.select_related("requested_by")
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )
