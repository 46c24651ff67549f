"""Which statuses buyers can cancel, per website, and which setting decides it.

Three settings say "cancellable": the application's `OrderCancelStatuses`, each website's *Cancellable Order
Statuses* (the two lists are added up) and the Order Status Mapping's *Allow Cancellation* (which must agree),
besides each website's `AllowCancellationRequest` switch. This selector asks the rules themselves
(`policies.cancellation_blockers`) about a buyer's order in every status on every website, so what the
console shows is what the storefront does, and reports which facts of the rules made the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from countermand.orders.models import Order, OrderStatusMapping
from countermand.orders.policies import BUYER, Actor, Blocker, BlockerCode, CancellationRules, cancellation_blockers
from countermand.orders.selectors import cancellation_rules
from countermand.websites.models import Website

# A buyer's order that exists nowhere: id 0 has no open request, customer 0 is the probing buyer's own.
_PROBE_ID = _PROBE_CUSTOMER = 0


@dataclass(frozen=True)
class StatusOnWebsite:
    """Can a buyer cancel an order in this status on this website, and why (not)."""

    website: Website
    blockers: tuple[Blocker, ...]
    listed_by_application: bool  # OrderCancelStatuses lists the status
    listed_by_website: bool  # the website's Cancellable Order Statuses lists it
    website_allows: bool  # the website's AllowCancellationRequest

    @property
    def cancellable(self) -> bool:
        return not self.blockers

    def blocked_by(self, code: BlockerCode) -> bool:
        return any(b.code == code for b in self.blockers)


@dataclass(frozen=True)
class StatusCancellability:
    """One status: of a mapping (or named only by a setting, `mapping` None) and its verdict per website."""

    status: str
    mapping: OrderStatusMapping | None
    mapping_allows: bool
    websites: tuple[StatusOnWebsite, ...]


@dataclass(frozen=True)
class CancellableStatuses:
    websites: tuple[Website, ...]
    statuses: tuple[StatusCancellability, ...]
    rules: CancellationRules


def cancellable_statuses() -> CancellableStatuses:
    """Every status of the Order Status Mapping (then every status a setting lists without a mapping), each
    on every website: the rules' verdict for a buyer's fresh order, in the rules' constant number of queries."""
    websites = tuple(Website.objects.order_by("name"))
    mappings = list(OrderStatusMapping.objects.order_by("erp_order_status"))
    today = timezone.localdate()
    probes = [
        Order(id=_PROBE_ID, website_id=w.pk, customer_id=_PROBE_CUSTOMER, status="", order_date=today) for w in websites
    ]
    rules = cancellation_rules(probes, today=today)
    listed = set(rules.order_cancel_statuses).union(*rules.website_cancellable_statuses.values())
    by_status: dict[str, OrderStatusMapping | None] = {m.erp_order_status: m for m in mappings}
    for status in sorted(listed - set(by_status)):
        by_status[status] = None
    statuses = []
    for status, mapping in by_status.items():
        cells = []
        for website in websites:
            probe = Order(
                id=_PROBE_ID, website_id=website.pk, customer_id=_PROBE_CUSTOMER, status=status, order_date=today
            )
            buyer = Actor(kind=BUYER, customer_id=_PROBE_CUSTOMER, website_ids=frozenset({website.pk}))
            cells.append(
                StatusOnWebsite(
                    website=website,
                    blockers=tuple(cancellation_blockers(probe, rules=rules, actor=buyer)),
                    listed_by_application=status in rules.order_cancel_statuses,
                    listed_by_website=status in rules.website_cancellable_statuses.get(website.pk, frozenset()),
                    website_allows=rules.website_allows.get(website.pk, False),
                )
            )
        statuses.append(
            StatusCancellability(
                status=status,
                mapping=mapping,
                mapping_allows=status in rules.mapping_allows,
                websites=tuple(cells),
            )
        )
    return CancellableStatuses(websites=websites, statuses=tuple(statuses), rules=rules)
