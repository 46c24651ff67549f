"""Who may cancel which order, and why not: one pure function over pre-loaded facts.

`cancellation_blockers` touches no database. `countermand.orders.selectors.cancellation_rules` loads the
facts it needs (settings, mappings, job definition, open requests) in a constant number of queries,
for one order or a page of them.

Partial cancellation (some lines, or part of a line's quantity): `cancellation_eligibility` returns the
order's blockers and, per line, the line's blockers (`LineBlockerCode`); with `requested` (line number →
quantity) it checks a request's lines. A line's cancellable quantity is ordered - shipped - already
cancelled (`line_quantity_cancellable`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
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


class LineBlockerCode(StrEnum):
    """Why a line (or the asked quantity of it) cannot be cancelled: the API's `lineBlockers[].code`."""

    PARTIAL_CANCELLATION_DISABLED = "PARTIAL_CANCELLATION_DISABLED"
    PARTIAL_CANCELLATION_UNSUPPORTED = "PARTIAL_CANCELLATION_UNSUPPORTED"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    LINE_REPEATED = "LINE_REPEATED"
    LINE_ALREADY_CANCELLED = "LINE_ALREADY_CANCELLED"
    LINE_FULLY_SHIPPED = "LINE_FULLY_SHIPPED"
    LINE_STATUS_NOT_CANCELLABLE = "LINE_STATUS_NOT_CANCELLABLE"
    LINE_QUANTITY_INVALID = "LINE_QUANTITY_INVALID"
    LINE_QUANTITY_ABOVE_OPEN = "LINE_QUANTITY_ABOVE_OPEN"


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
    website_allows_partial: Mapping[int, bool] = field(default_factory=dict)
    # Whether the active OrderCancel job definition declares the CancelLines parameter: without it the
    # processors would not know the lines, and would cancel the whole order.
    cancel_job_takes_lines: bool = False
    today: datetime.date = field(default_factory=datetime.date.today)

    def display(self, status: str) -> str:
        return self.status_display.get(status, status)


class OrderFacts(Protocol):
    id: int
    status: str
    website_id: int
    customer_id: int
    order_date: datetime.date


class LineFacts(Protocol):
    line_number: int
    quantity_ordered: Decimal
    quantity_shipped: Decimal
    quantity_cancelled: Decimal
    status: str


def line_quantity_cancellable(line: LineFacts) -> Decimal:
    """What may still be cancelled of a line: ordered - shipped - already cancelled, never below zero."""
    return max(Decimal(0), line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled)


def line_quantity_remaining(line: LineFacts) -> Decimal:
    """What is left of a line once its cancellations are taken off: ordered - cancelled (shipped or not)."""
    return max(Decimal(0), line.quantity_ordered - line.quantity_cancelled)


