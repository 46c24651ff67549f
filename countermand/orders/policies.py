"""Who may cancel which order, and why not: one pure function over pre-loaded facts.

`cancellation_blockers` touches no database. `countermand.orders.selectors.cancellation_rules` loads the
facts it needs (settings, mappings, job definition, open requests) in a constant number of queries,
for one order or a page of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class BlockerCode(StrEnum):
    """Why an order cannot be cancelled, as a stable code (the API's `blockers[].code`)."""

    WEBSITE_DISABLED = "WEBSITE_DISABLED"
    STATUS_NOT_CANCELLABLE = "STATUS_NOT_CANCELLABLE"
    MAPPING_DISALLOWS = "MAPPING_DISALLOWS"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    NOT_PERMITTED = "NOT_PERMITTED"
    NO_ERP_JOB = "NO_ERP_JOB"
    CANCELLATION_WINDOW_PASSED = "CANCELLATION_WINDOW_PASSED"


class ActorKind(StrEnum):
    """Who asks: a buyer on the storefront, an administrator, or the system itself."""

    BUYER = "buyer"
    ADMIN = "admin"
    SYSTEM = "system"


# The members by their short names, as the callers have always imported them.
(
    WEBSITE_DISABLED,
    STATUS_NOT_CANCELLABLE,
    MAPPING_DISALLOWS,
    ALREADY_REQUESTED,
    ALREADY_CANCELLED,
    NOT_PERMITTED,
    NO_ERP_JOB,
    CANCELLATION_WINDOW_PASSED,
) = BlockerCode
BUYER, ADMIN, SYSTEM = ActorKind


@dataclass(frozen=True)
class Blocker:
    """Why an order cannot be cancelled: a stable code and a sentence a buyer understands."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Actor:
    """Who asks. Buyers act for one customer on some websites; administrators per their permissions."""

    kind: ActorKind
    user_id: int | None = None
    customer_id: int | None = None
    website_ids: frozenset[int] = frozenset()
    may_cancel: bool = True
    may_force: bool = False


SYSTEM_ACTOR = Actor(kind=SYSTEM)


@dataclass(frozen=True)
class CancellationRules:
    """Everything the rules read besides the order itself."""

    order_cancel_statuses: frozenset[str]
    requested_status: str
    cancelled_status: str
    cancel_job_active: bool
    without_job_mode: str
    status_display: Mapping[str, str]
    mapping_allows: frozenset[str]
    website_allows: Mapping[int, bool] = field(default_factory=dict)
    website_cancellable_statuses: Mapping[int, frozenset[str]] = field(default_factory=dict)
    website_window_days: Mapping[int, int] = field(default_factory=dict)
    orders_with_open_request: frozenset[int] = frozenset()
    today: datetime.date = field(default_factory=datetime.date.today)

    def display(self, status: str) -> str:
        return self.status_display.get(status, status)


class OrderFacts(Protocol):
    id: int
    status: str
    website_id: int
    customer_id: int
    order_date: datetime.date


def cancellation_blockers(
    order: OrderFacts, *, rules: CancellationRules, actor: Actor, force: bool = False
) -> list[Blocker]:
    """Every rule the order fails for this actor, in the order of DESIGN §4. Empty: it may be cancelled.

    Administrators are not bound by the website switch or the time window; with the force permission
    and `force=True` they are not bound by the status rules either.
    """
    blockers: list[Blocker] = []
    status = order.status
    shown = rules.display(status)
    is_admin = actor.kind in (ADMIN, SYSTEM)
    forcing = is_admin and force and (actor.may_force or actor.kind == SYSTEM)

    if not is_admin and not rules.website_allows.get(order.website_id, False):
        blockers.append(Blocker(WEBSITE_DISABLED, "Orders cannot be cancelled on this website."))

    if status == rules.cancelled_status:
        blockers.append(Blocker(ALREADY_CANCELLED, "This order is already cancelled."))
    elif order.id in rules.orders_with_open_request or status == rules.requested_status:
        blockers.append(Blocker(ALREADY_REQUESTED, "A cancellation of this order has already been requested."))
    elif not forcing:
        cancellable = rules.order_cancel_statuses | rules.website_cancellable_statuses.get(
            order.website_id, frozenset()
        )
        if status not in cancellable:
            blockers.append(
                Blocker(STATUS_NOT_CANCELLABLE, f"Orders with the status “{shown}” can no longer be cancelled.")
            )
        if status not in rules.mapping_allows:
            blockers.append(Blocker(MAPPING_DISALLOWS, f"Orders with the status “{shown}” cannot be cancelled."))

    window = rules.website_window_days.get(order.website_id, 0)
    if not is_admin and window and (rules.today - order.order_date).days > window:
        blockers.append(
            Blocker(
                CANCELLATION_WINDOW_PASSED,
                f"Orders can only be cancelled within {window} days of the order date.",
            )
        )

    if (
        actor.kind == BUYER and (order.customer_id != actor.customer_id or order.website_id not in actor.website_ids)
    ) or not actor.may_cancel:
        blockers.append(Blocker(NOT_PERMITTED, "You are not allowed to cancel this order."))

    if not rules.cancel_job_active and rules.without_job_mode == "Refuse":
        blockers.append(
            Blocker(
                NO_ERP_JOB,
                "Cancellations cannot be passed on to our order system right now. Please contact customer service.",
            )
        )
    return blockers