def quantity_text(quantity: Decimal) -> str:
    """A quantity as a buyer reads it: 2, 2.5 — not 2.000."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Eligibility:
    """What the rules say of an order and its lines: the order's blockers (any of them blocks every
    cancellation) and each line's (line number → blockers; a line without any may be cancelled, in part
    or in full). With asked lines, `line_blockers` covers the asked lines only, unknown numbers included."""

    blockers: list[Blocker]
    line_blockers: dict[int, list[Blocker]]

    @property
    def allowed(self) -> bool:
        return not self.blockers and not any(self.line_blockers.values())

    def line_blockers_list(self) -> list[dict[str, object]]:
        """The line blockers as the API shows them: `{lineNumber, code, message}`, by line number."""
        return [
            {"lineNumber": number, **blocker.as_dict()}
            for number, blockers in sorted(self.line_blockers.items())
            for blocker in blockers
        ]


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


def _line_rule_blockers(
    order: OrderFacts, line: LineFacts, *, rules: CancellationRules, actor: Actor, forcing: bool
) -> list[Blocker]:
    """The blockers of cancelling (part of) `line` whatever the quantity."""
    blockers: list[Blocker] = []
    L = LineBlockerCode
    if actor.kind == BUYER and not rules.website_allows_partial.get(order.website_id, False):
        blockers.append(
            Blocker(
                L.PARTIAL_CANCELLATION_DISABLED,
                "Single lines cannot be cancelled on this website; cancel the whole order instead.",
            )
        )
    # Without an active OrderCancel job declaring CancelLines the ERP would never hear which lines; a
    # local-only partial cancellation would drift from the ERP with nothing to send later.
    elif not rules.cancel_job_takes_lines:  # said once: both tell a buyer "cancel the whole order"
        blockers.append(
            Blocker(
                L.PARTIAL_CANCELLATION_UNSUPPORTED,
                "Single lines cannot be passed on to our order system; cancel the whole order instead.",
            )
        )
    if line_quantity_remaining(line) <= 0:
        blockers.append(Blocker(L.LINE_ALREADY_CANCELLED, "This line is already cancelled."))
    elif line_quantity_cancellable(line) <= 0:
        blockers.append(Blocker(L.LINE_FULLY_SHIPPED, "This line has already shipped in full."))
    # A line status only blocks when a mapping names it and disallows cancellation: many ERPs keep
    # statuses on the order alone, and an unmapped line status says nothing about cancelling.
    if not forcing and line.status and line.status in rules.status_display and line.status not in rules.mapping_allows:
        blockers.append(
            Blocker(
                L.LINE_STATUS_NOT_CANCELLABLE,
                f"Lines with the status “{rules.display(line.status)}” cannot be cancelled.",
            )
        )
    return blockers


def cancellation_eligibility(
    order: OrderFacts,
    lines: Sequence[LineFacts],
    *,
    rules: CancellationRules,
    actor: Actor,
    requested: Mapping[int, Decimal] | Sequence[tuple[int, Decimal]] | None = None,
    force: bool = False,
) -> Eligibility:
    """The order's blockers (`cancellation_blockers`) and its lines' (DESIGN §4, partial cancellation).

    Without `requested`: every line's blockers for cancelling any part of it (what the order page shows).
    With `requested` (line number → quantity, or pairs, so that a repeated number is seen): the blockers of
    exactly that request — unknown or repeated lines, a quantity that is not positive or is above what is
    still open, besides each asked line's own rules. Touches no database.
    """
    is_admin = actor.kind in (ADMIN, SYSTEM)
    forcing = is_admin and force and (actor.may_force or actor.kind == SYSTEM)
    blockers = cancellation_blockers(order, rules=rules, actor=actor, force=force)
    by_number = {line.line_number: line for line in lines}
    L = LineBlockerCode
    if requested is None:
        return Eligibility(
            blockers,
            {
                line.line_number: _line_rule_blockers(order, line, rules=rules, actor=actor, forcing=forcing)
                for line in lines
            },
        )
    pairs = list(requested.items()) if isinstance(requested, Mapping) else list(requested)
    line_blockers: dict[int, list[Blocker]] = {}
    for number, quantity in pairs:
        if number in line_blockers:
            line_blockers[number].append(Blocker(L.LINE_REPEATED, "This line is asked for more than once."))
            continue
        line = by_number.get(number)
        if line is None:
            line_blockers[number] = [Blocker(L.LINE_NOT_FOUND, f"This order has no line {number}.")]
            continue
        found = _line_rule_blockers(order, line, rules=rules, actor=actor, forcing=forcing)
        open_quantity = line_quantity_cancellable(line)
        if quantity <= 0:
            found.append(Blocker(L.LINE_QUANTITY_INVALID, "Choose a quantity above zero to cancel."))
        elif open_quantity > 0 and quantity > open_quantity:
            found.append(
                Blocker(
                    L.LINE_QUANTITY_ABOVE_OPEN,
                    f"Only {quantity_text(open_quantity)} of this line can still be cancelled, "
                    f"not {quantity_text(quantity)}.",
                )
            )
        line_blockers[number] = found
    return Eligibility(blockers, line_blockers)
